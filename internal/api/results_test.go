package api_test

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"testing"

	"github.com/eventmanager/eventmanager/internal/auth"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// scSheet is what a category's judges entered, kept by the test to compute the results itself.
type scSheet struct {
	cat    scCategory
	judges []scJudge
	// score[j][k][cr] is judge j's score of contestant k on criterion cr, in hundredths; -1: none.
	score [][][]int64
	// ded[k] are contestant k's deductions, in hundredths.
	ded [][]int64
}

// scNewSheet draws scores for every judge, contestant and criterion (multiples of 0.25 up to the
// criterion's maximum) from a fixed seed.
func scNewSheet(cat scCategory, judges []scJudge, seed uint64) *scSheet {
	rng := rand.New(rand.NewPCG(seed, 7))
	sh := &scSheet{cat: cat, judges: judges, ded: make([][]int64, len(cat.contestants))}
	for range judges {
		var js [][]int64
		for range cat.contestants {
			var ks []int64
			for _, m := range cat.maxScores {
				maxC, _ := strconv.ParseFloat(m, 64)
				steps := int64(math.Round(maxC*100)) / 25
				ks = append(ks, 25*rng.Int64N(steps+1))
			}
			js = append(js, ks)
		}
		sh.score = append(sh.score, js)
	}
	return sh
}

// enter sends every judge's scores through the API, and the deductions.
func (sh *scSheet) enter(e *env, deductionToken string) {
	e.t.Helper()
	for j, judge := range sh.judges {
		var cells []scCell
		for k, contestant := range sh.cat.contestants {
			for cr, criterion := range sh.cat.criteria {
				if v := sh.score[j][k][cr]; v >= 0 {
					cells = append(cells, scCell{ContestantID: contestant, CriterionID: criterion, Score: json.Number(scDecimal(v))})
				}
			}
		}
		if len(cells) > 0 {
			e.scPutOK(judge.token, sh.cat.id, cells)
		}
	}
	for k, ds := range sh.ded {
		for _, d := range ds {
			r := e.do("POST", "/api/v1/categories/"+sh.cat.id+"/deductions", deductionToken,
				map[string]any{"contestant_id": sh.cat.contestants[k], "amount": json.Number(scDecimal(d)), "reason": "rule"})
			require.Equal(e.t, http.StatusCreated, r.status, string(r.body))
		}
	}
}

// scExpected is the test's own result for one contestant.
type scExpected struct {
	contestantID  string
	judgeTotals   map[string]int64
	counted       map[string]bool
	total         int64
	judgesCounted int
	deductions    int64
	final         int64
	rank          int
}

// expect computes the category's results in Go: judge totals, OLYMPIC drops (lowest and highest
// total when three or more judges scored the contestant; ties broken by judge id), total, final
// (not below zero) and competition ranks (1, 1, 3). onlyJudge limits the scores to one judge.
func (sh *scSheet) expect(olympic bool, onlyJudge string) []scExpected {
	out := make([]scExpected, len(sh.cat.contestants))
	for k, contestant := range sh.cat.contestants {
		x := scExpected{contestantID: contestant, judgeTotals: map[string]int64{}, counted: map[string]bool{}}
		type jt struct {
			id    string
			total int64
		}
		var totals []jt
		for j, judge := range sh.judges {
			if onlyJudge != "" && judge.id != onlyJudge {
				continue
			}
			var sum int64
			scored := false
			for _, v := range sh.score[j][k] {
				if v >= 0 {
					sum, scored = sum+v, true
				}
			}
			if scored {
				totals = append(totals, jt{judge.id, sum})
			}
		}
		slices.SortFunc(totals, func(a, b jt) int {
			if a.total != b.total {
				return int(a.total - b.total)
			}
			if a.id < b.id {
				return -1
			}
			return 1
		})
		for i, t := range totals {
			x.judgeTotals[t.id] = t.total
			keep := !(olympic && len(totals) >= 3 && (i == 0 || i == len(totals)-1))
			x.counted[t.id] = keep
			if keep {
				x.total += t.total
				x.judgesCounted++
			}
		}
		for _, d := range sh.ded[k] {
			x.deductions += d
		}
		x.final = max(x.total-x.deductions, 0)
		out[k] = x
	}
	for k := range out {
		out[k].rank = 1
		for _, o := range out {
			if o.final > out[k].final {
				out[k].rank++
			}
		}
	}
	return out
}

