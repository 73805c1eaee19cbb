package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/eventmanager/eventmanager/internal/auth"
	"github.com/eventmanager/eventmanager/internal/config"
	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/eventmanager/eventmanager/internal/dbtest"
	"github.com/eventmanager/eventmanager/internal/store"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// The race tests force each interleaving of two writes deterministically: the test's own
// connection (the holder) makes one write in an open transaction, the store makes the other in a
// goroutine, the test waits until pg_stat_activity shows the store's statement waiting on a lock,
// then commits (or the other way round), and checks the rule held. Each race is run in both orders.

// raceFixture is a category with one criterion (max 10), one entered contestant and one judge
// assigned ACTIVE, on its own database.
type raceFixture struct {
	st                       *store.Store
	holder                   *pgx.Conn // the test's connection (owner role: row-level security does not apply)
	actor                    store.Actor
	tenant, category         string
	criterion, contestant    string
	judge, assignment        string
	judgeUser                string
	contest, event, adminURL string
}

func newRaceFixture(t *testing.T) *raceFixture {
	t.Helper()
	ctx := context.Background()
	url := dbtest.NewDatabase(t)
	settings, err := config.ParseDatabaseURL(url)
	require.NoError(t, err)
	d, err := db.Open(settings, db.Options{Timeouts: config.DefaultQueryTimeouts})
	require.NoError(t, err)
	t.Cleanup(d.Close)
	f := &raceFixture{st: store.New(d), adminURL: dbtest.AdminURL(t, url)}
	ten, admin, err := f.st.CreateTenant(ctx, store.Actor{}, "race", "Race",
		store.NewUser{Email: "a@race.test", Name: "A", Password: "correct horse battery", Role: auth.Admin})
	require.NoError(t, err)
	f.tenant, f.actor = ten.ID, store.Actor{UserID: admin.ID}
	ju, err := f.st.CreateUser(ctx, ten.ID, store.Actor{}, store.NewUser{Email: "j@race.test", Name: "J", Password: "correct horse battery", Role: auth.Judge})
	require.NoError(t, err)
	f.judgeUser = ju.ID
	f.holder, err = pgx.Connect(ctx, f.adminURL)
	require.NoError(t, err)
	t.Cleanup(func() { _ = f.holder.Close(context.Background()) })
	one := func(sql string, args ...any) string {
		var id string
		require.NoError(t, f.holder.QueryRow(ctx, sql, args...).Scan(&id), sql)
		return id
	}
	f.event = one(`INSERT INTO events (tenant_id, name, start_date, end_date) VALUES ($1, 'Show', now(), now()) RETURNING id`, f.tenant)
	f.contest = one(`INSERT INTO contests (tenant_id, event_id, name) VALUES ($1, $2, 'Solo') RETURNING id`, f.tenant, f.event)
	f.category = one(`INSERT INTO categories (tenant_id, contest_id, name) VALUES ($1, $2, 'Vocal') RETURNING id`, f.tenant, f.contest)
	f.criterion = one(`INSERT INTO criteria (tenant_id, category_id, name, max_score) VALUES ($1, $2, 'Voice', 10) RETURNING id`, f.tenant, f.category)
	f.contestant = one(`INSERT INTO contestants (tenant_id, name, number) VALUES ($1, 'Kim', 1) RETURNING id`, f.tenant)
	one(`INSERT INTO category_contestants (tenant_id, category_id, contestant_id) VALUES ($1, $2, $3) RETURNING contestant_id`, f.tenant, f.category, f.contestant)
	f.judge = one(`INSERT INTO judges (tenant_id, name, user_id) VALUES ($1, 'Jo', $2) RETURNING id`, f.tenant, f.judgeUser)
	f.assignment = one(`INSERT INTO assignments (tenant_id, judge_id, category_id, status) VALUES ($1, $2, $3, 'ACTIVE') RETURNING id`, f.tenant, f.judge, f.category)
	return f
}

