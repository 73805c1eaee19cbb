package api_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/eventmanager/eventmanager/internal/config"
	"github.com/eventmanager/eventmanager/internal/dbtest"
	"github.com/eventmanager/eventmanager/internal/store"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"
)

// Counting queries, robustly: the API's pool connects through a small TCP proxy that forwards every
// byte to PostgreSQL unchanged and reads the frontend messages of the wire protocol on the way.
// Every statement the server runs is either an Execute message (extended protocol: the store's
// queries, with or without a prepared-statement cache) or a simple Query message (BEGIN, COMMIT);
// every round trip ends with a Sync or is a simple Query. The proxy counts both. This measures what
// actually reaches the server, whatever the db package does (batches, preludes, caches), needs no
// server extension (pg_stat_statements needs shared_preload_libraries and a restart) and no hook in
// the db package. pgxpool's liveness pings (the simple query "-- ping" after a connection sat idle
// for a second) are not counted: they depend on timing, not on the request.

// scWireCounter is the counting proxy.
type scWireCounter struct {
	statements atomic.Int64
	roundTrips atomic.Int64
}

func (c *scWireCounter) snapshot() (int64, int64) { return c.statements.Load(), c.roundTrips.Load() }

// scStartWireCounter starts a proxy in front of the database of dbURL and returns the URL that goes
// through it.
func scStartWireCounter(t *testing.T, dbURL string) (*scWireCounter, string) {
	t.Helper()
	cfg, err := pgconn.ParseConfig(dbURL)
	require.NoError(t, err)
	upNet, upAddr := "tcp", net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port)))
	if strings.HasPrefix(cfg.Host, "/") {
		upNet, upAddr = "unix", filepath.Join(cfg.Host, fmt.Sprintf(".s.PGSQL.%d", cfg.Port))
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	c := &scWireCounter{}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			client, err := ln.Accept()
			if err != nil {
				return
			}
			server, err := net.Dial(upNet, upAddr)
			if err != nil {
				client.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, client, server)
			mu.Unlock()
			wg.Add(2)
			go func() { defer wg.Done(); _, _ = io.Copy(client, server); client.Close() }()
			go func() { defer wg.Done(); c.forward(client, server); server.Close() }()
		}
	}()

	u, err := url.Parse(dbURL)
	require.NoError(t, err, "the test database URL must be a URL")
	q := u.Query()
	q.Del("host")
	q.Del("port")
	q.Set("sslmode", "disable") // the proxy reads the protocol: no TLS between it and the client
	u.Host = ln.Addr().String()
	u.RawQuery = q.Encode()
	return c, u.String()
}

// The codes of the untyped messages that may open a connection.
const (
	scCancelRequest = 80877102
	scSSLRequest    = 80877103
	scGSSENCRequest = 80877104
)

// forward copies the client's messages to the server, counting statements and round trips.
func (c *scWireCounter) forward(client, server net.Conn) {
	r := bufio.NewReader(client)
	// Untyped start-up messages: length, then code.
	for {
		var head [8]byte
		if _, err := io.ReadFull(r, head[:]); err != nil {
			return
		}
		n := int(binary.BigEndian.Uint32(head[:4]))
		if n < 8 {
			return
		}
		body := make([]byte, n-8)
		if _, err := io.ReadFull(r, body); err != nil {
			return
		}
		if _, err := server.Write(append(head[:], body...)); err != nil {
			return
		}
		code := binary.BigEndian.Uint32(head[4:])
		if code == scCancelRequest {
			_, _ = io.Copy(server, r)
			return
		}
		if code != scSSLRequest && code != scGSSENCRequest {
			break // the StartupMessage; typed messages follow
		}
	}
	for {
		var head [5]byte
		if _, err := io.ReadFull(r, head[:]); err != nil {
			return
		}
		n := int(binary.BigEndian.Uint32(head[1:]))
		if n < 4 {
			return
		}
		body := make([]byte, n-4)
		if _, err := io.ReadFull(r, body); err != nil {
			return
		}
		switch head[0] {
		case 'Q':
			if strings.TrimRight(string(body), "\x00") != "-- ping" {
				c.statements.Add(1)
				c.roundTrips.Add(1)
			}
		case 'E':
			c.statements.Add(1)
		case 'S':
			c.roundTrips.Add(1)
		}
		if _, err := server.Write(append(head[:], body...)); err != nil {
			return
		}
	}
}