// scCategoryResults is the answer of GET /results/categories/{id}.
type scCategoryResults struct {
	CategoryID      string `json:"category_id"`
	ScoringType     string `json:"scoring_type"`
	TotalsCertified bool   `json:"totals_certified"`
	Contestants     []struct {
		ContestantID string `json:"contestant_id"`
		Judges       []struct {
			JudgeID string      `json:"judge_id"`
			Total   json.Number `json:"total"`
			Counted bool        `json:"counted"`
		} `json:"judges"`
		Total         json.Number  `json:"total"`
		JudgesCounted int          `json:"judges_counted"`
		Average       *json.Number `json:"average"`
		Deductions    json.Number  `json:"deductions"`
		FinalScore    json.Number  `json:"final_score"`
		Rank          int          `json:"rank"`
	} `json:"contestants"`
}

func (e *env) scGetCategoryResults(token, categoryID string) scCategoryResults {
	e.t.Helper()
	r := e.do("GET", "/api/v1/results/categories/"+categoryID, token, nil)
	require.Equal(e.t, http.StatusOK, r.status, string(r.body))
	var res scCategoryResults
	require.NoError(e.t, json.Unmarshal(r.body, &res), string(r.body))
	return res
}

// scRequireResults compares an answer with the test's own computation.
func scRequireResults(t *testing.T, want []scExpected, got scCategoryResults) {
	t.Helper()
	require.Len(t, got.Contestants, len(want))
	byID := map[string]scExpected{}
	for _, w := range want {
		byID[w.contestantID] = w
	}
	lastRank := 0
	for _, c := range got.Contestants {
		w, ok := byID[c.ContestantID]
		require.True(t, ok, "unexpected contestant %s", c.ContestantID)
		require.GreaterOrEqual(t, c.Rank, lastRank, "contestants are listed by rank")
		lastRank = c.Rank
		require.Len(t, c.Judges, len(w.judgeTotals), c.ContestantID)
		for _, j := range c.Judges {
			require.Equal(t, w.judgeTotals[j.JudgeID], scCents(t, j.Total), "judge total of %s", j.JudgeID)
			require.Equal(t, w.counted[j.JudgeID], j.Counted, "counted flag of %s", j.JudgeID)
		}
		require.Equal(t, w.total, scCents(t, c.Total), "total")
		require.Equal(t, w.judgesCounted, c.JudgesCounted)
		if w.judgesCounted == 0 {
			require.Nil(t, c.Average)
		} else {
			avg, err := c.Average.Float64()
			require.NoError(t, err)
			require.InDelta(t, float64(w.total)/100/float64(w.judgesCounted), avg, 0.00006)
		}
		require.Equal(t, w.deductions, scCents(t, c.Deductions), "deductions")
		require.Equal(t, w.final, scCents(t, c.FinalScore), "final score")
		require.Equal(t, w.rank, c.Rank, "rank of %s (final %d)", c.ContestantID, w.final)
	}
}