// hold begins the holder's transaction and runs its write; the caller commits it with release.
func (f *raceFixture) hold(t *testing.T, sql string, args ...any) pgx.Tx {
	t.Helper()
	tx, err := f.holder.Begin(context.Background())
	require.NoError(t, err)
	_, err = tx.Exec(context.Background(), sql, args...)
	require.NoError(t, err, sql)
	return tx
}

// race runs write in a goroutine, waits until it waits on a lock, commits the holder's
// transaction and returns write's error.
func (f *raceFixture) race(t *testing.T, holder pgx.Tx, write func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- write() }()
	f.waitBlocked(t, done)
	require.NoError(t, holder.Commit(context.Background()))
	select {
	case err := <-done:
		return err
	case <-time.After(30 * time.Second):
		t.Fatal("the write did not finish after the holder committed")
		return nil
	}
}

// waitBlocked waits until another session of the test's database waits on a lock. The write must
// not finish first: it would mean it did not conflict at all.
func (f *raceFixture) waitBlocked(t *testing.T, done chan error) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var waiting int
		require.NoError(t, f.holder.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'`).Scan(&waiting))
		if waiting > 0 {
			return
		}
		select {
		case err := <-done:
			t.Fatalf("the write finished without waiting for the holder's lock: %v", err)
		case <-time.After(5 * time.Millisecond):
		}
	}
	t.Fatal("the write never waited on the holder's lock")
}

func (f *raceFixture) count(t *testing.T, sql string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, f.holder.QueryRow(context.Background(), sql, args...).Scan(&n), sql)
	return n
}

func (f *raceFixture) submit(score string) error {
	_, _, err := f.st.SubmitScores(context.Background(), f.tenant, f.actor, store.ScoreSubmission{
		CategoryID: f.category, JudgeID: f.judge,
		Scores: []store.ScoreInput{{ContestantID: f.contestant, CriterionID: f.criterion, Score: score}},
	}, nil)
	return err
}

func requireRule(t *testing.T, err error, code, field string) {
	t.Helper()
	var rule *store.RuleError
	require.True(t, errors.As(err, &rule), "want %s, got %v", code, err)
	require.Equal(t, code, rule.Code, rule.Message)
	require.Equal(t, field, rule.Field, rule.Message)
}

// certifyJudge has the judge score their one cell and certify, so that TALLY_MASTER may follow.
func (f *raceFixture) certifyJudge(t *testing.T) {
	t.Helper()
	require.NoError(t, f.submit("7"))
	_, err := f.st.Certify(context.Background(), f.tenant, f.category, store.Actor{UserID: f.judgeUser}, store.StepJudge, f.judge)
	require.NoError(t, err)
}

// A deduction and the TALLY_MASTER certification: a deduction never lands under certified totals.
func TestRaceDeductionAndTallyCertification(t *testing.T) {
	t.Parallel()
	deduct := func(f *raceFixture) error {
		_, err := f.st.CreateDeduction(context.Background(), f.tenant, f.category, f.actor,
			store.DeductionInput{ContestantID: f.contestant, Amount: "1.00", Reason: "late"})
		return err
	}
	t.Run("certification commits first", func(t *testing.T) {
		t.Parallel()
		f := newRaceFixture(t)
		f.certifyJudge(t)
		// The holder is the certification: the category locked as Certify locks it, the row written.
		holder := f.hold(t, `WITH c AS (SELECT id FROM categories WHERE id = $1 FOR NO KEY UPDATE)
			INSERT INTO category_certifications (tenant_id, category_id, step, certified_by)
			SELECT $2, id, 'TALLY_MASTER', $3 FROM c`, f.category, f.tenant, f.actor.UserID)
		err := f.race(t, holder, func() error { return deduct(f) })
		requireRule(t, err, "CATEGORY_CERTIFIED", "")
		require.Zero(t, f.count(t, `SELECT count(*) FROM deductions`))
	})
	t.Run("deduction commits first", func(t *testing.T) {
		t.Parallel()
		f := newRaceFixture(t)
		f.certifyJudge(t)
		holder := f.hold(t, `INSERT INTO deductions (tenant_id, category_id, contestant_id, amount, reason) VALUES ($1, $2, $3, 2, 'props')`,
			f.tenant, f.category, f.contestant)
		err := f.race(t, holder, func() error {
			_, err := f.st.Certify(context.Background(), f.tenant, f.category, f.actor, store.StepTallyMaster, "")
			return err
		})
		require.NoError(t, err)
		// The certification waited for the deduction, so the totals it certified include it; no
		// deduction can follow it.
		require.Equal(t, 1, f.count(t, `SELECT count(*) FROM deductions`))
		requireRule(t, deduct(f), "CATEGORY_CERTIFIED", "")
	})
}

