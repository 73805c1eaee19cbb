package health

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/eventmanager/eventmanager/internal/db"
	"github.com/eventmanager/eventmanager/internal/pglisten"
	"github.com/jackc/pgx/v5"
)

// instancePrefix starts the application_name of every serve instance's connections.
const instancePrefix = "eventmanager/"

// maxApplicationName is PostgreSQL's limit (NAMEDATALEN - 1): longer names are cut by the server.
const maxApplicationName = 63

// bouncerMark follows the connection_limit in the name of an instance behind PgBouncer: its pool
// is made of PgBouncer's clients, not of server connections.
const bouncerMark = "p"

// listenerMark ends the application_name of an instance's listening connection (pglisten): the
// instance's name, so that an idle instance still shows, and this mark, so that the listeners
// can be counted.
const listenerMark = "/listener"

// ListenerName is the application_name of the listening connection of the instance named instance.
func ListenerName(instance string) string { return instance + listenerMark }

// InstanceName is the application_name a serve instance gives its connections, so that every
// instance can see the others in pg_stat_activity: eventmanager/<host>/<pid>/<connection_limit>,
// with a "p" after the limit behind PgBouncer. The host is shortened to keep the name within
// PostgreSQL's 63 bytes.
func InstanceName(host string, pid, connectionLimit int, behindPgBouncer bool) string {
	tail := "/" + strconv.Itoa(pid) + "/" + strconv.Itoa(connectionLimit)
	if behindPgBouncer {
		tail += bouncerMark
	}
	host = strings.ReplaceAll(host, "/", "_")
	if room := maxApplicationName - len(instancePrefix) - len(tail) - len(listenerMark); len(host) > room {
		host = host[:max(room, 0)]
	}
	return instancePrefix + host + tail
}

// Instance is one serve process that has connections to the database now.
type Instance struct {
	Name            string `json:"name"`
	Host            string `json:"host"`
	PID             int    `json:"pid"`
	ConnectionLimit int    `json:"connection_limit"`
	// PgBouncer is true for an instance whose pool goes through PgBouncer: its connection_limit
	// is not part of the server's budget (PgBouncer's pool size is).
	PgBouncer   bool `json:"pgbouncer"`
	Connections int  `json:"connections"` // server connections under its name now
}

// ParseInstanceName reads an InstanceName, or its ListenerName, back; ok is false for any other
// application_name.
func ParseInstanceName(name string) (in Instance, ok bool) {
	name = strings.TrimSuffix(name, listenerMark)
	rest, found := strings.CutPrefix(name, instancePrefix)
	if !found {
		return Instance{}, false
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 3 {
		return Instance{}, false
	}
	pid, err1 := strconv.Atoi(parts[1])
	limitText, bouncer := strings.CutSuffix(parts[2], bouncerMark)
	limit, err2 := strconv.Atoi(limitText)
	if err1 != nil || err2 != nil || pid <= 0 || limit <= 0 {
		return Instance{}, false
	}
	return Instance{Name: name, Host: parts[0], PID: pid, ConnectionLimit: limit, PgBouncer: bouncer}, true
}

var opInstances = db.Op{Name: "health.instances", Class: db.Simple}

// LiveInstances lists the serve instances connected to this database now, from pg_stat_activity
// (application_name is visible to every role). An instance always holds at least its listener's
// connection, so an idle pool does not hide it. Instances of another database on the same server
// belong to another deployment: their connections are part of what the budget leaves to others.
func LiveInstances(ctx context.Context, d *db.DB) ([]Instance, error) {
	var out []Instance
	err := d.Query(ctx, opInstances, "", func(rows pgx.Rows) error {
		for rows.Next() {
			var name string
			var n int
			if err := rows.Scan(&name, &n); err != nil {
				return err
			}
			in, ok := ParseInstanceName(name)
			if !ok {
				continue
			}
			// The listener's row and the pool's row are one instance (sorted: adjacent).
			if last := len(out) - 1; last >= 0 && out[last].Name == in.Name {
				out[last].Connections += n
				continue
			}
			in.Connections = n
			out = append(out, in)
		}
		return rows.Err()
	}, `SELECT application_name, count(*)::int FROM pg_stat_activity
		WHERE application_name LIKE 'eventmanager/%' AND backend_type = 'client backend'
		  AND datname = current_database()
		GROUP BY application_name ORDER BY application_name`)
	return out, err
}

// CountListeners counts the listening connections (pglisten) to this database: those of serve
// instances and those a listener names by default.
func CountListeners(ctx context.Context, d *db.DB) (int, error) {
	var n int
	err := d.QueryRow(ctx, opListeners, "", `SELECT count(*)::int FROM pg_stat_activity
		WHERE datname = current_database() AND (application_name = $1 OR application_name LIKE $2)`,
		[]any{pglisten.ApplicationName, instancePrefix + "%" + listenerMark}, &n)
	return n, err
}

var opListeners = db.Op{Name: "health.listeners", Class: db.Simple}

// ConnectionBudget is what all instances together may hold: 80 % of max_connections minus the
// superuser's reserve (the runbook's rule, RecommendedConnectionLimit for one instance).
func ConnectionBudget(maxConnections, reserved int) int {
	return RecommendedConnectionLimit(maxConnections, reserved, 1)
}

// InstancesCheck compares the sum of the live instances' connection_limit with the budget.
// Instances behind PgBouncer are listed but not summed: their pools are PgBouncer's clients.
func InstancesCheck(instances []Instance, maxConnections, reserved int) Check {
	budget := ConnectionBudget(maxConnections, reserved)
	sum := 0
	items := make([]string, 0, len(instances))
	for _, in := range instances {
		if in.PgBouncer {
			items = append(items, fmt.Sprintf("%s pid %d: connection_limit %d through PgBouncer (not in the sum: size PgBouncer's pool to the budget)",
				in.Host, in.PID, in.ConnectionLimit))
			continue
		}
		sum += in.ConnectionLimit
		items = append(items, fmt.Sprintf("%s pid %d: connection_limit %d, %d server connections now",
			in.Host, in.PID, in.ConnectionLimit, in.Connections))
	}
	ch := Check{
		Name:      "instances",
		Value:     map[string]any{"instances": instances, "connection_limit_sum": sum, "budget": budget},
		Threshold: fmt.Sprintf("sum of connection_limit ≤ 80 %% of (%d - %d) = %d", maxConnections, reserved, budget),
		Status:    OK,
		Explanation: fmt.Sprintf("%d live instances, connection_limit %d in all of a budget of %d",
			len(instances), sum, budget),
		Items: items,
	}
	if sum > budget {
		ch.Status = Warn
		ch.Explanation = fmt.Sprintf("%d live instances may open %d connections together, past the budget of %d: lower connection_limit to %d each, or put PgBouncer in front (docs/scaling.md)",
			len(instances), sum, budget, RecommendedConnectionLimit(maxConnections, reserved, max(len(instances), 1)))
	}
	return ch
}