func TestCategoryResultsStraightAndOlympic(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.scNewTenant("results")
	ev := tn.event("Show", "")
	ct := tn.contest(ev, "Solo", "")
	cat := tn.category(ct, "Vocal", []string{"10", "10", "5"}, 7)
	var judges []scJudge
	for i := range 5 {
		j := tn.judge(fmt.Sprintf("Judge %d", i+1))
		tn.assign(j.id, cat.id, "ACTIVE")
		judges = append(judges, j)
	}
	sh := scNewSheet(cat, judges, 1)
	// Contestants 0 and 1 tie at the top (everything at the maximum from every judge): ranks 1, 1
	// and the next one 3.
	for j := range judges {
		for k := range 2 {
			sh.score[j][k] = []int64{1000, 1000, 500}
		}
	}
	// Contestant 5 is scored by two judges only (OLYMPIC drops nobody then); contestant 6 by none.
	for j := 2; j < 5; j++ {
		sh.score[j][5] = []int64{-1, -1, -1}
	}
	for j := range judges {
		sh.score[j][6] = []int64{-1, -1, -1}
	}
	// Deductions: two for contestant 2 (summed), one larger than contestant 4's total (final 0).
	sh.ded[2] = []int64{150, 75}
	sh.ded[4] = []int64{99999}
	tally, _ := tn.user(auth.TallyMaster)
	sh.enter(e, tally)

	// STRAIGHT, inherited from the tenant.
	res := e.scGetCategoryResults(tn.admin, cat.id)
	require.Equal(t, "STRAIGHT", res.ScoringType)
	want := sh.expect(false, "")
	scRequireResults(t, want, res)
	require.Equal(t, 1, want[0].rank)
	require.Equal(t, 1, want[1].rank)
	require.Equal(t, 3, res.Contestants[2].Rank, "after two firsts comes third")
	require.Zero(t, want[4].final)

	// OLYMPIC, set on the contest.
	tn.exec(`UPDATE contests SET scoring_type = 'OLYMPIC' WHERE tenant_id = $1 AND id = $2`, tn.id, ct)
	res = e.scGetCategoryResults(tn.admin, cat.id)
	require.Equal(t, "OLYMPIC", res.ScoringType)
	want = sh.expect(true, "")
	scRequireResults(t, want, res)
	require.Equal(t, 3, want[0].judgesCounted)
	require.Equal(t, 2, want[5].judgesCounted)

	// The nearest scoring type wins: contest, then event, then tenant.
	for _, c := range []struct{ tenant, event, contest, want string }{
		{"OLYMPIC", "", "", "OLYMPIC"},
		{"OLYMPIC", "STRAIGHT", "", "STRAIGHT"},
		{"STRAIGHT", "OLYMPIC", "", "OLYMPIC"},
		{"STRAIGHT", "OLYMPIC", "STRAIGHT", "STRAIGHT"},
		{"STRAIGHT", "", "OLYMPIC", "OLYMPIC"},
	} {
		tn.exec(`UPDATE tenants SET scoring_type = $2 WHERE id = $1`, tn.id, c.tenant)
		tn.exec(`UPDATE events SET scoring_type = $3 WHERE tenant_id = $1 AND id = $2`, tn.id, ev, scNullable(c.event))
		tn.exec(`UPDATE contests SET scoring_type = $3 WHERE tenant_id = $1 AND id = $2`, tn.id, ct, scNullable(c.contest))
		res = e.scGetCategoryResults(tn.admin, cat.id)
		require.Equal(t, c.want, res.ScoringType, "%+v", c)
		scRequireResults(t, sh.expect(c.want == "OLYMPIC", ""), res)
	}
}

// scAggregate is the answer of the contest and event results.
type scAggregate struct {
	Categories []struct {
		CategoryID string `json:"category_id"`
	} `json:"categories"`
	Contestants []struct {
		ContestantID string `json:"contestant_id"`
		Categories   []struct {
			CategoryID string      `json:"category_id"`
			FinalScore json.Number `json:"final_score"`
			Rank       int         `json:"rank"`
		} `json:"categories"`
		Total json.Number `json:"total"`
		Rank  int         `json:"rank"`
	} `json:"contestants"`
}

func (e *env) scGetAggregate(token, path string) scAggregate {
	e.t.Helper()
	r := e.do("GET", path, token, nil)
	require.Equal(e.t, http.StatusOK, r.status, string(r.body))
	var a scAggregate
	require.NoError(e.t, json.Unmarshal(r.body, &a), string(r.body))
	return a
}

