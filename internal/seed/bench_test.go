package seed_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/eventmanager/eventmanager/internal/dbtest"
	"github.com/eventmanager/eventmanager/internal/localpg"
	"github.com/eventmanager/eventmanager/internal/seed"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// Environment of BenchmarkHotQueries (see `make bench-queries` and docs/indexes.md).
const (
	// envBenchScale names the scale to benchmark (medium or large); unset, the benchmark is skipped.
	envBenchScale = "BENCH_SCALE"
	// envBenchDataDir points at a private PostgreSQL folder (PG_DATA_DIR of `eventmanager seed`)
	// already seeded at that scale; unset, a throwaway database is seeded first.
	envBenchDataDir = "BENCH_PG_DATA_DIR"
	// envBenchOut, when set, is a file that the before/after table is written to as well.
	envBenchOut = "BENCH_OUT"
)

// versionBeforeIndexes is the schema version just before the performance-index migration 00004.
const versionBeforeIndexes = 3

// BenchmarkHotQueries runs each query of seed.HotQueries as the service role (row-level security
// on, app.tenant_id set, prepared by pgx's statement cache) with every migration applied and with
// migration 00004 rolled back, in the order with, without, without, with, and leaves the database
// with every migration applied. Each sub-benchmark reports the median latency of one execution
// (median-ms/op); at the end a before/after table (median per query over both blocks of a state,
// ratio, the plan's indexes) is printed. Run it with a fixed iteration count, e.g. -benchtime 200x,
// so that every query gets the same number of samples.
func BenchmarkHotQueries(b *testing.B) {
	name := os.Getenv(envBenchScale)
	if name == "" {
		b.Skipf("set %s=medium or large to run (seeding takes time; see make bench-queries)", envBenchScale)
	}
	sc, ok := seed.Scales[name]
	require.True(b, ok, "unknown scale %q", name)
	ctx := context.Background()
	serviceURL, adminURL := benchDatabase(b, sc)

	admin, err := pgx.Connect(ctx, adminURL)
	require.NoError(b, err)
	defer admin.Close(ctx)
	params := make([][]any, len(seed.HotQueries))
	for i, q := range seed.HotQueries {
		params[i] = paramsOf(b, admin, q.ParamsSQL)
	}
	_, err = admin.Exec(ctx, "VACUUM ANALYZE")
	require.NoError(b, err)

	m, err := db.NewMigrator(serviceURL)
	require.NoError(b, err)
	defer m.Close()
	// Whatever happens, leave the database with every migration applied.
	defer func() {
		_, err := m.Up(ctx)
		require.NoError(b, err)
	}()
	_, err = m.Up(ctx)
	require.NoError(b, err)

	// ABBA order (with, without, without, with) so that drift over the run (caches, autovacuum,
	// the machine) weighs on both states alike: one migration down and one up in all.
	samples := map[string][2][]time.Duration{} // query name -> {without, with}
	plans := map[string][2]string{}            // query name -> indexes of the plan {without, with}
	runState := func(state string, slot int) {
		conn, err := pgx.Connect(ctx, serviceURL)
		require.NoError(b, err)
		defer conn.Close(ctx)
		for i, q := range seed.HotQueries {
			_, err := conn.Exec(ctx, "SELECT set_config('app.tenant_id', $1::text, false)", params[i][0])
			require.NoError(b, err)
			p := plans[q.Name]
			p[slot] = planIndexes(b, conn, q.SQL, params[i])
			plans[q.Name] = p
			var got []time.Duration
			b.Run(state+"/"+q.Name, func(b *testing.B) {
				got = timeQuery(b, conn, q.SQL, params[i])
				b.ReportMetric(float64(median(got).Microseconds())/1000, "median-ms/op")
			})
			s := samples[q.Name]
			s[slot] = append(s[slot], got...)
			samples[q.Name] = s
		}
	}
	_, err = admin.Exec(ctx, "CHECKPOINT")
	require.NoError(b, err)
	runState("indexed", 1)
	for {
		v, err := currentVersion(ctx, admin)
		require.NoError(b, err)
		if v <= versionBeforeIndexes {
			break
		}
		_, err = m.Down(ctx)
		require.NoError(b, err)
	}
	_, err = admin.Exec(ctx, "CHECKPOINT")
	require.NoError(b, err)
	runState("unindexed", 0)
	runState("unindexed", 0)
	_, err = m.Up(ctx)
	require.NoError(b, err)
	_, err = admin.Exec(ctx, "CHECKPOINT")
	require.NoError(b, err)
	runState("indexed", 1)

	medians := map[string][2]time.Duration{}
	for name, s := range samples {
		medians[name] = [2]time.Duration{median(s[0]), median(s[1])}
	}

	var out io.Writer = os.Stdout
	if path := os.Getenv(envBenchOut); path != "" {
		f, err := os.Create(path)
		require.NoError(b, err)
		defer f.Close()
		out = io.MultiWriter(os.Stdout, f)
	}
	writeTable(out, sc.Name, medians, plans)
}

