package api

import (
	"net/http"

	"github.com/eventmanager/eventmanager/internal/auth"
	"github.com/eventmanager/eventmanager/internal/store"
)

// resultsView applies the visibility rules: a JUDGE gets results computed from their own scores
// only (as if they were the only judge); a CONTESTANT only categories whose totals are certified;
// everyone else of the tenant everything.
func resultsView(p auth.Principal) (store.ResultsView, error) {
	switch p.Role {
	case auth.Judge:
		if p.JudgeID == "" {
			return store.ResultsView{}, errNotAJudge
		}
		return store.ResultsView{JudgeID: p.JudgeID}, nil
	case auth.Contestant:
		return store.ResultsView{CertifiedOnly: true}, nil
	}
	return store.ResultsView{}, nil
}

// serveResults is the common path of the three results routes: one store call, one query.
func serveResults[T any](s *Server, w http.ResponseWriter, r *http.Request,
	load func(s *store.Store, r *http.Request, tenantID, id string, v store.ResultsView) (T, error)) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	p := principal(r.Context())
	v, err := resultsView(p)
	if err != nil {
		return err
	}
	res, err := load(s.store, r, p.TenantID, id, v)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

func (s *Server) categoryResults(w http.ResponseWriter, r *http.Request) error {
	return serveResults(s, w, r, func(st *store.Store, r *http.Request, tenantID, id string, v store.ResultsView) (store.CategoryResults, error) {
		return st.CategoryResults(r.Context(), tenantID, id, v)
	})
}

func (s *Server) contestResults(w http.ResponseWriter, r *http.Request) error {
	return serveResults(s, w, r, func(st *store.Store, r *http.Request, tenantID, id string, v store.ResultsView) (store.ContestResults, error) {
		return st.ContestResults(r.Context(), tenantID, id, v)
	})
}

func (s *Server) eventResults(w http.ResponseWriter, r *http.Request) error {
	return serveResults(s, w, r, func(st *store.Store, r *http.Request, tenantID, id string, v store.ResultsView) (store.EventResults, error) {
		return st.EventResults(r.Context(), tenantID, id, v)
	})
}
