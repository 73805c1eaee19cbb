// Package replicatest gives tests a real streaming replica of the test cluster: a pg_basebackup
// of dbtest's throwaway cluster, started as a hot standby that replays the cluster's changes, in a
// folder of its own and stopped at the end of the test. Tests may stop and restart it, and pause
// and resume its replay, to see what the service does with a replica that is down or lagging.
package replicatest

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/eventmanager/eventmanager/internal/dbtest"
	"github.com/eventmanager/eventmanager/internal/localpg"
	"github.com/jackc/pgx/v5"
)

// Replica is a hot standby of the test cluster.
type Replica struct {
	t    testing.TB
	opts localpg.Options

	mu  sync.Mutex
	srv *localpg.Server // nil while stopped
}

// Start makes and starts a replica of dbtest's cluster. It skips the test when the tests use
// TEST_DATABASE_URL (there is no cluster of ours to copy).
func Start(t testing.TB) *Replica {
	t.Helper()
	primary := dbtest.Server(t)
	if primary == nil {
		t.Skip("needs the throwaway test cluster (TEST_DATABASE_URL is set)")
	}
	dir, err := os.MkdirTemp("", "eventmanager-replica-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil { // the postgres user passes through under root
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// A standby refuses to start with fewer connections than its primary allows.
	var maxConns string
	conn, err := pgx.Connect(ctx, primary.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	err = conn.QueryRow(ctx, "SHOW max_connections").Scan(&maxConns)
	conn.Close(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r := &Replica{t: t, opts: localpg.Options{DataDir: filepath.Join(dir, "data"),
		ServerSettings: map[string]string{"fsync": "off", "max_connections": maxConns, "hot_standby": "on"}}}
	if err := primary.BaseBackup(ctx, r.opts.DataDir); err != nil {
		t.Fatal(err)
	}
	if r.srv, err = localpg.Start(ctx, r.opts); err != nil {
		t.Fatal(err)
	}
	r.opts.Port = r.srv.Port() // a restart comes back on the same port: URLs stay valid
	t.Cleanup(r.Stop)
	return r
}

// URLFor is the URL of the database and role that dbURL (a dbtest URL) names, on the replica
// (call it while the replica runs; the URL stays valid across Stop and Restart, which keep the
// port and the socket's folder).
func (r *Replica) URLFor(dbURL string) string {
	r.t.Helper()
	cfg, err := pgx.ParseConfig(dbURL)
	if err != nil {
		r.t.Fatal(err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.srv.URLAs(cfg.Database, cfg.User)
}

// Stop shuts the replica down (fast shutdown); Restart brings it back.
func (r *Replica) Stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := r.srv.Stop(ctx); err != nil {
		r.t.Errorf("replicatest: stop: %v", err)
	}
	r.srv = nil
}

// Restart starts the replica again after Stop, on the same port.
func (r *Replica) Restart() {
	r.t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.srv != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv, err := localpg.Start(ctx, r.opts)
	if err != nil {
		r.t.Fatal(err)
	}
	r.srv = srv
}

// PauseReplay stops the replay of the primary's changes (pg_wal_replay_pause): the replica falls
// behind as the primary writes. ResumeReplay lets it catch up.
func (r *Replica) PauseReplay() { r.superuser("SELECT pg_wal_replay_pause()") }

// ResumeReplay undoes PauseReplay.
func (r *Replica) ResumeReplay() { r.superuser("SELECT pg_wal_replay_resume()") }

func (r *Replica) superuser(sql string) {
	r.t.Helper()
	r.mu.Lock()
	url := r.srv.URL("postgres")
	r.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		r.t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		r.t.Fatal(err)
	}
}