// Deleting or cancelling an assignment while the judge's score write commits: no score is left
// without the assignment that allowed it, and none is written on a cancelled one.
func TestRaceAssignmentAndScoreWrite(t *testing.T) {
	t.Parallel()
	insertScore := `INSERT INTO scores (tenant_id, category_id, judge_id, contestant_id, criterion_id, score) VALUES ($1, $2, $3, $4, $5, 6)`
	t.Run("delete commits first", func(t *testing.T) {
		t.Parallel()
		f := newRaceFixture(t)
		holder := f.hold(t, `DELETE FROM assignments WHERE id = $1`, f.assignment)
		requireRule(t, f.race(t, holder, func() error { return f.submit("6") }), "NOT_ASSIGNED", "")
		require.Zero(t, f.count(t, `SELECT count(*) FROM scores`))
	})
	t.Run("score commits before the delete", func(t *testing.T) {
		t.Parallel()
		f := newRaceFixture(t)
		holder := f.hold(t, insertScore, f.tenant, f.category, f.judge, f.contestant, f.criterion)
		err := f.race(t, holder, func() error { return f.st.DeleteAssignment(context.Background(), f.tenant, f.assignment, f.actor) })
		requireRule(t, err, "IN_USE", "")
		require.Equal(t, 1, f.count(t, `SELECT count(*) FROM scores s JOIN assignments a ON a.judge_id = s.judge_id AND a.category_id = s.category_id`))
	})
	t.Run("cancel commits first", func(t *testing.T) {
		t.Parallel()
		f := newRaceFixture(t)
		holder := f.hold(t, `UPDATE assignments SET status = 'CANCELLED' WHERE id = $1`, f.assignment)
		requireRule(t, f.race(t, holder, func() error { return f.submit("6") }), "NOT_ASSIGNED", "")
		require.Zero(t, f.count(t, `SELECT count(*) FROM scores`))
	})
	t.Run("score commits before the cancel", func(t *testing.T) {
		t.Parallel()
		f := newRaceFixture(t)
		holder := f.hold(t, insertScore, f.tenant, f.category, f.judge, f.contestant, f.criterion)
		err := f.race(t, holder, func() error {
			_, err := f.st.UpdateAssignmentStatus(context.Background(), f.tenant, f.assignment, f.actor, store.AssignmentCancelled)
			return err
		})
		require.NoError(t, err) // cancelling a judge with scores is allowed; the scores stop counting
		// The score was written while the assignment was open; none can be written now.
		require.Equal(t, 1, f.count(t, `SELECT count(*) FROM scores`))
		requireRule(t, f.submit("5"), "NOT_ASSIGNED", "")
		require.Equal(t, 1, f.count(t, `SELECT count(*) FROM scores WHERE score = 6`))
	})
}

