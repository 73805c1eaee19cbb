package api_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/eventmanager/eventmanager/internal/auth"
	"github.com/eventmanager/eventmanager/internal/store"
	"github.com/stretchr/testify/require"
)

// Only judges score: a judge record links only a user whose role is JUDGE, and no one links
// themself, whether creating the judge or changing it.
func TestJudgeLinkRules(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.scNewTenant("links")
	organizer, organizerID := tn.user(auth.Organizer)
	_, boardID := tn.user(auth.Board)
	newJudgeUser := func(email string) string {
		u, err := e.store.CreateUser(context.Background(), tn.id, store.Actor{},
			store.NewUser{Email: email, Name: "J", Password: testPassword, Role: auth.Judge})
		require.NoError(t, err)
		return u.ID
	}
	judgeUser := newJudgeUser("j1@links.test")

	for _, c := range []struct {
		name, token, userID, code string
		status                    int
	}{
		{"organizer links themself", organizer, organizerID, "SELF_LINK", http.StatusForbidden},
		{"admin links themself", tn.admin, tn.adminID, "SELF_LINK", http.StatusForbidden},
		{"a BOARD user", organizer, boardID, "USER_NOT_JUDGE", http.StatusUnprocessableEntity},
		{"an ADMIN user", organizer, tn.adminID, "USER_NOT_JUDGE", http.StatusUnprocessableEntity},
	} {
		r := e.do("POST", "/api/v1/judges", c.token, map[string]any{"name": "X", "user_id": c.userID})
		requireError(t, r, c.status, c.code, "user_id", c.name)
	}
	r := e.do("POST", "/api/v1/judges", organizer, map[string]any{"name": "Jo", "user_id": judgeUser})
	require.Equal(t, http.StatusCreated, r.status, string(r.body))
	judgeID := r.json(t)["id"].(string)

	// The same rules when changing the link.
	requireError(t, e.do("PATCH", "/api/v1/judges/"+judgeID, organizer, map[string]any{"user_id": organizerID}),
		http.StatusForbidden, "SELF_LINK", "user_id")
	requireError(t, e.do("PATCH", "/api/v1/judges/"+judgeID, tn.admin, map[string]any{"user_id": boardID}),
		http.StatusUnprocessableEntity, "USER_NOT_JUDGE", "user_id")
	other := newJudgeUser("j2@links.test")
	r = e.do("PATCH", "/api/v1/judges/"+judgeID, tn.admin, map[string]any{"user_id": other})
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.Equal(t, other, r.json(t)["user_id"])

	// The users API keeps the rule too: a linked judge's user keeps the JUDGE role, and a user of
	// another role is not linked through it.
	requireError(t, e.do("PATCH", "/api/v1/users/"+other, tn.admin, map[string]any{"role": "BOARD"}),
		http.StatusUnprocessableEntity, "USER_NOT_JUDGE", "role")
	r = e.do("POST", "/api/v1/judges", organizer, map[string]any{"name": "Unlinked"})
	require.Equal(t, http.StatusCreated, r.status, string(r.body))
	requireError(t, e.do("PATCH", "/api/v1/users/"+boardID, tn.admin, map[string]any{"judge_id": r.json(t)["id"]}),
		http.StatusUnprocessableEntity, "USER_NOT_JUDGE", "judge_id")
	require.Zero(t, tn.count(`SELECT count(*) FROM judges j JOIN users u ON u.id = j.user_id WHERE j.tenant_id = $1 AND u.role <> 'JUDGE'`))
}
