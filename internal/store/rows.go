package store

import "github.com/jackc/pgx/v5"

// collectRows returns a scan callback for db.Query that sets *out to the rows of a list, made
// with room for limit of them (the SQL's LIMIT).
//
// The page is made inside the callback: after the pool wait, so that a request queued behind the
// pool holds no page, and afresh on every call, so that a retried callback starts from an empty
// page. A query without rows leaves a non-nil empty slice (JSON [], not null).
//
// Every row is scanned into one T, whose destinations dest lists once (building them per row
// costs two allocations a row); then finish, if not nil, runs on it (UTC times, say) and a copy
// is appended. pgx sets every destination on every row (a pointer or JSON value afresh, not in
// place), so nothing of an earlier row shows through, as long as dest names every field the row
// fills and finish derives its changes from those alone.
func collectRows[T any](out *[]T, limit int, dest func(*T) []any, finish func(*T)) func(pgx.Rows) error {
	return func(rows pgx.Rows) error {
		*out = make([]T, 0, limit)
		var row T
		d := dest(&row)
		for rows.Next() {
			if err := rows.Scan(d...); err != nil {
				return err
			}
			if finish != nil {
				finish(&row)
			}
			*out = append(*out, row)
		}
		return rows.Err()
	}
}
