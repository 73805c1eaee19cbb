package localpg

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Files that a Server keeps in the data folder beside PostgreSQL's own.
const (
	portFileName  = "eventmanager.port"
	logFileName   = "postgres.log"
	initdbDirName = ".initdb" // initdb works here: it refuses a folder that already holds our lock file
)

const (
	// maxSocketPath keeps the socket path ("<dir>/.s.PGSQL.<port>") under the 107 bytes that fit in
	// sockaddr_un, with some room to spare.
	maxSocketPath       = 100
	defaultStartTimeout = 60 * time.Second
	// maxLogSize bounds postgres.log: it is rotated to postgres.log.1 at start once it grows past this.
	maxLogSize = 10 << 20
	// stopGrace is how long an immediate shutdown (SIGQUIT) gets before the process group is killed.
	stopGrace = 5 * time.Second
)

// Options configures Start.
type Options struct {
	// DataDir is the cluster folder. It is initialised with initdb when missing or empty and reused
	// otherwise; its parent folders are created. The caller picks the default (./var/postgres).
	DataDir string
	// Port is the TCP port on 127.0.0.1 (and the number in the socket's name). 0 picks a free port and
	// remembers it in the data folder, so that later starts reuse it while it stays free.
	Port int
	// Logger receives start, stop and repair messages; nil discards them.
	Logger *slog.Logger
	// ServerSettings are extra server settings (postgresql.conf names), for instance "max_connections"
	// or, for throwaway test clusters, "fsync": "off". "port" and "unix_socket_directories" are chosen
	// by the Server and may not be set here.
	ServerSettings map[string]string
	// BinDir is the folder holding initdb and postgres; empty means FindBinaries.
	BinDir string
	// StartTimeout bounds how long one start waits for the server to accept connections; 0 means 60 s.
	StartTimeout time.Duration
}

// Server is a running private PostgreSQL. Its methods are safe for concurrent use.
type Server struct {
	binDir       string
	dataDir      string // absolute
	shownDir     string // as the caller gave it, for messages
	sockDir      string
	ownSockDir   bool // sockDir was created by Start under /tmp and is removed by Stop
	port         int
	autoPort     bool
	settings     map[string]string
	startTimeout time.Duration
	logger       *slog.Logger
	acct         *account // nil: PostgreSQL runs as the current user
	lock         *os.File

	mu      sync.Mutex // guards proc and stopped; held through a whole Restart or Stop
	proc    *postmaster
	stopped bool
}

// postmaster is one run of the server process.
type postmaster struct {
	process *os.Process
	done    chan struct{} // closed once the process has exited and been reaped
	err     error         // the exit status; read only after done is closed
}

// Start starts PostgreSQL on opts.DataDir, initialising the cluster first if needed, and returns once
// the server accepts connections. It fails with an error matching ErrInUse when another Server holds
// the folder. The caller must call Stop.
func Start(ctx context.Context, opts Options) (_ *Server, err error) {
	if opts.DataDir == "" {
		return nil, errors.New("localpg: Options.DataDir is empty")
	}
	for _, name := range []string{"port", "unix_socket_directories"} {
		if _, ok := opts.ServerSettings[name]; ok {
			return nil, fmt.Errorf("localpg: ServerSettings may not set %q: the Server chooses it (use Options.Port)", name)
		}
	}
	binDir := opts.BinDir
	if binDir == "" {
		if binDir, err = FindBinaries(); err != nil {
			return nil, err
		}
	}
	dataDir, err := filepath.Abs(opts.DataDir)
	if err != nil {
		return nil, fmt.Errorf("localpg: data folder %s: %w", opts.DataDir, err)
	}
	acct, err := serverAccount()
	if err != nil {
		return nil, err
	}
	s := &Server{
		binDir:       binDir,
		dataDir:      dataDir,
		shownDir:     opts.DataDir,
		settings:     maps.Clone(opts.ServerSettings),
		startTimeout: opts.StartTimeout,
		logger:       opts.Logger,
		acct:         acct,
	}
	if s.startTimeout <= 0 {
		s.startTimeout = defaultStartTimeout
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	if err := s.prepareFolder(); err != nil {
		return nil, err
	}
	if s.lock, err = acquireLock(s.dataDir, s.shownDir); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			s.release()
		}
	}()
	if err := s.adoptFolder(); err != nil {
		return nil, err
	}
	if err := s.ensureCluster(ctx); err != nil {
		return nil, err
	}
	if err := s.stopLeftover(ctx); err != nil {
		return nil, err
	}
	if err := s.choosePort(opts.Port); err != nil {
		return nil, err
	}
	if err := s.chooseSocketDir(); err != nil {
		return nil, err
	}
	began := time.Now()
	err = s.launch(ctx)
	// Another program may take a free port between our check and the server's bind; a port we picked
	// ourselves can simply be picked again.
	for attempt := 0; attempt < 3 && s.autoPort && errors.Is(err, errPortInUse); attempt++ {
		s.logger.Info("localpg: port taken meanwhile, picking another", "port", s.port)
		if err = s.pickPort(); err == nil {
			err = s.launch(ctx)
		}
	}
	if err != nil {
		return nil, err
	}
	s.logger.Info("localpg: PostgreSQL started", "data_dir", s.dataDir, "port", s.port,
		"socket_dir", s.sockDir, "duration", time.Since(began).Round(time.Millisecond))
	return s, nil
}

