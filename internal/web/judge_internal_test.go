package web

import (
	"encoding/json"
	"testing"

	"github.com/eventmanager/eventmanager/internal/store"
)

// A row's "/ max" is what the row can reach: the criteria's maxima, or the score cap when that is
// lower. A cap far above the criteria (1000 on a sheet of 10 + 7.25) is not what a judge scores to.
func TestMaxTotal(t *testing.T) {
	crit := func(maxes ...string) []store.SheetCriterion {
		var out []store.SheetCriterion
		for _, m := range maxes {
			out = append(out, store.SheetCriterion{MaxScore: json.Number(m)})
		}
		return out
	}
	num := func(s string) *json.Number { n := json.Number(s); return &n }
	for _, c := range []struct {
		name  string
		sheet store.Scoresheet
		want  string
		binds bool
	}{
		{"no cap", store.Scoresheet{Criteria: crit("10", "7.25")}, "17.25", false},
		{"cap above the criteria", store.Scoresheet{Criteria: crit("10", "10"), ScoreCap: num("1000")}, "20", false},
		{"cap below the criteria", store.Scoresheet{Criteria: crit("10", "10", "5"), ScoreCap: num("18.50")}, "18.5", true},
		{"float noise", store.Scoresheet{Criteria: crit("0.1", "0.2")}, "0.3", false},
	} {
		got, binds := maxTotal(c.sheet)
		if got != c.want || binds != c.binds {
			t.Errorf("%s: maxTotal = %q, %v; want %q, %v", c.name, got, binds, c.want, c.binds)
		}
	}
}
