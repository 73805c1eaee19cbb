//go:build !linux

package localpg

import "syscall"

// sysProcAttr runs the server in its own process group so that a terminal's Ctrl-C does not shut the
// database down under a service that is still draining requests. Without Linux's parent-death signal,
// a crashed owner can leave the server running; the next Start stops it.
func sysProcAttr(a *account) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Credential: a.credential()}
}

// postmasterOf cannot inspect other processes portably, so it leaves the decision to pg_ctl.
func postmasterOf(pid int, dataDir string) verdict { return unknown }
