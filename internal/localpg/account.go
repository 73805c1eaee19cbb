package localpg

import (
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
)

// serverUser is the system account PostgreSQL runs as when this process is root. Debian's postgresql
// package creates it; so does `useradd --system postgres`.
const serverUser = "postgres"

// account is the system user initdb and the server run as when this process is root.
type account struct {
	name   string
	uid    uint32
	gid    uint32
	groups []uint32
}

// serverAccount returns the account to run PostgreSQL as, or nil to run it as the current user.
// PostgreSQL refuses to start as root (a compromised server would own the machine), so root hands the
// job to the postgres system user.
func serverAccount() (*account, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup(serverUser)
	if err != nil {
		return nil, fmt.Errorf("PostgreSQL cannot run as root and there is no %q system user to run it as: "+
			"create one with `useradd --system --user-group --home-dir /var/lib/postgresql postgres` "+
			"or install the postgresql package (%v)", serverUser, err)
	}
	a := &account{name: u.Username}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("user %s: uid %q: %w", u.Username, u.Uid, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("user %s: gid %q: %w", u.Username, u.Gid, err)
	}
	a.uid, a.gid = uint32(uid), uint32(gid)
	// Supplementary groups (ssl-cert on Debian) let the server read what the distribution meant it to.
	if ids, err := u.GroupIds(); err == nil {
		for _, id := range ids {
			if g, err := strconv.ParseUint(id, 10, 32); err == nil && uint32(g) != a.gid {
				a.groups = append(a.groups, uint32(g))
			}
		}
	}
	return a, nil
}

// credential is what exec.Cmd needs to run a program as the account.
func (a *account) credential() *syscall.Credential {
	if a == nil {
		return nil
	}
	return &syscall.Credential{Uid: a.uid, Gid: a.gid, Groups: a.groups}
}

// chown gives path to the account; a no-op when running as the current user.
func (a *account) chown(path string) error {
	if a == nil {
		return nil
	}
	return os.Lchown(path, int(a.uid), int(a.gid))
}

// chownTree gives a whole folder to the account, for a data folder that an earlier run created as
// another user (the server refuses a data folder it does not own).
func (a *account) chownTree(root string) error {
	if a == nil {
		return nil
	}
	return filepath.WalkDir(root, func(path string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return a.chown(path)
	})
}

// canTraverse reports whether the account may pass through a folder with the given mode and owner.
func (a *account) canTraverse(info fs.FileInfo) bool {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return true
	}
	mode := info.Mode().Perm()
	switch {
	case st.Uid == a.uid:
		return mode&0o100 != 0
	case st.Gid == a.gid || slices.Contains(a.groups, st.Gid):
		return mode&0o010 != 0
	default:
		return mode&0o001 != 0
	}
}

// ensureTraversable makes every ancestor of dir passable for the account. The server must reach its
// data folder and socket; a parent such as /root or a t.TempDir() folder is 0700 and would stop it.
// Adding o+x lets others pass through a folder without listing or reading it; each change is logged.
func (a *account) ensureTraversable(dir string, logger *slog.Logger) error {
	if a == nil {
		return nil
	}
	for parent := filepath.Dir(dir); ; parent = filepath.Dir(parent) {
		info, err := os.Stat(parent)
		if err != nil {
			return err
		}
		if !a.canTraverse(info) {
			mode := info.Mode().Perm() | 0o001
			if err := os.Chmod(parent, mode); err != nil {
				return fmt.Errorf("let user %s pass through %s: %w", a.name, parent, err)
			}
			logger.Warn("localpg: made folder passable for the PostgreSQL user",
				"folder", parent, "user", a.name, "mode", fmt.Sprintf("%#o", mode))
		}
		if parent == filepath.Dir(parent) {
			return nil
		}
	}
}
