#!/usr/bin/env bash
# Re-downloads the GraphiQL UMD build and its React peers from the npm
# registry and copies the few files the page needs into ./assets.
#
# Not run by the build: the assets are committed and embedded with go:embed.
# Run it (via `make -C graphiql assets`) only to refresh or bump versions;
# with unchanged pins it is idempotent and reproduces byte-identical files.
#
# To bump a version: change the pin below, set its integrity to the output of
# `npm view PKG@VERSION dist.integrity`, run this script, then run
# `go test ./graphiql/` and look at the page in a browser.
set -euo pipefail

# name|version|npm dist.integrity of the tarball
PACKAGES=(
  "graphiql|3.9.0|sha512-rJYFlHdBbug9+YbFSwRVvgfPjCayC7wHecZkx/qB4XLuQPFQZw/yB9pmHFtOJV6RiNBBHro3u1GdocKa3YcGRA=="
  "react|18.3.1|sha512-wS+hAgJShR0KhEvPJArfuPVN1+Hz1t0Y6n5jLrGQbkb4urgPE/0Rve+1kMB1v/oWgHgm4WIcV+i7F2pTVj+2iQ=="
  "react-dom|18.3.1|sha512-5m4nQKp+rZRb09LNH59GM4BxTh9251/ylbKIbpe7TpGxfJ+9kv6BLkLBXIjjspbgbnIBNqlI23tRnTWT0snUIw=="
)

# package|path inside the tarball|file name in assets/
FILES=(
  "graphiql|package/graphiql.min.js|graphiql.min.js"
  "graphiql|package/graphiql.min.css|graphiql.min.css"
  "graphiql|package/LICENSE|LICENSE-graphiql.txt"
  "react|package/umd/react.production.min.js|react.production.min.js"
  "react|package/LICENSE|LICENSE-react.txt"
  "react-dom|package/umd/react-dom.production.min.js|react-dom.production.min.js"
  "react-dom|package/LICENSE|LICENSE-react-dom.txt"
)

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
assets="$here/assets"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

for cmd in npm node tar sha256sum; do
  command -v "$cmd" >/dev/null || { echo "fetch-assets: $cmd not found" >&2; exit 1; }
done

declare -A version
for entry in "${PACKAGES[@]}"; do
  IFS='|' read -r name ver want <<<"$entry"
  version[$name]="$ver"
  (cd "$work" && npm pack --silent --pack-destination "$work" "$name@$ver" >/dev/null)
  tgz="$work/$name-$ver.tgz"
  got="sha512-$(node -e 'const c=require("crypto"),f=require("fs");process.stdout.write(c.createHash("sha512").update(f.readFileSync(process.argv[1])).digest("base64"))' "$tgz")"
  if [[ "$got" != "$want" ]]; then
    echo "fetch-assets: integrity mismatch for $name@$ver: got $got, want $want" >&2
    exit 1
  fi
  mkdir -p "$work/$name"
  tar -xzf "$tgz" -C "$work/$name"
done

mkdir -p "$assets"
for entry in "${FILES[@]}"; do
  IFS='|' read -r name src dst <<<"$entry"
  [[ -f "$work/$name/$src" ]] || { echo "fetch-assets: $name@${version[$name]} has no $src" >&2; exit 1; }
  install -m 0644 "$work/$name/$src" "$assets/$dst"
done

{
  echo "Third-party files in this directory, copied verbatim from npm packages."
  echo "Refresh (or bump the pins in fetch-assets.sh, then refresh) with:"
  echo
  echo "    make -C graphiql assets      # runs graphiql/fetch-assets.sh"
  echo
  for entry in "${PACKAGES[@]}"; do
    IFS='|' read -r name ver want <<<"$entry"
    echo "$name@$ver  $want"
    for f in "${FILES[@]}"; do
      IFS='|' read -r fname src dst <<<"$f"
      [[ "$fname" == "$name" ]] && echo "    $dst  <-  $src"
    done
  done
  echo
  echo "init.js is ours (boots GraphiQL from the page's data attributes); the"
  echo "script does not touch it."
  echo
  echo "sha256:"
  (cd "$assets" && for f in "${FILES[@]}"; do IFS='|' read -r _ _ dst <<<"$f"; sha256sum "$dst"; done)
} >"$assets/VERSIONS.txt"

echo "fetch-assets: updated $assets"
