package api_test

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/eventmanager/eventmanager/internal/bouncertest"
	"github.com/stretchr/testify/require"
)

// This file plays a whole competition through the HTTP API only and checks the published results
// against totals computed here, independently, in integer hundredths.

const e2eSlug = "e2e"

// e2eContestant is a contestant of the competition.
type e2eContestant struct {
	id, name string
	number   int
}

// e2eJudge is a judge record with the JUDGE user who acts as it.
type e2eJudge struct {
	id, name, userID, email, token string
}

// e2eContest is a contest and the scoring type set on it.
type e2eContest struct {
	id, name, scoring string
}

// e2eCategory is a category of the plan: maxima of its criteria (hundredths), the contestants
// entered (indexes into e2eComp.contestants) and the judges assigned (indexes into e2eComp.judges).
type e2eCategory struct {
	name     string
	contest  int
	maxes    []int64
	entrants []int
	judges   []int

	id       string
	criteria []string
}

// e2eCell names one score: category, judge, contestant and criterion indexes.
type e2eCell struct{ cat, judge, contestant, criterion int }

// e2eComp is the whole competition as the test built it, with every score and deduction it sent.
type e2eComp struct {
	eventID, eventName string
	contests           []e2eContest
	cats               []*e2eCategory
	contestants        []e2eContestant
	judges             []e2eJudge
	scores             map[e2eCell]int64
	deductions         map[[2]int]int64 // (category, contestant) → sum of the amounts
}

// e2eLine is one contestant's category result, normalised to integers: totals in hundredths,
// average in ten-thousandths.
type e2eLine struct {
	ContestantID  string
	Name          string
	Number        int
	Judges        []e2eJudgeLine
	Total         int64
	JudgesCounted int
	Average       *int64
	Deductions    int64
	Final         int64
	Rank          int
}

type e2eJudgeLine struct {
	JudgeID string
	Name    string
	Total   int64
	Counted bool
}

// e2eAggLine is one contestant's contest or event result, normalised.
type e2eAggLine struct {
	ContestantID string
	Name         string
	Number       int
	Categories   []e2eAggCategory
	Total        int64
	Rank         int
}

type e2eAggCategory struct {
	CategoryID string
	Final      int64
	Rank       int
}

// The documented response shapes; decoded strictly (unknown fields refused) with numbers kept as text.
type (
	e2eJudgeTotalJSON struct {
		JudgeID string      `json:"judge_id"`
		Name    string      `json:"name"`
		Total   json.Number `json:"total"`
		Counted bool        `json:"counted"`
	}
	e2eContestantResultJSON struct {
		ContestantID  string              `json:"contestant_id"`
		Name          string              `json:"name"`
		Number        *int                `json:"number"`
		Judges        []e2eJudgeTotalJSON `json:"judges"`
		Total         json.Number         `json:"total"`
		JudgesCounted int                 `json:"judges_counted"`
		Average       *json.Number        `json:"average"`
		Deductions    json.Number         `json:"deductions"`
		FinalScore    json.Number         `json:"final_score"`
		Rank          int                 `json:"rank"`
	}
	e2eCategoryResultsJSON struct {
		CategoryID      string                    `json:"category_id"`
		Name            string                    `json:"name"`
		ContestID       string                    `json:"contest_id"`
		EventID         string                    `json:"event_id"`
		ScoringType     string                    `json:"scoring_type"`
		TotalsCertified bool                      `json:"totals_certified"`
		Contestants     []e2eContestantResultJSON `json:"contestants"`
	}
	e2eResultCategoryJSON struct {
		CategoryID      string `json:"category_id"`
		Name            string `json:"name"`
		ContestID       string `json:"contest_id"`
		ScoringType     string `json:"scoring_type"`
		TotalsCertified bool   `json:"totals_certified"`
	}
	e2eAggContestantJSON struct {
		ContestantID string `json:"contestant_id"`
		Name         string `json:"name"`
		Number       *int   `json:"number"`
		Categories   []struct {
			CategoryID string      `json:"category_id"`
			FinalScore json.Number `json:"final_score"`
			Rank       int         `json:"rank"`
		} `json:"categories"`
		Total json.Number `json:"total"`
		Rank  int         `json:"rank"`
	}
	e2eAggResultsJSON struct {
		ContestID   string                  `json:"contest_id"`
		EventID     string                  `json:"event_id"`
		Name        string                  `json:"name"`
		Categories  []e2eResultCategoryJSON `json:"categories"`
		Contestants []e2eAggContestantJSON  `json:"contestants"`
	}
)

func TestE2ECompetition(t *testing.T) {
	t.Parallel()
	bouncertest.Run(t, testE2ECompetition)
}

