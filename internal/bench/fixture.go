package bench

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/eventmanager/eventmanager/internal/auth"
	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/eventmanager/eventmanager/internal/store"
	"github.com/jackc/pgx/v5"
)

// Fixture is what the scenarios need from a seeded tenant: tokens and the ids to ask for.
type Fixture struct {
	TenantID   string
	AdminToken string
	// Categories have scores: their results are worth computing.
	Categories []string
	// Sheets are (category, judge) pairs of ACTIVE or PENDING assignments not certified.
	Sheets [][2]string
	// Writers are judges, signed in as themselves, with the cells they may still change.
	Writers []Writer
	// LiveEvents and ArchivedEvents are the events in an answer of the events list, without and
	// with ?archived=true (a page holds at most 50).
	LiveEvents, ArchivedEvents int
}

// Writer is a judge who submits scores in one category.
type Writer struct {
	Token, UserID, JudgeID, CategoryID string
	// Rows are the cells of one contestant each: a submission sends one row (every criterion).
	Rows [][]Cell
}

// Cell is a score the judge may write, and the criterion's maximum.
type Cell struct {
	ContestantID, CriterionID string
	MaxScore                  float64
}

const (
	benchAdminEmail = "bench-admin@bench.test"
	sessionTTL      = 24 * time.Hour
	maxCategories   = 20
	maxSheets       = 50
)

var (
	opFixtureCategories = db.Op{Name: "bench.fixture_categories", Class: db.Standard}
	opFixtureSheets     = db.Op{Name: "bench.fixture_sheets", Class: db.Standard}
	opFixtureCells      = db.Op{Name: "bench.fixture_cells", Class: db.Standard}
	opFixtureEvents     = db.Op{Name: "bench.fixture_events", Class: db.Simple}
)

// PrepareTenant readies the seeded tenant with slug for the scenarios: an ADMIN account of the
// bench and its token, the categories and sheets to read, and up to writers judges linked to
// JUDGE accounts with their tokens. Running it again reuses the accounts (new tokens).
// The tenant goes on the internal rate-limit tier.
func PrepareTenant(ctx context.Context, st *store.Store, d *db.DB, slug string, writers int) (*Fixture, error) {
	tenant, err := st.TenantBySlug(ctx, slug)
	if errors.Is(err, db.ErrNotFound) {
		return nil, fmt.Errorf("tenant %s not found: seed the database first (eventmanager seed)", slug)
	}
	if err != nil {
		return nil, err
	}
	f := &Fixture{TenantID: tenant.ID}
	// The bench measures the service, not the tenant's rate limits: put the tenant on the
	// internal tier (10 million requests a minute) as an operator would for a load test.
	if err := st.SetTenantRateLimitTier(ctx, store.Actor{RequestID: "bench-setup"}, tenant.ID, "internal"); err != nil {
		return nil, fmt.Errorf("rate-limit tier of the bench tenant: %w", err)
	}
	admin, err := ensureUser(ctx, st, tenant.ID, benchAdminEmail, "Bench Admin", auth.Admin)
	if err != nil {
		return nil, err
	}
	if f.AdminToken, err = token(ctx, st, admin); err != nil {
		return nil, err
	}

	err = d.Query(ctx, opFixtureCategories, tenant.ID, func(rows pgx.Rows) error {
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				return err
			}
			f.Categories = append(f.Categories, id)
		}
		return rows.Err()
	}, `SELECT DISTINCT category_id::text FROM scores WHERE tenant_id = $1 ORDER BY 1 LIMIT $2`, tenant.ID, maxCategories)
	if err != nil {
		return nil, err
	}
	err = d.Query(ctx, opFixtureSheets, tenant.ID, func(rows pgx.Rows) error {
		for rows.Next() {
			var p [2]string
			if err := rows.Scan(&p[0], &p[1]); err != nil {
				return err
			}
			f.Sheets = append(f.Sheets, p)
		}
		return rows.Err()
	}, `SELECT a.category_id::text, a.judge_id::text FROM assignments a
		JOIN judges j ON j.tenant_id = a.tenant_id AND j.id = a.judge_id
		WHERE a.tenant_id = $1 AND a.status IN ('ACTIVE', 'PENDING')
		  AND EXISTS (SELECT 1 FROM scores s WHERE s.tenant_id = $1 AND s.category_id = a.category_id AND s.judge_id = a.judge_id)
		  AND NOT EXISTS (SELECT 1 FROM category_certifications x WHERE x.tenant_id = $1 AND x.category_id = a.category_id
		                  AND x.step = 'JUDGE' AND x.judge_id = a.judge_id AND x.revoked_at IS NULL)
		ORDER BY a.category_id, a.judge_id LIMIT $2`, tenant.ID, maxSheets)
	if err != nil {
		return nil, err
	}
	err = d.QueryRow(ctx, opFixtureEvents, tenant.ID, `SELECT least(count(*) FILTER (WHERE NOT archived), $2),
		least(count(*) FILTER (WHERE archived), $2) FROM events WHERE tenant_id = $1`,
		[]any{tenant.ID, pageLimit - 1}, &f.LiveEvents, &f.ArchivedEvents)
	if err != nil {
		return nil, err
	}
	if len(f.Categories) == 0 || len(f.Sheets) == 0 {
		return nil, fmt.Errorf("tenant %s has no scored category with an open assignment: seed it again", slug)
	}
	if err := f.prepareWriters(ctx, st, d, writers); err != nil {
		return nil, err
	}
	return f, nil
}

