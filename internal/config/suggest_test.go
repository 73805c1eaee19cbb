package config

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestEditDistance(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"abc", "", 3},
		{"", "abc", 3},
		{"schema", "schema", 0},
		{"conection_limit", "connection_limit", 1},
		{"connection_limt", "connection_limit", 1},
		{"pgbuoncer", "pgbouncer", 1},
		{"pool_timout", "pool_timeout", 1},
		{"conection_limt", "connection_limit", 2},
		{"lock_timeout", "pool_timeout", 3},
		{"ca", "abc", 3}, // optimal string alignment, not full Damerau: no edit of a swapped pair
		{"kitten", "sitting", 3},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, editDistance(tt.a, tt.b), "%s/%s", tt.a, tt.b)
		require.Equal(t, tt.want, editDistance(tt.b, tt.a), "%s/%s", tt.b, tt.a)
	}
}

func TestSuggestParam(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"conection_limit":  "connection_limit",
		"Connection_Limit": "connection_limit",
		"CONNECTION_LIMIT": "connection_limit",
		"connectionlimit":  "connection_limit",
		"pool_timout":      "pool_timeout",
		"pooltimeout":      "pool_timeout",
		"connect_timout":   "connect_timeout",
		"Schema":           "schema",
		"shema":            "schema",
		"pg_bouncer":       "pgbouncer",
		"socket_timeot":    "socket_timeout",
		"connection_limit": "",
		"sslmode":          "",
		"lock_timeout":     "",
		"application_name": "",
		"schemas_to_load":  "",
	}
	for key, want := range tests {
		require.Equal(t, want, suggestParam(key), key)
	}
}