// prepareFolder creates the data folder and checks that the server will be able to own it.
func (s *Server) prepareFolder() error {
	if err := os.MkdirAll(filepath.Dir(s.dataDir), 0o755); err != nil {
		return fmt.Errorf("localpg: create parent of data folder %s: %w", s.shownDir, err)
	}
	if err := os.Mkdir(s.dataDir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("localpg: create data folder %s: %w", s.shownDir, err)
	}
	info, err := os.Stat(s.dataDir)
	if err != nil {
		return fmt.Errorf("localpg: data folder %s: %w", s.shownDir, err)
	}
	if !info.IsDir() {
		return fmt.Errorf("localpg: data folder %s is not a folder", s.shownDir)
	}
	if s.acct == nil {
		if st, ok := info.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() {
			return fmt.Errorf("localpg: data folder %s belongs to uid %d but this process runs as uid %d: "+
				"PostgreSQL only runs on a folder its own user owns; run as that user (or as root, which runs "+
				"PostgreSQL as the postgres user), or choose another folder", s.shownDir, st.Uid, os.Geteuid())
		}
	}
	// The server refuses a data folder that group or others may write or read into.
	if info.Mode().Perm()&0o027 != 0 {
		if err := os.Chmod(s.dataDir, 0o700); err != nil {
			return fmt.Errorf("localpg: data folder %s: %w", s.shownDir, err)
		}
	}
	return nil
}

// adoptFolder hands the data folder to the postgres user when running as root. Called with the lock
// held, so that no server is using the files meanwhile.
func (s *Server) adoptFolder() error {
	if s.acct == nil {
		return nil
	}
	if err := s.acct.ensureTraversable(s.dataDir, s.logger); err != nil {
		return fmt.Errorf("localpg: %w", err)
	}
	info, err := os.Stat(s.dataDir)
	if err != nil {
		return err
	}
	if st, ok := info.Sys().(*syscall.Stat_t); ok && st.Uid != s.acct.uid {
		s.logger.Info("localpg: giving data folder to the PostgreSQL user", "data_dir", s.dataDir, "user", s.acct.name)
		if err := s.acct.chownTree(s.dataDir); err != nil {
			return fmt.Errorf("localpg: give data folder %s to user %s: %w", s.shownDir, s.acct.name, err)
		}
		return nil
	}
	return s.acct.chown(filepath.Join(s.dataDir, LockFileName))
}

// ensureCluster runs initdb unless the folder already holds a cluster. initdb works in a sub-folder
// (it refuses a folder holding our lock file) whose files are then moved up, PG_VERSION last: a folder
// without PG_VERSION but with the sub-folder is an interrupted initialisation and is redone.
func (s *Server) ensureCluster(ctx context.Context) error {
	tmp := filepath.Join(s.dataDir, initdbDirName)
	if _, err := os.Stat(filepath.Join(s.dataDir, "PG_VERSION")); err == nil {
		return os.RemoveAll(tmp)
	}
	entries, err := os.ReadDir(s.dataDir)
	if err != nil {
		return fmt.Errorf("localpg: read data folder %s: %w", s.shownDir, err)
	}
	_, statErr := os.Stat(tmp)
	interrupted := statErr == nil
	ours := []string{LockFileName, portFileName, logFileName, logFileName + ".1", initdbDirName}
	for _, e := range entries {
		if slices.Contains(ours, e.Name()) {
			continue
		}
		if !interrupted {
			return fmt.Errorf("localpg: data folder %s is not empty but holds no PostgreSQL cluster "+
				"(no PG_VERSION); empty it or choose another folder", s.shownDir)
		}
		if err := os.RemoveAll(filepath.Join(s.dataDir, e.Name())); err != nil {
			return fmt.Errorf("localpg: clean up interrupted initdb: %w", err)
		}
	}
	if err := os.RemoveAll(tmp); err != nil {
		return fmt.Errorf("localpg: clean up interrupted initdb: %w", err)
	}
	began := time.Now()
	if err := s.initdb(ctx, tmp); err != nil {
		return err
	}
	s.logger.Info("localpg: initialised new cluster", "data_dir", s.dataDir,
		"duration", time.Since(began).Round(time.Millisecond))
	return nil
}

