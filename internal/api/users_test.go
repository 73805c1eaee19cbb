package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/eventmanager/eventmanager/internal/auth"
	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/eventmanager/eventmanager/internal/dbtest"
	"github.com/eventmanager/eventmanager/internal/store"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

var opUsersTest = db.Op{Name: "test.users", Class: db.Simple}

// usrTenant is a tenant for the user tests: its id and its admin's id and token.
type usrTenant struct {
	slug, id, adminID, admin string
}

func (e *env) usrTenant(slug string) usrTenant {
	e.t.Helper()
	tn := usrTenant{slug: slug, admin: e.tenant(slug)}
	ten, err := e.store.TenantBySlug(context.Background(), slug)
	require.NoError(e.t, err)
	tn.id = ten.ID
	u, err := e.store.UserByEmail(context.Background(), ten.ID, "admin@"+slug+".test")
	require.NoError(e.t, err)
	tn.adminID = u.ID
	return tn
}

// usrCreate creates a user through the API and returns the answer's body.
func (e *env) usrCreate(token string, body map[string]any) map[string]any {
	e.t.Helper()
	r := e.do("POST", "/api/v1/users", token, body)
	require.Equal(e.t, http.StatusCreated, r.status, string(r.body))
	return r.json(e.t)
}

func (e *env) usrLogin(slug, email, password string) response {
	e.t.Helper()
	return e.do("POST", "/api/v1/auth/login", "", map[string]string{"tenant": slug, "email": email, "password": password})
}

func (e *env) usrToken(slug, email, password string) string {
	e.t.Helper()
	r := e.usrLogin(slug, email, password)
	require.Equal(e.t, http.StatusOK, r.status, string(r.body))
	return r.json(e.t)["token"].(string)
}

// usrAudit returns the data of the tenant's audit rows of a user with the given action, oldest first.
func (e *env) usrAudit(tenantID, userID, action string) []map[string]any {
	e.t.Helper()
	var out []map[string]any
	err := e.db.Query(context.Background(), opUsersTest, tenantID, func(rows pgx.Rows) error {
		for rows.Next() {
			var raw []byte
			if err := rows.Scan(&raw); err != nil {
				return err
			}
			var m map[string]any
			if err := json.Unmarshal(raw, &m); err != nil {
				return err
			}
			out = append(out, m)
		}
		return rows.Err()
	}, `SELECT data FROM audit_logs WHERE tenant_id = $1 AND entity_type = 'user' AND entity_id = $2 AND action = $3 ORDER BY created_at, id`,
		tenantID, userID, action)
	require.NoError(e.t, err)
	return out
}

