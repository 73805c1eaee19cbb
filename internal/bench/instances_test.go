package bench_test

import (
	"testing"
	"time"

	"github.com/eventmanager/eventmanager/internal/bench"
	"github.com/stretchr/testify/require"
)

// The instances scenario allows only 2xx and 503 with Retry-After, and server connections within
// the budget.
func TestInstancesRowProblems(t *testing.T) {
	t.Parallel()
	row := func(errs map[string]int, conns int) bench.InstancesRow {
		return bench.InstancesRow{Row: bench.Row{Concurrency: 1000, Errors: errs}, Instances: 3, Via: "pgbouncer",
			MaxServerConnections: conns, Budget: 77}
	}
	require.Empty(t, row(nil, 77).Problems())
	require.Empty(t, row(map[string]int{"503 DB_POOL_TIMEOUT": 4, "503 DB_UNAVAILABLE": 1}, 10).Problems())
	for _, tc := range []struct {
		r    bench.InstancesRow
		want string
	}{
		{row(nil, 78), "78 server connections, past the budget of 77"},
		{row(map[string]int{"503 DB_POOL_TIMEOUT without Retry-After": 1}, 10), "without Retry-After"},
		{row(map[string]int{"500 INTERNAL": 2}, 10), `2 answers "500 INTERNAL"`},
		{row(map[string]int{"transport: connection reset by peer": 1}, 10), "transport"},
		{row(map[string]int{"504 QUERY_TIMEOUT": 1}, 10), "504"},
	} {
		p := tc.r.Problems()
		require.Len(t, p, 1, tc.want)
		require.Contains(t, p[0], tc.want)
	}
}

func TestInstancesOptions(t *testing.T) {
	t.Parallel()
	o := bench.Options{Scenarios: []string{"instances"}, Endpoints: []string{bench.EndpointEvents}, Concurrency: []int{50},
		Scale: "small", Duration: time.Second, Driver: bench.DriverVegeta, Instances: 3}
	require.NoError(t, o.Validate())
	o.Instances = 0
	require.ErrorContains(t, o.Validate(), "--instances")
	o.Instances, o.Target = 3, "http://127.0.0.1:1"
	require.ErrorContains(t, o.Validate(), "no --target")
}
