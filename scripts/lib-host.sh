# shellcheck shell=bash
# Helpers for the scripts that drive host tools (docker, kind, kubectl, apt-get, go). Sourced, never
# executed; needs nothing else. Kept apart from scripts/offline/lib.sh, whose text is part of every
# offline cache key (a change there rebuilds the whole offline toolchain).

# bounded SECONDS CMD...: CMD under a deadline (SIGTERM at SECONDS, SIGKILL 30 s later). Past it, one
# line `timed out after SECONDS s: CMD` on stderr and status 124: the contract of offline/lib.sh's
# bounded, plus that line (a script sourcing both gets this one: source it after lib.sh).
# BOUNDED_LAST holds the line afterwards (empty when CMD ended in time), for a caller whose stderr went
# to a log or /dev/null (see quiet).
bounded() {
  local s=$1 t0=$SECONDS rc=0
  shift
  BOUNDED_LAST=""
  timeout --kill-after=30 "$s" "$@" || rc=$?
  # 124: CMD ended on the SIGTERM at the deadline; 137 after the deadline: it needed the SIGKILL
  if (( rc == 124 || (rc == 137 && SECONDS - t0 >= s) )); then
    BOUNDED_LAST="timed out after $s s: ${1##*/} ${*:2:3}"
    echo "$BOUNDED_LAST" >&2
    return 124
  fi
  return "$rc"
}

# quiet CMD...: CMD (a bounded call) with its stderr dropped, all but bounded's timed-out line.
quiet() {
  local rc=0
  BOUNDED_LAST=""
  "$@" 2>/dev/null || rc=$?
  if [[ -n $BOUNDED_LAST ]]; then echo "$BOUNDED_LAST" >&2; fi
  return "$rc"
}

# shim_runtime_flag: prints --runtime=hnc-runc when the Docker daemon has the capability shim
# registered (scripts/ensure-docker.sh registers it, never as the default runtime, on hosts whose
# capability bounding set is reduced), else nothing. For the project's own privileged containers:
# `docker run $(shim_runtime_flag) --privileged ...`. Fails when the daemon does not answer.
shim_runtime_flag() {
  local runtimes
  runtimes=$(bounded 60 docker info --format '{{json .Runtimes}}') || return 1
  if [[ $runtimes == *'"hnc-runc"'* ]]; then echo --runtime=hnc-runc; fi
}
