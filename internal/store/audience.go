package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/eventmanager/eventmanager/internal/auth"
	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/jackc/pgx/v5"
)

// AudienceLink opens a read-only view of a category, or of every category of a contest, to anyone
// who has it (the venue's big screen), until it is revoked. Only the SHA-256 of its secret is kept.
type AudienceLink struct {
	ID         string     `json:"id"`
	CategoryID *string    `json:"category_id"`
	ContestID  *string    `json:"contest_id"`
	CreatedBy  *string    `json:"created_by"`
	CreatedAt  time.Time  `json:"created_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
	// Secret is known only to the answer that creates the link.
	Secret string `json:"secret,omitempty"`
}

// AudienceScope is what a link shows: one category, or one contest (exactly one is set).
type AudienceScope struct {
	CategoryID, ContestID string
}

// AudienceTarget is what a valid link's secret opens.
type AudienceTarget struct {
	LinkID, TenantID string
	AudienceScope
}

// AudienceView is what the big screen shows: names and numbers, progress, and results only of
// categories the BOARD has certified.
type AudienceView struct {
	Contest    AudienceName       `json:"contest"`
	Categories []AudienceCategory `json:"categories"`
}

// AudienceName names a contest.
type AudienceName struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// AudienceCategory is one category on the big screen.
type AudienceCategory struct {
	ID           string               `json:"id"`
	Name         string               `json:"name"`
	RunningOrder []AudienceContestant `json:"running_order"`
	Progress     AudienceProgress     `json:"progress"`
	// Certified is true once the BOARD has certified; Results is null until then.
	Certified bool             `json:"certified"`
	Results   []AudienceResult `json:"results"`
}

// AudienceContestant is a contestant as the audience sees them.
type AudienceContestant struct {
	Number *int   `json:"number"`
	Name   string `json:"name"`
}

// AudienceProgress counts what is done: scores entered by the assigned judges of all expected, the
// judges who certified, and the later certification steps standing.
type AudienceProgress struct {
	ScoresEntered   int      `json:"scores_entered"`
	ScoresExpected  int      `json:"scores_expected"`
	Judges          int      `json:"judges"`
	JudgesCertified int      `json:"judges_certified"`
	Steps           []string `json:"steps"`
}

// AudienceResult is one line of certified results.
type AudienceResult struct {
	Rank       int         `json:"rank"`
	Number     *int        `json:"number"`
	Name       string      `json:"name"`
	FinalScore json.Number `json:"final_score"`
}

const audienceLinkColumns = `id, category_id, contest_id, created_by, created_at, revoked_at`

var (
	opAudienceCreate  = db.Op{Name: "audience_links.create", Class: db.Simple}
	opAudienceList    = db.Op{Name: "audience_links.list", Class: db.Standard}
	opAudienceRevoke  = db.Op{Name: "audience_links.revoke", Class: db.Simple}
	opAudienceResolve = db.Op{Name: "audience_links.resolve", Class: db.Simple}
	opAudienceView    = db.Op{Name: "audience.view", Class: db.Standard}
)

func audienceLinkDest(l *AudienceLink) []any {
	return []any{&l.ID, &l.CategoryID, &l.ContestID, &l.CreatedBy, &l.CreatedAt, &l.RevokedAt}
}

func (l *AudienceLink) utc() {
	l.CreatedAt = l.CreatedAt.UTC()
	if l.RevokedAt != nil {
		t := l.RevokedAt.UTC()
		l.RevokedAt = &t
	}
}

// CreateAudienceLink creates a link to the scope and audits it; a category or contest of another
// tenant is db.ErrNotFound.
func (s *Store) CreateAudienceLink(ctx context.Context, tenantID string, a Actor, sc AudienceScope) (AudienceLink, error) {
	secret, hash, err := auth.NewToken()
	if err != nil {
		return AudienceLink{}, err
	}
	var l AudienceLink
	err = s.inTx(ctx, opAudienceCreate, tenantID, func(tx *db.Tx) error {
		if err := tx.QueryRow(`INSERT INTO audience_links (tenant_id, category_id, contest_id, secret_hash, created_by)
			VALUES ($1, $2, $3, $4, $5) RETURNING `+audienceLinkColumns,
			tenantID, nullString(sc.CategoryID), nullString(sc.ContestID), hash, nullString(a.UserID)).Scan(audienceLinkDest(&l)...); err != nil {
			return err
		}
		return audit(tx, tenantID, a, "audience_link.create", "audience_link", l.ID,
			map[string]any{"category_id": l.CategoryID, "contest_id": l.ContestID})
	})
	if err != nil {
		return AudienceLink{}, parentMissing(err)
	}
	l.utc()
	l.Secret = secret
	return l, nil
}

// ListAudienceLinks returns the scope's links, newest first (revoked ones too); db.ErrNotFound
// for an unknown category or contest.
func (s *Store) ListAudienceLinks(ctx context.Context, tenantID string, sc AudienceScope) ([]AudienceLink, error) {
	parent := `SELECT id FROM categories WHERE tenant_id = $1 AND id = $2`
	if sc.ContestID != "" {
		parent = `SELECT id FROM contests WHERE tenant_id = $1 AND id = $3`
	}
	out := []AudienceLink{}
	found := false
	err := s.db.Query(ctx, opAudienceList, tenantID, func(rows pgx.Rows) error {
		for rows.Next() {
			found = true
			var (
				l  AudienceLink
				id *string
			)
			if err := rows.Scan(&id, &l.CategoryID, &l.ContestID, &l.CreatedBy, &l.CreatedAt, &l.RevokedAt); err != nil {
				return err
			}
			if id == nil {
				continue
			}
			l.ID = *id
			l.utc()
			out = append(out, l)
		}
		return rows.Err()
	}, `SELECT l.id, l.category_id, l.contest_id, l.created_by, coalesce(l.created_at, now()), l.revoked_at
		FROM (`+parent+`) p
		LEFT JOIN audience_links l ON l.tenant_id = $1 AND (l.category_id = $2::uuid OR l.contest_id = $3::uuid)
		ORDER BY l.created_at DESC LIMIT 100`, tenantID, nullString(sc.CategoryID), nullString(sc.ContestID))
	if err == nil && !found {
		err = db.ErrNotFound
	}
	return out, err
}

// RevokeAudienceLink ends the link (its open streams end on every instance) and audits it;
// revoking a revoked link changes nothing.
func (s *Store) RevokeAudienceLink(ctx context.Context, tenantID string, a Actor, id string) (AudienceLink, error) {
	var l AudienceLink
	err := s.inTx(ctx, opAudienceRevoke, tenantID, func(tx *db.Tx) error {
		if err := tx.QueryRow(`SELECT `+audienceLinkColumns+` FROM audience_links WHERE tenant_id = $1 AND id = $2 FOR UPDATE`,
			tenantID, id).Scan(audienceLinkDest(&l)...); err != nil {
			return err
		}
		if l.RevokedAt != nil {
			return nil
		}
		if err := tx.QueryRow(`UPDATE audience_links SET revoked_at = now(), revoked_by = $3 WHERE tenant_id = $1 AND id = $2
			RETURNING `+audienceLinkColumns, tenantID, id, nullString(a.UserID)).Scan(audienceLinkDest(&l)...); err != nil {
			return err
		}
		return audit(tx, tenantID, a, "audience_link.revoke", "audience_link", l.ID, nil)
	})
	l.utc()
	return l, err
}

// ResolveAudienceLink returns what the secret opens: a link not revoked, of an active tenant;
// db.ErrNotFound otherwise. The table has no row-level security: the secret's hash finds the row.
func (s *Store) ResolveAudienceLink(ctx context.Context, secret string) (AudienceTarget, error) {
	var (
		t                   AudienceTarget
		category, contestID *string
	)
	err := s.db.QueryRow(ctx, opAudienceResolve, "", `SELECT l.id, l.tenant_id, l.category_id, l.contest_id
		FROM audience_links l JOIN tenants t ON t.id = l.tenant_id
		WHERE l.secret_hash = $1 AND l.revoked_at IS NULL AND t.active`,
		[]any{auth.HashToken(secret)}, &t.LinkID, &t.TenantID, &category, &contestID)
	if category != nil {
		t.CategoryID = *category
	}
	if contestID != nil {
		t.ContestID = *contestID
	}
	return t, err
}

// audienceViewSQL builds the view of every category in the scope ($2 a category, or $3 a contest)
// in one statement.
const audienceViewSQL = `
SELECT json_build_object(
    'contest', (SELECT json_build_object('id', k.id, 'name', k.name) FROM contests k
        WHERE k.tenant_id = $1 AND k.id = coalesce($3::uuid, (SELECT contest_id FROM categories WHERE tenant_id = $1 AND id = $2::uuid))),
    'categories', coalesce((SELECT json_agg(json_build_object(
        'id', c.id, 'name', c.name,
        'running_order', coalesce((SELECT json_agg(json_build_object('number', k.number, 'name', k.name)
                ORDER BY k.number NULLS LAST, k.name, k.id)
            FROM category_contestants cc JOIN contestants k ON k.tenant_id = cc.tenant_id AND k.id = cc.contestant_id
            WHERE cc.tenant_id = c.tenant_id AND cc.category_id = c.id), '[]'),
        'progress', json_build_object(
            'judges', n.judges,
            'judges_certified', (SELECT count(*) FROM category_certifications x
                JOIN assignments a ON a.tenant_id = x.tenant_id AND a.category_id = x.category_id AND a.judge_id = x.judge_id AND a.status <> 'CANCELLED'
                WHERE x.tenant_id = c.tenant_id AND x.category_id = c.id AND x.step = 'JUDGE' AND x.revoked_at IS NULL),
            'scores_expected', n.judges * n.contestants * n.criteria,
            'scores_entered', (SELECT count(*) FROM scores s
                JOIN assignments a ON a.tenant_id = s.tenant_id AND a.category_id = s.category_id AND a.judge_id = s.judge_id AND a.status <> 'CANCELLED'
                WHERE s.tenant_id = c.tenant_id AND s.category_id = c.id),
            'steps', coalesce((SELECT json_agg(x.step ORDER BY array_position(ARRAY['TALLY_MASTER', 'AUDITOR', 'BOARD'], x.step))
                FROM category_certifications x
                WHERE x.tenant_id = c.tenant_id AND x.category_id = c.id AND x.step <> 'JUDGE' AND x.revoked_at IS NULL), '[]')),
        'certified', EXISTS (SELECT 1 FROM category_certifications x
            WHERE x.tenant_id = c.tenant_id AND x.category_id = c.id AND x.step = 'BOARD' AND x.revoked_at IS NULL))
        ORDER BY c.created_at, c.id)
    FROM categories c
    CROSS JOIN LATERAL (SELECT
        (SELECT count(*) FROM assignments a WHERE a.tenant_id = c.tenant_id AND a.category_id = c.id AND a.status <> 'CANCELLED') AS judges,
        (SELECT count(*) FROM category_contestants cc WHERE cc.tenant_id = c.tenant_id AND cc.category_id = c.id) AS contestants,
        (SELECT count(*) FROM criteria cr WHERE cr.tenant_id = c.tenant_id AND cr.category_id = c.id) AS criteria) n
    WHERE c.tenant_id = $1 AND (c.id = $2::uuid OR c.contest_id = $3::uuid)), '[]'))`

// AudienceView reads what the target's big screen shows: one query, and one results query per
// category the BOARD has certified (results are computed in one place, store.CategoryResults).
func (s *Store) AudienceView(ctx context.Context, t AudienceTarget) (AudienceView, error) {
	var (
		raw []byte
		v   AudienceView
	)
	if err := s.db.QueryRow(ctx, opAudienceView, t.TenantID, audienceViewSQL,
		[]any{t.TenantID, nullString(t.CategoryID), nullString(t.ContestID)}, &raw); err != nil {
		return AudienceView{}, err
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return AudienceView{}, err
	}
	if v.Contest.ID == "" {
		return AudienceView{}, db.ErrNotFound // deleted meanwhile
	}
	for i := range v.Categories {
		c := &v.Categories[i]
		if !c.Certified {
			continue
		}
		res, err := s.CategoryResults(ctx, t.TenantID, c.ID, ResultsView{})
		if err != nil {
			return AudienceView{}, err
		}
		c.Results = make([]AudienceResult, len(res.Contestants))
		for j, r := range res.Contestants {
			c.Results[j] = AudienceResult{Rank: r.Rank, Number: r.Number, Name: r.Name, FinalScore: r.FinalScore}
		}
	}
	return v, nil
}
