// Package cli implements the eventmanager command: its subcommands, flags, signals and graceful
// shutdown. cmd/eventmanager only calls Main.
package cli