func (s *Server) initdb(ctx context.Context, tmp string) error {
	run := func(locale string) ([]byte, error) {
		if err := os.RemoveAll(tmp); err != nil {
			return nil, err
		}
		if err := os.Mkdir(tmp, 0o700); err != nil {
			return nil, err
		}
		if err := s.acct.chown(tmp); err != nil {
			return nil, err
		}
		args := []string{"-D", tmp, "-U", "postgres", "--auth-local=trust", "--auth-host=scram-sha-256",
			"-E", "UTF8", "--locale=" + locale}
		if s.noSync() {
			args = append(args, "--no-sync")
		}
		return s.command(ctx, "initdb", args...).CombinedOutput()
	}
	out, err := run("C.UTF-8")
	if err != nil && bytes.Contains(out, []byte("locale")) {
		// Minimal systems may lack C.UTF-8; plain C sorts the same way, by bytes.
		out, err = run("C")
	}
	if err != nil {
		return fmt.Errorf("localpg: initdb %s: %w\n%s", s.shownDir, err, lastLines(out, 20))
	}
	entries, err := os.ReadDir(tmp)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.Name() == "PG_VERSION" {
			continue
		}
		if err := os.Rename(filepath.Join(tmp, e.Name()), filepath.Join(s.dataDir, e.Name())); err != nil {
			return fmt.Errorf("localpg: move new cluster into place: %w", err)
		}
	}
	if err := os.Rename(filepath.Join(tmp, "PG_VERSION"), filepath.Join(s.dataDir, "PG_VERSION")); err != nil {
		return fmt.Errorf("localpg: move new cluster into place: %w", err)
	}
	if !s.noSync() {
		if err := syncDir(s.dataDir); err != nil {
			return err
		}
	}
	return os.Remove(tmp)
}

// stopLeftover deals with a postmaster.pid that names a live process. The lock is ours, so no Server
// runs this cluster; a live postmaster here was started some other way (by hand with pg_ctl, or by a
// Server whose parent-death signal was lost) and is stopped with a fast shutdown rather than reused, so
// that the settings, port and socket are always the ones this Server chose. A live process that is not
// this folder's postmaster only reuses the pid of a stale file, which is removed.
func (s *Server) stopLeftover(ctx context.Context) error {
	pidFile := filepath.Join(s.dataDir, "postmaster.pid")
	pid := readPID(pidFile)
	if pid == 0 {
		return nil
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return nil // dead: the server removes its own stale file
	}
	if postmasterOf(pid, s.dataDir) == no {
		s.logger.Info("localpg: removing stale postmaster.pid whose pid now belongs to another process", "pid", pid)
		if err := os.Remove(pidFile); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("localpg: remove stale %s: %w", pidFile, err)
		}
		return nil
	}
	s.logger.Warn("localpg: stopping a PostgreSQL left running on the data folder", "pid", pid, "data_dir", s.dataDir)
	out, err := s.command(ctx, "pg_ctl", "stop", "-D", s.dataDir, "-m", "fast", "-w", "-t", "60").CombinedOutput()
	if err != nil {
		return fmt.Errorf("localpg: stop the PostgreSQL (pid %d) left running on %s: %w\n%s",
			pid, s.shownDir, err, lastLines(out, 20))
	}
	return nil
}

// choosePort settles the port: the requested one, else the remembered one while it is free, else a
// free one.
func (s *Server) choosePort(requested int) error {
	if requested != 0 {
		s.port = requested
		return nil
	}
	s.autoPort = true
	data, err := os.ReadFile(filepath.Join(s.dataDir, portFileName))
	if err == nil {
		if port, err := strconv.Atoi(strings.TrimSpace(string(data))); err == nil && port > 0 && portFree(port) {
			s.port = port
			return nil
		}
	}
	return s.pickPort()
}

// pickPort takes a free port from the kernel and remembers it.
func (s *Server) pickPort() error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("localpg: find a free port: %w", err)
	}
	s.port = l.Addr().(*net.TCPAddr).Port
	l.Close()
	path := filepath.Join(s.dataDir, portFileName)
	if err := os.WriteFile(path, []byte(strconv.Itoa(s.port)+"\n"), 0o644); err != nil {
		return fmt.Errorf("localpg: remember port: %w", err)
	}
	return s.acct.chown(path)
}

