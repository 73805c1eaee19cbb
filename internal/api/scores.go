package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/eventmanager/eventmanager/internal/auth"
	"github.com/eventmanager/eventmanager/internal/store"
)

const maxScoresPerRequest = 500

var errNotAJudge = &Error{Status: http.StatusForbidden, Code: "NOT_A_JUDGE",
	Message: "only a user whose role is JUDGE and who is linked to a judge record scores and certifies as a judge"}

// scoringJudge decides whose scores a request is about: the caller's own judge (a user whose role
// is JUDGE), or (ADMIN only) the judge named by judge_id, as when typing in a paper sheet.
// onBehalf is true when an ADMIN acts for a judge. ORGANIZER and BOARD never score, even when a
// judge record names them.
func scoringJudge(p auth.Principal, requested string) (judgeID string, onBehalf bool, err error) {
	ownJudge := p.JudgeID // set for JUDGE users only (store.SessionByHash)
	switch {
	case requested != "" && requested == ownJudge:
		return requested, false, nil
	case requested != "":
		if !auth.IsAdmin(p.Role) {
			return "", false, &Error{Status: http.StatusForbidden, Code: "FORBIDDEN", Field: "judge_id",
				Message: "only an ADMIN may act for another judge"}
		}
		if !isUUID(requested) {
			return "", false, invalid("judge_id", "must be a UUID")
		}
		return requested, true, nil
	case ownJudge != "":
		return ownJudge, false, nil
	case auth.IsAdmin(p.Role):
		return "", false, invalid("judge_id", "is required: your account is not linked to a judge")
	}
	return "", false, errNotAJudge
}

func (s *Server) getScoresheet(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	p := principal(r.Context())
	judgeID, onBehalf, err := scoringJudge(p, strings.ToLower(r.URL.Query().Get("judge_id")))
	if err != nil {
		return err
	}
	sheet, err := s.store.Scoresheet(r.Context(), p.TenantID, id, judgeID, onBehalf)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sheet)
	return nil
}

// scoresRequest is the body of PUT /categories/{id}/scores.
type scoresRequest struct {
	JudgeID *string     `json:"judge_id"`
	Scores  []scoreItem `json:"scores"`
}

type scoreItem struct {
	ContestantID string `json:"contestant_id"`
	CriterionID  string `json:"criterion_id"`
	// Score is read raw so that a quoted number is refused and the decimals are checked exactly.
	Score   json.RawMessage `json:"score"`
	Comment *string         `json:"comment"`
}

// decimalPattern is a plain decimal number: no exponent, at most 10 integer digits.
var decimalPattern = regexp.MustCompile(`^(-?)([0-9]{1,10})(?:\.([0-9]+))?$`)

// parseDecimal reads a JSON number with at most two decimals (trailing zeros do not count) and
// returns it as canonical text ("9.50"). tooPrecise and negative tell the two rule errors apart.
func parseDecimal(raw json.RawMessage) (value string, negative, tooPrecise, ok bool) {
	m := decimalPattern.FindStringSubmatch(string(bytes.TrimSpace(raw)))
	if m == nil {
		return "", false, false, false
	}
	frac := strings.TrimRight(m[3], "0")
	if len(frac) > 2 {
		return "", false, true, true
	}
	intPart := strings.TrimLeft(m[2], "0")
	if intPart == "" {
		intPart = "0"
	}
	frac += strings.Repeat("0", 2-len(frac))
	negative = m[1] == "-" && (intPart != "0" || frac != "00")
	return intPart + "." + frac, negative, false, true
}

