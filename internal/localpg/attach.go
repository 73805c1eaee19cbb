package localpg

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// RunningURL is a connection URL, over the Unix socket as role user, for database on the server
// that another process runs in dataDir (the folder is locked: see ErrInUse). The server's own
// postmaster.pid says where it listens: line 4 is the port, line 5 the socket folder, and line 8
// "ready" once it accepts connections (the layout pg_ctl reads too).
func RunningURL(dataDir, database, user string) (string, error) {
	data, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		return "", fmt.Errorf("localpg: the server in %s: %w", dataDir, err)
	}
	lines := strings.Split(string(data), "\n")
	if len(lines) < 8 || strings.TrimSpace(lines[7]) != "ready" {
		return "", fmt.Errorf("localpg: the server in %s is not ready", dataDir)
	}
	port, err := strconv.Atoi(strings.TrimSpace(lines[3]))
	if err != nil || port <= 0 {
		return "", fmt.Errorf("localpg: the server in %s: no port in postmaster.pid", dataDir)
	}
	sockDir := strings.TrimSpace(lines[4])
	if sockDir == "" {
		return "", fmt.Errorf("localpg: the server in %s listens on no Unix socket", dataDir)
	}
	return socketURL(sockDir, port, database, user), nil
}

// socketURL is a URL for database over the Unix socket in sockDir as role user.
func socketURL(sockDir string, port int, database, user string) string {
	// pgx reads "+" in a query value literally, so spaces must be written as %20.
	host := strings.ReplaceAll(url.QueryEscape(sockDir), "+", "%20")
	u := url.URL{Scheme: "postgresql", User: url.User(user), Path: "/" + database,
		RawQuery: "host=" + host + "&port=" + strconv.Itoa(port)}
	return u.String()
}
