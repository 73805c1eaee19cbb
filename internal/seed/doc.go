// Package seed generates realistic, deterministic competition data at a chosen scale, for measuring
// the database (indexes, query plans, benchmarks) at volumes a real deployment reaches.
package seed