// validate checks the shape of every cell; the store checks them against the database.
func (req scoresRequest) validate() ([]store.ScoreInput, error) {
	if len(req.Scores) == 0 || len(req.Scores) > maxScoresPerRequest {
		return nil, invalid("scores", fmt.Sprintf("must hold 1 to %d scores", maxScoresPerRequest))
	}
	out := make([]store.ScoreInput, len(req.Scores))
	seen := make(map[[2]string]int, len(req.Scores))
	for i, c := range req.Scores {
		field := func(name string) string { return fmt.Sprintf("scores[%d].%s", i, name) }
		if !isUUID(c.ContestantID) {
			return nil, invalid(field("contestant_id"), "must be a UUID")
		}
		if !isUUID(c.CriterionID) {
			return nil, invalid(field("criterion_id"), "must be a UUID")
		}
		if len(c.Score) == 0 || string(c.Score) == "null" {
			return nil, invalid(field("score"), "is required")
		}
		v, negative, tooPrecise, ok := parseDecimal(c.Score)
		switch {
		case !ok:
			return nil, invalid(field("score"), "must be a number such as 8 or 8.25")
		case tooPrecise:
			return nil, badRequest("SCORE_TOO_PRECISE", field("score"), "at most two decimals are allowed")
		case negative:
			return nil, badRequest("SCORE_OUT_OF_RANGE", field("score"), "must not be negative")
		}
		comment := ""
		if c.Comment != nil {
			comment = *c.Comment
		}
		if utf8.RuneCountInString(comment) > 2000 {
			return nil, invalid(field("comment"), "must be at most 2000 characters")
		}
		key := [2]string{strings.ToLower(c.ContestantID), strings.ToLower(c.CriterionID)}
		if j, dup := seen[key]; dup {
			return nil, badRequest("DUPLICATE_SCORE", fmt.Sprintf("scores[%d]", i),
				fmt.Sprintf("the same contestant and criterion as scores[%d]", j))
		}
		seen[key] = i
		out[i] = store.ScoreInput{ContestantID: key[0], CriterionID: key[1], Score: v, Comment: comment}
	}
	return out, nil
}

// idempotencyKeyHeader is the header of an idempotent write.
const idempotencyKeyHeader = "Idempotency-Key"

// idempotencyKey reads the Idempotency-Key header: 1 to 255 visible ASCII characters, or absent.
func idempotencyKey(r *http.Request) (string, error) {
	vals := r.Header.Values(idempotencyKeyHeader)
	if len(vals) == 0 {
		return "", nil
	}
	k := vals[0]
	ok := len(vals) == 1 && len(k) >= 1 && len(k) <= 255
	for i := 0; ok && i < len(k); i++ {
		ok = k[i] >= 0x21 && k[i] <= 0x7e
	}
	if !ok {
		return "", invalid(idempotencyKeyHeader, "must be one value of 1 to 255 visible ASCII characters (a UUID is a good key)")
	}
	return k, nil
}

// requestHash is the SHA-256 of the method, the path and the normalised body: the same request
// sent again (whatever its spacing, key order or number formatting) has the same hash.
func requestHash(r *http.Request, body any) ([]byte, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	h.Write([]byte(r.Method + " " + r.URL.Path + "\n"))
	h.Write(b)
	return h.Sum(nil), nil
}

func (s *Server) putScores(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req scoresRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	p := principal(r.Context())
	requested := ""
	if req.JudgeID != nil {
		requested = strings.ToLower(*req.JudgeID)
		if requested == "" {
			return invalid("judge_id", "must be a UUID")
		}
	}
	judgeID, onBehalf, err := scoringJudge(p, requested)
	if err != nil {
		return err
	}
	cells, err := req.validate()
	if err != nil {
		return err
	}
	key, err := idempotencyKey(r)
	if err != nil {
		return err
	}
	sub := store.ScoreSubmission{CategoryID: id, JudgeID: judgeID, OnBehalf: onBehalf, Scores: cells}
	var idem *store.Idempotency
	if key != "" {
		hash, err := requestHash(r, struct {
			JudgeID string             `json:"judge_id"`
			Scores  []store.ScoreInput `json:"scores"`
		}{judgeID, cells})
		if err != nil {
			return err
		}
		idem = &store.Idempotency{UserID: p.UserID, Key: key, RequestHash: hash, Render: renderScores}
	}
	res, answer, err := s.store.SubmitScores(r.Context(), p.TenantID, s.actor(r), sub, idem)
	if err != nil {
		return err
	}
	if answer == nil {
		writeJSON(w, http.StatusOK, res)
		return nil
	}
	// The exact bytes stored with the key: a replay is byte for byte the first answer.
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	if answer.Replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	w.WriteHeader(answer.Status)
	_, _ = w.Write(answer.Body)
	return nil
}

// renderScores makes the answer of a score write as writeJSON would.
func renderScores(res store.ScoresResult) (store.StoredAnswer, error) {
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(res); err != nil {
		return store.StoredAnswer{}, err
	}
	return store.StoredAnswer{Status: http.StatusOK, Body: buf.Bytes()}, nil
}