// scRequireAggregate checks contest or event results against the categories' own results: each
// contestant's total is the sum of their category finals, ranked with shared ranks.
func scRequireAggregate(t *testing.T, got scAggregate, cats map[string][]scExpected) {
	t.Helper()
	totals := map[string]int64{}
	finals := map[[2]string]scExpected{}
	for catID, xs := range cats {
		for _, x := range xs {
			totals[x.contestantID] += x.final
			finals[[2]string{x.contestantID, catID}] = x
		}
	}
	require.Len(t, got.Categories, len(cats))
	require.Len(t, got.Contestants, len(totals))
	for _, c := range got.Contestants {
		require.Equal(t, totals[c.ContestantID], scCents(t, c.Total), c.ContestantID)
		rank := 1
		for _, o := range totals {
			if o > totals[c.ContestantID] {
				rank++
			}
		}
		require.Equal(t, rank, c.Rank)
		for _, cc := range c.Categories {
			x, ok := finals[[2]string{c.ContestantID, cc.CategoryID}]
			require.True(t, ok)
			require.Equal(t, x.final, scCents(t, cc.FinalScore))
			require.Equal(t, x.rank, cc.Rank)
		}
	}
}

// scEventSetup is an event with two contests: A (STRAIGHT) with categories A1 and A2, B (OLYMPIC)
// with B1; contestants overlap between categories; three judges score everything.
type scEventSetup struct {
	tn                *scTenant
	event, a, b       string
	a1, a2, b1        *scSheet
	judges            []scJudge
	people            []string
	tally, contestant string
}

func scNewEventSetup(e *env, slug string) scEventSetup {
	tn := e.scNewTenant(slug)
	s := scEventSetup{tn: tn}
	s.event = tn.event("Gala", "")
	s.a = tn.contest(s.event, "A", "")
	s.b = tn.contest(s.event, "B", "OLYMPIC")
	s.people = tn.newContestants(6)
	mk := func(contest, name string, who ...int) scCategory {
		c := tn.category(contest, name, []string{"10", "10"}, 0)
		for _, i := range who {
			c.contestants = append(c.contestants, s.people[i])
		}
		tn.enter(c.id, c.contestants...)
		return c
	}
	a1, a2, b1 := mk(s.a, "A1", 0, 1, 2, 3), mk(s.a, "A2", 2, 3, 4, 5), mk(s.b, "B1", 0, 5, 1)
	for i := range 3 {
		j := tn.judge(fmt.Sprintf("Judge %d", i+1))
		for _, c := range []scCategory{a1, a2, b1} {
			tn.assign(j.id, c.id, "ACTIVE")
		}
		s.judges = append(s.judges, j)
	}
	s.tally, _ = tn.user(auth.TallyMaster)
	s.contestant, _ = tn.user(auth.Contestant)
	s.a1, s.a2, s.b1 = scNewSheet(a1, s.judges, 11), scNewSheet(a2, s.judges, 12), scNewSheet(b1, s.judges, 13)
	s.a2.ded[1] = []int64{250}
	for _, sh := range []*scSheet{s.a1, s.a2, s.b1} {
		sh.enter(e, s.tally)
	}
	return s
}

func TestContestAndEventResults(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := scNewEventSetup(e, "aggregate")
	a1, a2, b1 := s.a1.expect(false, ""), s.a2.expect(false, ""), s.b1.expect(true, "")
	scRequireResults(t, b1, e.scGetCategoryResults(s.tn.admin, s.b1.cat.id))

	contest := e.scGetAggregate(s.tn.admin, "/api/v1/results/contests/"+s.a)
	scRequireAggregate(t, contest, map[string][]scExpected{s.a1.cat.id: a1, s.a2.cat.id: a2})
	event := e.scGetAggregate(s.tn.admin, "/api/v1/results/events/"+s.event)
	scRequireAggregate(t, event, map[string][]scExpected{s.a1.cat.id: a1, s.a2.cat.id: a2, s.b1.cat.id: b1})

	// Ties in the overall ranking share a rank too: deductions bring two contestants (entered in A1
	// and A2 only) down to zero in both categories.
	hi, lo := s.people[2], s.people[3]
	for _, sh := range []*scSheet{s.a1, s.a2} {
		for _, who := range []string{hi, lo} {
			k := slices.Index(sh.cat.contestants, who)
			sh.ded[k] = append(sh.ded[k], 99999)
			r := e.do("POST", "/api/v1/categories/"+sh.cat.id+"/deductions", s.tally,
				map[string]any{"contestant_id": who, "amount": 999.99, "reason": "disqualified"})
			require.Equal(t, http.StatusCreated, r.status, string(r.body))
		}
	}
	a1, a2 = s.a1.expect(false, ""), s.a2.expect(false, "")
	event = e.scGetAggregate(s.tn.admin, "/api/v1/results/events/"+s.event)
	scRequireAggregate(t, event, map[string][]scExpected{s.a1.cat.id: a1, s.a2.cat.id: a2, s.b1.cat.id: b1})
	ranks := map[string]int{}
	for _, c := range event.Contestants {
		ranks[c.ContestantID] = c.Rank
	}
	require.Equal(t, ranks[hi], ranks[lo], "equal totals share a rank")
}

