package api

import (
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/eventmanager/eventmanager/internal/auth"
	"github.com/eventmanager/eventmanager/internal/store"
)

// stepRoles says which role takes each step after JUDGE (the JUDGE step is taken by a user linked
// to a judge, whatever the role).
var stepRoles = map[string]auth.Role{
	store.StepTallyMaster: auth.TallyMaster,
	store.StepAuditor:     auth.Auditor,
	store.StepBoard:       auth.Board,
}

func validStep(field, step string) error {
	if !slices.Contains(store.CertificationSteps, step) {
		return invalid(field, "must be one of "+strings.Join(store.CertificationSteps, ", "))
	}
	return nil
}

func (s *Server) getCertification(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	st, err := s.store.CertificationState(r.Context(), principal(r.Context()).TenantID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

type certifyRequest struct {
	Step string `json:"step"`
}

func (s *Server) certify(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req certifyRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if err := validStep("step", req.Step); err != nil {
		return err
	}
	p := principal(r.Context())
	if req.Step == store.StepJudge {
		if p.JudgeID == "" { // set for JUDGE users only (store.SessionByHash)
			return errNotAJudge
		}
	} else if p.Role != stepRoles[req.Step] {
		return &Error{Status: http.StatusForbidden, Code: "FORBIDDEN", Field: "step",
			Message: "only a " + string(stepRoles[req.Step]) + " may certify the " + req.Step + " step"}
	}
	st, err := s.store.Certify(r.Context(), p.TenantID, id, s.actor(r), req.Step, p.JudgeID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, st)
	return nil
}

type revokeRequest struct {
	Reason  string `json:"reason"`
	Step    string `json:"step"`
	JudgeID string `json:"judge_id"`
}

func (s *Server) revokeCertification(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req revokeRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	reason := strings.TrimSpace(req.Reason)
	if reason == "" || utf8.RuneCountInString(reason) > 1000 {
		return invalid("reason", "is required: 1 to 1000 characters")
	}
	if req.Step != "" {
		if err := validStep("step", req.Step); err != nil {
			return err
		}
	}
	if req.JudgeID != "" {
		if !isUUID(req.JudgeID) {
			return invalid("judge_id", "must be a UUID")
		}
		if req.Step != "" && req.Step != store.StepJudge {
			return invalid("judge_id", "goes with the JUDGE step only")
		}
	}
	st, err := s.store.RevokeCertification(r.Context(), principal(r.Context()).TenantID, id, s.actor(r),
		store.Revocation{Step: req.Step, JudgeID: strings.ToLower(req.JudgeID), Reason: reason})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}
