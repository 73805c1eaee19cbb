package localpg

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// BaseBackup copies the running cluster into dataDir with pg_basebackup, as a streaming standby
// of this server: the WAL needed is streamed along (-X stream) and standby.signal with
// primary_conninfo is written (-R), so that Start on dataDir runs a read-only replica that keeps
// replaying this server's changes. dataDir must not exist yet; its parent must.
func (s *Server) BaseBackup(ctx context.Context, dataDir string) error {
	dataDir, err := filepath.Abs(dataDir)
	if err != nil {
		return err
	}
	if err := os.Mkdir(dataDir, 0o700); err != nil {
		return fmt.Errorf("localpg: base backup folder: %w", err)
	}
	if err := s.acct.chown(dataDir); err != nil {
		return err
	}
	if err := s.acct.ensureTraversable(dataDir, s.logger); err != nil {
		return fmt.Errorf("localpg: %w", err)
	}
	out, err := s.command(ctx, "pg_basebackup", "-D", dataDir, "-h", s.sockDir, "-p", strconv.Itoa(s.port),
		"-U", "postgres", "-X", "stream", "-R", "--checkpoint=fast", "--no-sync").CombinedOutput()
	if err != nil {
		return fmt.Errorf("localpg: pg_basebackup of %s: %w\n%s", s.shownDir, err, lastLines(out, 20))
	}
	return nil
}