func testE2ECompetition(t *testing.T, mode bouncertest.Mode) {
	e := newEnv(t, viaMode(mode))
	admin := e.tenant(e2eSlug)

	// Each phase builds on the ones before; the first that fails stops the test.
	phase := func(name string, f func(t *testing.T, e *env)) {
		t.Helper()
		if !t.Run(name, func(t *testing.T) { f(t, e.in(t)) }) {
			t.FailNow()
		}
	}

	// The admin creates the staff; each signs in with the password the admin chose.
	var organizer, tally, tallyID, auditor, auditorID, board, boardID string
	phase("admin creates the staff", func(t *testing.T, e *env) {
		organizer, _ = e.e2eStaff(admin, "organizer@e2e.test", "Olive Organizer", "ORGANIZER")
		tally, tallyID = e.e2eStaff(admin, "tally@e2e.test", "Tess Tally", "TALLY_MASTER")
		auditor, auditorID = e.e2eStaff(admin, "auditor@e2e.test", "Aldo Auditor", "AUDITOR")
		board, boardID = e.e2eStaff(admin, "board@e2e.test", "Bea Board", "BOARD")
	})

	c := &e2eComp{
		eventName: "National Finals",
		contests: []e2eContest{
			{name: "Vocal", scoring: "STRAIGHT"},
			{name: "Dance", scoring: "OLYMPIC"},
		},
		cats: []*e2eCategory{
			// STRAIGHT: five judges, then three.
			{name: "Solo", contest: 0, maxes: []int64{1000, 2000, 1550}, entrants: []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, judges: []int{0, 1, 2, 3, 4}},
			{name: "Duet", contest: 0, maxes: []int64{2500, 725}, entrants: []int{0, 1, 2, 3, 4, 5, 8, 9}, judges: []int{0, 1, 2}},
			// OLYMPIC: five judges (one highest and one lowest dropped), then two (nothing dropped).
			{name: "Ballad", contest: 1, maxes: []int64{3000, 1225, 875}, entrants: []int{2, 3, 4, 5, 6, 7, 8, 9}, judges: []int{0, 1, 2, 3, 4}},
			{name: "Encore", contest: 1, maxes: []int64{5000}, entrants: []int{0, 1, 2, 6, 7, 8, 9}, judges: []int{3, 4}},
		},
		scores:     map[e2eCell]int64{},
		deductions: map[[2]int]int64{},
	}

	// The organiser builds the event, its contests (scoring type set by PATCH), categories and criteria.
	phase("organiser builds the competition", func(t *testing.T, e *env) {
		c.eventID = e.createEvent(organizer, c.eventName, time.Date(2026, 9, 12, 18, 0, 0, 0, time.UTC))
		for i := range c.contests {
			ct := &c.contests[i]
			ct.id = e.e2eCreate(organizer, "/api/v1/events/"+c.eventID+"/contests", map[string]any{"name": ct.name})
			r := e.do("PATCH", "/api/v1/contests/"+ct.id, organizer, map[string]any{"scoring_type": ct.scoring})
			require.Equal(t, http.StatusOK, r.status, string(r.body))
			require.Equal(t, ct.scoring, r.json(t)["scoring_type"])
		}
		for _, cat := range c.cats {
			cat.id = e.e2eCreate(organizer, "/api/v1/contests/"+c.contests[cat.contest].id+"/categories",
				map[string]any{"name": cat.name, "time_limit_seconds": 240})
			for k, m := range cat.maxes {
				cat.criteria = append(cat.criteria, e.e2eCreate(organizer, "/api/v1/categories/"+cat.id+"/criteria",
					map[string]any{"name": fmt.Sprintf("%s criterion %d", cat.name, k+1), "max_score": json.RawMessage(e2eDec(m)), "position": k}))
			}
		}

		// Ten contestants, entered into the categories.
		for i, name := range []string{"Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Margaret", "Radia"} {
			c.contestants = append(c.contestants, e2eContestant{name: name, number: i + 1,
				id: e.e2eCreate(organizer, "/api/v1/contestants", map[string]any{"name": name, "number": i + 1})})
		}
		for _, cat := range c.cats {
			for _, k := range cat.entrants {
				r := e.do("PUT", "/api/v1/categories/"+cat.id+"/contestants/"+c.contestants[k].id, organizer, nil)
				require.Equal(t, http.StatusCreated, r.status, string(r.body))
			}
		}

	})

	// Five judges, each acted by a JUDGE user: three linked by the judge's user_id (organiser), two by
	// the user's judge_id (admin).
	phase("judges are linked, assigned and sign in", func(t *testing.T, e *env) {
		for j := range 5 {
			email := fmt.Sprintf("judge%d@e2e.test", j+1)
			r := e.do("POST", "/api/v1/users", admin, map[string]any{"email": email, "name": fmt.Sprintf("Judge user %d", j+1), "role": "JUDGE", "password": testPassword})
			require.Equal(t, http.StatusCreated, r.status, string(r.body))
			jd := e2eJudge{name: fmt.Sprintf("Judge %d", j+1), email: email, userID: r.json(t)["id"].(string)}
			body := map[string]any{"name": jd.name, "email": email, "is_head_judge": j == 0}
			if j < 3 {
				body["user_id"] = jd.userID
			}
			jd.id = e.e2eCreate(organizer, "/api/v1/judges", body)
			if j >= 3 {
				r = e.do("PATCH", "/api/v1/users/"+jd.userID, admin, map[string]any{"judge_id": jd.id})
				require.Equal(t, http.StatusOK, r.status, string(r.body))
				require.Equal(t, jd.id, r.json(t)["judge_id"])
			}
			r = e.do("GET", "/api/v1/judges/"+jd.id, organizer, nil)
			require.Equal(t, http.StatusOK, r.status, string(r.body))
			require.Equal(t, jd.userID, r.json(t)["user_id"])
			c.judges = append(c.judges, jd)
		}

		// Assignments: ACTIVE, some created so, the others created PENDING and then activated.
		for ci, cat := range c.cats {
			for _, j := range cat.judges {
				body := map[string]any{"judge_id": c.judges[j].id, "category_id": cat.id}
				if ci%2 == 0 {
					body["status"] = "ACTIVE"
				}
				id := e.e2eCreate(organizer, "/api/v1/assignments", body)
				if ci%2 == 1 {
					r := e.do("PATCH", "/api/v1/assignments/"+id, organizer, map[string]any{"status": "ACTIVE"})
					require.Equal(t, http.StatusOK, r.status, string(r.body))
					require.Equal(t, "ACTIVE", r.json(t)["status"])
				}
			}
		}

		// The judges sign in; their sessions know the judge they act as.
		for j := range c.judges {
			jd := &c.judges[j]
			jd.token = e.login(e2eSlug, jd.email)
			r := e.do("GET", "/api/v1/auth/me", jd.token, nil)
			require.Equal(t, http.StatusOK, r.status, string(r.body))
			require.Equal(t, jd.id, r.json(t)["judge_id"])
		}

	})

	// Scores are planned first, so that the ties below are made on purpose, then sent by each judge.
	phase("judges score", func(t *testing.T, e *env) {
		c.planScores(t)
		for ci, cat := range c.cats {
			for _, j := range cat.judges {
				e.e2eScore(c, ci, j)
				sheet := e.e2eGetJSON(c.judges[j].token, "/api/v1/categories/"+cat.id+"/scoresheet")
				required := len(cat.entrants) * len(cat.criteria)
				require.EqualValues(t, required, sheet["required"])
				require.EqualValues(t, required, sheet["filled"])
				require.Equal(t, false, sheet["certified"])
			}
		}

	})

	// Deductions by the tally master, before the totals are certified:
	//   - Duet: the difference between two contestants' totals, so that their finals tie;
	//   - Ballad: more than the contestant can score, so that the final stops at zero;
	//   - Encore: two deductions of one contestant, which add up.
	duet, ballad, encore := 1, 2, 3
	hi, lo := 0, 1
	phase("tally master deducts", func(t *testing.T, e *env) {
		t0, t1 := c.expectedTotal(duet, 0), c.expectedTotal(duet, 1)
		require.NotEqual(t, t0, t1, "the plan needs two different Duet totals")
		if t1 > t0 {
			hi, lo = 1, 0
		}
		e.e2eDeduct(c, tally, duet, hi, c.expectedTotal(duet, hi)-c.expectedTotal(duet, lo), "Costume rule")
		e.e2eDeduct(c, tally, ballad, 6, 20000, "Disqualified: late")
		e.e2eDeduct(c, tally, encore, 7, 125, "Over time")
		e.e2eDeduct(c, tally, encore, 7, 250, "Prop left on stage")

	})

	// Certification, in order. A later step before the judges is refused, naming the missing step.
	phase("certification in order", func(t *testing.T, e *env) {
		r := e.do("POST", "/api/v1/categories/"+c.cats[0].id+"/certification", tally, map[string]any{"step": "TALLY_MASTER"})
		requireError(t, r, http.StatusConflict, "CERTIFICATION_OUT_OF_ORDER", "step")
		require.Contains(t, errorMessage(t, r), "JUDGE")
		for _, cat := range c.cats {
			for _, j := range cat.judges {
				e.e2eCertify(c.judges[j].token, cat.id, "JUDGE")
			}
			e.e2eCertify(tally, cat.id, "TALLY_MASTER")
			e.e2eCertify(auditor, cat.id, "AUDITOR")
			st := e.e2eCertify(board, cat.id, "BOARD")
			require.Nil(t, st["next_step"], "%s: %v", cat.name, st)
			for _, s := range st["steps"].([]any) {
				require.Equal(t, true, s.(map[string]any)["certified"], "%s: %v", cat.name, s)
			}
			judges := st["judges"].([]any)
			require.Len(t, judges, len(cat.judges))
			for _, jd := range judges {
				require.Equal(t, true, jd.(map[string]any)["certified"], "%s: %v", cat.name, jd)
			}
		}

	})

	// Certified scores are locked, for the judge and for an admin entering on their behalf; nothing
	// is written. Deductions are closed too.
	phase("certified means final", func(t *testing.T, e *env) {
		scoreAudits := len(e.e2eAudit(admin, "action", "score.submitted"))
		cell := e2eCell{cat: 0, judge: 2, contestant: 4, criterion: 1}
		changed := map[string]any{"scores": []map[string]any{{
			"contestant_id": c.contestants[cell.contestant].id, "criterion_id": c.cats[cell.cat].criteria[cell.criterion],
			"score": json.RawMessage(e2eDec(c.scores[cell] - 1)),
		}}}
		r := e.do("PUT", "/api/v1/categories/"+c.cats[0].id+"/scores", c.judges[cell.judge].token, changed)
		requireError(t, r, http.StatusConflict, "SCORE_LOCKED", "scores[0].score")
		changed["judge_id"] = c.judges[cell.judge].id
		r = e.do("PUT", "/api/v1/categories/"+c.cats[0].id+"/scores", admin, changed)
		requireError(t, r, http.StatusConflict, "SCORE_LOCKED", "scores[0].score")
		require.Len(t, e.e2eAudit(admin, "action", "score.submitted"), scoreAudits)
		r = e.do("POST", "/api/v1/categories/"+c.cats[duet].id+"/deductions", tally,
			map[string]any{"contestant_id": c.contestants[2].id, "amount": 1, "reason": "Too late"})
		requireError(t, r, http.StatusConflict, "CATEGORY_CERTIFIED", "")

	})

	// The plan made the ties it meant to: Solo's top two share rank 1 and the next is 3 (1, 1, 3);
	// Duet's finals tie through a deduction; Ballad's through the dropped lowest judge total.
	phase("the plan made its ties", func(t *testing.T, e *env) {
		solo := c.expectCategory(0, -1)
		require.Equal(t, []int{1, 1, 3}, []int{solo[0].Rank, solo[1].Rank, solo[2].Rank})
		require.Equal(t, solo[0].ContestantID, c.contestants[8].id)
		require.Equal(t, solo[1].ContestantID, c.contestants[9].id)
		duetLines := c.expectCategory(duet, -1)
		dHi, dLo := e2eLineOf(duetLines, c.contestants[hi].id), e2eLineOf(duetLines, c.contestants[lo].id)
		require.NotEqual(t, dHi.Total, dLo.Total)
		require.Equal(t, dHi.Final, dLo.Final)
		require.Equal(t, dHi.Rank, dLo.Rank)
		balladLines := c.expectCategory(ballad, -1)
		b4, b5 := e2eLineOf(balladLines, c.contestants[4].id), e2eLineOf(balladLines, c.contestants[5].id)
		require.NotEqual(t, e2eSumJudges(b4), e2eSumJudges(b5))
		require.Equal(t, b4.Final, b5.Final)
		require.Equal(t, b4.Rank, b5.Rank)
		require.Zero(t, e2eLineOf(balladLines, c.contestants[6].id).Final, "a deduction above the total stops at zero")

	})

	// Results, as the organiser, against the totals computed here.
	all := []int{0, 1, 2, 3}
	phase("results match the totals", func(t *testing.T, e *env) {
		for ci, cat := range c.cats {
			res := e.e2eCategoryResults(organizer, cat.id)
			require.Equal(t, cat.id, res.CategoryID)
			require.Equal(t, cat.name, res.Name)
			require.Equal(t, c.contests[cat.contest].id, res.ContestID)
			require.Equal(t, c.eventID, res.EventID)
			require.Equal(t, c.contests[cat.contest].scoring, res.ScoringType)
			require.True(t, res.TotalsCertified)
			require.Equal(t, c.expectCategory(ci, -1), e2eNormCategory(t, res), cat.name)
		}
		for i, ct := range c.contests {
			res, raw := e.e2eAggResults(organizer, "/api/v1/results/contests/"+ct.id)
			require.Equal(t, ct.id, res.ContestID)
			require.Equal(t, c.eventID, res.EventID)
			require.Equal(t, ct.name, res.Name)
			require.Contains(t, raw, "contest_id")
			var catIdx []int
			for ci, cat := range c.cats {
				if cat.contest == i {
					catIdx = append(catIdx, ci)
				}
			}
			require.Equal(t, c.expectResultCategories(catIdx), e2eNormResultCategories(res))
			require.Equal(t, c.expectAggregate(catIdx, -1), e2eNormAggregate(t, res), ct.name)
		}
		res, raw := e.e2eAggResults(organizer, "/api/v1/results/events/"+c.eventID)
		require.NotContains(t, raw, "contest_id", "the event answer has no contest_id at the top")
		require.Equal(t, c.eventID, res.EventID)
		require.Equal(t, c.eventName, res.Name)
		require.Equal(t, c.expectResultCategories(all), e2eNormResultCategories(res))
		event := c.expectAggregate(all, -1)
		require.Equal(t, event, e2eNormAggregate(t, res))
		// Margaret and Radia were scored alike everywhere: they share their event rank, and the next skips.
		m, rd := e2eAggOf(event, c.contestants[8].id), e2eAggOf(event, c.contestants[9].id)
		require.Equal(t, m.Total, rd.Total)
		require.Equal(t, m.Rank, rd.Rank)

	})

	// A JUDGE sees results computed from their own scores only (Judge 4 judges no Duet: zeros there).
	phase("a judge sees their own scores' results", func(t *testing.T, e *env) {
		require.Equal(t, c.expectCategory(ballad, 3), e2eNormCategory(t, e.e2eCategoryResults(c.judges[3].token, c.cats[ballad].id)))
		res, _ := e.e2eAggResults(c.judges[3].token, "/api/v1/results/events/"+c.eventID)
		require.Equal(t, c.expectAggregate(all, 3), e2eNormAggregate(t, res))

	})

	// The audit log holds one score.submitted row per cell written, with the judge as the actor, and
	// one category.certified row per step taken.
	phase("the audit log tells who did what", func(t *testing.T, e *env) {
		require.Len(t, e.e2eAudit(auditor, "action", "score.submitted"), len(c.scores))
		cell := e2eCell{cat: ballad, judge: 4, contestant: 3, criterion: 2}
		rows := e.e2eAudit(board, "action", "score.submitted", "data", string(e2eJSON(t, map[string]any{
			"judge_id": c.judges[cell.judge].id, "contestant_id": c.contestants[cell.contestant].id,
			"criterion_id": c.cats[cell.cat].criteria[cell.criterion], "category_id": c.cats[cell.cat].id,
		})))
		require.Len(t, rows, 1)
		require.Equal(t, "score", rows[0].EntityType)
		require.Equal(t, c.judges[cell.judge].userID, *rows[0].ActorUserID)
		var scoreData struct {
			OnBehalf bool `json:"on_behalf_of_judge"`
			After    struct {
				Score json.Number `json:"score"`
			} `json:"after"`
			Before any `json:"before"`
		}
		e2eDecode(t, rows[0].Data, &scoreData, false)
		require.False(t, scoreData.OnBehalf)
		require.Nil(t, scoreData.Before)
		require.Equal(t, c.scores[cell], e2eFixed(t, scoreData.After.Score, 2))

		actors := map[string]string{"TALLY_MASTER": tallyID, "AUDITOR": auditorID, "BOARD": boardID}
		for ci, cat := range c.cats {
			rows := e.e2eAudit(admin, "action", "category.certified", "entity_id", cat.id)
			require.Len(t, rows, len(cat.judges)+3, cat.name)
			var steps []string
			judgeActors := map[string]string{}
			for _, row := range rows {
				var d struct {
					Step    string `json:"step"`
					JudgeID string `json:"judge_id"`
				}
				e2eDecode(t, row.Data, &d, false)
				steps = append(steps, d.Step)
				if d.Step == "JUDGE" {
					judgeActors[d.JudgeID] = *row.ActorUserID
				} else {
					require.Equal(t, actors[d.Step], *row.ActorUserID, "%s %s", cat.name, d.Step)
				}
			}
			// Newest first: BOARD, AUDITOR, TALLY_MASTER, then the judges.
			require.Equal(t, []string{"BOARD", "AUDITOR", "TALLY_MASTER"}, steps[:3], cat.name)
			wantJudges := map[string]string{}
			for _, j := range c.cats[ci].judges {
				wantJudges[c.judges[j].id] = c.judges[j].userID
			}
			require.Equal(t, wantJudges, judgeActors, cat.name)
		}
		deds := e.e2eAudit(admin, "action", "deduction.created")
		require.Len(t, deds, 4)
		for _, row := range deds {
			require.Equal(t, tallyID, *row.ActorUserID)
		}
	})
}