func TestResultsVisibility(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := scNewEventSetup(e, "visible")
	tn := s.tn
	j := s.judges[1]

	// A JUDGE's results are computed from their own scores only.
	res := e.scGetCategoryResults(j.token, s.a1.cat.id)
	for _, c := range res.Contestants {
		require.Len(t, c.Judges, 1)
		require.Equal(t, j.id, c.Judges[0].JudgeID)
	}
	scRequireResults(t, s.a1.expect(false, j.id), res)
	scRequireResults(t, s.b1.expect(true, j.id), e.scGetCategoryResults(j.token, s.b1.cat.id))
	scRequireAggregate(t, e.scGetAggregate(j.token, "/api/v1/results/events/"+s.event), map[string][]scExpected{
		s.a1.cat.id: s.a1.expect(false, j.id), s.a2.cat.id: s.a2.expect(false, j.id), s.b1.cat.id: s.b1.expect(true, j.id)})
	// A JUDGE user not linked to a judge has no scores to see.
	unlinked, _ := tn.user(auth.Judge)
	requireError(t, e.do("GET", "/api/v1/results/categories/"+s.a1.cat.id, unlinked, nil), 403, "NOT_A_JUDGE", "")

	// A CONTESTANT sees nothing before the totals are certified...
	requireError(t, e.do("GET", "/api/v1/results/categories/"+s.a1.cat.id, s.contestant, nil), 403, "RESULTS_NOT_CERTIFIED", "")
	contest := e.scGetAggregate(s.contestant, "/api/v1/results/contests/"+s.a)
	require.Empty(t, contest.Categories)
	require.Empty(t, contest.Contestants)
	// ...then the certified categories, with every judge's scores.
	tn.scCertifyTally(s.a1.cat.id)
	res = e.scGetCategoryResults(s.contestant, s.a1.cat.id)
	require.True(t, res.TotalsCertified)
	scRequireResults(t, s.a1.expect(false, ""), res)
	requireError(t, e.do("GET", "/api/v1/results/categories/"+s.a2.cat.id, s.contestant, nil), 403, "RESULTS_NOT_CERTIFIED", "")
	scRequireAggregate(t, e.scGetAggregate(s.contestant, "/api/v1/results/contests/"+s.a), map[string][]scExpected{s.a1.cat.id: s.a1.expect(false, "")})
	scRequireAggregate(t, e.scGetAggregate(s.contestant, "/api/v1/results/events/"+s.event), map[string][]scExpected{s.a1.cat.id: s.a1.expect(false, "")})

	// Everyone else of the tenant sees everything.
	for _, role := range []auth.Role{auth.Emcee, auth.Organizer, auth.Auditor, auth.Board} {
		tok, _ := tn.user(role)
		scRequireResults(t, s.a2.expect(false, ""), e.scGetCategoryResults(tok, s.a2.cat.id))
	}
	scRequireResults(t, s.a2.expect(false, ""), e.scGetCategoryResults(s.tally, s.a2.cat.id))

	// Unknown ids are 404.
	for _, kind := range []string{"categories", "contests", "events"} {
		requireError(t, e.do("GET", "/api/v1/results/"+kind+"/"+uuid.NewString(), tn.admin, nil), 404, "NOT_FOUND", "", kind)
	}
}
