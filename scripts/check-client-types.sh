#!/usr/bin/env bash
# Fails when the committed typed clients (web/graphql/, the documents taken
# from web/assets/js/*.js, and clients/typescript/src/, graphql-codegen's
# output) differ from what `make client-types` makes from schema.graphql and
# the JS modules.
#
# Needs Node (20+) and, the first time, the npm registry (`npm ci` from
# clients/typescript/package-lock.json). Without Node it says so and skips,
# or fails when CI is set (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v node >/dev/null 2>&1; then
  if [ -n "${CI:-}" ]; then
    echo "check-client-types: Node is not installed (https://nodejs.org, 20 or later)" >&2
    exit 1
  fi
  echo "check-client-types: skipped, Node is not installed (make client-types needs Node 20 or later)"
  exit 0
fi
snapshot() { find web/graphql clients/typescript/src -type f -print0 2>/dev/null | sort -z | xargs -0 -r sha256sum; }
before=$(snapshot)
./scripts/client-types.sh >/dev/null
after=$(snapshot)
if [ "$before" != "$after" ]; then
  echo "Typed clients drifted from schema.graphql or web/assets/js; run 'make client-types' and commit the result:" >&2
  diff <(echo "$before") <(echo "$after") | grep '^[<>]' | awk '{print "  " $3}' | sort -u >&2
  exit 1
fi
echo "typed clients are up to date"