// planScores chooses every score, deterministically: pseudo-random values with two decimals
// between 40% and 95% of each maximum, then on purpose
//   - Margaret (8) is given the maximum in Solo by every judge, and Radia (9) is scored exactly as
//     Margaret everywhere: a tie at the top of Solo (1, 1, 3) and ties in every category, contest and
//     the event;
//   - Ballad (OLYMPIC): Alan (2) gets every maximum from Judge 1 and zeros from Judge 5 (both
//     dropped); Edsger (3) gets 1.00 per criterion from Judges 2 and 4 (an equal lowest: exactly one
//     is dropped, the one with the smaller id); Donald (5) is scored as Barbara (4) except that the
//     judge whose total was dropped as Barbara's lowest gives less again: different totals over all
//     judges, the same counted total, so equal finals.
func (c *e2eComp) planScores(t *testing.T) {
	rng := rand.New(rand.NewPCG(2026, 9))
	for ci, cat := range c.cats {
		for _, j := range cat.judges {
			for _, k := range cat.entrants {
				for cr, m := range cat.maxes {
					lo, hi := m*40/100, m*95/100
					c.scores[e2eCell{ci, j, k, cr}] = lo + rng.Int64N(hi-lo+1)
				}
			}
		}
	}
	solo, ballad := 0, 2
	for _, j := range c.cats[solo].judges {
		for cr, m := range c.cats[solo].maxes {
			c.scores[e2eCell{solo, j, 8, cr}] = m
		}
	}
	for cr, m := range c.cats[ballad].maxes {
		c.scores[e2eCell{ballad, 0, 2, cr}] = m
		c.scores[e2eCell{ballad, 4, 2, cr}] = 0
		c.scores[e2eCell{ballad, 1, 3, cr}] = 100
		c.scores[e2eCell{ballad, 3, 3, cr}] = 100
	}
	for _, j := range c.cats[ballad].judges {
		for cr := range c.cats[ballad].maxes {
			c.scores[e2eCell{ballad, j, 5, cr}] = c.scores[e2eCell{ballad, j, 4, cr}]
		}
	}
	lowest := c.judgeLines(ballad, 4, -1)
	require.False(t, lowest[0].Counted)
	for j, jd := range c.judges {
		if jd.id == lowest[0].JudgeID {
			c.scores[e2eCell{ballad, j, 5, 0}] = 0
		}
	}
	var margaret []e2eCell
	for cell := range c.scores {
		if cell.contestant == 8 {
			margaret = append(margaret, cell)
		}
	}
	for _, cell := range margaret {
		c.scores[e2eCell{cell.cat, cell.judge, 9, cell.criterion}] = c.scores[cell]
	}
}

