#!/usr/bin/env bash
# Fails when the committed generated code (ent, gqlgen) differs from what
# `go generate ./...` makes from the sources.
set -euo pipefail
snapshot() { find ent graph -type f \( -name '*.go' -o -name '*.graphql' \) -print0 | sort -z | xargs -0 sha256sum; }
before=$(snapshot)
go generate ./...
after=$(snapshot)
if [ "$before" != "$after" ]; then
  echo "Generated code drifted from its sources; run 'go generate ./...' and commit the result:" >&2
  diff <(echo "$before") <(echo "$after") | grep '^[<>]' | awk '{print "  " $3}' | sort -u >&2
  exit 1
fi
echo "generated code is up to date"