func portFree(port int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// chooseSocketDir puts the socket in the data folder (private to the server's user), or in a fresh
// folder under /tmp when the data folder's path is too long for a socket address.
func (s *Server) chooseSocketDir() error {
	if len(s.dataDir)+len("/.s.PGSQL.65535") <= maxSocketPath {
		s.sockDir = s.dataDir
		return nil
	}
	dir, err := os.MkdirTemp("/tmp", "eventmanager-pgsock-")
	if err != nil {
		return fmt.Errorf("localpg: create socket folder: %w", err)
	}
	s.sockDir, s.ownSockDir = dir, true
	return s.acct.chown(dir)
}

// errPortInUse marks a start that failed because the TCP port was taken.
var errPortInUse = errors.New("port in use")

// launch starts the postmaster and waits until it accepts connections. Called with mu held or before
// the Server is shared.
func (s *Server) launch(ctx context.Context) error {
	logPath := filepath.Join(s.dataDir, logFileName)
	if info, err := os.Stat(logPath); err == nil && info.Size() > maxLogSize {
		_ = os.Rename(logPath, logPath+".1")
	}
	logFile, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("localpg: open server log: %w", err)
	}
	defer logFile.Close() // the server keeps its own copy of the descriptor
	if err := s.acct.chown(logPath); err != nil {
		return err
	}
	logStart, _ := logFile.Seek(0, io.SeekEnd)

	args := []string{"-D", s.dataDir, "-p", strconv.Itoa(s.port), "-k", s.sockDir,
		"-c", "listen_addresses=127.0.0.1"}
	for _, name := range slices.Sorted(maps.Keys(s.settings)) {
		args = append(args, "-c", name+"="+s.settings[name])
	}
	cmd := exec.Command(filepath.Join(s.binDir, "postgres"), args...)
	cmd.Dir = "/"
	cmd.Env = serverEnv()
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = sysProcAttr(s.acct)

	p := &postmaster{done: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		// The parent-death signal fires when the thread that forked the child exits, and Go ends a
		// thread when a goroutine locked to it returns. Forking from a thread that this goroutine keeps
		// locked until the server exits means no other code can end that thread early.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		p.process = cmd.Process
		started <- nil
		p.err = cmd.Wait()
		close(p.done)
	}()
	if err := <-started; err != nil {
		return fmt.Errorf("localpg: run postgres: %w", err)
	}
	if err := s.waitReady(ctx, p); err != nil {
		s.kill(p)
		tail := readLogTail(logPath, logStart, 20)
		if strings.Contains(tail, "could not bind") || strings.Contains(tail, "Address already in use") {
			err = fmt.Errorf("%w: %w", errPortInUse, err)
		}
		return fmt.Errorf("localpg: PostgreSQL on %s (port %d) did not start: %w\nlast lines of %s:\n%s",
			s.shownDir, s.port, err, logPath, tail)
	}
	s.proc = p
	return nil
}

// waitReady polls postmaster.pid, as pg_ctl -w does, until the server reports that it accepts
// connections.
func (s *Server) waitReady(ctx context.Context, p *postmaster) error {
	deadline := time.NewTimer(s.startTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	pidFile := filepath.Join(s.dataDir, "postmaster.pid")
	for {
		if data, err := os.ReadFile(pidFile); err == nil {
			lines := strings.Split(string(data), "\n")
			// Line 1 is the pid, line 8 the status (see pidfile.h).
			if len(lines) >= 8 && strings.TrimSpace(lines[0]) == strconv.Itoa(p.process.Pid) &&
				strings.TrimSpace(lines[7]) == "ready" {
				return nil
			}
		}
		select {
		case <-p.done:
			return fmt.Errorf("server exited during start-up (%v)", p.err)
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline.C:
			return fmt.Errorf("not ready after %s", s.startTimeout)
		case <-tick.C:
		}
	}
}

// stopProcess asks for a fast shutdown (active sessions are rolled back, data is checkpointed) and
// waits for it; if ctx ends first, it falls back to an immediate shutdown so the process is always gone
// when this returns.
func (s *Server) stopProcess(ctx context.Context, p *postmaster) error {
	_ = p.process.Signal(syscall.SIGINT)
	select {
	case <-p.done:
		return nil
	case <-ctx.Done():
	}
	s.logger.Warn("localpg: fast shutdown did not finish in time, shutting down immediately", "pid", p.process.Pid)
	s.kill(p)
	return fmt.Errorf("localpg: stop PostgreSQL: %w (shut down immediately instead; the next start recovers)", ctx.Err())
}

// kill ends the server at once: an immediate shutdown, then SIGKILL to its whole process group.
func (s *Server) kill(p *postmaster) {
	_ = p.process.Signal(syscall.SIGQUIT)
	select {
	case <-p.done:
		return
	case <-time.After(stopGrace):
	}
	_ = syscall.Kill(-p.process.Pid, syscall.SIGKILL) // the group id is the postmaster's pid (Setpgid)
	<-p.done
}

// Stop shuts the server down with a fast shutdown and releases the data folder. It is idempotent and
// safe to call concurrently, from defers and from signal-handling goroutines. If ctx ends before the
// shutdown completes, the server is shut down immediately and the error says so.
func (s *Server) Stop(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return nil
	}
	s.stopped = true
	var err error
	if s.proc != nil {
		err = s.stopProcess(ctx, s.proc)
		s.proc = nil
	}
	s.release()
	s.logger.Info("localpg: PostgreSQL stopped", "data_dir", s.dataDir)
	return err
}