// judgeLines is each judge's total for contestant k in category ci, sorted by total then judge id,
// with OLYMPIC's counted flags; onlyJudge ≥ 0 keeps that judge alone (a JUDGE's view).
func (c *e2eComp) judgeLines(ci, k, onlyJudge int) []e2eJudgeLine {
	cat := c.cats[ci]
	var lines []e2eJudgeLine
	for _, j := range cat.judges {
		if onlyJudge >= 0 && j != onlyJudge {
			continue
		}
		var total int64
		for cr := range cat.maxes {
			total += c.scores[e2eCell{ci, j, k, cr}]
		}
		lines = append(lines, e2eJudgeLine{JudgeID: c.judges[j].id, Name: c.judges[j].name, Total: total, Counted: true})
	}
	// Judge ids are compared as lower-case text: the order of PostgreSQL's uuid type.
	slices.SortFunc(lines, func(a, b e2eJudgeLine) int {
		return cmp.Or(cmp.Compare(a.Total, b.Total), strings.Compare(a.JudgeID, b.JudgeID))
	})
	if c.contests[cat.contest].scoring == "OLYMPIC" && len(lines) >= 3 {
		lines[0].Counted, lines[len(lines)-1].Counted = false, false
	}
	return lines
}

// expectedTotal is the counted total of contestant k in category ci over every judge.
func (c *e2eComp) expectedTotal(ci, k int) int64 {
	var total int64
	for _, l := range c.judgeLines(ci, k, -1) {
		if l.Counted {
			total += l.Total
		}
	}
	return total
}

