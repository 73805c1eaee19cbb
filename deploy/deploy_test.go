// Package deploy_test checks the monitoring files in deploy/: the Prometheus alert rules and the
// Grafana dashboard. Every metric they name must be one the service exports (read from a registry
// built as `eventmanager serve` builds it), every alert must carry its runbook, and, when promtool
// is on PATH, every expression must parse.
package deploy_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/eventmanager/eventmanager/internal/health"
	"github.com/eventmanager/eventmanager/internal/metrics"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// scrapeLabels are added by Prometheus to every series it scrapes.
var scrapeLabels = []string{"job", "instance"}

type fixedSnapshot struct{}

func (fixedSnapshot) Snapshot(context.Context) (health.Snapshot, error) {
	return health.Snapshot{}, nil
}

// exported returns the series names of a registry built as runServe (internal/cli/serve.go) builds
// it, with their label names: histograms as their _bucket, _sum and _count series. One query of
// each class is observed, so that the labelled series exist.
func exported(t *testing.T) map[string][]string {
	t.Helper()
	reg := metrics.NewRegistry()
	q := metrics.NewQueries(reg)
	// A pool that never connects: its statistics are all the collector needs.
	pool, err := pgxpool.New(context.Background(), "postgres://nobody@127.0.0.1:1/none")
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	reg.MustRegister(metrics.NewPoolCollector(pool), metrics.NewDatabaseCollector(fixedSnapshot{}, time.Second, 0))
	for _, c := range db.Classes() {
		q.ObserveQuery(db.Op{Name: "deploy.test", Class: c}, time.Millisecond, nil)
		q.ObserveQuery(db.Op{Name: "deploy.test", Class: c}, time.Millisecond, db.ErrQueryTimeout)
		q.ObserveQuery(db.Op{Name: "deploy.test", Class: c}, time.Millisecond, fmt.Errorf("boom"))
	}
	q.ObserveAcquireFailure(db.Op{Name: "deploy.test", Class: db.Simple}, db.ErrPoolTimeout)
	metrics.NewHTTP(reg).ObserveRequest("GET /api/v1/events", 200, time.Millisecond)

	families, err := reg.Gather()
	require.NoError(t, err)
	names := map[string][]string{}
	for _, f := range families {
		var labels []string
		if ms := f.GetMetric(); len(ms) > 0 {
			for _, l := range ms[0].GetLabel() {
				labels = append(labels, l.GetName())
			}
		}
		if f.GetType().String() == "HISTOGRAM" {
			names[f.GetName()+"_bucket"] = append(slices.Clone(labels), "le")
			names[f.GetName()+"_sum"] = labels
			names[f.GetName()+"_count"] = labels
			continue
		}
		names[f.GetName()] = labels
	}
	return names
}

var (
	metricName = regexp.MustCompile(`eventmanager_[A-Za-z0-9_]+`)
	// selector is a metric name with its label matchers, such as name{a="x", b=~"y"}.
	selector = regexp.MustCompile(`(eventmanager_[A-Za-z0-9_]+)\{([^}]*)\}`)
	matcher  = regexp.MustCompile(`([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)`)
)

// checkExpr fails unless expr names at least one of our metrics, names only exported ones, and
// matches only labels those metrics have.
func checkExpr(t *testing.T, where, expr string, names map[string][]string) {
	t.Helper()
	found := metricName.FindAllString(expr, -1)
	require.NotEmpty(t, found, "%s: names none of our metrics: %s", where, expr)
	labelsOf := func(name string) ([]string, bool) {
		l, ok := names[name]
		return l, ok
	}
	for _, name := range found {
		_, ok := labelsOf(name)
		require.True(t, ok, "%s: %s is not exported by the service: %s", where, name, expr)
	}
	for _, m := range selector.FindAllStringSubmatch(expr, -1) {
		labels, _ := labelsOf(m[1])
		for _, lm := range matcher.FindAllStringSubmatch(m[2], -1) {
			l := lm[1]
			require.True(t, slices.Contains(labels, l) || slices.Contains(scrapeLabels, l),
				"%s: %s has no label %q (it has %v): %s", where, m[1], l, labels, expr)
		}
	}
	require.Equal(t, strings.Count(expr, "("), strings.Count(expr, ")"), "%s: unbalanced parentheses: %s", where, expr)
}

type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

// anchors returns the ids of the HTML anchors (<a id="...">) in docs/operations.md.
func anchors(t *testing.T) map[string]bool {
	t.Helper()
	b, err := os.ReadFile("../docs/operations.md")
	require.NoError(t, err)
	ids := map[string]bool{}
	for _, m := range regexp.MustCompile(`<a id="([^"]+)"></a>`).FindAllStringSubmatch(string(b), -1) {
		ids[m[1]] = true
	}
	return ids
}

