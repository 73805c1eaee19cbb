package api_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// score_cap: a judge's total for a contestant in the category may not exceed it (422
// SCORE_CAP_EXCEEDED naming the cell), and the cap may not be lowered below a total already given
// (409 SCORE_CAP_BELOW_TOTALS).
func TestScoreCap(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.scNewTenant("capped")
	cat := tn.category(tn.contest(tn.event("Show", ""), "Solo", ""), "Vocal", []string{"10", "10"}, 2)
	j := tn.judge("Jo")
	tn.assign(j.id, cat.id, "ACTIVE")
	path := "/api/v1/categories/" + cat.id
	r := e.do("PATCH", path, tn.admin, map[string]any{"score_cap": 15})
	require.Equal(t, http.StatusOK, r.status, string(r.body))

	cell := func(k, cr int, score any) scCell {
		return scCell{ContestantID: cat.contestants[k], CriterionID: cat.criteria[cr], Score: score}
	}
	// 8 + 8 = 16 for the first contestant: the first of its cells is named; nothing is written.
	r = e.scPut(j.token, cat.id, map[string]any{"scores": []scCell{cell(1, 0, 1), cell(0, 0, 8), cell(0, 1, 8)}})
	requireError(t, r, http.StatusUnprocessableEntity, "SCORE_CAP_EXCEEDED", "scores[1].score")
	require.Contains(t, errorMessage(t, r), "16")
	require.Zero(t, tn.scoreCount())
	// Up to the cap is fine.
	e.scPutOK(j.token, cat.id, []scCell{cell(0, 0, 8), cell(0, 1, 7)})
	// A later write counts the cells already given: 8 + 7.5 = 15.5.
	r = e.scPut(j.token, cat.id, map[string]any{"scores": []scCell{cell(0, 1, 7.5)}})
	requireError(t, r, http.StatusUnprocessableEntity, "SCORE_CAP_EXCEEDED", "scores[0].score")
	// Replacing a cell counts its new value, not both: 6 + 7 = 13.
	e.scPutOK(j.token, cat.id, []scCell{cell(0, 0, 6)})

	requireError(t, e.do("PATCH", path, tn.admin, map[string]any{"score_cap": 12.5}), http.StatusConflict, "SCORE_CAP_BELOW_TOTALS", "score_cap")
	for _, capValue := range []any{13, 20, nil} {
		r = e.do("PATCH", path, tn.admin, map[string]any{"score_cap": capValue})
		require.Equal(t, http.StatusOK, r.status, string(r.body))
	}
	// Without a cap, only the criteria's maxima bound the total.
	e.scPutOK(j.token, cat.id, []scCell{cell(0, 0, 10), cell(0, 1, 10)})
}