// prepareWriters links the judges of the first sheets (one per judge) to JUDGE accounts.
func (f *Fixture) prepareWriters(ctx context.Context, st *store.Store, d *db.DB, n int) error {
	seen := map[string]bool{}
	for _, sh := range f.Sheets {
		if len(f.Writers) >= n {
			break
		}
		category, judgeID := sh[0], sh[1]
		if seen[judgeID] {
			continue
		}
		seen[judgeID] = true
		j, err := st.GetJudge(ctx, f.TenantID, judgeID)
		if err != nil {
			return err
		}
		email := "bench-judge-" + judgeID + "@bench.test"
		u, err := ensureUser(ctx, st, f.TenantID, email, "Bench "+j.Name, auth.Judge)
		if err != nil {
			return err
		}
		switch {
		case j.UserID == nil:
			if _, err := st.UpdateJudge(ctx, f.TenantID, judgeID, store.Actor{RequestID: "bench-setup"},
				store.JudgePatch{UserID: store.Clearable[string]{Set: true, Value: &u.ID}}); err != nil {
				return err
			}
		case *j.UserID != u.ID:
			continue // linked to someone else's account: leave it alone
		}
		w := Writer{UserID: u.ID, JudgeID: judgeID, CategoryID: category}
		if w.Token, err = token(ctx, st, u); err != nil {
			return err
		}
		if w.Rows, err = writableCells(ctx, d, f.TenantID, category, judgeID); err != nil {
			return err
		}
		if len(w.Rows) > 0 {
			f.Writers = append(f.Writers, w)
		}
	}
	if n > 0 && len(f.Writers) == 0 {
		return errors.New("no judge of the tenant can write scores: seed it again")
	}
	return nil
}

// writableCells lists the unlocked cells of the judge in the category, one row per contestant.
func writableCells(ctx context.Context, d *db.DB, tenantID, category, judgeID string) ([][]Cell, error) {
	var rows [][]Cell
	last := ""
	err := d.Query(ctx, opFixtureCells, tenantID, func(r pgx.Rows) error {
		for r.Next() {
			var c Cell
			var max string
			if err := r.Scan(&c.ContestantID, &c.CriterionID, &max); err != nil {
				return err
			}
			v, err := strconv.ParseFloat(max, 64)
			if err != nil {
				return err
			}
			c.MaxScore = v
			if c.ContestantID != last {
				rows = append(rows, nil)
				last = c.ContestantID
			}
			rows[len(rows)-1] = append(rows[len(rows)-1], c)
		}
		return r.Err()
	}, `SELECT cc.contestant_id::text, cr.id::text, cr.max_score::text
		FROM category_contestants cc
		JOIN criteria cr ON cr.tenant_id = cc.tenant_id AND cr.category_id = cc.category_id
		WHERE cc.tenant_id = $1 AND cc.category_id = $2
		  AND NOT EXISTS (SELECT 1 FROM scores s WHERE s.tenant_id = $1 AND s.judge_id = $3
		                  AND s.contestant_id = cc.contestant_id AND s.criterion_id = cr.id AND s.locked)
		ORDER BY cc.contestant_id, cr.id`, tenantID, category, judgeID)
	return rows, err
}

// ensureUser returns the account with email, creating it with a random password (nobody signs in
// with it: the bench makes its tokens directly).
func ensureUser(ctx context.Context, st *store.Store, tenantID, email, name string, role auth.Role) (store.User, error) {
	u, err := st.UserByEmail(ctx, tenantID, email)
	if errors.Is(err, db.ErrNotFound) {
		return st.CreateUser(ctx, tenantID, store.Actor{RequestID: "bench-setup"},
			store.NewUser{Email: email, Name: name, Password: auth.RandomPassword(), Role: role})
	}
	return u, err
}

func token(ctx context.Context, st *store.Store, u store.User) (string, error) {
	s, err := st.CreateSession(ctx, u, sessionTTL)
	return s.Token, err
}
