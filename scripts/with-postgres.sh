#!/usr/bin/env bash
# Runs "$@" with a PostgreSQL server for the tests. Uses TEST_DATABASE_URL
# when set; else the local server at 127.0.0.1:5432 (database "test"),
# starting its cluster if it is installed but down; else a throwaway
# cluster from the installed server binaries. Never skips silently: if no
# server can be had it says so in one line, with the fix, and fails.
set -euo pipefail

default_url="postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
answers() { pg_isready -q -d "$1" >/dev/null 2>&1; }

if [ -n "${TEST_DATABASE_URL:-}" ]; then
  answers "$TEST_DATABASE_URL" || { echo "TEST_DATABASE_URL does not answer: start that server or unset TEST_DATABASE_URL" >&2; exit 1; }
  exec "$@"
fi

if ! answers "$default_url" && command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
  for v in $(ls /etc/postgresql); do
    pg_ctlcluster --skip-systemctl-redirect "$v" main start >/dev/null 2>&1 || true
  done
  for _ in $(seq 1 30); do answers "$default_url" && break; sleep 0.5; done
  # The cluster may be up without the test database.
  if ! answers "$default_url" && answers "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"; then
    psql -q "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable" -c 'CREATE DATABASE test' >/dev/null
  fi
fi
if answers "$default_url"; then
  export TEST_DATABASE_URL="$default_url"
  exec "$@"
fi

# A throwaway cluster from the installed binaries (not as root: initdb refuses).
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -n "$bindir" ] && [ -x "$bindir/initdb" ] && [ "$(id -u)" != 0 ]; then
  dir=$(mktemp -d)
  trap '"$bindir/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
  "$bindir/initdb" -A trust -U postgres -D "$dir/data" >/dev/null
  "$bindir/pg_ctl" -D "$dir/data" -o "-p 55432 -k $dir -c listen_addresses=127.0.0.1" -l "$dir/log" -w start >/dev/null
  "$bindir/createdb" -h 127.0.0.1 -p 55432 -U postgres test
  export TEST_DATABASE_URL="postgres://postgres@127.0.0.1:55432/test?sslmode=disable"
  "$@"
  exit $?
fi

echo "No PostgreSQL for the tests: start one (pg_ctlcluster --skip-systemctl-redirect \$(ls /etc/postgresql) main start), install it (apt-get install postgresql), or set TEST_DATABASE_URL." >&2
exit 1
