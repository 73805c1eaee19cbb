package health_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/eventmanager/eventmanager/internal/health"
	"github.com/stretchr/testify/require"
)

// What the catalogue queries cost on a database of many relations: the migrated schema plus 400
// tables of 1000 rows, each with two indexes (1200 relations more), statistics flushed. Run with
//
//	go test -run '^$' -bench BenchmarkCatalogue -benchtime 20x ./internal/health/
func BenchmarkCatalogue(b *testing.B) {
	d, url := open(b, 5)
	ctx := context.Background()
	conn := connect(b, url)
	var sql strings.Builder
	for i := range 400 {
		fmt.Fprintf(&sql, "CREATE TABLE bench_%d (id int PRIMARY KEY, v int); CREATE INDEX ON bench_%d (v); INSERT INTO bench_%d SELECT g, g FROM generate_series(1, 1000) g;", i, i, i)
	}
	_, err := conn.Exec(ctx, sql.String())
	require.NoError(b, err)
	_, err = conn.Exec(ctx, "ANALYZE; SELECT pg_stat_force_next_flush()")
	require.NoError(b, err)
	c := health.New(d, nil, health.Thresholds{})
	b.Run("Run", func(b *testing.B) {
		for b.Loop() {
			if r := c.Run(ctx); len(r.Checks) == 0 {
				b.Fatal("no checks")
			}
		}
	})
	b.Run("Stats", func(b *testing.B) {
		for b.Loop() {
			if _, err := c.Stats(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Snapshot", func(b *testing.B) {
		for b.Loop() {
			if _, err := c.Snapshot(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}
