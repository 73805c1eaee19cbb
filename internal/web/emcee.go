package web

import (
	"net/http"
	"slices"
	"strconv"

	"github.com/eventmanager/eventmanager/internal/auth"
	"github.com/eventmanager/eventmanager/internal/store"
)

type emceeData struct {
	Order store.RunningOrder
	// Places are the results from the last place to the first, contestants sharing a rank
	// together; empty until the board has certified.
	Places    []place
	Certified bool
}

// place is one rank of a reveal: one contestant, or several sharing it (a tie).
type place struct {
	Rank    int
	Label   string // "third place", "tie for second place"
	Entries []store.ContestantResult
}

func (a *App) emceePage(w http.ResponseWriter, r *http.Request) {
	pg, p := pageFor(r, "Emcee", "emcee.js")
	id, ok := pathUUID(r)
	if !ok {
		a.renderError(w, r, http.StatusNotFound, "There is no such category.", "Go back to the list and pick one.")
		return
	}
	if !auth.CanPresent(p.Role) {
		a.render(w, r, http.StatusForbidden, "error", page{Title: "Not for your role", User: &p,
			Data: errorData{"The emcee's view is for the emcee and the organisers.", "Go back to the start page."}})
		return
	}
	order, err := a.store.CategoryRunningOrder(r.Context(), p.TenantID, id)
	if err != nil {
		a.storeError(w, r, p, err)
		return
	}
	d := emceeData{Order: order}
	cert, err := a.store.CertificationState(r.Context(), p.TenantID, id)
	if err != nil {
		a.storeError(w, r, p, err)
		return
	}
	if d.Certified = cert.StepCertified(store.StepBoard); d.Certified {
		res, err := a.store.CategoryResults(r.Context(), p.TenantID, id, store.ResultsView{})
		if err != nil {
			a.storeError(w, r, p, err)
			return
		}
		d.Places = placesOf(res.Contestants)
	}
	pg.Title = order.Name + ": emcee"
	pg.Data = d
	a.render(w, r, http.StatusOK, "emcee", pg)
}

// placesOf groups results by rank, from the last place to the first.
func placesOf(rows []store.ContestantResult) []place {
	var out []place
	for _, c := range rows {
		if n := len(out); n > 0 && out[n-1].Rank == c.Rank {
			out[n-1].Entries = append(out[n-1].Entries, c)
			continue
		}
		out = append(out, place{Rank: c.Rank, Entries: []store.ContestantResult{c}})
	}
	slices.SortStableFunc(out, func(x, y place) int { return y.Rank - x.Rank })
	for i := range out {
		out[i].Label = ordinal(out[i].Rank) + " place"
		if len(out[i].Entries) > 1 {
			out[i].Label = "Tie for " + out[i].Label
		} else {
			out[i].Label = capitalise(out[i].Label)
		}
	}
	return out
}

var ordinals = []string{"", "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth"}

func ordinal(n int) string {
	if n > 0 && n < len(ordinals) {
		return ordinals[n]
	}
	suffix := "th"
	switch {
	case n%100 >= 11 && n%100 <= 13:
	case n%10 == 1:
		suffix = "st"
	case n%10 == 2:
		suffix = "nd"
	case n%10 == 3:
		suffix = "rd"
	}
	return strconv.Itoa(n) + suffix
}

func capitalise(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

type contestantData struct {
	Name    string
	Results []ownResult
}

// ownResult is a contestant's own line in one category: final only (BOARD certified).
type ownResult struct {
	Category  string
	Certified bool
	Rank      int
	Tied      bool
	Of        int
	Final     string
	Deduction string
}

func (a *App) contestantPage(w http.ResponseWriter, r *http.Request) {
	pg, p := pageFor(r, "My results")
	if p.Role != auth.Contestant {
		http.Redirect(w, r, homeFor(p), http.StatusSeeOther)
		return
	}
	contestantID, categories, err := a.store.ContestantEntries(r.Context(), p.TenantID, p.Email)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	d := contestantData{Name: p.Name}
	for _, cat := range categories {
		cert, err := a.store.CertificationState(r.Context(), p.TenantID, cat)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		res, err := a.store.CategoryResults(r.Context(), p.TenantID, cat, store.ResultsView{})
		if err != nil {
			a.fail(w, r, err)
			return
		}
		own := ownResult{Category: res.Name, Certified: cert.StepCertified(store.StepBoard)}
		if own.Certified {
			own.Of = len(res.Contestants)
			for _, c := range res.Contestants {
				if c.ContestantID == contestantID {
					own.Rank, own.Final, own.Deduction = c.Rank, decimalText(c.FinalScore), decimalText(c.Deductions)
				}
			}
			for _, c := range res.Contestants {
				if c.Rank == own.Rank && c.ContestantID != contestantID {
					own.Tied = true
				}
			}
		}
		d.Results = append(d.Results, own)
	}
	pg.Data = d
	a.render(w, r, http.StatusOK, "contestant", pg)
}
