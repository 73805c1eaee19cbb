package cli

import (
	"context"
	"log/slog"

	"github.com/eventmanager/eventmanager/internal/config"
	"github.com/eventmanager/eventmanager/internal/pglisten"
	"github.com/eventmanager/eventmanager/internal/ratelimit"
	"github.com/eventmanager/eventmanager/internal/sessioncache"
	"github.com/eventmanager/eventmanager/internal/store"
	"github.com/prometheus/client_golang/prometheus"
)

// startRateLimits builds the rate limiter of serve: configurations cached in process and
// invalidated by NOTIFY (through l, the instance's listener on its own connection),
// counters in Redis when REDIS_URL is set (in process while it is unreachable), else in process.
// The returned function closes the Redis client.
func startRateLimits(ctx context.Context, cfg config.Config, st *store.Store, l *pglisten.Listener, reg prometheus.Registerer, log *slog.Logger) (*ratelimit.Enforcer, func(), error) {
	m := ratelimit.NewMetrics(reg)
	if cfg.Database.PgBouncer && !cfg.DirectSet {
		// LISTEN through PgBouncer in transaction mode loses notifications without an error: other
		// instances' changes would then only be seen when cached limits expire.
		log.Warn("DATABASE_URL goes through PgBouncer and DIRECT_DATABASE_URL is not set; set it so that " +
			"rate-limit changes, live updates and session revocations reach this instance within a second (LISTEN needs a direct connection)")
	}
	cache := ratelimit.NewCache(st, 0)
	ratelimit.Listen(l, cache)
	local := ratelimit.NewMemory(nil)
	if cfg.RedisURL == "" {
		log.Info("rate limits: counting in process (REDIS_URL not set)")
		return ratelimit.NewEnforcer(cache, local, m, log), func() {}, nil
	}
	rd, err := ratelimit.NewRedis(cfg.RedisURL)
	if err != nil {
		return nil, nil, err
	}
	log.Info("rate limits: counting in Redis", "url", config.RedactURL(cfg.RedisURL))
	return ratelimit.NewEnforcer(cache, ratelimit.NewFallback(rd, local, log, m.Fallback), m, log), func() { _ = rd.Close() }, nil
}

// startSessionCache builds the cache of verified sessions, invalidated by NOTIFY through l (the
// instance's listener; while it is not listening the cache is bypassed). Call it before l.Run.
func startSessionCache(cfg config.Config, st *store.Store, l *pglisten.Listener, log *slog.Logger) *sessioncache.Cache {
	cache := sessioncache.New(st, sessioncache.Options{Size: cfg.AuthCacheSize, TTL: cfg.AuthCacheTTL})
	switch {
	case cfg.AuthCacheTTL <= 0:
		log.Info("session cache off (AUTH_CACHE_TTL=0): every request checks its token in the database")
	case cfg.Database.PgBouncer && !cfg.DirectSet:
		// Through PgBouncer the LISTEN would seem to work and hear nothing: fail closed.
		log.Warn("session cache off: LISTEN needs DIRECT_DATABASE_URL beside a PgBouncer DATABASE_URL; every request checks its token in the database")
	default:
		cache.Listen(l)
	}
	return cache
}
