package api

import (
	"time"

	"github.com/eventmanager/eventmanager/internal/auth"
)

// access says who may call a route.
type access func(auth.Role) bool

// Who may call a route. Finer rules (a judge's own sheet, a certification step, a SUPER_ADMIN's
// reach into another tenant) are checked by the handler.
var (
	public                access // nil: no token needed
	signedIn              access = func(auth.Role) bool { return true }
	writers               access = auth.CanWriteCompetition
	managers              access = auth.CanManageUsers
	admins                access = auth.IsAdmin
	operators             access = auth.IsOperator
	auditReaders          access = auth.CanReadAuditLog
	deductionWriters      access = auth.CanWriteDeductions
	deductionReaders      access = auth.CanReadDeductions
	certificationRevokers access = auth.CanRevokeCertification
	boardReaders          access = auth.CanFollowProgress
	streamReaders         access = auth.CanFollowStream
	linkManagers          access = auth.CanManageLinks
)

// route is one entry of the route table: a method and path pattern of net/http, who may call it,
// and its handler (in the file of its resource).
type route struct {
	pattern string
	allow   access
	handle  handlerFunc
}

// routeTable is every route the server serves. docs/openapi.yaml describes each one, and a test
// checks that the two agree.
func (s *Server) routeTable() []route {
	t := []route{
		{"GET /healthz", public, s.healthz},
		{"GET /readyz", public, s.readyz},
		{"GET /api/v1/openapi.json", public, s.openAPI},

		{signInRoute, public, s.login},
		{"POST /api/v1/auth/logout", signedIn, s.logout},
		{"GET /api/v1/auth/me", signedIn, s.me},

		{"GET /api/v1/tenants", operators, s.listTenants},
		{"POST /api/v1/tenants", operators, s.createTenant},
		{"GET /api/v1/tenants/{id}", operators, s.getTenant},
		{"PATCH /api/v1/tenants/{id}", operators, s.updateTenant},
		{"PUT /api/v1/tenants/{id}/rate-limit-tier", operators, s.setRateLimitTier},

		{"GET /api/v1/users", managers, s.listUsers},
		{"POST /api/v1/users", managers, s.createUser},
		{"GET /api/v1/users/{id}", managers, s.getUser},
		{"PATCH /api/v1/users/{id}", managers, s.updateUser},
		// Every user may change their own password; managers may reset others' (checked in the handler).
		{"POST /api/v1/users/{id}/password", signedIn, s.setPassword},

		{"GET /api/v1/events", signedIn, s.listEvents},
		{"POST /api/v1/events", writers, s.createEvent},
		{"GET /api/v1/events/{id}", signedIn, s.getEvent},
		{"PATCH /api/v1/events/{id}", writers, s.updateEvent},
		{"DELETE /api/v1/events/{id}", writers, s.archiveEvent},
		{"POST /api/v1/events/{id}/restore", writers, s.restoreEvent},

		{"GET /api/v1/events/{id}/contests", signedIn, s.listContests},
		{"POST /api/v1/events/{id}/contests", writers, s.createContest},
		{"GET /api/v1/contests/{id}", signedIn, s.getContest},
		{"PATCH /api/v1/contests/{id}", writers, s.updateContest},
		{"DELETE /api/v1/contests/{id}", writers, s.deleteContest},

		{"GET /api/v1/contests/{id}/categories", signedIn, s.listCategories},
		{"POST /api/v1/contests/{id}/categories", writers, s.createCategory},
		{"GET /api/v1/categories/{id}", signedIn, s.getCategory},
		{"PATCH /api/v1/categories/{id}", writers, s.updateCategory},
		{"DELETE /api/v1/categories/{id}", writers, s.deleteCategory},

		{"GET /api/v1/categories/{id}/criteria", signedIn, s.listCriteria},
		{"POST /api/v1/categories/{id}/criteria", writers, s.createCriterion},
		{"GET /api/v1/criteria/{id}", signedIn, s.getCriterion},
		{"PATCH /api/v1/criteria/{id}", writers, s.updateCriterion},
		{"DELETE /api/v1/criteria/{id}", writers, s.deleteCriterion},

		{"GET /api/v1/contestants", signedIn, s.listContestants},
		{"POST /api/v1/contestants", writers, s.createContestant},
		{"GET /api/v1/contestants/{id}", signedIn, s.getContestant},
		{"PATCH /api/v1/contestants/{id}", writers, s.updateContestant},
		{"DELETE /api/v1/contestants/{id}", writers, s.deleteContestant},
		{"GET /api/v1/categories/{id}/contestants", signedIn, s.listEntries},
		{"PUT /api/v1/categories/{id}/contestants/{contestant_id}", writers, s.enterContestant},
		{"DELETE /api/v1/categories/{id}/contestants/{contestant_id}", writers, s.withdrawContestant},

		{"GET /api/v1/judges", signedIn, s.listJudges},
		{"POST /api/v1/judges", writers, s.createJudge},
		{"GET /api/v1/judges/{id}", signedIn, s.getJudge},
		{"PATCH /api/v1/judges/{id}", writers, s.updateJudge},
		{"DELETE /api/v1/judges/{id}", writers, s.deleteJudge},

		{"GET /api/v1/assignments", signedIn, s.listAssignments},
		{"POST /api/v1/assignments", writers, s.createAssignment},
		{"GET /api/v1/assignments/{id}", signedIn, s.getAssignment},
		{"PATCH /api/v1/assignments/{id}", writers, s.updateAssignment},
		{"DELETE /api/v1/assignments/{id}", writers, s.deleteAssignment},
		{"GET /api/v1/judges/{id}/assignments", signedIn, s.listJudgeAssignments},

		// Any signed-in user may ask; the handlers let through judges (their own sheet and scores)
		// and ADMIN (any judge's, naming judge_id).
		{"GET /api/v1/categories/{id}/scoresheet", signedIn, s.getScoresheet},
		{"PUT /api/v1/categories/{id}/scores", signedIn, s.putScores},

		// The judge's own device reports; the handler checks the assignment.
		{"PUT /api/v1/categories/{id}/device", signedIn, s.reportDevice},
		{"GET /api/v1/categories/{id}/devices", boardReaders, s.listDevices},

		// Judges' sign-in links. Exchanging one is public: the secret is the credential, limited
		// per client address before any database work.
		{"POST /api/v1/judges/{id}/sign-in-links", linkManagers, s.createSignInLink},
		{"GET /api/v1/judges/{id}/sign-in-links", linkManagers, s.listSignInLinks},
		{"DELETE /api/v1/sign-in-links/{id}", linkManagers, s.revokeSignInLink},
		{"GET /api/v1/sign-in-links/{id}/qr.png", linkManagers, s.signInLinkQR},
		{"POST /api/v1/auth/link", public, s.exchangeSignInLink},

		// Audience links: a public, read-only view of a category or contest. The view is public:
		// the secret in the query string (never logged) is the credential.
		{"POST /api/v1/categories/{id}/audience-links", linkManagers, s.createAudienceLink},
		{"GET /api/v1/categories/{id}/audience-links", linkManagers, s.listAudienceLinks},
		{"POST /api/v1/contests/{id}/audience-links", linkManagers, s.createAudienceLink},
		{"GET /api/v1/contests/{id}/audience-links", linkManagers, s.listAudienceLinks},
		{"DELETE /api/v1/audience-links/{id}", linkManagers, s.revokeAudienceLink},
		{"GET /api/v1/audience-links/{id}/qr.png", linkManagers, s.audienceLinkQR},
		{"GET /api/v1/audience", public, s.audienceView},

		{"GET /api/v1/categories/{id}/deductions", deductionReaders, s.listDeductions},
		{"POST /api/v1/categories/{id}/deductions", deductionWriters, s.createDeduction},
		{"DELETE /api/v1/deductions/{id}", deductionWriters, s.deleteDeduction},

		{"GET /api/v1/categories/{id}/certification", signedIn, s.getCertification},
		// Who may take a step depends on the step: checked by the handler.
		{"POST /api/v1/categories/{id}/certification", signedIn, s.certify},
		{"DELETE /api/v1/categories/{id}/certification", certificationRevokers, s.revokeCertification},

		{"GET /api/v1/results/categories/{id}", signedIn, s.categoryResults},
		{"GET /api/v1/results/contests/{id}", signedIn, s.contestResults},
		{"GET /api/v1/results/events/{id}", signedIn, s.eventResults},

		{"GET /api/v1/audit-logs", auditReaders, s.listAuditLogs},
		{"GET /api/v1/audit-logs/{id}", auditReaders, s.getAuditLog},

		{"GET /api/v1/settings", signedIn, s.listSettings},
		{"GET /api/v1/settings/{key}", signedIn, s.getSetting},
		{"PUT /api/v1/settings/{key}", admins, s.putSetting},
		{"DELETE /api/v1/settings/{key}", admins, s.deleteSetting},

		{"GET /api/v1/admin/rate-limits", admins, s.listRateLimits},
		{"GET /api/v1/admin/rate-limits/effective", admins, s.effectiveRateLimit},
		{"GET /api/v1/admin/rate-limits/{id}", admins, s.getRateLimit},
		{"POST /api/v1/admin/rate-limits", admins, s.createRateLimit},
		{"PATCH /api/v1/admin/rate-limits/{id}", admins, s.updateRateLimit},
		{"DELETE /api/v1/admin/rate-limits/{id}", admins, s.deleteRateLimit},
	}
	if s.live.Hub != nil {
		// Live updates of a category, as server-sent events; left out without a hub.
		t = append(t,
			route{"GET /api/v1/categories/{id}/stream", streamReaders, s.categoryStream},
			route{"GET /api/v1/audience/stream", public, s.audienceStream},
		)
	}
	if s.metrics != nil {
		// Public like the health checks: it holds operation names and counts, no tenant data.
		t = append(t, route{"GET /metrics", public, wrap(s.metrics.ServeHTTP)})
	}
	if s.health != nil {
		// The database health report, its metrics and the status page need a health checker. They
		// are the operator's (SUPER_ADMIN): they describe the whole database, every tenant's table
		// sizes and row counts and other sessions' statements, which a tenant's ADMIN must not see.
		//
		// They authenticate like every other route, which takes a query: while the database is
		// down the caller cannot be authenticated, and the answer is the error envelope 503
		// DB_UNAVAILABLE (within connect_timeout and pool_timeout, never a hang), not the report.
		// Serving the report without authentication would show pool figures and database errors
		// to anyone; /readyz already says publicly whether the database is reachable.
		st := &statusData{server: s, health: &healthCache{checker: s.health, ttl: statusHealthTTL, now: time.Now}}
		t = append(t,
			route{"GET /api/v1/admin/database/health", operators, s.databaseHealth},
			route{"GET /api/v1/admin/database/metrics", operators, s.databaseMetrics},
			// The status page's files are public; its data is the operator's.
			route{"GET /admin/status", public, s.statusFile},
			route{"GET /admin/status/{file}", public, s.statusFile},
			route{"GET /api/v1/admin/status/data", operators, st.serve},
		)
	}
	return t
}
