//go:build !linux

package faults_test

import "syscall"

// childAttr: only Linux has a parent-death signal; elsewhere the test's clean-up kills the child.
func childAttr() *syscall.SysProcAttr { return nil }
