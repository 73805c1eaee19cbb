package web

import (
	"encoding/json"
	"net/http"

	"github.com/eventmanager/eventmanager/internal/auth"
	"github.com/eventmanager/eventmanager/internal/store"
)

type categoriesData struct {
	Categories []store.CategorySummary
	Board      bool
	Emcee      bool
	Links      bool // may hand out big-screen links
}

func (a *App) categoriesPage(w http.ResponseWriter, r *http.Request) {
	pg, p := pageFor(r, "Categories", "categories.js")
	d := categoriesData{Board: auth.CanFollowProgress(p.Role), Emcee: auth.CanPresent(p.Role), Links: auth.CanManageLinks(p.Role)}
	if !d.Board && !d.Emcee {
		http.Redirect(w, r, homeFor(p), http.StatusSeeOther)
		return
	}
	list, err := a.store.Categories(r.Context(), p.TenantID)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	d.Categories = list
	pg.Data = d
	a.render(w, r, http.StatusOK, "categories", pg)
}

// boardState is what the board's script draws; it fetches the same three documents from the
// JSON API when a change arrives.
type boardState struct {
	Category      string                   `json:"category"`
	Role          auth.Role                `json:"role"`
	CanDeduct     bool                     `json:"can_deduct"`
	CanRevoke     bool                     `json:"can_revoke"`
	Live          bool                     `json:"live"`
	Certification store.CertificationState `json:"certification"`
	Results       store.CategoryResults    `json:"results"`
	Deductions    []store.Deduction        `json:"deductions"`
	Devices       []store.Device           `json:"devices"`
}

type boardData struct {
	Name    string
	Initial string
}

func (a *App) boardPage(w http.ResponseWriter, r *http.Request) {
	pg, p := pageFor(r, "Board", "board.js")
	id, ok := pathUUID(r)
	if !ok {
		a.renderError(w, r, http.StatusNotFound, "There is no such category.", "Go back to the list and pick one.")
		return
	}
	if !auth.CanFollowProgress(p.Role) {
		a.render(w, r, http.StatusForbidden, "error", page{Title: "Not for your role", User: &p,
			Data: errorData{"The category board is for the tally master, the auditor, the board and the organisers.", "Go back to the start page."}})
		return
	}
	st := boardState{Category: id, Role: p.Role, Live: a.live,
		CanDeduct: auth.CanWriteDeductions(p.Role),
		CanRevoke: auth.CanRevokeCertification(p.Role)}
	var err error
	if st.Results, err = a.store.CategoryResults(r.Context(), p.TenantID, id, store.ResultsView{}); err != nil {
		a.storeError(w, r, p, err)
		return
	}
	if st.Certification, err = a.store.CertificationState(r.Context(), p.TenantID, id); err != nil {
		a.storeError(w, r, p, err)
		return
	}
	if st.Deductions, err = a.store.ListDeductions(r.Context(), p.TenantID, id, store.DeductionFilter{Limit: 100}); err != nil {
		a.storeError(w, r, p, err)
		return
	}
	if st.Devices, err = a.store.ListDevices(r.Context(), p.TenantID, id); err != nil {
		a.storeError(w, r, p, err)
		return
	}
	b, err := json.Marshal(st)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	pg.Title = st.Results.Name + ": board"
	pg.Data = boardData{Name: st.Results.Name, Initial: string(b)}
	a.render(w, r, http.StatusOK, "board", pg)
}
