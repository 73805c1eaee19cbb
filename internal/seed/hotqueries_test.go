package seed_test

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/eventmanager/eventmanager/internal/dbtest"
	"github.com/eventmanager/eventmanager/internal/seed"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// planNode is the part of EXPLAIN (FORMAT JSON) that the test reads.
type planNode struct {
	NodeType  string     `json:"Node Type"`
	Relation  string     `json:"Relation Name"`
	IndexName string     `json:"Index Name"`
	Plans     []planNode `json:"Plans"`
}

func (n planNode) walk(f func(planNode)) {
	f(n)
	for _, c := range n.Plans {
		c.walk(f)
	}
}

// TestHotQueriesUseTheirIndexes seeds the medium scale (about 55 s under -race on two
// cores; SEED_EXPLAIN_SCALE=small or large picks another), ANALYZEs, and checks with EXPLAIN as the
// service role (bound by row-level security, tenant set as the store sets it) that every hot query
// uses one of its indexes and none scans scores, events or audit_logs sequentially. No planner
// setting is touched.
func TestHotQueriesUseTheirIndexes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sc := seed.Scales["medium"]
	if name := os.Getenv("SEED_EXPLAIN_SCALE"); name != "" {
		sc = seed.Scales[name]
		require.NotZero(t, sc.Tenants, "unknown scale %q", name)
	}
	url := dbtest.NewDatabase(t)
	_, err := seed.Run(ctx, url, seed.Options{Scale: sc, Seed: 1})
	require.NoError(t, err)

	admin, err := pgx.Connect(ctx, dbtest.AdminURL(t, url))
	require.NoError(t, err)
	defer admin.Close(ctx)
	service, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	defer service.Close(ctx)

	for _, q := range seed.HotQueries {
		t.Run(q.Name, func(t *testing.T) {
			params := paramsOf(t, admin, q.ParamsSQL)
			tx, err := service.Begin(ctx)
			require.NoError(t, err)
			defer func() { _ = tx.Rollback(ctx) }()
			_, err = tx.Exec(ctx, "SELECT set_config('app.tenant_id', $1::text, true)", params[0])
			require.NoError(t, err)
			var raw []byte
			require.NoError(t, tx.QueryRow(ctx, "EXPLAIN (FORMAT JSON) "+q.SQL, params...).Scan(&raw))
			var plans []struct {
				Plan planNode `json:"Plan"`
			}
			require.NoError(t, json.Unmarshal(raw, &plans))
			var used []string
			plans[0].Plan.walk(func(n planNode) {
				if n.IndexName != "" {
					used = append(used, n.IndexName)
				}
				if n.NodeType == "Seq Scan" {
					require.NotContains(t, []string{"scores", "events", "audit_logs"}, n.Relation, "sequential scan:\n%s", textPlan(t, tx, q.SQL, params))
				}
			})
			if q.Table == "" && len(used) == 0 {
				t.Logf("%s: small table, sequential scan chosen (right at this size)", q.Name)
				return
			}
			if !containsAny(used, q.Serving) {
				t.Fatalf("%s uses %v, want one of %v:\n%s", q.Name, used, q.Serving, textPlan(t, tx, q.SQL, params))
			}
		})
	}
}

func paramsOf(t testing.TB, conn *pgx.Conn, sql string) []any {
	t.Helper()
	rows, err := conn.Query(context.Background(), sql)
	require.NoError(t, err)
	defer rows.Close()
	require.True(t, rows.Next(), "no parameters from %s", sql)
	values, err := rows.Values()
	require.NoError(t, err)
	for i, v := range values {
		if u, ok := v.([16]byte); ok {
			values[i] = uuidText(u)
		}
	}
	return values
}

func uuidText(u [16]byte) string {
	const hexd = "0123456789abcdef"
	var b strings.Builder
	for i, c := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b.WriteByte('-')
		}
		b.WriteByte(hexd[c>>4])
		b.WriteByte(hexd[c&15])
	}
	return b.String()
}

func containsAny(have, want []string) bool {
	for _, h := range have {
		for _, w := range want {
			if h == w {
				return true
			}
		}
	}
	return false
}

func textPlan(t *testing.T, tx pgx.Tx, sql string, params []any) string {
	t.Helper()
	rows, err := tx.Query(context.Background(), "EXPLAIN "+sql, params...)
	require.NoError(t, err)
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var line string
		require.NoError(t, rows.Scan(&line))
		b.WriteString(line + "\n")
	}
	return b.String()
}
