#!/usr/bin/env bash
# make audit: build the gateway, start it on a throwaway SQLite database on a
# free port, run the graphql-http conformance audit (audit.mjs) against it,
# stop it. Fails if any MUST of GraphQL over HTTP fails.
#
# Needs Node (18+) and, the first time, the npm registry: the audit's
# packages are installed from package-lock.json into scripts/audit/node_modules
# by `npm ci`, which is skipped when node_modules is already there.
set -euo pipefail
cd "$(dirname "$0")/../.."

GO=${GO:-go}
dir=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$dir"
}
trap cleanup EXIT

command -v node >/dev/null 2>&1 || { echo "audit: Node is not installed (https://nodejs.org, 18 or later)" >&2; exit 1; }
if [ ! -d scripts/audit/node_modules/graphql-http ]; then
  npm ci --prefix scripts/audit --no-audit --no-fund --loglevel=error
fi

"$GO" build -o "$dir/creditgate" ./server

: >"$dir/gateway.log"
# Port 0: the kernel picks a free port; the gateway logs the URL it got.
# Development mode: the audit asks for introspection fields without a token.
APP_ENV=development LISTEN_ADDR=127.0.0.1:0 SQLITE_PATH="$dir/audit.db" \
  JWT_SECRET="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
  "$dir/creditgate" >"$dir/stdout.log" 2>"$dir/gateway.log" &
pid=$!

url=
for _ in $(seq 1 100); do
  url=$(sed -n 's/.*creditgate listening.*url=\(http:[^ ]*\).*/\1/p' "$dir/gateway.log" | head -n 1) || true
  [ -n "$url" ] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$url" ]; then
  echo "audit: the gateway did not start:" >&2
  cat "$dir/gateway.log" >&2
  exit 1
fi
echo "audit: gateway at $url"

status=0
node scripts/audit/audit.mjs "$url/graphql" || status=$?
if [ "$status" -ne 0 ]; then
  echo "audit: gateway log:" >&2
  tail -n 50 "$dir/gateway.log" >&2
fi
exit "$status"
