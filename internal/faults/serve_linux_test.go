package faults_test

import "syscall"

// childAttr has the kernel kill the service child when this test binary dies (a test timeout, a
// Ctrl-C), so that no `eventmanager serve` outlives the run.
func childAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} }
