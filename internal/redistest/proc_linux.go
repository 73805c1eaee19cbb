package redistest

import "syscall"

// sysProcAttr has the kernel kill the server when the test binary dies, so none outlives it.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
