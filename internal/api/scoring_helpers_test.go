package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/eventmanager/eventmanager/internal/auth"
	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/eventmanager/eventmanager/internal/store"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// The scoring tests build their competitions with SQL through the test's db handle, so that they
// depend only on the schema, not on the CRUD API. Every statement passes the tenant id, as the
// store does, so that it runs the same under row-level security.

var opScoringFixture = db.Op{Name: "test.scoring_fixture", Class: db.Standard}

// scTenant is a tenant for the scoring tests, with its admin.
type scTenant struct {
	e          *env
	slug, id   string
	admin      string // the admin's token
	adminID    string
	nextNumber int // contestant numbers are unique per tenant
	nextUser   int
}

// scJudge is a judge record linked to a signed-in user.
type scJudge struct {
	id, userID, name, token string
}

// scCategory is a category with its criteria and entered contestants.
type scCategory struct {
	id, contestID string
	criteria      []string // ids, in position order
	maxScores     []string // max_score of each criterion
	contestants   []string // ids, in number order
}

// scNewTenant creates a tenant and signs its admin in.
func (e *env) scNewTenant(slug string) *scTenant {
	e.t.Helper()
	admin := e.tenant(slug)
	ten, err := e.store.TenantBySlug(context.Background(), slug)
	require.NoError(e.t, err)
	u, err := e.store.UserByEmail(context.Background(), ten.ID, "admin@"+slug+".test")
	require.NoError(e.t, err)
	return &scTenant{e: e, slug: slug, id: ten.ID, admin: admin, adminID: u.ID, nextNumber: 1}
}

// exec runs a fixture statement scoped to the tenant.
func (tn *scTenant) exec(sql string, args ...any) {
	tn.e.t.Helper()
	_, err := tn.e.db.Exec(context.Background(), opScoringFixture, tn.id, sql, args...)
	require.NoError(tn.e.t, err, sql)
}

// ids runs a fixture statement that returns one id per row.
func (tn *scTenant) ids(sql string, args ...any) []string {
	tn.e.t.Helper()
	var out []string
	err := tn.e.db.Query(context.Background(), opScoringFixture, tn.id, func(rows pgx.Rows) error {
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				return err
			}
			out = append(out, id)
		}
		return rows.Err()
	}, sql, args...)
	require.NoError(tn.e.t, err, sql)
	return out
}

func (tn *scTenant) id1(sql string, args ...any) string {
	tn.e.t.Helper()
	ids := tn.ids(sql, args...)
	require.Len(tn.e.t, ids, 1, sql)
	return ids[0]
}

// scNullable maps "" to SQL NULL (an inherited scoring type).
func scNullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// event adds an event; scoringType "" inherits the tenant's.
func (tn *scTenant) event(name, scoringType string) string {
	return tn.id1(`INSERT INTO events (tenant_id, name, start_date, end_date, scoring_type)
		VALUES ($1, $2, '2026-06-01T18:00:00Z', '2026-06-01T22:00:00Z', $3) RETURNING id`, tn.id, name, scNullable(scoringType))
}

// contest adds a contest to an event; scoringType "" inherits the event's.
func (tn *scTenant) contest(eventID, name, scoringType string) string {
	return tn.id1(`INSERT INTO contests (tenant_id, event_id, name, scoring_type) VALUES ($1, $2, $3, $4) RETURNING id`,
		tn.id, eventID, name, scNullable(scoringType))
}

// category adds a category with criteria of the given maximum scores and n new contestants entered
// in it.
func (tn *scTenant) category(contestID, name string, maxScores []string, n int) scCategory {
	tn.e.t.Helper()
	c := scCategory{contestID: contestID, maxScores: maxScores}
	c.id = tn.id1(`INSERT INTO categories (tenant_id, contest_id, name) VALUES ($1, $2, $3) RETURNING id`, tn.id, contestID, name)
	for i, m := range maxScores {
		c.criteria = append(c.criteria, tn.id1(`INSERT INTO criteria (tenant_id, category_id, name, max_score, position)
			VALUES ($1, $2, $3, $4::numeric, $5) RETURNING id`, tn.id, c.id, fmt.Sprintf("Criterion %d", i+1), m, i))
	}
	if n > 0 {
		c.contestants = tn.newContestants(n)
		tn.enter(c.id, c.contestants...)
	}
	return c
}

// newContestants adds n contestants (numbered) to the tenant, in number order.
func (tn *scTenant) newContestants(n int) []string {
	first := tn.nextNumber
	tn.nextNumber += n
	return tn.ids(`INSERT INTO contestants (tenant_id, name, number)
		SELECT $1, 'Contestant ' || g, g FROM generate_series($2::int, $3::int) g ORDER BY g RETURNING id`,
		tn.id, first, first+n-1)
}

// enter enters contestants in a category.
func (tn *scTenant) enter(categoryID string, contestants ...string) {
	tn.exec(`INSERT INTO category_contestants (tenant_id, category_id, contestant_id)
		SELECT $1, $2, unnest($3::uuid[])`, tn.id, categoryID, contestants)
}

// judge adds a judge record linked to a new JUDGE user, and signs the user in.
func (tn *scTenant) judge(name string) scJudge {
	tn.e.t.Helper()
	return tn.linkedUser(name, auth.Judge)
}

// linkedUser adds a user with the role, linked to a new judge record, and signs it in.
func (tn *scTenant) linkedUser(name string, role auth.Role) scJudge {
	tn.e.t.Helper()
	tn.nextUser++
	email := fmt.Sprintf("judge%d@%s.test", tn.nextUser, tn.slug)
	u, err := tn.e.store.CreateUser(context.Background(), tn.id, store.Actor{}, store.NewUser{Email: email, Name: name, Password: testPassword, Role: role})
	require.NoError(tn.e.t, err)
	j := scJudge{userID: u.ID, name: name}
	j.id = tn.id1(`INSERT INTO judges (tenant_id, name, user_id) VALUES ($1, $2, $3) RETURNING id`, tn.id, name, u.ID)
	j.token = tn.e.login(tn.slug, email)
	return j
}

