package metrics

import (
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// UnmatchedRoute is the route label of requests that matched no route (404 and 405 answers), so
// that scanners probing random paths add one series, not one per path.
const UnmatchedRoute = "unmatched"

// HTTP records every request by route: a counter by route and status code and a duration
// histogram by route. Routes are the ServeMux patterns ("GET /api/v1/events/{id}"), a set fixed at
// start-up, and codes are the few that handlers write, so the number of series stays bounded. It
// also keeps running totals for the status page, which needs them without a Prometheus scrape.
type HTTP struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec

	total, clientErrors, serverErrors atomic.Uint64

	// children caches the labelled series, as Queries does per operation: a lookup by label values
	// hashes the labels and takes a lock on every request.
	children sync.Map // routeCode → *httpSeries
}

type routeCode struct {
	route string
	code  int
}

type httpSeries struct {
	requests prometheus.Counter
	duration prometheus.Observer
}

// NewHTTP creates the request metrics and registers them with reg.
func NewHTTP(reg prometheus.Registerer) *HTTP {
	h := &HTTP{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "http", Name: "requests_total",
			Help: `Requests answered, by route (the ServeMux pattern, "unmatched" for unknown paths) and status code.`,
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "http", Name: "request_duration_seconds",
			Help:    `Time from the request reaching the API to the handler returning, by route ("unmatched" for unknown paths).`,
			Buckets: DurationBuckets,
		}, []string{"route"}),
	}
	reg.MustRegister(h.requests, h.duration)
	return h
}

// ObserveRequest records one answered request; route is the matched pattern, "" when none matched.
func (h *HTTP) ObserveRequest(route string, code int, elapsed time.Duration) {
	if route == "" {
		route = UnmatchedRoute
	}
	if code < 100 || code > 599 {
		code = 0 // net/http refuses such codes; keep the label set bounded all the same
	}
	key := routeCode{route, code}
	s, ok := h.children.Load(key)
	if !ok {
		label := "other"
		if code != 0 {
			label = strconv.Itoa(code)
		}
		s, _ = h.children.LoadOrStore(key, &httpSeries{
			requests: h.requests.WithLabelValues(route, label),
			duration: h.duration.WithLabelValues(route),
		})
	}
	series := s.(*httpSeries)
	series.requests.Inc()
	series.duration.Observe(elapsed.Seconds())
	h.total.Add(1)
	switch {
	case code >= 500:
		h.serverErrors.Add(1)
	case code >= 400:
		h.clientErrors.Add(1)
	}
}

// HTTPTotals are the requests answered since start; rates are differences between two reads.
type HTTPTotals struct {
	Requests     uint64 `json:"requests"`
	ClientErrors uint64 `json:"client_errors"` // 4xx
	ServerErrors uint64 `json:"server_errors"` // 5xx
}

// Totals returns the running totals.
func (h *HTTP) Totals() HTTPTotals {
	return HTTPTotals{Requests: h.total.Load(), ClientErrors: h.clientErrors.Load(), ServerErrors: h.serverErrors.Load()}
}