// Lowering a criterion's max_score while a judge writes: no score is ever above its maximum.
func TestRaceMaxScoreAndScoreWrite(t *testing.T) {
	t.Parallel()
	t.Run("lower commits first", func(t *testing.T) {
		t.Parallel()
		f := newRaceFixture(t)
		holder := f.hold(t, `UPDATE criteria SET max_score = 5 WHERE id = $1`, f.criterion)
		requireRule(t, f.race(t, holder, func() error { return f.submit("8") }), "SCORE_OUT_OF_RANGE", "scores[0].score")
		require.Zero(t, f.count(t, `SELECT count(*) FROM scores`))
	})
	t.Run("score commits first", func(t *testing.T) {
		t.Parallel()
		f := newRaceFixture(t)
		holder := f.hold(t, `INSERT INTO scores (tenant_id, category_id, judge_id, contestant_id, criterion_id, score) VALUES ($1, $2, $3, $4, $5, 8)`,
			f.tenant, f.category, f.judge, f.contestant, f.criterion)
		five := "5"
		err := f.race(t, holder, func() error {
			_, err := f.st.UpdateCriterion(context.Background(), f.tenant, f.criterion, f.actor, store.CriterionPatch{MaxScore: &five})
			return err
		})
		requireRule(t, err, "MAX_SCORE_BELOW_SCORES", "max_score")
		require.Zero(t, f.count(t, `SELECT count(*) FROM scores s JOIN criteria c ON c.id = s.criterion_id WHERE s.score > c.max_score`))
	})
}

// score_cap against score writes: a judge's total for a contestant never exceeds it, whether the
// cap is lowered meanwhile or the judge writes twice at once.
func TestRaceScoreCap(t *testing.T) {
	t.Parallel()
	// A second criterion, so that a judge's total is the sum of two writes.
	second := func(t *testing.T, f *raceFixture) string {
		var id string
		require.NoError(t, f.holder.QueryRow(context.Background(), `INSERT INTO criteria (tenant_id, category_id, name, max_score, position)
			VALUES ($1, $2, 'Stage', 10, 1) RETURNING id`, f.tenant, f.category).Scan(&id))
		return id
	}
	t.Run("cap lowered first", func(t *testing.T) {
		t.Parallel()
		f := newRaceFixture(t)
		holder := f.hold(t, `UPDATE categories SET score_cap = 7 WHERE id = $1`, f.category)
		requireRule(t, f.race(t, holder, func() error { return f.submit("8") }), "SCORE_CAP_EXCEEDED", "scores[0].score")
		require.Zero(t, f.count(t, `SELECT count(*) FROM scores`))
	})
	t.Run("score commits before the cap", func(t *testing.T) {
		t.Parallel()
		f := newRaceFixture(t)
		holder := f.hold(t, `INSERT INTO scores (tenant_id, category_id, judge_id, contestant_id, criterion_id, score) VALUES ($1, $2, $3, $4, $5, 8)`,
			f.tenant, f.category, f.judge, f.contestant, f.criterion)
		seven := "7"
		err := f.race(t, holder, func() error {
			_, err := f.st.UpdateCategory(context.Background(), f.tenant, f.category, f.actor,
				store.CategoryPatch{ScoreCap: store.Clearable[string]{Set: true, Value: &seven}})
			return err
		})
		requireRule(t, err, "SCORE_CAP_BELOW_TOTALS", "score_cap")
		require.Zero(t, f.count(t, `SELECT count(*) FROM categories WHERE score_cap IS NOT NULL`))
	})
	t.Run("two writes of the judge", func(t *testing.T) {
		t.Parallel()
		f := newRaceFixture(t)
		stage := second(t, f)
		_, err := f.holder.Exec(context.Background(), `UPDATE categories SET score_cap = 12 WHERE id = $1`, f.category)
		require.NoError(t, err)
		// Each write alone is within the cap (8 and 8); together they are 16.
		holder := f.hold(t, `INSERT INTO scores (tenant_id, category_id, judge_id, contestant_id, criterion_id, score) VALUES ($1, $2, $3, $4, $5, 8)`,
			f.tenant, f.category, f.judge, f.contestant, stage)
		requireRule(t, f.race(t, holder, func() error { return f.submit("8") }), "SCORE_CAP_EXCEEDED", "scores[0].score")
		require.Equal(t, 8, f.count(t, `SELECT sum(score)::int FROM scores`))
	})
}
