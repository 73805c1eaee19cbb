package seed

import (
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"math/big"
	"math/rand/v2"
	"regexp"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
)

// anchor is "now" for generated data: fixed, so that a seed gives the same rows whatever the day.
var anchor = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

type uuid [16]byte

func (g *gen) uuid() uuid {
	var u uuid
	a, b := g.r.Uint64(), g.r.Uint64()
	for i := range 8 {
		u[i], u[8+i] = byte(a>>(8*i)), byte(b>>(8*i))
	}
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	return u
}

func uuidString(u uuid) string {
	h := hex.EncodeToString(u[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

var slugForm = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

func tenantSlugForm(s string) bool { return slugForm.MatchString(s) }

type gen struct{ r *rand.Rand }

func (g *gen) between(lo, hi int) int { return lo + g.r.IntN(hi-lo+1) }
func (g *gen) pick(s []string) string { return s[g.r.IntN(len(s))] }

// tenant holds the rows of one tenant, each row in its staging table's column order.
type tenant struct {
	id                     uuid
	slug, name             string
	settings, scoringType  string
	createdAt              time.Time
	events, contests       [][]any
	categories, criteria   [][]any
	contestants, entries   [][]any
	judges, assignments    [][]any
	scores, audit          [][]any
	settingsRows, rateRows [][]any
}

func (t *tenant) rows() int64 {
	n := 1
	for _, tb := range stagedTables {
		n += len(tb.rows(t))
	}
	return int64(n)
}

type stagedTable struct {
	name    string
	columns []string
	rows    func(*tenant) [][]any
}

// stagedTables are loaded in this order (parents before children).
var stagedTables = []stagedTable{
	{"events", []string{"id", "tenant_id", "name", "description", "location", "start_date", "end_date", "archived", "created_at", "updated_at"}, func(t *tenant) [][]any { return t.events }},
	{"contests", []string{"id", "tenant_id", "event_id", "name", "created_at", "updated_at"}, func(t *tenant) [][]any { return t.contests }},
	{"categories", []string{"id", "tenant_id", "contest_id", "name", "created_at", "updated_at"}, func(t *tenant) [][]any { return t.categories }},
	{"criteria", []string{"id", "tenant_id", "category_id", "name", "max_score", "position", "created_at", "updated_at"}, func(t *tenant) [][]any { return t.criteria }},
	{"contestants", []string{"id", "tenant_id", "name", "number", "email", "created_at", "updated_at"}, func(t *tenant) [][]any { return t.contestants }},
	{"category_contestants", []string{"tenant_id", "category_id", "contestant_id", "created_at"}, func(t *tenant) [][]any { return t.entries }},
	{"judges", []string{"id", "tenant_id", "name", "email", "is_head_judge", "created_at", "updated_at"}, func(t *tenant) [][]any { return t.judges }},
	{"assignments", []string{"id", "tenant_id", "judge_id", "category_id", "status", "created_at", "updated_at"}, func(t *tenant) [][]any { return t.assignments }},
	{"scores", []string{"id", "tenant_id", "category_id", "contestant_id", "judge_id", "criterion_id", "score", "certified_at", "locked", "created_at", "updated_at"}, func(t *tenant) [][]any { return t.scores }},
	{"audit_logs", []string{"id", "tenant_id", "action", "entity_type", "entity_id", "data", "request_id", "created_at"}, func(t *tenant) [][]any { return t.audit }},
	{"system_settings", []string{"id", "tenant_id", "key", "value", "created_at", "updated_at"}, func(t *tenant) [][]any { return t.settingsRows }},
	{"rate_limit_configs", []string{"id", "tenant_id", "endpoint", "per_minute", "per_hour", "burst", "priority", "created_at", "updated_at"}, func(t *tenant) [][]any { return t.rateRows }},
}

// tenths caches numeric values with one decimal (scores and maxima), 0.0 to 100.0.
var tenths = func() []pgtype.Numeric {
	out := make([]pgtype.Numeric, 1001)
	for i := range out {
		out[i] = pgtype.Numeric{Int: big.NewInt(int64(i)), Exp: -1, Valid: true}
	}
	return out
}()

// share is tenant i's part of total split over n tenants (the first ones take the remainder).
func share(total, n, i int) int {
	s := total / n
	if i < total%n {
		s++
	}
	return s
}

var (
	firstNames = []string{"Ada", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jon", "Kaya", "Liam", "Maya", "Noor", "Omar", "Pia", "Quinn", "Rosa", "Sami", "Tara", "Uma", "Viktor", "Wen", "Yara", "Zoe"}
	lastNames  = []string{"Adams", "Bauer", "Costa", "Dubois", "Evans", "Fischer", "Garcia", "Hansen", "Ito", "Jensen", "Kowalski", "Lopez", "Meyer", "Nakamura", "Okafor", "Petrov", "Rossi", "Silva", "Tanaka", "Usman", "Weber"}
	eventKinds = []string{"Talent Show", "Dance Championship", "Music Festival", "Pageant", "Choir Contest", "Drama Cup", "Piano Competition", "Street Dance Battle"}
	seasons    = []string{"Spring", "Summer", "Autumn", "Winter", "Regional", "National", "City", "Open"}
	places     = []string{"Town Hall", "Civic Arena", "Riverside Park", "Grand Theatre", "St. Mary's Hall", "Convention Centre", "Opera House", "School Gym"}
	contestNm  = []string{"Juniors", "Seniors", "Open", "Solo", "Duo", "Group", "Amateur", "Professional"}
	categoryNm = []string{"Technique", "Performance", "Costume", "Interview", "Talent", "Choreography", "Vocals", "Stage Presence", "Evening Wear", "Improvisation"}
	criteriaNm = []string{"Accuracy", "Timing", "Expression", "Creativity", "Difficulty", "Musicality", "Presentation", "Originality", "Poise", "Energy"}
	timezones  = []string{"Europe/Paris", "America/New_York", "America/Chicago", "Asia/Tokyo", "Australia/Sydney", "Europe/London"}
	plans      = []string{"free", "pro", "pro", "enterprise"}
	endpoints  = []string{"/api/v1/events", "/api/v1/scores", "/api/v1/results", "/api/v1/auth/login", "/api/v1/audit-logs"}
)

func (g *gen) person() string { return g.pick(firstNames) + " " + g.pick(lastNames) }

// generateTenant builds tenant i's rows from the seed alone: the same (scale, seed, i) always gives
// the same rows, ids included.
func generateTenant(sc Scale, seed uint64, i int) *tenant {
	slug := TenantSlug(sc.Name, seed, i)
	// The slug names scale, seed and index: tenants of other scales or seeds get other ids.
	h := fnv.New64a()
	h.Write([]byte(slug))
	g := &gen{r: rand.New(rand.NewPCG(seed, h.Sum64()))}
	t := &tenant{id: g.uuid(), slug: slug, name: fmt.Sprintf("Seeded Competitions %d", i+1)}
	t.createdAt = anchor.AddDate(-6, 0, 0).Add(time.Duration(g.r.IntN(365*24)) * time.Hour)
	t.scoringType = []string{"STRAIGHT", "STRAIGHT", "OLYMPIC"}[g.r.IntN(3)]
	plan := g.pick(plans)
	t.settings = fmt.Sprintf(`{"plan": %q, "timezone": %q, "locale": %q, "features": {"certification": %t, "public_results": %t}, "branding": {"color": "#%06x"}}`,
		plan, g.pick(timezones), []string{"en", "fr", "de", "es", "ja"}[g.r.IntN(5)], g.r.IntN(4) > 0, g.r.IntN(2) == 0, g.r.IntN(1<<24))
	tid := t.id
	stamp := func(ts time.Time) time.Time { return ts.Truncate(time.Microsecond) }

	// Judges and contestants are the tenant's pools; categories draw from them.
	judges := make([]uuid, g.between(12, 30))
	for k := range judges {
		judges[k] = g.uuid()
		name := g.person()
		t.judges = append(t.judges, []any{judges[k], tid, name, fmt.Sprintf("judge%d@t%d.example", k+1, i+1), k == 0, t.createdAt, t.createdAt})
	}
	contestants := make([]uuid, g.between(60, 200))
	for k := range contestants {
		contestants[k] = g.uuid()
		t.contestants = append(t.contestants, []any{contestants[k], tid, g.person(), int32(k + 1), fmt.Sprintf("c%d@t%d.example", k+1, i+1), t.createdAt, t.createdAt})
	}

	type category struct {
		id          uuid
		criteria    []uuid
		maxima      []int // tenths
		judges      []uuid
		contestants []uuid
		end         time.Time
		archived    bool
	}
	var cats []category
	var eventIDs []uuid
	nEvents := share(sc.Events, sc.Tenants, i)
	// Events oldest first: most spread over the five years before the anchor (over and archived),
	// the last twentieth (at least one) current or coming, from two weeks before to three months after.
	nCurrent := max(1, nEvents/20)
	past := anchor.AddDate(0, 0, -45).Sub(anchor.AddDate(-5, 0, 0))
	for e := range nEvents {
		start := anchor.AddDate(-5, 0, 0).Add(past * time.Duration(e) / time.Duration(max(1, nEvents-nCurrent)))
		if k := e - (nEvents - nCurrent); k >= 0 {
			start = anchor.AddDate(0, 0, -14).Add(time.Duration(104*24*k/nCurrent) * time.Hour)
		}
		start = stamp(start.Add(time.Duration(g.r.IntN(72)) * time.Hour))
		end := start.Add(time.Duration(g.between(3, 72)) * time.Hour)
		archived := end.Before(anchor.AddDate(0, 0, -30))
		created := start.AddDate(0, 0, -g.between(14, 120))
		id := g.uuid()
		eventIDs = append(eventIDs, id)
		t.events = append(t.events, []any{id, tid, g.pick(seasons) + " " + g.pick(eventKinds) + fmt.Sprintf(" %d", start.Year()),
			"", g.pick(places), start, end, archived, created, created})
		for range g.between(1, 2) {
			contest := g.uuid()
			t.contests = append(t.contests, []any{contest, tid, id, g.pick(contestNm), created, created})
			for range g.between(1, 3) {
				c := category{id: g.uuid(), end: end, archived: archived}
				catCreated := created.Add(time.Duration(g.r.IntN(48)) * time.Hour)
				t.categories = append(t.categories, []any{c.id, tid, contest, g.pick(categoryNm), catCreated, catCreated})
				for p := range g.between(3, 8) {
					cr := g.uuid()
					maximum := []int{100, 100, 200, 250, 1000}[g.r.IntN(5)]
					c.criteria, c.maxima = append(c.criteria, cr), append(c.maxima, maximum)
					t.criteria = append(t.criteria, []any{cr, tid, c.id, criteriaNm[(p+g.r.IntN(3))%len(criteriaNm)], tenths[maximum], int32(p), catCreated, catCreated})
				}
				for _, k := range g.r.Perm(len(contestants))[:g.between(10, 60)] {
					c.contestants = append(c.contestants, contestants[k])
					t.entries = append(t.entries, []any{tid, c.id, contestants[k], catCreated})
				}
				for _, k := range g.r.Perm(len(judges))[:g.between(5, 12)] {
					c.judges = append(c.judges, judges[k])
					status := "COMPLETED"
					if !archived {
						status = "ACTIVE"
					}
					t.assignments = append(t.assignments, []any{g.uuid(), tid, judges[k], c.id, status, catCreated, catCreated})
				}
				cats = append(cats, c)
			}
		}
	}

	// Scores: the tenant's share, newest categories first, each one fully scored (every assigned
	// judge, entered contestant and criterion) until the share is used up. The totals of the issue
	// (50 scores per event on average) cannot score every category at these shapes, so older
	// categories keep their structure without score rows.
	var scoreIDs []uuid
	budget := share(sc.Scores, sc.Tenants, i)
fill:
	for c := len(cats) - 1; c >= 0; c-- {
		cat := cats[c]
		var certified any
		if cat.archived {
			certified = stamp(cat.end.Add(2 * time.Hour))
		}
		for _, ct := range cat.contestants {
			for _, j := range cat.judges {
				for k, cr := range cat.criteria {
					if budget == 0 {
						break fill
					}
					budget--
					id := g.uuid()
					scoreIDs = append(scoreIDs, id)
					at := stamp(cat.end.Add(-time.Duration(g.r.IntN(3*3600)) * time.Second))
					t.scores = append(t.scores, []any{id, tid, cat.id, ct, j, cr, tenths[g.r.IntN(cat.maxima[k]+1)], certified, cat.archived, at, at})
				}
			}
		}
	}

	// Audit log: the tenant's share, spread over the last two years, with the entity ids in data.
	for range share(sc.AuditLogs, sc.Tenants, i) {
		at := stamp(anchor.Add(-time.Duration(g.r.Int64N(int64(2 * 365 * 24 * time.Hour)))))
		var action, entity, data string
		var eid uuid
		switch k := g.r.IntN(10); {
		case k < 6 && len(scoreIDs) > 0:
			c := cats[len(cats)-1-g.r.IntN(min(len(cats), 5))]
			eid, action, entity = scoreIDs[g.r.IntN(len(scoreIDs))], "score.created", "score"
			data = fmt.Sprintf(`{"score_id": %q, "category_id": %q, "contestant_id": %q, "judge_id": %q, "score": %d}`,
				uuidString(eid), uuidString(c.id), uuidString(c.contestants[0]), uuidString(c.judges[0]), g.r.IntN(10))
		case k < 8:
			eid, action, entity = eventIDs[g.r.IntN(len(eventIDs))], "event.updated", "event"
			data = fmt.Sprintf(`{"event_id": %q, "changes": ["name", "location"]}`, uuidString(eid))
		default:
			c := cats[g.r.IntN(len(cats))]
			eid, action, entity = c.id, "category.created", "category"
			data = fmt.Sprintf(`{"category_id": %q, "criteria": %d}`, uuidString(c.id), len(c.criteria))
		}
		t.audit = append(t.audit, []any{g.uuid(), tid, action, entity, eid, data, fmt.Sprintf("seed-%016x", g.r.Uint64()), at})
	}

	settings := []struct{ key, value string }{
		{"scoring.display", fmt.Sprintf(`{"decimals": %d, "show_ranks": %t}`, g.between(0, 2), g.r.IntN(2) == 0)},
		{"notifications", fmt.Sprintf(`{"email": %t, "sms": %t}`, g.r.IntN(2) == 0, g.r.IntN(5) == 0)},
		{"results.publication", fmt.Sprintf(`{"mode": %q, "delay_minutes": %d}`, []string{"manual", "after_certification", "immediate"}[g.r.IntN(3)], g.r.IntN(60))},
		{"branding", fmt.Sprintf(`{"theme": %q, "plan": %q}`, []string{"light", "dark"}[g.r.IntN(2)], plan)},
	}
	for _, s := range settings[:g.between(2, len(settings))] {
		t.settingsRows = append(t.settingsRows, []any{g.uuid(), tid, s.key, s.value, t.createdAt, t.createdAt})
	}
	for _, k := range g.r.Perm(len(endpoints))[:g.between(1, 3)] {
		perMinute := int32(g.between(30, 600))
		t.rateRows = append(t.rateRows, []any{g.uuid(), tid, endpoints[k], perMinute, perMinute * 30, int32(g.between(5, 50)), int32(g.r.IntN(10)), t.createdAt, t.createdAt})
	}
	return t
}
