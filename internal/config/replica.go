package config

import (
	"strings"
	"time"
)

// DefaultReplicaMaxLag is how far behind the primary the read replica may be before its queries
// go to the primary (REPLICA_MAX_LAG).
const DefaultReplicaMaxLag = time.Second

// loadReplica reads DATABASE_REPLICA_URL (optional; only beside DATABASE_URL) and
// REPLICA_MAX_LAG into c.
func loadReplica(getenv func(string) string, c *Config) error {
	l := loader{getenv: getenv}
	c.ReplicaMaxLag = l.duration("REPLICA_MAX_LAG", DefaultReplicaMaxLag, false)
	if l.err != nil {
		return l.err
	}
	raw := strings.TrimSpace(getenv("DATABASE_REPLICA_URL"))
	if raw == "" {
		return nil
	}
	if !c.DatabaseSet {
		return &URLError{Var: "DATABASE_REPLICA_URL", Msg: "is set but DATABASE_URL is not; a replica needs its primary in DATABASE_URL"}
	}
	var err error
	if c.Replica, err = parseDatabaseURL("DATABASE_REPLICA_URL", raw); err != nil {
		return err
	}
	c.ReplicaSet = true
	return nil
}
