#!/usr/bin/env bash
# Installs what `make run` and `make test` need and do not find: the PostgreSQL server binaries
# (initdb, pg_ctl, postgres) and a Go toolchain; with --test also what the test suite drives:
# redis-server (rate-limit counters shared by instances), chromium (the status page browser
# test) and pgbouncer (the tests that run the service through PgBouncer); with --bench wrk, the
# load generator `eventmanager bench` drives the read sweep with (docs/performance.md; without it
# the bench falls back to vegeta). Debian/Ubuntu only (apt-get); elsewhere it says what to install.
# It never starts a system PostgreSQL: the service runs its own private one.
set -euo pipefail

have_pg() {
  command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1 && return 0
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null
}

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

need=()
have_pg || need+=(postgresql)
command -v go >/dev/null 2>&1 || need+=(golang-go)
if [ "${1:-}" = "--test" ]; then
  command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
  # Debian installs it in /usr/sbin, which is not on every user's PATH.
  command -v pgbouncer >/dev/null 2>&1 || [ -x /usr/sbin/pgbouncer ] || need+=(pgbouncer)
fi
if [ "${1:-}" = "--bench" ]; then
  command -v wrk >/dev/null 2>&1 || need+=(wrk)
fi
[ ${#need[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "missing: ${need[*]}; install them (PostgreSQL server binaries, Go, for tests redis-server, chromium and pgbouncer, for the bench wrk), then retry" >&2
  exit 1
fi
echo "installing ${need[*]} with apt-get" >&2
# Do not let the Debian package create and start its own cluster on port 5432: we do not use it.
as_root mkdir -p /etc/postgresql-common/createcluster.d
echo 'create_main_cluster = false' | as_root tee /etc/postgresql-common/createcluster.d/eventmanager.conf >/dev/null
as_root apt-get update -qq
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# Debian's Go may be older than go.mod asks for; GOTOOLCHAIN=auto (the default) then fetches the
# right toolchain through the Go module proxy.
