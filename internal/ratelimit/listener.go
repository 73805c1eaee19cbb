package ratelimit

import "github.com/eventmanager/eventmanager/internal/pglisten"

// Channel is the NOTIFY channel of migration 00005's triggers; the payload is the tenant id of the
// changed row, "" for a global row.
const Channel = "rate_limit_configs"

// Listen has l invalidate cache on every change of a rate-limit configuration, and flush it
// whenever notifications may have been missed (the connection was lost, or was just opened).
func Listen(l *pglisten.Listener, cache *Cache) {
	l.Handle(Channel, pglisten.Handler{Notify: cache.Invalidate, Resync: cache.Flush})
}
