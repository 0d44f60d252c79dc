#!/usr/bin/env bash
# Build actionlint (the GitHub Actions workflow linter) from its Go module, once per version, into
# the cache; tests/test_workflow.py runs it on .github/workflows/. (Its PyPI wrapper is only an sdist
# that downloads a binary at install time, which this machine cannot do.)
# Prints the binary's path.
set -euo pipefail
# shellcheck source=lib-host.sh
source "$(dirname "$0")/lib-host.sh"
VERSION=v1.7.12
CACHE="${HNC_CACHE:-/var/cache/hostnet-conformance}"
BIN="$CACHE/tools/actionlint-$VERSION/actionlint"
if [[ ! -x "$BIN" ]]; then
  command -v go >/dev/null || { echo "install-actionlint: go is not installed (scripts/offline/bootstrap.sh installs it)" >&2; exit 1; }
  tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
  GOBIN="$tmp" CGO_ENABLED=0 bounded 900 go install -trimpath -ldflags "-s -w" \
    "github.com/rhysd/actionlint/cmd/actionlint@$VERSION" >&2 \
    || { echo "install-actionlint: go install actionlint@$VERSION failed" >&2; exit 1; }
  mkdir -p "$(dirname "$BIN")"; mv "$tmp/actionlint" "$BIN"
fi
echo "$BIN"
