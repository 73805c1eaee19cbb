package db

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// lagCheckEvery is how often the replica's lag is measured.
const lagCheckEvery = 200 * time.Millisecond

// replica is a pool on a streaming replica of the primary's database, used by read-only queries
// of the complex and report classes while it is close enough behind (see UseReplica).
type replica struct {
	primary *DB
	db      *DB
	maxLag  time.Duration
	log     *slog.Logger
	// usable is true while the last lag check succeeded within maxLag.
	usable atomic.Bool
	// wrote holds, per tenant ("" for none), when this process last wrote for it (UnixNano).
	wrote sync.Map
	// samples are the primary's WAL positions at the last checks, oldest first (check only).
	samples []lsnSample
}

// lsnSample is the primary's WAL position at a moment.
type lsnSample struct {
	at  time.Time
	lsn uint64
}

var (
	opPrimaryLSN = Op{Name: "db.primary_lsn", Class: Simple}
	opReplicaLSN = Op{Name: "db.replica_lsn", Class: Simple}
)

// UseReplica sends the queries marked ReadOnly of the complex and report classes (Query and
// QueryRow) to r, a pool on a streaming replica of d's database, while the replica is at most
// maxLag behind; otherwise, when it is down, and for a tenant that this process wrote for within
// the last maxLag plus one lag check (read-your-writes), they run on d. The lag is checked every
// 200 ms until ctx ends. A query that finds the replica unreachable runs on d at once. Call it
// before d is used.
func (d *DB) UseReplica(ctx context.Context, r *DB, maxLag time.Duration) {
	rep := &replica{primary: d, db: r, maxLag: maxLag, log: d.log}
	rep.check(ctx)
	d.replica = rep
	go func() {
		t := time.NewTicker(lagCheckEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				rep.check(ctx)
			}
		}
	}()
}

// check measures the lag and updates usable, logging each change. The lag is measured with WAL
// positions rather than replay timestamps (which age while the primary is quiet, and are wrong
// after a standby restarts): each check notes the primary's position; the replica is as far
// behind as the newest noted position it has replayed is old.
func (r *replica) check(ctx context.Context) {
	now := time.Now()
	var primaryLSN string
	if err := r.primary.QueryRow(ctx, opPrimaryLSN, "", `SELECT pg_current_wal_lsn()::text`, nil, &primaryLSN); err == nil {
		if lsn, ok := parseLSN(primaryLSN); ok {
			r.samples = append(r.samples, lsnSample{at: now, lsn: lsn})
		}
	}
	// Samples older than maxLag and a check are not needed: past them the replica lags anyway.
	for len(r.samples) > 1 && now.Sub(r.samples[1].at) > r.maxLag+lagCheckEvery {
		r.samples = r.samples[1:]
	}
	var recovering bool
	var replayed string
	err := r.db.QueryRow(ctx, opReplicaLSN, "", `SELECT pg_is_in_recovery(), coalesce(pg_last_wal_replay_lsn()::text, '')`, nil, &recovering, &replayed)
	lag := time.Duration(-1) // unknown: more than any sample tells
	if lsn, ok := parseLSN(replayed); ok && err == nil {
		for i := len(r.samples) - 1; i >= 0; i-- {
			if r.samples[i].lsn <= lsn {
				lag = now.Sub(r.samples[i].at)
				break
			}
		}
	}
	ok := err == nil && recovering && lag >= 0 && lag <= r.maxLag
	if was := r.usable.Swap(ok); was != ok {
		switch {
		case ok:
			r.log.Info("read replica in use", "lag", lag.String())
		case err != nil:
			r.log.Warn("read replica unreachable: its queries go to the primary", "error", err.Error())
		case !recovering:
			r.log.Warn("read replica is no longer in recovery (promoted?): its queries go to the primary")
		default:
			r.log.Warn("read replica lags: its queries go to the primary", "max_lag", r.maxLag.String())
		}
	}
}

// parseLSN reads a pg_lsn's text form ("16/B374D848").
func parseLSN(s string) (uint64, bool) {
	hi, lo, found := strings.Cut(s, "/")
	if !found {
		return 0, false
	}
	h, err1 := strconv.ParseUint(hi, 16, 32)
	l, err2 := strconv.ParseUint(lo, 16, 32)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return h<<32 | l, true
}

// readTarget is the pool a query runs on: the replica's when it may, else nil (the primary).
func (d *DB) readTarget(op Op, tenantID string) *DB {
	r := d.replica
	if r == nil || !op.ReadOnly || (op.Class != Complex && op.Class != Report) || !r.usable.Load() {
		return nil
	}
	if at, ok := r.wrote.Load(tenantID); ok && time.Since(time.Unix(0, at.(int64))) < r.maxLag+lagCheckEvery {
		return nil
	}
	return r.db
}

// onReplica runs a read on the replica when readTarget allows it. It reports false when the
// query must run on the primary instead: not allowed, or the replica could not serve it (down,
// or its pool exhausted), which also stops its use until the next good lag check.
func (d *DB) onReplica(op Op, tenantID string, read func(*DB) error) (bool, error) {
	target := d.readTarget(op, tenantID)
	if target == nil {
		return false, nil
	}
	err := read(target)
	if errors.Is(err, ErrUnavailable) || errors.Is(err, ErrPoolTimeout) {
		d.replica.usable.Store(false)
		return false, nil
	}
	return true, err
}

// noteWrite remembers that this process writes for tenantID now, for read-your-writes.
func (d *DB) noteWrite(tenantID string) {
	if d.replica != nil {
		d.replica.wrote.Store(tenantID, time.Now().UnixNano())
	}
}
