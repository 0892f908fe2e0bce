#!/usr/bin/env bash
# make client-types: extract the portal's and the dashboard's GraphQL
# documents from web/assets/js/*.js into web/graphql/, then generate their
# typed operations (TypeScript, graphql-codegen's client preset) into
# clients/typescript/src/ (clients/typescript/codegen.yml). Installs the
# pinned tools from package-lock.json (npm ci) when they are missing or the
# lock file changed.
set -euo pipefail
cd "$(dirname "$0")/../clients/typescript"

command -v node >/dev/null 2>&1 || { echo "client-types: Node is not installed (https://nodejs.org, 20 or later)" >&2; exit 1; }
if [ ! -x node_modules/.bin/graphql-codegen ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
node extract.mjs
node_modules/.bin/graphql-codegen --config codegen.yml --silent
