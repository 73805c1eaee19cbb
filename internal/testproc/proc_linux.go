package testproc

import "syscall"

// SysProcAttr puts the child in its own process group and has the kernel kill it when the test
// binary dies, so that no server outlives a test that hit its timeout.
func SysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
