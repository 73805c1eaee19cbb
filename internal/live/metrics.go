package live

import "github.com/prometheus/client_golang/prometheus"

// Register adds the hub's figures to reg: open subscriptions (one per stream) and coalesced
// backlogs (a stream that fell behind and got a resync).
func (h *Hub) Register(reg prometheus.Registerer) {
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "eventmanager_live_subscribers",
			Help: "Open live-update subscriptions (server-sent event streams) of this instance."},
			func() float64 { return float64(h.Subscribers()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "eventmanager_live_coalesced_total",
			Help: "Times a live stream fell behind and had its pending events replaced by a resync."},
			func() float64 { return float64(h.Coalesced()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "eventmanager_live_events_total",
			Help: "Live events published by this instance's hub (notifications and resyncs)."},
			func() float64 { return float64(h.seq.Load()) }),
	)
}