// expectCategory computes a category's results from the scores and deductions sent.
func (c *e2eComp) expectCategory(ci, onlyJudge int) []e2eLine {
	cat := c.cats[ci]
	var out []e2eLine
	for _, k := range cat.entrants {
		jl := c.judgeLines(ci, k, onlyJudge)
		l := e2eLine{ContestantID: c.contestants[k].id, Name: c.contestants[k].name, Number: c.contestants[k].number,
			Judges: []e2eJudgeLine{}, Deductions: c.deductions[[2]int{ci, k}]}
		for _, j := range jl {
			if j.Counted {
				l.Total += j.Total
				l.JudgesCounted++
			}
		}
		if l.JudgesCounted > 0 {
			// total / n in ten-thousandths, rounded half up (every value here is positive).
			n := int64(l.JudgesCounted)
			avg := (l.Total*100*2 + n) / (2 * n)
			l.Average = &avg
		}
		l.Final = max(l.Total-l.Deductions, 0)
		// The answer lists a contestant's judges by name.
		slices.SortFunc(jl, func(a, b e2eJudgeLine) int { return strings.Compare(a.Name, b.Name) })
		l.Judges = append(l.Judges, jl...)
		out = append(out, l)
	}
	for i := range out {
		out[i].Rank = 1
		for _, o := range out {
			if o.Final > out[i].Final {
				out[i].Rank++
			}
		}
	}
	slices.SortFunc(out, func(a, b e2eLine) int { return cmp.Or(cmp.Compare(a.Rank, b.Rank), cmp.Compare(a.Number, b.Number)) })
	return out
}

