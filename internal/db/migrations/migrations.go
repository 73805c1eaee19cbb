// Package migrations holds the numbered SQL migrations of the schema, embedded in the binary.
package migrations

import "embed"

// FS holds every migration file, named NNNNN_description.sql, in goose's format.
//
//go:embed *.sql
var FS embed.FS
