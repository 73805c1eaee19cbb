// Package store holds the SQL of every aggregate (one file each) and scans its rows into Go types.
// Every tenant-owned query filters by tenant_id and runs scoped to the tenant (row-level security),
// under a named operation and query class of package db.
package store

import "github.com/eventmanager/eventmanager/internal/db"

// Store is the data access layer.
type Store struct {
	db *db.DB
}

// New returns a Store on d.
func New(d *db.DB) *Store { return &Store{db: d} }

// Actor is who makes a change, recorded in the audit log with the change.
type Actor struct {
	UserID    string // "" for the system (CLI, demo data)
	RequestID string
	IP        string // "" when unknown
}