// expectAggregate ranks the contestants entered in any of the categories cats by the sum of their
// category finals.
func (c *e2eComp) expectAggregate(cats []int, onlyJudge int) []e2eAggLine {
	byID := map[string]*e2eAggLine{}
	var out []*e2eAggLine
	for _, ci := range cats {
		for _, l := range c.expectCategory(ci, onlyJudge) {
			a := byID[l.ContestantID]
			if a == nil {
				a = &e2eAggLine{ContestantID: l.ContestantID, Name: l.Name, Number: l.Number}
				byID[l.ContestantID] = a
				out = append(out, a)
			}
			a.Categories = append(a.Categories, e2eAggCategory{CategoryID: c.cats[ci].id, Final: l.Final, Rank: l.Rank})
			a.Total += l.Final
		}
	}
	res := make([]e2eAggLine, 0, len(out))
	for _, a := range out {
		a.Rank = 1
		for _, o := range out {
			if o.Total > a.Total {
				a.Rank++
			}
		}
		res = append(res, *a)
	}
	slices.SortFunc(res, func(a, b e2eAggLine) int { return cmp.Or(cmp.Compare(a.Rank, b.Rank), cmp.Compare(a.Number, b.Number)) })
	return res
}

// expectResultCategories is the categories list of a contest or event answer, in creation order.
func (c *e2eComp) expectResultCategories(cats []int) []e2eResultCategoryJSON {
	var out []e2eResultCategoryJSON
	for _, ci := range cats {
		cat := c.cats[ci]
		out = append(out, e2eResultCategoryJSON{CategoryID: cat.id, Name: cat.name, ContestID: c.contests[cat.contest].id,
			ScoringType: c.contests[cat.contest].scoring, TotalsCertified: true})
	}
	return out
}

