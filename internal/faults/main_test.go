package faults_test

import (
	"context"
	"os"
	"testing"

	"github.com/eventmanager/eventmanager/internal/cli"
	"github.com/eventmanager/eventmanager/internal/dbtest"
)

// asCLIEnv makes the test binary act as the eventmanager command, so that the SIGKILL test runs
// the real `eventmanager serve` as a separate process without building the binary.
const asCLIEnv = "EVENTMANAGER_FAULTS_AS_CLI"

func TestMain(m *testing.M) {
	if os.Getenv(asCLIEnv) == "1" {
		os.Exit(cli.Main(context.Background(), os.Args[1:], cli.Env{Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}))
	}
	dbtest.Main(m)
}
