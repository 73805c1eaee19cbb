package localpg

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// sysProcAttr runs the server in its own process group (a terminal's Ctrl-C must not shut the database
// down under a service that is still draining requests) and has the kernel send it SIGINT, PostgreSQL's
// fast shutdown, when its parent dies, so no server outlives a crashed or killed owner.
func sysProcAttr(a *account) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGINT, Credential: a.credential()}
}

// postmasterOf tells whether the live process pid is a PostgreSQL server for dataDir. The postmaster
// changes its working folder to its data folder, which tells it apart from an unrelated process that
// reuses the pid of a stale postmaster.pid (common in containers, where pids restart from 1).
func postmasterOf(pid int, dataDir string) verdict {
	comm, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
	if err != nil {
		return unknown
	}
	if name := strings.TrimSpace(string(comm)); name != "postgres" && name != "postmaster" {
		return no
	}
	cwd, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/cwd")
	if err != nil {
		// Only root and the process's own user may read its cwd; another user's process cannot be the
		// server of a data folder we own.
		if os.IsPermission(err) {
			return no
		}
		return unknown
	}
	want, err := filepath.EvalSymlinks(dataDir)
	if err != nil {
		want = dataDir
	}
	if cwd == want {
		return yes
	}
	return no
}