func TestUsersCreateAndList(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.usrTenant("people")

	// No password given: a one-time password is made, returned once, and works.
	r := e.do("POST", "/api/v1/users", tn.admin, map[string]any{"email": "  Judy@People.TEST ", "name": " Judy ", "role": "judge"})
	require.Equal(t, http.StatusCreated, r.status, string(r.body))
	require.Equal(t, "no-store", r.header.Get("Cache-Control"))
	judy := r.json(t)
	require.Equal(t, "judy@people.test", judy["email"])
	require.Equal(t, "Judy", judy["name"])
	require.Equal(t, "JUDGE", judy["role"])
	require.Equal(t, true, judy["active"])
	require.Nil(t, judy["judge_id"])
	require.Equal(t, tn.id, judy["tenant_id"])
	password, _ := judy["password"].(string)
	require.Len(t, password, auth.RandomPasswordLen)
	require.NotContains(t, string(r.body), "argon2")
	require.NotContains(t, string(r.body), "password_hash")
	e.usrToken("people", "judy@people.test", password)

	// A chosen password is not echoed.
	bob := e.usrCreate(tn.admin, map[string]any{"email": "bob@people.test", "name": "Bob", "role": "ORGANIZER", "password": "a long enough secret"})
	require.NotContains(t, bob, "password")
	e.usrToken("people", "bob@people.test", "a long enough secret")
	e.usrCreate(tn.admin, map[string]any{"email": "carol@people.test", "role": "BOARD"})

	// Refusals: nothing is written.
	for _, c := range []struct {
		name        string
		body        map[string]any
		status      int
		code, field string
	}{
		{"duplicate email, other case", map[string]any{"email": "JUDY@people.test", "role": "JUDGE"}, 409, "CONFLICT", "email"},
		{"no email", map[string]any{"role": "JUDGE"}, 400, "VALIDATION_FAILED", "email"},
		{"bad email", map[string]any{"email": "judy at people", "role": "JUDGE"}, 400, "VALIDATION_FAILED", "email"},
		{"no role", map[string]any{"email": "x@people.test"}, 400, "VALIDATION_FAILED", "role"},
		{"bad role", map[string]any{"email": "x@people.test", "role": "OVERLORD"}, 400, "VALIDATION_FAILED", "role"},
		{"short password", map[string]any{"email": "x@people.test", "role": "JUDGE", "password": "short"}, 400, "VALIDATION_FAILED", "password"},
		{"long name", map[string]any{"email": "x@people.test", "role": "JUDGE", "name": strings.Repeat("n", 201)}, 400, "VALIDATION_FAILED", "name"},
		{"ADMIN creates SUPER_ADMIN", map[string]any{"email": "x@people.test", "role": "SUPER_ADMIN"}, 403, "ROLE_NOT_ALLOWED", "role"},
		{"unknown field", map[string]any{"email": "x@people.test", "role": "JUDGE", "password_hash": "x"}, 400, "UNKNOWN_FIELD", "password_hash"},
	} {
		requireError(t, e.do("POST", "/api/v1/users", tn.admin, c.body), c.status, c.code, c.field, c.name)
	}

	// List: by email, in pages, with filters.
	type userList struct {
		Data []struct {
			ID, Email, Role string
			Active          bool
		} `json:"data"`
		NextCursor *string `json:"next_cursor"`
	}
	list := func(query string) userList {
		t.Helper()
		r := e.do("GET", "/api/v1/users"+query, tn.admin, nil)
		require.Equal(t, http.StatusOK, r.status, string(r.body))
		var l userList
		require.NoError(t, json.Unmarshal(r.body, &l))
		return l
	}
	var emails []string
	for q := "?limit=2"; ; {
		l := list(q)
		require.LessOrEqual(t, len(l.Data), 2)
		for _, u := range l.Data {
			emails = append(emails, u.Email)
		}
		if l.NextCursor == nil {
			break
		}
		q = "?limit=2&cursor=" + *l.NextCursor
	}
	require.Equal(t, []string{"admin@people.test", "bob@people.test", "carol@people.test", "judy@people.test"}, emails)
	l := list("?role=judge")
	require.Len(t, l.Data, 1)
	require.Equal(t, "judy@people.test", l.Data[0].Email)
	require.Len(t, list("?search=CAR").Data, 1)
	require.Len(t, list("?search=people.test&role=ADMIN").Data, 1)
	require.Len(t, list("?active=false").Data, 0)
	requireError(t, e.do("GET", "/api/v1/users?role=nobody", tn.admin, nil), 400, "VALIDATION_FAILED", "role")
	requireError(t, e.do("GET", "/api/v1/users?active=yes", tn.admin, nil), 400, "VALIDATION_FAILED", "active")

	// Get one; another tenant's user is not found.
	r = e.do("GET", "/api/v1/users/"+judy["id"].(string), tn.admin, nil)
	require.Equal(t, http.StatusOK, r.status)
	require.Equal(t, "judy@people.test", r.json(t)["email"])
	other := e.usrTenant("others")
	requireError(t, e.do("GET", "/api/v1/users/"+judy["id"].(string), other.admin, nil), 404, "NOT_FOUND", "")
	require.Len(t, e.do("GET", "/api/v1/users", other.admin, nil).json(t)["data"], 1)

	// Every creation is audited, without secrets.
	created := e.usrAudit(tn.id, judy["id"].(string), "user.created")
	require.Len(t, created, 1)
	raw, _ := json.Marshal(created)
	require.Contains(t, string(raw), "judy@people.test")
	require.NotContains(t, string(raw), password)
	require.NotContains(t, string(raw), "argon2")
}

func TestUsersRoutesNeedAManager(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.usrTenant("guarded")
	var someone string
	require.NoError(t, e.db.QueryRow(context.Background(), opUsersTest, tn.id,
		`SELECT id FROM users WHERE tenant_id = $1`, []any{tn.id}, &someone))
	for _, role := range []auth.Role{auth.Organizer, auth.Board, auth.Judge, auth.TallyMaster, auth.Auditor, auth.Emcee, auth.Contestant} {
		tok := e.addUser("guarded", role)
		for _, req := range []struct{ method, path string }{
			{"GET", "/api/v1/users"}, {"POST", "/api/v1/users"}, {"GET", "/api/v1/users/" + someone},
			{"PATCH", "/api/v1/users/" + someone}, {"POST", "/api/v1/users/" + someone + "/password"},
			{"GET", "/api/v1/tenants"}, {"POST", "/api/v1/tenants"}, {"PATCH", "/api/v1/tenants/" + tn.id},
		} {
			requireError(t, e.do(req.method, req.path, tok, map[string]any{}), 403, "FORBIDDEN", "", "%s %s as %s", req.method, req.path, role)
		}
	}
	requireError(t, e.do("GET", "/api/v1/users", "", nil), 401, "UNAUTHENTICATED", "")
}