// benchDatabase returns the service's and the superuser's URL of a database seeded at sc.
func benchDatabase(b *testing.B, sc seed.Scale) (service, admin string) {
	ctx := context.Background()
	if dir := os.Getenv(envBenchDataDir); dir != "" {
		srv, err := localpg.Start(ctx, localpg.Options{DataDir: dir})
		require.NoError(b, err)
		b.Cleanup(func() { _ = srv.Stop(context.Background()) })
		service, admin = srv.URLAs("eventmanager", localpg.ServiceRole), srv.URL("eventmanager")
	} else {
		service = dbtest.NewDatabase(b)
		admin = dbtest.AdminURL(b, service)
	}
	conn, err := pgx.Connect(ctx, admin)
	require.NoError(b, err)
	defer conn.Close(ctx)
	var have int
	require.NoError(b, conn.QueryRow(ctx, "SELECT count(*) FROM tenants WHERE slug LIKE $1",
		strings.TrimSuffix(seed.TenantSlug(sc.Name, 1, 0), "0001")+"%").Scan(&have))
	if have < sc.Tenants {
		start := time.Now()
		_, err := seed.Run(ctx, service, seed.Options{Scale: sc, Seed: 1})
		require.NoError(b, err)
		b.Logf("seeded %s in %s", sc.Name, time.Since(start).Round(time.Second))
	}
	return service, admin
}

func currentVersion(ctx context.Context, conn *pgx.Conn) (int64, error) {
	var v int64
	err := conn.QueryRow(ctx, "SELECT coalesce(max(version_id), 0) FROM goose_db_version WHERE is_applied").Scan(&v)
	return v, err
}

// planIndexes lists the indexes of the query's plan (EXPLAIN (FORMAT JSON)), or "seq scan".
func planIndexes(b *testing.B, conn *pgx.Conn, sql string, params []any) string {
	var raw []byte
	require.NoError(b, conn.QueryRow(context.Background(), "EXPLAIN (FORMAT JSON) "+sql, params...).Scan(&raw))
	var plans []struct {
		Plan planNode `json:"Plan"`
	}
	require.NoError(b, json.Unmarshal(raw, &plans))
	var used []string
	plans[0].Plan.walk(func(n planNode) {
		if n.IndexName != "" && !slices.Contains(used, n.IndexName) {
			used = append(used, n.IndexName)
		}
	})
	if len(used) == 0 {
		return "seq scan"
	}
	return "`" + strings.Join(used, "` + `") + "`"
}

// timeQuery warms up and times b.N executions of the query (reading every row) on conn, whose
// session has the query's tenant set, returning the latency of each.
func timeQuery(b *testing.B, conn *pgx.Conn, sql string, params []any) []time.Duration {
	ctx := context.Background()
	run := func() {
		rows, err := conn.Query(ctx, sql, params...)
		require.NoError(b, err)
		for rows.Next() {
		}
		require.NoError(b, rows.Err())
	}
	for range 20 {
		run()
	}
	samples := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		run()
		samples = append(samples, time.Since(start))
	}
	return samples
}

func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// writeTable prints the before/after table in the Markdown of docs/indexes.md.
func writeTable(w io.Writer, scale string, medians map[string][2]time.Duration, plans map[string][2]string) {
	fmt.Fprintf(w, "\n%s: median latency per hot query, without and with migration 00004\n\n", scale)
	fmt.Fprintln(w, "| hot query | without 00004 | with 00004 | ratio (without / with) | change | plan without | plan with |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|")
	for _, q := range seed.HotQueries {
		d := medians[q.Name]
		before, after := d[0].Seconds()*1000, d[1].Seconds()*1000
		ratio, change := "n/a", "n/a"
		if after > 0 && before > 0 {
			ratio = fmt.Sprintf("%.2f", before/after)
			change = fmt.Sprintf("%+.0f %%", (after/before-1)*100)
		}
		p := plans[q.Name]
		fmt.Fprintf(w, "| %s | %.3f ms | %.3f ms | %s | %s | %s | %s |\n", q.Name, before, after, ratio, change, p[0], p[1])
	}
}
