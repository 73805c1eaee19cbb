package store

import (
	"testing"

	"github.com/jackc/pgx/v5"
)

// fakeRows hands out rows of (name, number) as pgx would: every destination set on every row.
type fakeRows struct {
	pgx.Rows
	rows [][2]any
	i    int
}

func (r *fakeRows) Next() bool { r.i++; return r.i <= len(r.rows) }
func (r *fakeRows) Err() error { return nil }
func (r *fakeRows) Scan(dest ...any) error {
	row := r.rows[r.i-1]
	*dest[0].(*string) = row[0].(string)
	if n, ok := row[1].(int); ok {
		p := new(int) // a fresh pointer, as pgx allocates for a non-NULL value
		*p = n
		*dest[1].(**int) = p
	} else {
		*dest[1].(**int) = nil
	}
	return nil
}

type item struct {
	Name   string
	Number *int
	Upper  bool
}

func TestCollectRows(t *testing.T) {
	dest := func(n *item) []any { return []any{&n.Name, &n.Number} }
	finish := func(n *item) { n.Upper = n.Name == "B" }

	var out []item
	scan := collectRows(&out, 5, dest, finish)
	if err := scan(&fakeRows{}); err != nil {
		t.Fatal(err)
	}
	if out == nil || len(out) != 0 || cap(out) != 5 {
		t.Fatalf("empty result: got %#v (cap %d), want a non-nil empty page of capacity 5", out, cap(out))
	}

	rows := [][2]any{{"a", 1}, {"B", nil}, {"c", 3}}
	for try := 0; try < 2; try++ { // a retried callback starts from an empty page
		if err := scan(&fakeRows{rows: rows}); err != nil {
			t.Fatal(err)
		}
		if len(out) != 3 {
			t.Fatalf("try %d: got %d rows, want 3", try, len(out))
		}
		if out[0].Name != "a" || *out[0].Number != 1 || out[0].Upper ||
			out[1].Name != "B" || out[1].Number != nil || !out[1].Upper ||
			out[2].Name != "c" || *out[2].Number != 3 || out[2].Upper {
			t.Fatalf("try %d: got %+v", try, out)
		}
	}
}

// One destination for all the rows: the allocations of a page do not grow with its rows.
func TestCollectRowsAllocations(t *testing.T) {
	rows := make([][2]any, 100)
	for i := range rows {
		rows[i] = [2]any{"x", nil}
	}
	dest := func(n *item) []any { return []any{&n.Name, &n.Number} }
	var out []item
	scan := collectRows(&out, len(rows), dest, nil)
	r := &fakeRows{rows: rows}
	allocs := testing.AllocsPerRun(50, func() {
		r.i = 0
		if err := scan(r); err != nil {
			t.Fatal(err)
		}
	})
	t.Logf("%d rows: %.0f allocations", len(rows), allocs)
	if allocs > 5 {
		t.Fatalf("%d rows took %.0f allocations, want a few per page", len(rows), allocs)
	}
}
