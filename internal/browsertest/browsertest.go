// Package browsertest finds the Chromium that the browser tests drive.
package browsertest

import (
	"os"
	"os/exec"
	"testing"
)

// ChromiumPath finds the browser (CHROMIUM_PATH, else chromium, chromium-browser or google-chrome on
// PATH). `make test` installs it (scripts/ensure-deps.sh --test), so in CI (CI set) a missing
// browser fails the test: a skip there would hide that the pages are untested. A developer running
// `go test` on a machine without it gets a skip that says how to install it.
func ChromiumPath(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("CHROMIUM_PATH"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium not found: `make test` installs it with scripts/ensure-deps.sh --test")
	}
	t.Skip("chromium not found: run `make test-deps` (or set CHROMIUM_PATH) to run the browser tests")
	return ""
}
