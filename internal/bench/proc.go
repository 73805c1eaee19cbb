package bench

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of the CPU times in /proc/PID/stat: 100 on every Linux ABI Go
// supports (reading it needs sysconf, which needs cgo).
const clockTicks = 100

// Usage is a process's CPU time so far and its peak resident set size.
type Usage struct {
	CPU     time.Duration // user + system
	PeakRSS int64         // bytes (VmHWM)
	At      time.Time
}

// ReadUsage reads a process's usage from /proc (Linux only).
func ReadUsage(pid int) (Usage, error) {
	u := Usage{At: time.Now()}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return u, err
	}
	// The command name (field 2) may hold spaces: the fields that follow start after its ')'.
	s := string(stat)
	end := strings.LastIndexByte(s, ')')
	if end < 0 {
		return u, errors.New("unexpected /proc stat format")
	}
	f := strings.Fields(s[end+1:])
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return u, errors.New("unexpected /proc stat format")
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return u, err
	}
	u.CPU = time.Duration(utime+stime) * time.Second / clockTicks
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return u, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return u, err
			}
			u.PeakRSS = kb << 10
		}
	}
	return u, nil
}

// ResetPeakRSS makes VmHWM start again from the current RSS, so that each step reports its own
// peak; it fails quietly where the kernel or permissions do not allow it (the peak is then the
// process's lifetime peak, which the report says).
func ResetPeakRSS(pid int) bool {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0) == nil
}

// Cores is the CPU used between two readings, in cores (1.5 = one and a half cores busy).
func Cores(before, after Usage) float64 {
	wall := after.At.Sub(before.At)
	if wall <= 0 {
		return 0
	}
	return float64(after.CPU-before.CPU) / float64(wall)
}
