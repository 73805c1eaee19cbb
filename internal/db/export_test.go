package db

import (
	"github.com/eventmanager/eventmanager/internal/config"
	"github.com/jackc/pgx/v5/pgxpool"
)

// OpenAdjusted is Open with a hook that changes the pool configuration before the pool is built.
func OpenAdjusted(settings config.Database, opts Options, adjust func(*pgxpool.Config)) (*DB, error) {
	return open(settings, opts, adjust)
}