func e2eLineOf(lines []e2eLine, id string) e2eLine {
	for _, l := range lines {
		if l.ContestantID == id {
			return l
		}
	}
	return e2eLine{}
}

// e2eSumJudges is the sum of every judge total of a line, counted or not.
func e2eSumJudges(l e2eLine) int64 {
	var s int64
	for _, j := range l.Judges {
		s += j.Total
	}
	return s
}

func e2eAggOf(lines []e2eAggLine, id string) e2eAggLine {
	for _, l := range lines {
		if l.ContestantID == id {
			return l
		}
	}
	return e2eAggLine{}
}

// e2eNormCategory turns a category answer into integers, checking each number's decimals.
func e2eNormCategory(t *testing.T, res e2eCategoryResultsJSON) []e2eLine {
	t.Helper()
	out := []e2eLine{}
	for _, r := range res.Contestants {
		require.NotNil(t, r.Number)
		l := e2eLine{ContestantID: r.ContestantID, Name: r.Name, Number: *r.Number, Judges: []e2eJudgeLine{},
			Total: e2eFixed(t, r.Total, 2), JudgesCounted: r.JudgesCounted, Deductions: e2eFixed(t, r.Deductions, 2),
			Final: e2eFixed(t, r.FinalScore, 2), Rank: r.Rank}
		if r.Average != nil {
			avg := e2eFixed(t, *r.Average, 4)
			l.Average = &avg
		}
		for _, j := range r.Judges {
			l.Judges = append(l.Judges, e2eJudgeLine{JudgeID: j.JudgeID, Name: j.Name, Total: e2eFixed(t, j.Total, 2), Counted: j.Counted})
		}
		out = append(out, l)
	}
	return out
}

func e2eNormAggregate(t *testing.T, res e2eAggResultsJSON) []e2eAggLine {
	t.Helper()
	out := make([]e2eAggLine, 0, len(res.Contestants))
	for _, r := range res.Contestants {
		require.NotNil(t, r.Number)
		l := e2eAggLine{ContestantID: r.ContestantID, Name: r.Name, Number: *r.Number, Total: e2eFixed(t, r.Total, 2), Rank: r.Rank}
		for _, cc := range r.Categories {
			l.Categories = append(l.Categories, e2eAggCategory{CategoryID: cc.CategoryID, Final: e2eFixed(t, cc.FinalScore, 2), Rank: cc.Rank})
		}
		out = append(out, l)
	}
	return out
}

func e2eNormResultCategories(res e2eAggResultsJSON) []e2eResultCategoryJSON {
	return res.Categories
}

