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

log() { printf '[offline %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# die STEP MESSAGE: one line naming the step and its log, then exit 1.
die() { printf 'offline: step %s failed: %s (full log: %s)\n' "$1" "$2" "$LOGS/$1.log" >&2; exit 1; }

# inputs_hash FILE...: a digest of the given files plus versions.env, used as a cache key.
inputs_hash() { cat "$HERE/versions.env" "$@" | sha256sum | cut -c1-16; }

# cached STEP KEY CMD...: run CMD (logging to $LOGS/STEP.log) unless STEP already
# succeeded with the same KEY. The stamp is written only after success, so a
# half-built step is never mistaken for a finished one.
cached() {
  local step="$1" key="$2"; shift 2
  local stamp="$CACHE/stamps/$step"
  mkdir -p "$CACHE/stamps"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$key" ]]; then
    log "$step: up to date ($key)"; return 0
  fi
  rm -f "$stamp"
  log "$step: building (log: $LOGS/$step.log)"
  local t0=$SECONDS
  if ! ( "$@" ) >"$LOGS/$step.log" 2>&1; then
    die "$step" "$(tail -n 1 "$LOGS/$step.log" | cut -c1-200)"
  fi
  echo "$key" >"$stamp"
  log "$step: done in $((SECONDS - t0))s"
}
