#!/usr/bin/env bash
# Build kwok (sigs.k8s.io/kwok), the simulated kubelets behind scripts/fake_nodes.py (issue 22's
# scale rows: scripts/benchmark.py --scale). On demand only; CI never builds it.
#     bash scripts/offline/build-kwok.sh
# Its version lives here, not in versions.env: versions.env is part of every cached step's key, so
# a line there would rebuild the whole offline cache once. The binary carries no stages of its own
# (kwokctl adds them), so the step also writes upstream's default ones, from the module's source,
# next to it: nodes initialised and heartbeating with leases, pods made ready, completed, deleted.
source "$(dirname "$0")/lib.sh"
KWOK_VERSION=v0.8.0
BIN="$CACHE/gobin"
STAGES="$BIN/kwok-stages.yaml"
mkdir -p "$BIN"

build() {
  local dir="$CACHE/gomod/kwok"
  rm -rf "$dir"; mkdir -p "$dir"; cd "$dir"
  # a throw-away module that requires kwok, so kwok's own replace directives never apply
  printf 'module hnc.local/build/kwok\n\ngo 1.24.0\n\nrequire sigs.k8s.io/kwok %s\n' "$KWOK_VERSION" >go.mod
  printf '//go:build tools\n\npackage main\n\nimport _ "sigs.k8s.io/kwok/cmd/kwok"\n' >tools.go
  bounded "$HNC_TIMEOUT_FETCH" go mod tidy -e >/dev/null 2>&1 || true
  CGO_ENABLED=0 bounded "$HNC_TIMEOUT_BUILD" go build -mod=mod -trimpath -ldflags "-s -w" -o "$BIN/kwok" sigs.k8s.io/kwok/cmd/kwok
  local src f first=1
  src=$(go list -mod=mod -m -f '{{.Dir}}' sigs.k8s.io/kwok)
  for f in node/fast/node-initialize node/heartbeat-with-lease/node-heartbeat-with-lease \
           pod/fast/pod-ready pod/fast/pod-complete pod/fast/pod-delete; do
    [[ $first ]] || echo "---"; first=
    cat "$src/kustomize/stage/$f.yaml"
  done >"$STAGES.tmp"
  mv "$STAGES.tmp" "$STAGES"
  "$BIN/kwok" --version
}

# a binary of this version with its stages is kept, whatever step built it
if [[ -x $BIN/kwok && -s $STAGES ]] && "$BIN/kwok" --version 2>/dev/null | grep -qF "version $KWOK_VERSION "; then
  log "kwok $KWOK_VERSION: up to date ($BIN/kwok)"
  exit 0
fi
rm -f "$CACHE/stamps/go-kwok"
cached go-kwok "$(inputs_hash "$SELF")" build
