package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"

	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/eventmanager/eventmanager/internal/store"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Endpoint names of the scenarios.
const (
	// EndpointEvents is the default events list (the live events: 5 on a seeded tenant);
	// EndpointEventsArchived the archived ones (?archived=true: a full page of 50 on a seeded
	// tenant of scale medium or large).
	EndpointEvents         = "events"
	EndpointEventsArchived = "events-archived"
	EndpointResults        = "results"
	EndpointScoresheet     = "scoresheet"
	EndpointMixed          = "mixed"
	// Rows of the mixed scenario are split into its reads and its writes.
	EndpointMixedRead  = "mixed-read"
	EndpointMixedWrite = "mixed-write"
)

// Workload is one endpoint's load: the i-th HTTP request, and the same store calls made directly
// (the ceilings). All must be safe for concurrent use.
type Workload struct {
	Name string
	// Target fills the i-th request to the API at base (http://host:port).
	Target func(i uint64, base string, t *vegeta.Target)
	// Call makes the i-th request's store call alone: the endpoint's SQL and tenant setting, in
	// the one batch the handler sends, without the token check. It returns the row it belongs to
	// (for the mixed workload: read or write).
	Call func(ctx context.Context, i uint64) (row string, err error)
	// Check is the i-th request's token check, as the API's authentication makes it.
	Check func(ctx context.Context, i uint64) error
	// Paths and Header describe a workload of GET requests only, for a load generator outside
	// the process (wrk): request i asks for Paths[i%len(Paths)] (path and query, relative to the
	// base URL) with Header, as Target does. Nil for workloads that write.
	Paths  []string
	Header http.Header
}

// pageLimit is what GET /api/v1/events asks the store for by default: a page of 50 plus one that
// tells whether another page follows.
const pageLimit = 51

