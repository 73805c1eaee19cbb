package cli

import (
	"context"
	"log/slog"
	"os"

	"github.com/eventmanager/eventmanager/internal/config"
	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/eventmanager/eventmanager/internal/health"
)

// instanceName is the application_name of this serve process's connections, which doctor and
// the other instances read in pg_stat_activity.
func instanceName(settings config.Database) string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown"
	}
	return health.InstanceName(host, os.Getpid(), int(settings.ConnectionLimit), settings.PgBouncer)
}

// warnConnectionBudget warns when this instance's pool, added to those of the instances already
// connected, may open more connections than the server's budget (80 % of max_connections minus
// the reserve). Behind PgBouncer the pools are PgBouncer's clients, not server connections: its
// own pool size is what counts, and doctor shows it.
func warnConnectionBudget(ctx context.Context, pool *db.DB, self string, settings config.Database, log *slog.Logger) {
	if settings.PgBouncer {
		return
	}
	maxConns, reserved, err := health.ServerLimits(ctx, pool)
	if err != nil {
		log.Warn("connection budget not checked: could not read max_connections", "error", config.RedactURL(err.Error()))
		return
	}
	others, err := health.LiveInstances(ctx, pool)
	if err != nil {
		log.Warn("connection budget not checked: could not list the live instances", "error", config.RedactURL(err.Error()))
		return
	}
	sum, count := int(settings.ConnectionLimit), 1
	for _, in := range others {
		if in.Name != self && !in.PgBouncer {
			sum += in.ConnectionLimit
			count++
		}
	}
	budget := health.ConnectionBudget(maxConns, reserved)
	if sum > budget {
		log.Warn("connection budget exceeded: with this instance the live instances may open more connections than the server allows",
			"instances", count, "connection_limit_sum", sum, "budget", budget, "max_connections", maxConns,
			"recommended_connection_limit", health.RecommendedConnectionLimit(maxConns, reserved, count))
		return
	}
	log.Info("connection budget", "instances", count, "connection_limit_sum", sum, "budget", budget)
}