// scBulkScores has every judge score every contestant of the category on every criterion, in one
// statement.
func (tn *scTenant) scBulkScores(c scCategory, judges []scJudge) {
	ids := make([]string, len(judges))
	for i, j := range judges {
		ids[i] = j.id
	}
	tn.exec(`INSERT INTO scores (tenant_id, category_id, judge_id, contestant_id, criterion_id, score)
		SELECT $1, $2, j, k, cr, (abs(hashtext(j::text || k::text || cr::text)) % 1000) / 100.0
		FROM unnest($3::uuid[]) j, unnest($4::uuid[]) k, unnest($5::uuid[]) cr`,
		tn.id, c.id, ids, c.contestants, c.criteria)
	tn.exec(`INSERT INTO deductions (tenant_id, category_id, contestant_id, amount, reason)
		SELECT $1, $2, k, 1.5, 'late' FROM unnest($3::uuid[]) k`, tn.id, c.id, c.contestants[:3])
}

func TestJudgingQueryCounts(t *testing.T) {
	t.Parallel()
	counter, proxied := scStartWireCounter(t, dbtest.ServiceURL(t, dbtest.NewDatabase(t)))
	settings, err := config.ParseDatabaseURL(proxied)
	require.NoError(t, err)
	e := newEnv(t, withSettings(settings))
	tn := e.scNewTenant("counts")
	ct := tn.contest(tn.event("Show", ""), "Solo", "")
	small := tn.category(ct, "Small", []string{"10", "10", "10", "10"}, 10)
	large := tn.category(ct, "Large", []string{"10", "10", "10", "10"}, 200)
	var judges []scJudge
	for i := range 5 {
		j := tn.judge(fmt.Sprintf("Judge %d", i+1))
		tn.assign(j.id, small.id, "ACTIVE")
		tn.assign(j.id, large.id, "ACTIVE")
		judges = append(judges, j)
	}
	tn.scBulkScores(small, judges)
	tn.scBulkScores(large, judges)

	// measure runs fn once to warm the caches (prepared statements, connections), then again
	// counting what reaches the server.
	measure := func(name string, fn func()) (statements, roundTrips int64) {
		t.Helper()
		fn()
		s0, r0 := counter.snapshot()
		fn()
		s1, r1 := counter.snapshot()
		t.Logf("%s: %d statements, %d round trips", name, s1-s0, r1-r0)
		return s1 - s0, r1 - r0
	}
	get := func(token, path string, wantSize int) func() {
		return func() {
			r := e.do("GET", path, token, nil)
			require.Equal(t, http.StatusOK, r.status, string(r.body))
			require.Greater(t, len(r.body), wantSize)
		}
	}

	// Through HTTP (the token check included): the same counts for 10 and for 200 contestants.
	for _, route := range []struct {
		name  string
		token string
		path  func(categoryID string) string
	}{
		{"scoresheet", judges[0].token, func(id string) string { return "/api/v1/categories/" + id + "/scoresheet" }},
		{"category results", tn.admin, func(id string) string { return "/api/v1/results/categories/" + id }},
	} {
		s10, r10 := measure(route.name+", 10 contestants", get(route.token, route.path(small.id), 10*100))
		s200, r200 := measure(route.name+", 200 contestants", get(route.token, route.path(large.id), 200*100))
		require.Equal(t, s10, s200, "%s: statements", route.name)
		require.Equal(t, r10, r200, "%s: round trips", route.name)
		require.Positive(t, r10)
	}

	// In the store: one round trip each (the tenant setting travels in the same batch).
	ctx := context.Background()
	for _, c := range []scCategory{small, large} {
		_, trips := measure("store scoresheet", func() {
			_, err := e.store.Scoresheet(ctx, tn.id, c.id, judges[0].id, false)
			require.NoError(t, err)
		})
		require.EqualValues(t, 1, trips)
		_, trips = measure("store category results", func() {
			res, err := e.store.CategoryResults(ctx, tn.id, c.id, store.ResultsView{})
			require.NoError(t, err)
			require.Len(t, res.Contestants, len(c.contestants))
		})
		require.EqualValues(t, 1, trips)
	}
	_, trips := measure("store contest results", func() {
		res, err := e.store.ContestResults(ctx, tn.id, ct, store.ResultsView{})
		require.NoError(t, err)
		require.Len(t, res.Contestants, 210)
	})
	require.EqualValues(t, 1, trips)
}