func TestAlertRules(t *testing.T) {
	names := exported(t)
	b, err := os.ReadFile("prometheus/alerts.yml")
	require.NoError(t, err)
	var rf ruleFile
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	require.NoError(t, dec.Decode(&rf))
	require.NotEmpty(t, rf.Groups)
	docs := anchors(t)
	seen := map[string]bool{}
	for _, g := range rf.Groups {
		require.NotEmpty(t, g.Name)
		for _, r := range g.Rules {
			require.NotEmpty(t, r.Alert)
			require.False(t, seen[r.Alert], "alert %s twice", r.Alert)
			seen[r.Alert] = true
			checkExpr(t, r.Alert, r.Expr, names)
			if r.For != "" {
				_, err := time.ParseDuration(r.For)
				require.NoError(t, err, "%s: for", r.Alert)
			}
			require.Contains(t, []string{"warning", "critical"}, r.Labels["severity"], r.Alert)
			for _, a := range []string{"summary", "description", "runbook_url"} {
				require.NotEmpty(t, r.Annotations[a], "%s: no %s", r.Alert, a)
			}
			_, anchor, ok := strings.Cut(r.Annotations["runbook_url"], "docs/operations.md#")
			require.True(t, ok, "%s: runbook_url is not a section of docs/operations.md", r.Alert)
			require.True(t, docs[anchor], "%s: docs/operations.md has no anchor %q", r.Alert, anchor)
		}
	}
	// The runbook's targets, each with its alert.
	for _, a := range []string{"EventManagerPoolUtilisationHigh", "EventManagerPoolUtilisationCritical", "EventManagerQueryTimeoutRateHigh",
		"EventManagerQueryLatencyHigh", "EventManagerIndexHitRatioLow", "EventManagerInvalidIndexes", "EventManagerIdleInTransaction"} {
		require.True(t, seen[a], "no alert %s", a)
	}

	promtool(t, "prometheus/alerts.yml")
}

type dashboard struct {
	Title      string `json:"title"`
	UID        string `json:"uid"`
	Templating struct {
		List []struct {
			Name string `json:"name"`
		} `json:"list"`
	} `json:"templating"`
	Panels []struct {
		ID      int    `json:"id"`
		Type    string `json:"type"`
		Title   string `json:"title"`
		GridPos struct {
			X, Y, W, H int
		} `json:"gridPos"`
		Datasource struct {
			UID string `json:"uid"`
		} `json:"datasource"`
		Targets []struct {
			Expr  string `json:"expr"`
			RefID string `json:"refId"`
		} `json:"targets"`
	} `json:"panels"`
}

// dashboardVariables stand for Grafana's variables when an expression is checked by promtool.
var dashboardVariables = strings.NewReplacer(`$__rate_interval`, `5m`, `$job`, `.*`, `$instance`, `.*`)

func TestGrafanaDashboard(t *testing.T) {
	names := exported(t)
	b, err := os.ReadFile("grafana/eventmanager-dashboard.json")
	require.NoError(t, err)
	var d dashboard
	require.NoError(t, json.Unmarshal(b, &d))
	require.NotEmpty(t, d.Title)
	require.NotEmpty(t, d.UID)
	var vars []string
	for _, v := range d.Templating.List {
		vars = append(vars, v.Name)
	}
	require.Subset(t, vars, []string{"datasource", "job", "instance"})

	ids := map[int]bool{}
	var exprs []string
	used := map[string]bool{}
	for _, p := range d.Panels {
		require.False(t, ids[p.ID], "panel id %d twice", p.ID)
		ids[p.ID] = true
		require.NotEmpty(t, p.Title)
		require.LessOrEqual(t, p.GridPos.X+p.GridPos.W, 24, p.Title)
		if p.Type == "row" {
			continue
		}
		require.Equal(t, "${datasource}", p.Datasource.UID, p.Title)
		require.NotEmpty(t, p.Targets, p.Title)
		for _, tg := range p.Targets {
			require.NotEmpty(t, tg.RefID, p.Title)
			checkExpr(t, p.Title, tg.Expr, names)
			exprs = append(exprs, tg.Expr)
			for _, n := range metricName.FindAllString(tg.Expr, -1) {
				used[n] = true
			}
		}
	}
	// The figures the issue asks the dashboard to show.
	for _, n := range []string{"eventmanager_db_pool_acquired_connections", "eventmanager_db_pool_max_connections",
		"eventmanager_db_pool_empty_acquire_wait_seconds_total", "eventmanager_db_pool_timeouts_total",
		"eventmanager_db_query_duration_seconds_bucket", "eventmanager_db_query_timeouts_total",
		"eventmanager_http_requests_total", "eventmanager_http_request_duration_seconds_bucket"} {
		require.True(t, used[n], "the dashboard does not show %s", n)
	}

	// promtool checks expressions in rule files only: the dashboard's become recording rules.
	var rules strings.Builder
	rules.WriteString("groups:\n  - name: dashboard\n    rules:\n")
	for i, e := range exprs {
		q, err := json.Marshal(dashboardVariables.Replace(e)) // a JSON string is a YAML string
		require.NoError(t, err)
		fmt.Fprintf(&rules, "      - record: dashboard:expr_%d\n        expr: %s\n", i, q)
	}
	path := filepath.Join(t.TempDir(), "dashboard-rules.yml")
	require.NoError(t, os.WriteFile(path, []byte(rules.String()), 0o644))
	promtool(t, path)
}

// promtool checks a rule file with Prometheus's own parser when promtool is installed (Debian's
// "prometheus" package); the checks above run either way.
func promtool(t *testing.T, path string) {
	t.Helper()
	bin, err := exec.LookPath("promtool")
	if err != nil {
		t.Log("promtool not on PATH: PromQL syntax not checked")
		return
	}
	out, err := exec.Command(bin, "check", "rules", path).CombinedOutput()
	require.NoError(t, err, "promtool check rules %s:\n%s", path, out)
}