// assign gives a judge an assignment to a category with the status.
func (tn *scTenant) assign(judgeID, categoryID, status string) {
	tn.exec(`INSERT INTO assignments (tenant_id, judge_id, category_id, status) VALUES ($1, $2, $3, $4)`,
		tn.id, judgeID, categoryID, status)
}

// user adds a user with the role (one per role and tenant) and returns its token and id.
func (tn *scTenant) user(role auth.Role) (token, id string) {
	tn.e.t.Helper()
	token = tn.e.addUser(tn.slug, role)
	u, err := tn.e.store.UserByEmail(context.Background(), tn.id, scRoleEmail(role, tn.slug))
	require.NoError(tn.e.t, err)
	return token, u.ID
}

// scRoleEmail is the email that env.addUser gives a user of the role.
func scRoleEmail(role auth.Role, slug string) string {
	return fmt.Sprintf("%s@%s.test", strings.ToLower(string(role)), slug)
}

// count runs a count(*) scoped to the tenant; $1 is the tenant id.
func (tn *scTenant) count(sql string, args ...any) int {
	tn.e.t.Helper()
	var n int
	require.NoError(tn.e.t, tn.e.db.QueryRow(context.Background(), opScoringFixture, tn.id, sql, append([]any{tn.id}, args...), &n))
	return n
}

// scoreCount is the number of score rows of the tenant.
func (tn *scTenant) scoreCount() int {
	return tn.count(`SELECT count(*) FROM scores WHERE tenant_id = $1`)
}

// auditCount is the number of audit rows of the tenant with the action.
func (tn *scTenant) auditCount(action string) int {
	return tn.count(`SELECT count(*) FROM audit_logs WHERE tenant_id = $1 AND action = $2`, action)
}

// scCell is one cell of a score request.
type scCell struct {
	ContestantID string `json:"contestant_id"`
	CriterionID  string `json:"criterion_id"`
	Score        any    `json:"score"`
	Comment      string `json:"comment,omitempty"`
}

// scPut sends PUT /categories/{id}/scores.
func (e *env) scPut(token, categoryID string, body any) response {
	e.t.Helper()
	return e.do("PUT", "/api/v1/categories/"+categoryID+"/scores", token, body)
}

// scPutOK sends scores and expects 200.
func (e *env) scPutOK(token, categoryID string, cells []scCell) {
	e.t.Helper()
	r := e.scPut(token, categoryID, map[string]any{"scores": cells})
	require.Equal(e.t, http.StatusOK, r.status, string(r.body))
}

// scFill has the judge enter the score of every cell of the category, given by score(contestant
// index, criterion index) as a number of hundredths.
func (e *env) scFill(j scJudge, c scCategory, score func(k, cr int) int64) {
	e.t.Helper()
	var cells []scCell
	for k, contestant := range c.contestants {
		for cr, criterion := range c.criteria {
			cells = append(cells, scCell{ContestantID: contestant, CriterionID: criterion, Score: json.Number(scDecimal(score(k, cr)))})
		}
	}
	e.scPutOK(j.token, c.id, cells)
}

// scDecimal writes hundredths as a decimal: 950 is "9.50".
func scDecimal(cents int64) string {
	return fmt.Sprintf("%d.%02d", cents/100, cents%100)
}

// scCents reads a decimal answer exactly, in hundredths.
func scCents(t *testing.T, n json.Number) int64 {
	t.Helper()
	r, ok := new(big.Rat).SetString(string(n))
	require.True(t, ok, "not a number: %q", n)
	r.Mul(r, big.NewRat(100, 1))
	require.True(t, r.IsInt(), "more than two decimals: %q", n)
	return r.Num().Int64()
}

// scRequireError checks an error answer's status, code and field.
func scRequireError(t *testing.T, r response, status int, code, field string, msgAndArgs ...any) {
	t.Helper()
	require.Equal(t, status, r.status, "%s %v", r.body, msgAndArgs)
	gotCode, gotField := r.errorCode(t)
	require.Equal(t, code, gotCode, "%s %v", r.body, msgAndArgs)
	require.Equal(t, field, gotField, "%s %v", r.body, msgAndArgs)
}

// scMessage is the message of an error answer.
func scMessage(t *testing.T, r response) string {
	t.Helper()
	e, _ := r.json(t)["error"].(map[string]any)
	msg, _ := e["message"].(string)
	return msg
}

// scCertify posts a certification step.
func (e *env) scCertify(token, categoryID, step string) response {
	e.t.Helper()
	return e.do("POST", "/api/v1/categories/"+categoryID+"/certification", token, map[string]string{"step": step})
}

// scCertifyTally inserts a standing TALLY_MASTER certification directly (for tests about
// visibility, which depends only on it).
func (tn *scTenant) scCertifyTally(categoryID string) {
	tn.exec(`INSERT INTO category_certifications (tenant_id, category_id, step, certified_by) VALUES ($1, $2, 'TALLY_MASTER', $3)`,
		tn.id, categoryID, tn.adminID)
}

// scTime parses an RFC 3339 answer and checks that it is in UTC.
func scTime(t *testing.T, v any) time.Time {
	t.Helper()
	s, ok := v.(string)
	require.True(t, ok, "not a time: %v", v)
	tm, err := time.Parse(time.RFC3339Nano, s)
	require.NoError(t, err)
	require.Equal(t, time.UTC, tm.Location(), "not UTC: %s", s)
	return tm
}