// e2eFixed reads a decimal JSON number as an integer of 10^-scale units, refusing more decimals
// than scale or an exponent.
func e2eFixed(t *testing.T, n json.Number, scale int) int64 {
	t.Helper()
	s := string(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	intPart, frac, _ := strings.Cut(s, ".")
	require.LessOrEqual(t, len(frac), scale, "too many decimals in %s", n)
	require.NotContains(t, strings.ToLower(s), "e", "exponent in %s", n)
	v, err := strconv.ParseInt(intPart+frac+strings.Repeat("0", scale-len(frac)), 10, 64)
	require.NoError(t, err, "number %s", n)
	if neg {
		v = -v
	}
	return v
}

// e2eDec writes hundredths as a decimal with two places ("27.50").
func e2eDec(cents int64) string {
	return fmt.Sprintf("%d.%02d", cents/100, cents%100)
}

func e2eJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

// e2eDecode decodes data into dst keeping numbers as text; strict refuses unknown fields.
func e2eDecode(t *testing.T, data []byte, dst any, strict bool) {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	if strict {
		d.DisallowUnknownFields()
	}
	require.NoError(t, d.Decode(dst), string(data))
}

// e2eStaff creates a user of the e2e tenant through the API and signs them in: token and user id.
func (e *env) e2eStaff(admin, email, name, role string) (token, id string) {
	e.t.Helper()
	r := e.do("POST", "/api/v1/users", admin, map[string]any{"email": email, "name": name, "role": role, "password": testPassword})
	require.Equal(e.t, http.StatusCreated, r.status, string(r.body))
	u := r.json(e.t)
	require.Equal(e.t, role, u["role"])
	return e.login(e2eSlug, email), u["id"].(string)
}

// e2eCreate POSTs body and returns the id of the resource created (201 with a Location).
func (e *env) e2eCreate(token, path string, body any) string {
	e.t.Helper()
	r := e.do("POST", path, token, body)
	require.Equal(e.t, http.StatusCreated, r.status, "POST %s: %s", path, r.body)
	id, _ := r.json(e.t)["id"].(string)
	require.NotEmpty(e.t, id)
	require.True(e.t, strings.HasSuffix(r.header.Get("Location"), "/"+id), "Location %q", r.header.Get("Location"))
	return id
}

func (e *env) e2eGetJSON(token, path string) map[string]any {
	e.t.Helper()
	r := e.do("GET", path, token, nil)
	require.Equal(e.t, http.StatusOK, r.status, "GET %s: %s", path, r.body)
	return r.json(e.t)
}

// e2eScore sends judge j's planned scores of category ci in one request, as the judge, and checks
// the answer echoes them.
func (e *env) e2eScore(c *e2eComp, ci, j int) {
	e.t.Helper()
	cat := c.cats[ci]
	type item struct {
		ContestantID string          `json:"contestant_id"`
		CriterionID  string          `json:"criterion_id"`
		Score        json.RawMessage `json:"score"`
		Comment      string          `json:"comment,omitempty"`
	}
	var items []item
	want := map[[2]string]int64{}
	for _, k := range cat.entrants {
		for cr := range cat.maxes {
			v := c.scores[e2eCell{ci, j, k, cr}]
			it := item{ContestantID: c.contestants[k].id, CriterionID: cat.criteria[cr], Score: json.RawMessage(e2eDec(v))}
			if cr == 0 {
				it.Comment = "seen by " + c.judges[j].name
			}
			items = append(items, it)
			want[[2]string{it.ContestantID, it.CriterionID}] = v
		}
	}
	r := e.do("PUT", "/api/v1/categories/"+cat.id+"/scores", c.judges[j].token, map[string]any{"scores": items})
	require.Equal(e.t, http.StatusOK, r.status, string(r.body))
	var resp struct {
		CategoryID string `json:"category_id"`
		JudgeID    string `json:"judge_id"`
		Scores     []struct {
			ContestantID string      `json:"contestant_id"`
			CriterionID  string      `json:"criterion_id"`
			Score        json.Number `json:"score"`
			Locked       bool        `json:"locked"`
		} `json:"scores"`
	}
	e2eDecode(e.t, r.body, &resp, false)
	require.Equal(e.t, cat.id, resp.CategoryID)
	require.Equal(e.t, c.judges[j].id, resp.JudgeID)
	got := map[[2]string]int64{}
	for _, s := range resp.Scores {
		require.False(e.t, s.Locked)
		got[[2]string{s.ContestantID, s.CriterionID}] = e2eFixed(e.t, s.Score, 2)
	}
	require.Equal(e.t, want, got)
}

// e2eDeduct enters a deduction of amount hundredths for contestant k in category ci.
func (e *env) e2eDeduct(c *e2eComp, token string, ci, k int, amount int64, reason string) {
	e.t.Helper()
	e.e2eCreate(token, "/api/v1/categories/"+c.cats[ci].id+"/deductions",
		map[string]any{"contestant_id": c.contestants[k].id, "amount": json.RawMessage(e2eDec(amount)), "reason": reason})
	c.deductions[[2]int{ci, k}] += amount
}

// e2eCertify takes a certification step and returns the new state.
func (e *env) e2eCertify(token, categoryID, step string) map[string]any {
	e.t.Helper()
	r := e.do("POST", "/api/v1/categories/"+categoryID+"/certification", token, map[string]any{"step": step})
	require.Equal(e.t, http.StatusCreated, r.status, "%s: %s", step, r.body)
	return r.json(e.t)
}

func (e *env) e2eCategoryResults(token, categoryID string) e2eCategoryResultsJSON {
	e.t.Helper()
	r := e.do("GET", "/api/v1/results/categories/"+categoryID, token, nil)
	require.Equal(e.t, http.StatusOK, r.status, string(r.body))
	var res e2eCategoryResultsJSON
	e2eDecode(e.t, r.body, &res, true)
	return res
}

// e2eAggResults reads contest or event results, strictly, and the top-level keys of the answer.
func (e *env) e2eAggResults(token, path string) (e2eAggResultsJSON, map[string]any) {
	e.t.Helper()
	r := e.do("GET", path, token, nil)
	require.Equal(e.t, http.StatusOK, r.status, string(r.body))
	var res e2eAggResultsJSON
	e2eDecode(e.t, r.body, &res, true)
	return res, r.json(e.t)
}

// e2eAudit lists every audit row matching the filters (name, value, ...), following the cursor.
func (e *env) e2eAudit(token string, pairs ...string) []auditRow {
	e.t.Helper()
	var all []auditRow
	cursor := ""
	for page := 0; ; page++ {
		require.Less(e.t, page, 100)
		q := url.Values{"limit": {"100"}}
		for i := 0; i+1 < len(pairs); i += 2 {
			q.Set(pairs[i], pairs[i+1])
		}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		r := e.do("GET", "/api/v1/audit-logs?"+q.Encode(), token, nil)
		require.Equal(e.t, http.StatusOK, r.status, string(r.body))
		var p struct {
			Data       []auditRow `json:"data"`
			NextCursor *string    `json:"next_cursor"`
		}
		require.NoError(e.t, json.Unmarshal(r.body, &p))
		all = append(all, p.Data...)
		if p.NextCursor == nil {
			return all
		}
		cursor = *p.NextCursor
	}
}
