package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// namespace prefixes every metric of ours.
const namespace = "eventmanager"

// NewRegistry returns a registry of our own (not the global default one, so that no library can
// add metrics behind our back, and tests get a clean one each) holding the Go runtime and process
// collectors.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return reg
}

// Handler serves the metrics of g in the Prometheus text format (or OpenMetrics when asked).
func Handler(g prometheus.Gatherer) http.Handler {
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{
		// A collector that fails (the pool closed during shutdown) should not cost the scrape.
		ErrorHandling: promhttp.ContinueOnError,
		// /metrics is public: a flood of scrapes is answered 503 past a few at a time instead of
		// each one gathering (the database collector's read is shared anyway, see DatabaseMaxAge).
		MaxRequestsInFlight: 4,
	})
}