// Workloads builds the endpoints' workloads on the fixture. writeShare (0 to 1) is the share of
// score submissions in the mixed workload; the rest read category results.
func (f *Fixture) Workloads(st *store.Store, writeShare float64) map[string]Workload {
	auth := func(h http.Header, token string) {
		h.Set("Authorization", "Bearer "+token)
	}
	header := func(token string) http.Header {
		h := http.Header{}
		auth(h, token)
		return h
	}
	adminHeader := header(f.AdminToken)
	check := func(ctx context.Context, token string) error {
		_, err := st.Authenticate(ctx, token)
		return err
	}
	checkAdmin := func(ctx context.Context, _ uint64) error { return check(ctx, f.AdminToken) }
	resultsPaths := make([]string, len(f.Categories))
	for k, c := range f.Categories {
		resultsPaths[k] = "/api/v1/results/categories/" + c
	}
	sheetPaths := make([]string, len(f.Sheets))
	for k, s := range f.Sheets {
		sheetPaths[k] = "/api/v1/categories/" + s[0] + "/scoresheet?judge_id=" + s[1]
	}
	results := func(i uint64, base string, t *vegeta.Target) {
		*t = vegeta.Target{Method: http.MethodGet, URL: base + resultsPaths[i%uint64(len(resultsPaths))], Header: adminHeader}
	}
	resultsCall := func(ctx context.Context, i uint64) error {
		_, err := st.CategoryResults(ctx, f.TenantID, f.Categories[i%uint64(len(f.Categories))], store.ResultsView{})
		return err
	}
	writeHeaders := make([]http.Header, len(f.Writers))
	for k, w := range f.Writers {
		writeHeaders[k] = header(w.Token)
		writeHeaders[k].Set("Content-Type", "application/json")
	}
	write := func(i uint64, base string, t *vegeta.Target) {
		k := int(i % uint64(len(f.Writers)))
		w := f.Writers[k]
		body, _ := json.Marshal(scoresBody(w.Rows[int(i/uint64(len(f.Writers)))%len(w.Rows)]))
		*t = vegeta.Target{Method: http.MethodPut, URL: base + "/api/v1/categories/" + w.CategoryID + "/scores",
			Header: writeHeaders[k], Body: body}
	}
	writeCall := func(ctx context.Context, i uint64) error {
		w := f.Writers[i%uint64(len(f.Writers))]
		row := w.Rows[int(i/uint64(len(f.Writers)))%len(w.Rows)]
		sub := store.ScoreSubmission{CategoryID: w.CategoryID, JudgeID: w.JudgeID}
		for _, c := range scoresBody(row).Scores {
			sub.Scores = append(sub.Scores, store.ScoreInput{ContestantID: c.ContestantID, CriterionID: c.CriterionID, Score: string(c.Score)})
		}
		_, _, err := st.SubmitScores(ctx, f.TenantID, store.Actor{UserID: w.UserID, RequestID: db.RequestID(ctx)}, sub, nil)
		return err
	}
	isWrite := func(i uint64) bool {
		// Exactly writeShare of every run of requests, spread evenly.
		return len(f.Writers) > 0 && math.Floor(float64(i+1)*writeShare) > math.Floor(float64(i)*writeShare)
	}

	eventsList := func(name string, archived bool) Workload {
		path := "/api/v1/events"
		if archived {
			path += "?archived=true"
		}
		return Workload{
			Name: name,
			Target: func(_ uint64, base string, t *vegeta.Target) {
				*t = vegeta.Target{Method: http.MethodGet, URL: base + path, Header: adminHeader}
			},
			Paths:  []string{path},
			Header: adminHeader,
			Call: func(ctx context.Context, _ uint64) (string, error) {
				_, err := st.ListEvents(ctx, f.TenantID, store.EventFilter{Archived: archived, Limit: pageLimit})
				return name, err
			},
			Check: checkAdmin,
		}
	}

	return map[string]Workload{
		EndpointEvents:         eventsList(EndpointEvents, false),
		EndpointEventsArchived: eventsList(EndpointEventsArchived, true),
		EndpointResults: {
			Name:   EndpointResults,
			Target: results,
			Call: func(ctx context.Context, i uint64) (string, error) {
				return EndpointResults, resultsCall(ctx, i)
			},
			Check:  checkAdmin,
			Paths:  resultsPaths,
			Header: adminHeader,
		},
		EndpointScoresheet: {
			Name: EndpointScoresheet,
			Target: func(i uint64, base string, t *vegeta.Target) {
				*t = vegeta.Target{Method: http.MethodGet, URL: base + sheetPaths[i%uint64(len(sheetPaths))], Header: adminHeader}
			},
			Call: func(ctx context.Context, i uint64) (string, error) {
				s := f.Sheets[i%uint64(len(f.Sheets))]
				_, err := st.Scoresheet(ctx, f.TenantID, s[0], s[1], true)
				return EndpointScoresheet, err
			},
			Check:  checkAdmin,
			Paths:  sheetPaths,
			Header: adminHeader,
		},
		EndpointMixed: {
			Name: EndpointMixed,
			Target: func(i uint64, base string, t *vegeta.Target) {
				if isWrite(i) {
					write(i, base, t)
					return
				}
				results(i, base, t)
			},
			Call: func(ctx context.Context, i uint64) (string, error) {
				if isWrite(i) {
					return EndpointMixedWrite, writeCall(ctx, i)
				}
				return EndpointMixedRead, resultsCall(ctx, i)
			},
			Check: func(ctx context.Context, i uint64) error {
				if isWrite(i) {
					return check(ctx, f.Writers[i%uint64(len(f.Writers))].Token)
				}
				return check(ctx, f.AdminToken)
			},
		},
	}
}

// scoresRequest is the body of PUT /api/v1/categories/{id}/scores.
type scoresRequest struct {
	Scores []scoreItem `json:"scores"`
}

type scoreItem struct {
	ContestantID string      `json:"contestant_id"`
	CriterionID  string      `json:"criterion_id"`
	Score        json.Number `json:"score"`
}

// scoresBody scores every cell of a row at random within its criterion's maximum.
func scoresBody(row []Cell) scoresRequest {
	req := scoresRequest{Scores: make([]scoreItem, len(row))}
	for k, c := range row {
		v := math.Floor(rand.Float64()*c.MaxScore*100) / 100
		req.Scores[k] = scoreItem{ContestantID: c.ContestantID, CriterionID: c.CriterionID,
			Score: json.Number(strconv.FormatFloat(v, 'f', 2, 64))}
	}
	return req
}

// errorKind names a failed store call as the API would answer it.
func errorKind(err error) string {
	for _, k := range []struct {
		err  error
		kind string
	}{
		{db.ErrPoolTimeout, "503 DB_POOL_TIMEOUT"},
		{db.ErrUnavailable, "503 DB_UNAVAILABLE"},
		{db.ErrQueryTimeout, "504 QUERY_TIMEOUT"},
		{db.ErrCanceled, "499 REQUEST_CANCELLED"},
		{db.ErrNotFound, "404 NOT_FOUND"},
		{db.ErrConflict, "409 CONFLICT"},
	} {
		if errors.Is(err, k.err) {
			return k.kind
		}
	}
	var rule *store.RuleError
	if errors.As(err, &rule) {
		return "rule " + rule.Code
	}
	return fmt.Sprintf("error %T", err)
}
