package faults_test

import (
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// serveProcess is `eventmanager serve` running as a child process: this test binary re-executed as
// the command (see TestMain).
type serveProcess struct {
	cmd     *exec.Cmd
	base    string
	logPath string
	done    chan struct{} // closed once the process has exited and been reaped
}

// startServe runs the service on dbURL and port and returns once it answers /healthz (serve
// listens only after the database answered).
func startServe(t *testing.T, dbURL string, port int) *serveProcess {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), "serve.log")
	logFile, err := os.Create(logPath)
	require.NoError(t, err)
	defer logFile.Close()
	cmd := exec.Command(os.Args[0], "serve", "--no-migrate")
	cmd.Env = append(os.Environ(), asCLIEnv+"=1", "DATABASE_URL="+dbURL, "PORT="+strconv.Itoa(port),
		"LOG_LEVEL=warn", "LOG_FORMAT=text", "DB_STARTUP_WAIT=10s",
		"QUERY_TIMEOUT_SIMPLE=5s", "QUERY_TIMEOUT_STANDARD=10s") // as testTimeouts
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = childAttr()
	require.NoError(t, cmd.Start())
	p := &serveProcess{cmd: cmd, base: "http://127.0.0.1:" + strconv.Itoa(port), logPath: logPath, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(p.kill)

	deadline := time.Now().Add(time.Minute)
	for {
		resp, err := http.Get(p.base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		select {
		case <-p.done:
			t.Fatalf("eventmanager serve exited during start-up:\n%s", p.logTail())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("eventmanager serve not answering /healthz after a minute:\n%s", p.logTail())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kill ends the process with SIGKILL, as the kernel's OOM killer or `kill -9` would: no shutdown,
// no deferred clean-up, connections to clients and to the database cut where they stand.
func (p *serveProcess) kill() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Kill() // SIGKILL
	<-p.done
}

func (p *serveProcess) logTail() string {
	b, _ := os.ReadFile(p.logPath)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// freePort returns a loopback port with nothing listening on it.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