func TestUsersUpdate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	tn := e.usrTenant("crew")
	u := e.usrCreate(tn.admin, map[string]any{"email": "sam@crew.test", "name": "Sam", "role": "JUDGE", "password": "sam's long password"})
	id := u["id"].(string)
	path := "/api/v1/users/" + id

	r := e.do("PATCH", path, tn.admin, map[string]any{"name": "Samantha", "role": "tally_master"})
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.Equal(t, "Samantha", r.json(t)["name"])
	require.Equal(t, "TALLY_MASTER", r.json(t)["role"])
	updated := e.usrAudit(tn.id, id, "user.updated")
	require.Len(t, updated, 1)
	require.Equal(t, "JUDGE", updated[0]["before"].(map[string]any)["role"])
	require.Equal(t, "TALLY_MASTER", updated[0]["after"].(map[string]any)["role"])

	// Linking to a judge of the tenant; the token then acts as that judge; null unlinks.
	var judge, judge2, otherJudge string
	require.NoError(t, e.db.QueryRow(ctx, opUsersTest, tn.id, `INSERT INTO judges (tenant_id, name) VALUES ($1, 'J1') RETURNING id`, []any{tn.id}, &judge))
	require.NoError(t, e.db.QueryRow(ctx, opUsersTest, tn.id, `INSERT INTO judges (tenant_id, name) VALUES ($1, 'J2') RETURNING id`, []any{tn.id}, &judge2))
	other := e.usrTenant("crew-rival")
	require.NoError(t, e.db.QueryRow(ctx, opUsersTest, other.id, `INSERT INTO judges (tenant_id, name) VALUES ($1, 'X') RETURNING id`, []any{other.id}, &otherJudge))
	r = e.do("PATCH", path, tn.admin, map[string]any{"judge_id": judge, "role": "JUDGE"})
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.Equal(t, judge, r.json(t)["judge_id"])
	samToken := e.usrToken("crew", "sam@crew.test", "sam's long password")
	p, err := e.store.Authenticate(ctx, samToken)
	require.NoError(t, err)
	require.Equal(t, judge, p.JudgeID)
	// Moving the link to another judge releases the first.
	r = e.do("PATCH", path, tn.admin, map[string]any{"judge_id": judge2})
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.Equal(t, judge2, r.json(t)["judge_id"])
	var linked *string
	require.NoError(t, e.db.QueryRow(ctx, opUsersTest, tn.id, `SELECT user_id FROM judges WHERE id = $1`, []any{judge}, &linked))
	require.Nil(t, linked)
	// A judge linked to someone else, another tenant's judge, a malformed id.
	admin2 := e.usrCreate(tn.admin, map[string]any{"email": "kim@crew.test", "role": "JUDGE"})
	requireError(t, e.do("PATCH", "/api/v1/users/"+admin2["id"].(string), tn.admin, map[string]any{"judge_id": judge2}), 409, "CONFLICT", "judge_id")
	requireError(t, e.do("PATCH", path, tn.admin, map[string]any{"judge_id": otherJudge}), 400, "UNKNOWN_JUDGE", "judge_id")
	requireError(t, e.do("PATCH", path, tn.admin, map[string]any{"judge_id": "j-1"}), 400, "VALIDATION_FAILED", "judge_id")
	r = e.do("PATCH", path, tn.admin, map[string]any{"judge_id": nil})
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.Nil(t, r.json(t)["judge_id"])

	// Deactivation: the token stops working at once and the sessions are gone; reactivated, the old
	// token stays dead but the password works again.
	require.Equal(t, http.StatusOK, e.do("GET", "/api/v1/events", samToken, nil).status)
	r = e.do("PATCH", path, tn.admin, map[string]any{"active": false})
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.Equal(t, false, r.json(t)["active"])
	requireError(t, e.do("GET", "/api/v1/events", samToken, nil), 401, "UNAUTHENTICATED", "")
	var sessions int
	require.NoError(t, e.db.QueryRow(ctx, opUsersTest, "", `SELECT count(*) FROM sessions WHERE user_id = $1`, []any{id}, &sessions))
	require.Zero(t, sessions)
	require.Equal(t, http.StatusUnauthorized, e.usrLogin("crew", "sam@crew.test", "sam's long password").status)
	require.Equal(t, http.StatusOK, e.do("PATCH", path, tn.admin, map[string]any{"active": true}).status)
	requireError(t, e.do("GET", "/api/v1/events", samToken, nil), 401, "UNAUTHENTICATED", "")
	e.usrToken("crew", "sam@crew.test", "sam's long password")

	// Other tenants' users are not found; bad input is refused.
	requireError(t, e.do("PATCH", path, other.admin, map[string]any{"name": "x"}), 404, "NOT_FOUND", "")
	requireError(t, e.do("PATCH", path, tn.admin, map[string]any{"role": "KING"}), 400, "VALIDATION_FAILED", "role")
	requireError(t, e.do("PATCH", path, tn.admin, map[string]any{"email": "new@crew.test"}), 400, "UNKNOWN_FIELD", "email")
	requireError(t, e.do("PATCH", path, tn.admin, map[string]any{"active": "no"}), 400, "VALIDATION_FAILED", "active")
}

