package ratelimit

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the limiter's Prometheus series:
//
//	eventmanager_ratelimit_requests_total{tier, endpoint, decision="allowed|rejected"}
//	eventmanager_ratelimit_redis_fallbacks_total  requests counted in process because Redis was unreachable
//
// endpoint is a route pattern (bounded), never a raw path.
type Metrics struct {
	requests  *prometheus.CounterVec
	fallbacks prometheus.Counter
	counters  sync.Map // counterKey → prometheus.Counter: skips the label checks on the hot path
}

type counterKey struct {
	tier, endpoint string
	allowed        bool
}

// NewMetrics registers the series with reg (nil: not registered, for tests and benchmarks).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "eventmanager", Subsystem: "ratelimit", Name: "requests_total",
			Help: "Requests checked by the rate limiter, by the tenant's tier, route pattern and decision.",
		}, []string{"tier", "endpoint", "decision"}),
		fallbacks: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "eventmanager", Subsystem: "ratelimit", Name: "redis_fallbacks_total",
			Help: "Requests counted in process because Redis was unreachable.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.requests, m.fallbacks)
	}
	return m
}

func (m *Metrics) observe(tier, endpoint string, allowed bool) {
	k := counterKey{tier, endpoint, allowed}
	if c, ok := m.counters.Load(k); ok {
		c.(prometheus.Counter).Inc()
		return
	}
	decision := "allowed"
	if !allowed {
		decision = "rejected"
	}
	if tier == "" {
		tier = "none"
	}
	c := m.requests.WithLabelValues(tier, endpoint, decision)
	m.counters.Store(k, c)
	c.Inc()
}

// Fallback counts one request decided in process because Redis was unreachable; pass it to NewFallback.
func (m *Metrics) Fallback() { m.fallbacks.Inc() }