// Restart stops the server with a fast shutdown and starts it again on the same port and socket,
// closing every client connection. It also brings back a server that exited unexpectedly.
func (s *Server) Restart(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return errors.New("localpg: Restart after Stop")
	}
	if s.proc != nil {
		select {
		case <-s.proc.done:
			s.logger.Warn("localpg: PostgreSQL had exited", "status", s.proc.err)
		default:
			if err := s.stopProcess(ctx, s.proc); err != nil {
				s.proc = nil
				return err
			}
		}
		s.proc = nil
	}
	if err := s.launch(ctx); err != nil {
		return err
	}
	s.logger.Info("localpg: PostgreSQL restarted", "data_dir", s.dataDir, "port", s.port)
	return nil
}

// release gives up the socket folder and the data folder's lock.
func (s *Server) release() {
	if s.ownSockDir {
		_ = os.RemoveAll(s.sockDir)
	}
	if s.lock != nil {
		// Closing drops the flock. The file stays: deleting it would let a newcomer lock a fresh file
		// while someone else still holds the old one.
		s.lock.Close()
		s.lock = nil
	}
}

// PID is the postmaster's process id, or 0 when it is not running. Fault tests use it to simulate a
// crash.
func (s *Server) PID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return 0
	}
	select {
	case <-s.proc.done:
		return 0
	default:
		return s.proc.process.Pid
	}
}

// URL is a connection URL for database over the Unix socket, as the superuser "postgres", which the
// socket trusts without a password.
func (s *Server) URL(database string) string { return s.URLAs(database, "postgres") }

// TCPURL is a connection URL for database over TCP on 127.0.0.1, where the server asks for a password
// (SCRAM-SHA-256). TLS is not offered by this server, so the URL turns it off to save a round trip.
func (s *Server) TCPURL(database, user, password string) string {
	u := url.URL{
		Scheme:   "postgresql",
		User:     url.UserPassword(user, password),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)),
		Path:     "/" + database,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// Port is the TCP port on 127.0.0.1, also part of the socket's name.
func (s *Server) Port() int { return s.port }

// SocketDir is the folder holding the server's Unix socket.
func (s *Server) SocketDir() string { return s.sockDir }

// DataDir is the absolute path of the cluster folder.
func (s *Server) DataDir() string { return s.dataDir }

// LogPath is the server's log file (stdout and stderr of the postmaster).
func (s *Server) LogPath() string { return filepath.Join(s.dataDir, logFileName) }

// noSync is true when the caller gave up durability (fsync=off): initdb then skips its fsyncs too.
func (s *Server) noSync() bool {
	switch strings.ToLower(strings.TrimSpace(s.settings["fsync"])) {
	case "off", "false", "no", "0":
		return true
	}
	return false
}

// command prepares one of the PostgreSQL programs to run as the server's user.
func (s *Server) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(s.binDir, name), args...)
	cmd.Dir = "/" // the caller's folder may be closed to the postgres user (e.g. /root)
	cmd.Env = serverEnv()
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.acct.credential()}
	return cmd
}

// serverEnv is this process's environment without libpq's PG* variables, which would otherwise
// override what the Server chose (PGPORT, PGDATA, PGOPTIONS...).
func serverEnv() []string {
	return slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "PG") })
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// readLogTail returns the last n lines written to the log since offset.
func readLogTail(path string, offset int64, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("(cannot read the log: %v)", err)
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return fmt.Sprintf("(cannot read the log: %v)", err)
	}
	data, err := io.ReadAll(io.LimitReader(f, 1<<20))
	if err != nil {
		return fmt.Sprintf("(cannot read the log: %v)", err)
	}
	return lastLines(data, n)
}

func lastLines(data []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