// Nobody changes their own role or active flag, nor raises anyone to SUPER_ADMIN but a SUPER_ADMIN;
// an ADMIN does not manage a SUPER_ADMIN.
func TestUsersRoleRules(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	tn := e.usrTenant("ranks")
	self := "/api/v1/users/" + tn.adminID

	requireError(t, e.do("PATCH", self, tn.admin, map[string]any{"role": "ORGANIZER"}), 403, "OWN_ACCOUNT", "role")
	requireError(t, e.do("PATCH", self, tn.admin, map[string]any{"role": "SUPER_ADMIN"}), 403, "OWN_ACCOUNT", "role")
	requireError(t, e.do("PATCH", self, tn.admin, map[string]any{"active": false}), 403, "OWN_ACCOUNT", "active")
	// Unchanged values and one's own name are fine.
	r := e.do("PATCH", self, tn.admin, map[string]any{"role": "ADMIN", "active": true, "name": "Chief"})
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.Equal(t, "Chief", r.json(t)["name"])

	judge := e.usrCreate(tn.admin, map[string]any{"email": "j@ranks.test", "role": "JUDGE"})
	requireError(t, e.do("PATCH", "/api/v1/users/"+judge["id"].(string), tn.admin, map[string]any{"role": "SUPER_ADMIN"}), 403, "ROLE_NOT_ALLOWED", "role")
	// An ADMIN may make another ADMIN.
	r = e.do("PATCH", "/api/v1/users/"+judge["id"].(string), tn.admin, map[string]any{"role": "ADMIN"})
	require.Equal(t, http.StatusOK, r.status, string(r.body))

	// A SUPER_ADMIN of the tenant: the ADMIN may not touch them; they may create and promote to SUPER_ADMIN.
	sa, err := e.store.CreateUser(ctx, tn.id, store.Actor{}, store.NewUser{Email: "root@ranks.test", Password: testPassword, Role: auth.SuperAdmin})
	require.NoError(t, err)
	for _, body := range []map[string]any{{"name": "x"}, {"active": false}, {"role": "JUDGE"}} {
		requireError(t, e.do("PATCH", "/api/v1/users/"+sa.ID, tn.admin, body), 403, "ROLE_NOT_ALLOWED", "", body)
	}
	requireError(t, e.do("POST", "/api/v1/users/"+sa.ID+"/password", tn.admin, nil), 403, "ROLE_NOT_ALLOWED", "")
	saToken := e.login("ranks", "root@ranks.test")
	requireError(t, e.do("PATCH", "/api/v1/users/"+sa.ID, saToken, map[string]any{"role": "ADMIN"}), 403, "OWN_ACCOUNT", "role")
	r = e.do("POST", "/api/v1/users", saToken, map[string]any{"email": "root2@ranks.test", "role": "SUPER_ADMIN"})
	require.Equal(t, http.StatusCreated, r.status, string(r.body))
	r = e.do("PATCH", "/api/v1/users/"+judge["id"].(string), saToken, map[string]any{"role": "SUPER_ADMIN"})
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.Equal(t, "SUPER_ADMIN", r.json(t)["role"])
	// ...and may demote the ADMIN.
	r = e.do("PATCH", self, saToken, map[string]any{"role": "BOARD"})
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	requireError(t, e.do("GET", "/api/v1/users", tn.admin, nil), 403, "FORBIDDEN", "")
}

