# Shared helpers for the offline toolchain scripts. Sourced, never executed.
set -euo pipefail
shopt -s inherit_errexit
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SELF="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"
# shellcheck source=versions.env
source "$HERE/versions.env"
CACHE="${HNC_CACHE:-/var/cache/hostnet-conformance}"
LOGS="$CACHE/logs"
mkdir -p "$CACHE" "$LOGS"
export GOTOOLCHAIN=local GOFLAGS="${GOFLAGS:--buildvcs=false}"

# Upper bounds (seconds) for external commands; a hung download or build ends with a clear error.
: "${HNC_TIMEOUT_FETCH:=900}"    # go mod download/tidy, debootstrap, apt-get
: "${HNC_TIMEOUT_BUILD:=3600}"   # one go build / go test -c, one docker build
: "${HNC_TIMEOUT_SHORT:=300}"    # docker tag/run/commit/save, ctr import

log() { printf '[offline %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# die STEP MESSAGE: one line naming the step and its log, then exit 1.
die() { printf 'offline: step %s failed: %s (full log: %s)\n' "$1" "$2" "$LOGS/$1.log" >&2; exit 1; }

# bounded SECONDS CMD...: run an external command with a deadline (SIGTERM, then SIGKILL 30 s later).
# Exit status 124 means the deadline passed.
bounded() { local s=$1; shift; timeout --kill-after=30 "$s" "$@"; }

# go_version: the toolchain that compiles every Go step; part of every cache key.
go_version() { command -v go >/dev/null && go env GOVERSION 2>/dev/null || echo "no-go"; }

# inputs_hash FILE...: a digest of the given files plus versions.env, this library and the Go
# version, used as a cache key (a new Go or a changed helper rebuilds, never silently reuses).
inputs_hash() {
  { cat "$HERE/versions.env" "$HERE/lib.sh" "$@"; go_version; } | sha256sum | cut -c1-16
}

# cached STEP KEY CMD...: run CMD (logging to $LOGS/STEP.log) unless STEP already
# succeeded with the same KEY. CMD runs in a subshell with `set -e` in force (never under
# `if`, `!` or `||`, which would switch it off), so a step that fails in its middle is never
# stamped; the stamp is written only after the whole step succeeded.
cached() {
  local step="$1" key="$2"; shift 2
  local stamp="$CACHE/stamps/$step"
  mkdir -p "$CACHE/stamps"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$key" ]]; then
    log "$step: up to date ($key)"; return 0
  fi
  rm -f "$stamp"
  log "$step: building (log: $LOGS/$step.log)"
  local t0=$SECONDS rc
  set +e
  ( set -e; "$@" ) >"$LOGS/$step.log" 2>&1
  rc=$?
  set -e
  if [[ $rc -ne 0 ]]; then
    local why; why=$(tail -n 1 "$LOGS/$step.log" | cut -c1-200)
    [[ $rc -eq 124 ]] && why="timed out (${why})"
    die "$step" "exit $rc: $why"
  fi
  echo "$key" >"$stamp"
  log "$step: done in $((SECONDS - t0))s"
}
