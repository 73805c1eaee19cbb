package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"

	"github.com/eventmanager/eventmanager/internal/config"
)

// Version is set at build time with -ldflags "-X github.com/eventmanager/eventmanager/internal/cli.Version=...".
var Version = "dev"

// Exit codes.
const (
	exitOK     = 0
	exitFailed = 1 // a run-time failure: database unreachable, migration failed
	exitUsage  = 2 // bad flags or configuration
)

// Env is the outside world of a command: its output streams and environment.
type Env struct {
	Stdout, Stderr io.Writer
	Getenv         func(string) string
}

const usage = `eventmanager runs judged competitions for many organisations on PostgreSQL.

Usage:
  eventmanager serve [flags]            start the HTTP API (PORT, default 3000)
  eventmanager migrate up|down|status|redo|repair
  eventmanager seed --scale small|medium|large [--seed N]   generate realistic data
  eventmanager tenants create --slug SLUG --name NAME --admin-email EMAIL
  eventmanager doctor [--instances N] [--json]   check the database's health and connection budget
  eventmanager bench [--scenario runbook,read,mixed,ceiling,overload] [--target URL]   measure under load
  eventmanager version

Configuration comes from the environment; see .env.example. Without DATABASE_URL the service runs
a private PostgreSQL in PG_DATA_DIR (default ./var/postgres).
Run "eventmanager COMMAND --help" for a command's flags.
`

// Main runs the command line args and returns the process exit code.
func Main(ctx context.Context, args []string, env Env) int {
	if len(args) == 0 {
		fmt.Fprint(env.Stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], env)
	case "migrate":
		return migrate(ctx, args[1:], env)
	case "tenants":
		return tenants(ctx, args[1:], env)
	case "seed":
		return seedCommand(ctx, args[1:], env)
	case "doctor":
		return doctor(ctx, args[1:], env)
	case "bench":
		return benchCommand(ctx, args[1:], env)
	case "version", "--version":
		fmt.Fprintln(env.Stdout, versionString())
		return exitOK
	case "help", "-h", "--help":
		fmt.Fprint(env.Stdout, usage)
		return exitOK
	}
	fmt.Fprintf(env.Stderr, "eventmanager: unknown command %q\n\n%s", args[0], usage)
	return exitUsage
}

func versionString() string {
	v := "eventmanager " + Version
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v += " (" + s.Value[:12] + ")"
			}
		}
		v += " " + info.GoVersion
	}
	return v
}

// parseFlags parses a subcommand's flags; --help prints them and ends the command with exit 0.
func parseFlags(fs *flag.FlagSet, args []string, env Env) (done bool, code int) {
	fs.SetOutput(env.Stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return true, exitOK
		}
		return true, exitUsage
	}
	return false, exitOK
}

// loadConfig reads the configuration; a bad value is one line on stderr and exit code 2.
func loadConfig(env Env) (config.Config, bool) {
	cfg, err := config.Load(env.Getenv)
	if err != nil {
		printErr(env, "eventmanager: ", err)
		return cfg, false
	}
	return cfg, true
}

// newLogger logs JSON, or text when stderr is a terminal (LOG_FORMAT=auto).
func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	format := cfg.LogFormat
	if format == "" || format == "auto" {
		format = "json"
		if f, ok := w.(*os.File); ok {
			if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
				format = "text"
			}
		}
	}
	if strings.EqualFold(format, "text") {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// printErr writes err as one line after prefix, with any database URL's password masked: the one
// way commands report a failure.
func printErr(env Env, prefix string, err error) {
	fmt.Fprintln(env.Stderr, prefix+config.RedactURL(err.Error()))
}
