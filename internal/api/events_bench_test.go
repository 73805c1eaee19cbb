package api

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/eventmanager/eventmanager/internal/auth"
	"github.com/eventmanager/eventmanager/internal/config"
	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/eventmanager/eventmanager/internal/dbtest"
	"github.com/eventmanager/eventmanager/internal/metrics"
	"github.com/eventmanager/eventmanager/internal/pglisten"
	"github.com/eventmanager/eventmanager/internal/sessioncache"
	"github.com/eventmanager/eventmanager/internal/store"
)

// BenchmarkEventsList measures GET /api/v1/events through the whole handler stack as serve builds
// it (request id, request log to a JSON handler, HTTP metrics, recovery, routing, token check through the session
// cache with its listener, rate limit, handler, JSON) against a real database: a tenant with 5 live
// events (the default list), and with 50 archived ones (?archived=true). cpu-ns/op is the CPU time
// of this process (the Go side: PostgreSQL runs in its own processes) per request.
//
//	go test -run '^$' -bench BenchmarkEventsList -benchmem ./internal/api/
func BenchmarkEventsList(b *testing.B) {
	ctx := context.Background()
	url := dbtest.NewDatabase(b)
	settings, err := config.ParseDatabaseURL(url)
	if err != nil {
		b.Fatal(err)
	}
	d, err := db.Open(settings, db.Options{Timeouts: config.DefaultQueryTimeouts})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	st := store.New(d)
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	cache := sessioncache.New(st, sessioncache.Options{TTL: time.Minute})
	l := pglisten.New(settings.ConnString, log)
	cache.Listen(l)
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go l.Run(lctx)
	for !l.Listening() {
		time.Sleep(time.Millisecond)
	}
	s := New(Deps{DB: d, Store: st, Logger: log, TokenTTL: time.Hour, HTTPMetrics: metrics.NewHTTP(metrics.NewRegistry()), Sessions: cache})
	h := s.Handler()

	ten, admin, err := st.CreateTenant(ctx, store.Actor{}, "bench", "Bench",
		store.NewUser{Email: "admin@bench.test", Name: "Admin", Password: "correct horse battery", Role: auth.Admin})
	if err != nil {
		b.Fatal(err)
	}
	// The internal tier: the benchmark must not be rate limited.
	if err := st.SetTenantRateLimitTier(ctx, store.Actor{}, ten.ID, "internal"); err != nil {
		b.Fatal(err)
	}
	sess, err := st.CreateSession(ctx, admin, time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	start := time.Date(2030, 1, 1, 9, 0, 0, 0, time.UTC)
	for i := range 55 {
		e, err := st.CreateEvent(ctx, ten.ID, store.Actor{}, store.EventInput{Name: "Event " + strconv.Itoa(i),
			Description: "A judged competition with a description of ordinary length for the list.", Location: "Main hall",
			StartDate: start.Add(time.Duration(i) * 24 * time.Hour), EndDate: start.Add(time.Duration(i)*24*time.Hour + 8*time.Hour)})
		if err != nil {
			b.Fatal(err)
		}
		if i >= 5 {
			if _, err := d.Exec(ctx, db.Op{Name: "bench.archive", Class: db.Simple}, ten.ID,
				`UPDATE events SET archived = true WHERE tenant_id = $1 AND id = $2`, ten.ID, e.ID); err != nil {
				b.Fatal(err)
			}
		}
	}
	for _, c := range []struct {
		name, path string
		want       int
	}{
		{"5_events", "/api/v1/events", 5},
		{"50_events", "/api/v1/events?archived=true", 50},
	} {
		b.Run(c.name, func(b *testing.B) {
			// Check the answer once: the benchmark must measure the real thing.
			rec := httptest.NewRecorder()
			req := httptest.NewRequest("GET", c.path, nil)
			req.Header.Set("Authorization", "Bearer "+sess.Token)
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			var page struct{ Data []struct{ ID string } }
			if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil || len(page.Data) != c.want {
				b.Fatalf("want %d events, got %d (%v)", c.want, len(page.Data), err)
			}
			b.ReportAllocs()
			cpu0 := cpuTime()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				req := httptest.NewRequest("GET", c.path, nil)
				req.Header.Set("Authorization", "Bearer "+sess.Token)
				w := &discardWriter{h: http.Header{}}
				for pb.Next() {
					clear(w.h)
					w.code = 0
					h.ServeHTTP(w, req)
					if w.code != http.StatusOK {
						b.Fatalf("status %d", w.code)
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}
