package auth

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseRole(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want Role
		ok   bool
	}{
		{"SUPER_ADMIN", SuperAdmin, true},
		{"ADMIN", Admin, true},
		{"ORGANIZER", Organizer, true},
		{"BOARD", Board, true},
		{"JUDGE", Judge, true},
		{"TALLY_MASTER", TallyMaster, true},
		{"AUDITOR", Auditor, true},
		{"EMCEE", Emcee, true},
		{"CONTESTANT", Contestant, true},
		{"admin", Admin, true},
		{"Tally_Master", TallyMaster, true},

		{"", "", false},
		{" ADMIN", "", false},
		{"ADMIN ", "", false},
		{"SUPERADMIN", "", false},
		{"SUPER-ADMIN", "", false},
		{"TALLY MASTER", "", false},
		{"USER", "", false},
		{"ADMINS", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseRole(tc.in)
			if !tc.ok {
				require.ErrorIs(t, err, ErrInvalidRole)
				require.Contains(t, err.Error(), "SUPER_ADMIN, ADMIN,", "the message lists the valid roles")
				require.Empty(t, got)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
			require.True(t, got.Valid())
		})
	}
}

func TestAllRoles(t *testing.T) {
	t.Parallel()
	require.Len(t, AllRoles, 9)
	seen := map[Role]bool{}
	for _, r := range AllRoles {
		require.True(t, r.Valid(), r)
		got, err := ParseRole(string(r))
		require.NoError(t, err)
		require.Equal(t, r, got)
		require.False(t, seen[r])
		seen[r] = true
	}
	for _, r := range []Role{"", "admin", "ROOT", "SUPER_ADMIN "} {
		require.False(t, r.Valid(), r)
	}
}

// invalid is a role that can reach the permission checks only through a bug or a bad row;
// it must be allowed nothing.
const invalid Role = "ROOT"

func TestPermissions(t *testing.T) {
	t.Parallel()
	type perms struct{ writeCompetition, manageUsers, readAuditLog bool }
	want := map[Role]perms{
		SuperAdmin:  {true, true, true},
		Admin:       {true, true, true},
		Organizer:   {true, false, false},
		Board:       {true, false, true},
		Judge:       {false, false, false},
		TallyMaster: {false, false, false},
		Auditor:     {false, false, true},
		Emcee:       {false, false, false},
		Contestant:  {false, false, false},
		invalid:     {false, false, false},
		"":          {false, false, false},
		"admin":     {false, false, false}, // roles are compared exactly once parsed
	}
	require.Len(t, want, len(AllRoles)+3, "every role has a row")
	for r, w := range want {
		t.Run(string(r), func(t *testing.T) {
			t.Parallel()
			require.Equal(t, w.writeCompetition, CanWriteCompetition(r), "CanWriteCompetition")
			require.Equal(t, w.manageUsers, CanManageUsers(r), "CanManageUsers")
			require.Equal(t, w.readAuditLog, CanReadAuditLog(r), "CanReadAuditLog")
		})
	}
}

func TestCanAssignRole(t *testing.T) {
	t.Parallel()
	// want[actor] lists the target roles the actor may assign; any other pair is refused.
	want := map[Role][]Role{
		SuperAdmin:  {SuperAdmin, Admin, Organizer, Board, Judge, TallyMaster, Auditor, Emcee, Contestant},
		Admin:       {Admin, Organizer, Board, Judge, TallyMaster, Auditor, Emcee, Contestant},
		Organizer:   nil,
		Board:       nil,
		Judge:       nil,
		TallyMaster: nil,
		Auditor:     nil,
		Emcee:       nil,
		Contestant:  nil,
		invalid:     nil,
	}
	targets := append([]Role{invalid, ""}, AllRoles...)
	for actor, allowed := range want {
		for _, target := range targets {
			expected := false
			for _, a := range allowed {
				expected = expected || a == target
			}
			t.Run(string(actor)+"->"+string(target), func(t *testing.T) {
				t.Parallel()
				require.Equal(t, expected, CanAssignRole(actor, target))
			})
		}
	}
}

func TestAllow(t *testing.T) {
	t.Parallel()
	roles := []Role{Judge, Emcee}
	allow := Allow(roles...)
	roles[0] = Admin // Allow must not alias the caller's slice
	for _, r := range append([]Role{invalid}, AllRoles...) {
		require.Equal(t, r == Judge || r == Emcee, allow(r), r)
	}
	none := Allow()
	for _, r := range AllRoles {
		require.False(t, none(r), r)
	}
}

func TestPrincipalIs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		role  Role
		roles []Role
		want  bool
	}{
		{"single match", Judge, []Role{Judge}, true},
		{"one of many", Auditor, []Role{Admin, Auditor, Board}, true},
		{"no match", Judge, []Role{Admin, Board}, false},
		{"no roles", Admin, nil, false},
		{"zero principal", "", []Role{Admin}, false},
		{"zero principal, empty role listed", "", []Role{""}, false},
		{"invalid role listed", invalid, []Role{invalid}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := Principal{UserID: "u", TenantID: "t", Role: tc.role}
			require.Equal(t, tc.want, p.Is(tc.roles...))
		})
	}
}

// The named predicates of the route table allow exactly these roles.
func TestNamedPredicates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		pred func(Role) bool
		want []Role
	}{
		{"IsOperator", IsOperator, []Role{SuperAdmin}},
		{"IsAdmin", IsAdmin, []Role{SuperAdmin, Admin}},
		{"CanWriteDeductions", CanWriteDeductions, []Role{SuperAdmin, Admin, TallyMaster}},
		{"CanReadDeductions", CanReadDeductions, []Role{SuperAdmin, Admin, Organizer, Board, TallyMaster, Auditor}},
		{"CanRevokeCertification", CanRevokeCertification, []Role{SuperAdmin, Admin, Board}},
		{"CanFollowProgress", CanFollowProgress, []Role{SuperAdmin, Admin, Organizer, Board, TallyMaster, Auditor}},
		{"CanFollowStream", CanFollowStream, []Role{SuperAdmin, Admin, Organizer, Board, TallyMaster, Auditor, Emcee, Judge}},
		{"CanManageLinks", CanManageLinks, []Role{SuperAdmin, Admin, Organizer}},
	}
	for _, tt := range tests {
		for _, r := range append(AllRoles, "", "ROOT") {
			require.Equal(t, slices.Contains(tt.want, r), tt.pred(r), "%s(%q)", tt.name, r)
		}
	}
}
