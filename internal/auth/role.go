package auth

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Role is a user's role within a tenant. Its values are the ones stored in users.role.
type Role string

// The roles, as allowed by the CHECK constraint on users.role.
const (
	SuperAdmin  Role = "SUPER_ADMIN"
	Admin       Role = "ADMIN"
	Organizer   Role = "ORGANIZER"
	Board       Role = "BOARD"
	Judge       Role = "JUDGE"
	TallyMaster Role = "TALLY_MASTER"
	Auditor     Role = "AUDITOR"
	Emcee       Role = "EMCEE"
	Contestant  Role = "CONTESTANT"
)

// AllRoles lists every role, in the order above. Do not modify it.
var AllRoles = []Role{SuperAdmin, Admin, Organizer, Board, Judge, TallyMaster, Auditor, Emcee, Contestant}

// ErrInvalidRole is returned (wrapped) by ParseRole for a string that names no role.
var ErrInvalidRole = errors.New("invalid role")

// ParseRole returns the role named s. Case is ignored, since clients send "admin" as often as
// "ADMIN"; anything else must match exactly. The error's message lists the valid roles.
func ParseRole(s string) (Role, error) {
	r := Role(strings.ToUpper(s))
	if r.Valid() {
		return r, nil
	}
	names := make([]string, len(AllRoles))
	for i, r := range AllRoles {
		names[i] = string(r)
	}
	return "", fmt.Errorf("%w %q: must be one of %s", ErrInvalidRole, s, strings.Join(names, ", "))
}

// Valid reports whether r is one of the defined roles.
func (r Role) Valid() bool {
	switch r {
	case SuperAdmin, Admin, Organizer, Board, Judge, TallyMaster, Auditor, Emcee, Contestant:
		return true
	}
	return false
}

// Allow returns a predicate that is true for exactly the given roles, for route tables.
func Allow(roles ...Role) func(Role) bool {
	allowed := slices.Clone(roles) // the caller's slice may change later
	return func(r Role) bool { return slices.Contains(allowed, r) }
}

// The permission predicates below are built once; an invalid role is never allowed anything.
// SUPER_ADMIN may do whatever an ADMIN may.
var (
	canWriteCompetition    = Allow(SuperAdmin, Admin, Organizer, Board)
	canManageUsers         = Allow(SuperAdmin, Admin)
	canReadAuditLog        = Allow(SuperAdmin, Admin, Auditor, Board)
	canWriteDeductions     = Allow(SuperAdmin, Admin, TallyMaster)
	canReadDeductions      = Allow(SuperAdmin, Admin, Organizer, Board, TallyMaster, Auditor)
	canRevokeCertification = Allow(SuperAdmin, Admin, Board)
	canFollowStream        = Allow(SuperAdmin, Admin, Organizer, Board, TallyMaster, Auditor, Emcee, Judge)
	canManageLinks         = Allow(SuperAdmin, Admin, Organizer)
	canPresent             = Allow(SuperAdmin, Admin, Organizer, Board, Emcee)
)

// IsOperator reports whether r operates the whole platform (SUPER_ADMIN): other tenants, the rows
// of no tenant (global settings, rate-limit tiers), the database's health.
func IsOperator(r Role) bool { return r == SuperAdmin }

// IsAdmin reports whether r administers its tenant: ADMIN, or SUPER_ADMIN. Administrators manage
// users, settings and rate limits, and may enter scores on a judge's behalf.
func IsAdmin(r Role) bool { return canManageUsers(r) }

// CanWriteDeductions reports whether r may enter and remove deductions, which change results.
func CanWriteDeductions(r Role) bool { return canWriteDeductions(r) }

// CanReadDeductions reports whether r may read deductions: the people who run or check the
// competition, not judges, emcees or contestants (who see them in certified results).
func CanReadDeductions(r Role) bool { return canReadDeductions(r) }

// CanRevokeCertification reports whether r may withdraw a category's certification.
func CanRevokeCertification(r Role) bool { return canRevokeCertification(r) }

// CanFollowProgress reports whether r may follow a category's progress (its judges' devices):
// the people who run or check the competition.
func CanFollowProgress(r Role) bool { return canReadDeductions(r) }

// CanFollowStream reports whether r may open a category's live stream (a JUDGE only of a category
// they are assigned to: the handler checks).
func CanFollowStream(r Role) bool { return canFollowStream(r) }

// CanManageLinks reports whether r may create and revoke judges' sign-in links and audience links.
func CanManageLinks(r Role) bool { return canManageLinks(r) }

// CanPresent reports whether r may open the emcee's page: the running order and, once the board
// has certified a category, its reveal.
func CanPresent(r Role) bool { return canPresent(r) }

// CanWriteCompetition reports whether r may create, change and delete the competition's
// structure: events, contests, categories, criteria, contestants, judges and assignments.
func CanWriteCompetition(r Role) bool { return canWriteCompetition(r) }

// CanManageUsers reports whether r may create, change and deactivate users of its tenant.
func CanManageUsers(r Role) bool { return canManageUsers(r) }

// CanReadAuditLog reports whether r may read the audit log.
func CanReadAuditLog(r Role) bool { return canReadAuditLog(r) }

// CanAssignRole reports whether a user with role actor may give role target to a user:
// SUPER_ADMIN may assign any role, ADMIN any role but SUPER_ADMIN, nobody else any.
//
// It does not know who the users are. The caller must also refuse a change of one's own role
// unless the actor is SUPER_ADMIN, so that nobody alters their own privileges (and an ADMIN
// cannot demote itself by mistake and leave the tenant without anyone to manage users).
func CanAssignRole(actor, target Role) bool {
	if !target.Valid() {
		return false
	}
	switch actor {
	case SuperAdmin:
		return true
	case Admin:
		return target != SuperAdmin
	}
	return false
}

// Principal is the authenticated user of a request, as the API's authentication middleware
// puts it in the request context.
type Principal struct {
	UserID   string
	TenantID string
	Role     Role
	Email    string
	Name     string
	JudgeID  string // the judge this user acts as; "" when not linked to a judge
}

// Is reports whether the principal has one of the given roles. A principal without a valid
// role (such as the zero Principal of an unauthenticated request) is none of them.
func (p Principal) Is(roles ...Role) bool {
	return p.Role.Valid() && slices.Contains(roles, p.Role)
}
