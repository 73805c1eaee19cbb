package localpg

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// LockFileName is the file in the data folder that a running Server holds an exclusive flock on.
const LockFileName = "eventmanager.lock"

// ErrInUse is matched (errors.Is) by the error Start returns when another Server, in this or another
// process, holds the data folder.
var ErrInUse = errors.New("data folder is in use")

// InUseError says which process holds a data folder.
type InUseError struct {
	DataDir string // as the caller gave it
	PID     int    // 0 when the holder has not written its pid yet
}

func (e *InUseError) Error() string {
	if e.PID == 0 {
		return fmt.Sprintf("data folder %s is in use by another eventmanager process", e.DataDir)
	}
	return fmt.Sprintf("data folder %s is in use by another eventmanager process (pid %d)", e.DataDir, e.PID)
}

// Is makes errors.Is(err, ErrInUse) true.
func (e *InUseError) Is(target error) bool { return target == ErrInUse }

// acquireLock takes the data folder's lock without waiting. A flock belongs to the open file, so the
// kernel releases it when the process dies, however it dies: no stale lock can outlive its owner, and
// a second Server in the same process conflicts just like one in another process.
func acquireLock(dataDir, shownDir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dataDir, LockFileName), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, &InUseError{DataDir: shownDir, PID: readPID(filepath.Join(dataDir, LockFileName))}
		}
		return nil, fmt.Errorf("lock %s: %w", dataDir, err)
	}
	// The pid is only for the error message of whoever comes next; the flock is what counts.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return f, nil
}

// Locked reports whether a Server (in this or another process) holds the data folder. It lets tools
// clean up folders that crashed runs left behind without touching live ones.
func Locked(dataDir string) (bool, error) {
	f, err := os.Open(filepath.Join(dataDir, LockFileName))
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB); err != nil {
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return true, nil
		}
		return false, err
	}
	return false, nil // closing the file drops the shared lock
}

// readPID reads the first line of a pid file (ours or PostgreSQL's postmaster.pid); 0 if unreadable.
func readPID(path string) int {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	first, _, _ := strings.Cut(string(data), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}
