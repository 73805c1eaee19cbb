package localpg

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// ErrNoBinaries is returned by FindBinaries (and so by Start) when no PostgreSQL server installation is
// found. Its text tells the operator how to install one.
var ErrNoBinaries = errors.New("PostgreSQL server binaries (initdb, pg_ctl) not found on PATH or in " +
	"/usr/lib/postgresql/*/bin: install them with `apt-get install postgresql` (Debian/Ubuntu)")

// binaryNames are the programs a Server runs; all must sit in the same folder, because a mix of
// versions would produce a cluster the server cannot read.
var binaryNames = []string{"initdb", "pg_ctl", "postgres"}

// systemBinDirs are where distributions install versioned server binaries that are not on PATH
// (Debian and Ubuntu put only the client wrappers there; RPM-based systems use /usr/pgsql-N).
// A variable so that tests can point it elsewhere.
var systemBinDirs = []string{"/usr/lib/postgresql/*/bin", "/usr/pgsql-*/bin"}

// FindBinaries returns the folder that holds initdb, pg_ctl and postgres. It looks on PATH first (so an
// operator can choose a version by putting it first), then in the distributions' versioned folders,
// taking the highest version. It returns ErrNoBinaries when none is found.
func FindBinaries() (binDir string, err error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		// PATH often holds symlinks (/usr/local/bin/initdb -> /usr/lib/postgresql/15/bin/initdb);
		// the real folder is the one that has the matching postgres.
		if real, err := filepath.EvalSymlinks(p); err == nil && hasBinaries(filepath.Dir(real)) {
			return filepath.Dir(real), nil
		}
		if hasBinaries(filepath.Dir(p)) {
			return filepath.Dir(p), nil
		}
	}
	var candidates []string
	for _, pattern := range systemBinDirs {
		matches, _ := filepath.Glob(pattern)
		candidates = append(candidates, matches...)
	}
	// Highest version first: "15" > "9.6" needs a numeric comparison, not a string one.
	slices.SortStableFunc(candidates, func(a, b string) int {
		return compareVersions(versionOf(b), versionOf(a))
	})
	for _, dir := range candidates {
		if hasBinaries(dir) {
			return dir, nil
		}
	}
	return "", ErrNoBinaries
}

func hasBinaries(dir string) bool {
	for _, name := range binaryNames {
		info, err := os.Stat(filepath.Join(dir, name))
		if err != nil || !info.Mode().IsRegular() || info.Mode().Perm()&0o111 == 0 {
			return false
		}
	}
	return true
}

// versionOf extracts the version numbers from a folder such as /usr/lib/postgresql/15/bin or
// /usr/pgsql-9.6/bin.
func versionOf(binDir string) []int {
	name := filepath.Base(filepath.Dir(binDir))
	name = name[strings.LastIndexAny(name, "-")+1:]
	var version []int
	for part := range strings.SplitSeq(name, ".") {
		n, err := strconv.Atoi(part)
		if err != nil {
			return version
		}
		version = append(version, n)
	}
	return version
}

func compareVersions(a, b []int) int {
	return slices.Compare(a, b)
}
