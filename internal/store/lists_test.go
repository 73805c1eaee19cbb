package store_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// The lists scan every row into one reused destination: a numeric's text lands in its
// json.Number, a NULL after a value reads as nil, and an empty list is [] rather than null.
func TestListsScanNumericsAndEmptyPages(t *testing.T) {
	ctx := context.Background()
	f := newRaceFixture(t)
	one := func(sql string, args ...any) string {
		var id string
		require.NoError(t, f.holder.QueryRow(ctx, sql, args...).Scan(&id), sql)
		return id
	}
	one(`INSERT INTO categories (tenant_id, contest_id, name, score_cap) VALUES ($1, $2, 'Capped', 9.50) RETURNING id`, f.tenant, f.contest)
	empty := one(`INSERT INTO categories (tenant_id, contest_id, name) VALUES ($1, $2, 'Open') RETURNING id`, f.tenant, f.contest)
	one(`INSERT INTO criteria (tenant_id, category_id, name, max_score, position) VALUES ($1, $2, 'Stage', 7.250, 1) RETURNING id`, f.tenant, f.category)

	cats, err := f.st.ListCategories(ctx, f.tenant, f.contest, 10, nil)
	require.NoError(t, err)
	require.Len(t, cats, 3)
	require.Nil(t, cats[0].ScoreCap)
	require.NotNil(t, cats[1].ScoreCap)
	require.Equal(t, json.Number("9.5"), *cats[1].ScoreCap)
	require.Nil(t, cats[2].ScoreCap, "a NULL after a value")

	crits, err := f.st.ListCriteria(ctx, f.tenant, f.category, 10, nil)
	require.NoError(t, err)
	require.Len(t, crits, 2)
	require.Equal(t, json.Number("10"), crits[0].MaxScore)
	require.Equal(t, json.Number("7.25"), crits[1].MaxScore)

	none, err := f.st.ListCriteria(ctx, f.tenant, empty, 10, nil)
	require.NoError(t, err)
	require.NotNil(t, none)
	b, err := json.Marshal(none)
	require.NoError(t, err)
	require.JSONEq(t, `[]`, string(b))
}