func TestUsersPasswords(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	tn := e.usrTenant("keys")
	u := e.usrCreate(tn.admin, map[string]any{"email": "pat@keys.test", "role": "JUDGE", "password": "first password!"})
	id := u["id"].(string)
	path := "/api/v1/users/" + id + "/password"
	session1 := e.usrToken("keys", "pat@keys.test", "first password!")
	session2 := e.usrToken("keys", "pat@keys.test", "first password!")

	// Changing one's own password needs the current one; the other sessions end, this one goes on.
	requireError(t, e.do("POST", path, session1, map[string]any{"password": "second password!"}), 400, "VALIDATION_FAILED", "current_password")
	requireError(t, e.do("POST", path, session1, map[string]any{"current_password": "first password!"}), 400, "VALIDATION_FAILED", "password")
	requireError(t, e.do("POST", path, session1, map[string]any{"current_password": "wrong password!", "password": "second password!"}), 403, "WRONG_PASSWORD", "current_password")
	requireError(t, e.do("POST", path, session1, map[string]any{"current_password": "first password!", "password": "2short"}), 400, "VALIDATION_FAILED", "password")
	r := e.do("POST", path, session1, map[string]any{"current_password": "first password!", "password": "second password!"})
	require.Equal(t, http.StatusNoContent, r.status, string(r.body))
	require.Equal(t, http.StatusOK, e.do("GET", "/api/v1/auth/me", session1, nil).status)
	requireError(t, e.do("GET", "/api/v1/auth/me", session2, nil), 401, "UNAUTHENTICATED", "")
	require.Equal(t, http.StatusUnauthorized, e.usrLogin("keys", "pat@keys.test", "first password!").status)
	e.usrToken("keys", "pat@keys.test", "second password!")

	// A judge may not reset someone else's password.
	requireError(t, e.do("POST", "/api/v1/users/"+tn.adminID+"/password", session1, nil), 403, "FORBIDDEN", "")

	// An ADMIN resets it: with no body a one-time password comes back, shown once; every session ends.
	r = e.do("POST", path, tn.admin, nil)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.Equal(t, "no-store", r.header.Get("Cache-Control"))
	oneTime := r.json(t)["password"].(string)
	require.Len(t, oneTime, auth.RandomPasswordLen)
	requireError(t, e.do("GET", "/api/v1/auth/me", session1, nil), 401, "UNAUTHENTICATED", "")
	var sessions int
	require.NoError(t, e.db.QueryRow(ctx, opUsersTest, "", `SELECT count(*) FROM sessions WHERE user_id = $1`, []any{id}, &sessions))
	require.Zero(t, sessions)
	e.usrToken("keys", "pat@keys.test", oneTime)
	// {} works like no body; a chosen password is validated and answered 204.
	require.Equal(t, http.StatusOK, e.do("POST", path, tn.admin, map[string]any{}).status)
	requireError(t, e.do("POST", path, tn.admin, map[string]any{"password": "tiny"}), 400, "VALIDATION_FAILED", "password")
	requireError(t, e.do("POST", path, tn.admin, map[string]any{"password": "x long password", "current_password": "y"}), 400, "VALIDATION_FAILED", "current_password")
	requireError(t, e.do("POST", path, tn.admin, `{"password":`), 400, "INVALID_JSON", "")
	require.Equal(t, http.StatusNoContent, e.do("POST", path, tn.admin, map[string]any{"password": "chosen by admin"}).status)
	e.usrToken("keys", "pat@keys.test", "chosen by admin")
	// Another tenant's user is not found.
	other := e.usrTenant("keys-rival")
	requireError(t, e.do("POST", path, other.admin, nil), 404, "NOT_FOUND", "")

	// Audited without the passwords.
	require.Len(t, e.usrAudit(tn.id, id, "user.password_changed"), 1)
	resets := e.usrAudit(tn.id, id, "user.password_reset")
	require.Len(t, resets, 3)
	require.Equal(t, true, resets[0]["generated"])
	require.Equal(t, false, resets[2]["generated"])
	admin := rlsConnect(t, dbtest.AdminURL(t, e.db.Settings().ConnString))
	var leaked int
	require.NoError(t, admin.QueryRow(ctx, `SELECT count(*) FROM audit_logs WHERE data::text LIKE '%password!%'
		OR data::text LIKE '%chosen by admin%' OR data::text LIKE '%' || $1 || '%' OR data::text LIKE '%argon2%'`, oneTime).Scan(&leaked))
	require.Zero(t, leaked)
}
