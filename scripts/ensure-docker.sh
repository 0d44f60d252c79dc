#!/usr/bin/env bash
# Make sure a Docker daemon answers. Idempotent: a running daemon is reused as it is (its settings and
# its containers are never changed). On a machine without Docker (Debian/Ubuntu, root) it installs
# Debian's docker.io and starts dockerd.
#
# The capability shim (scripts/hnc-runc), only on hosts whose capability bounding set is reduced, where
# `docker run --privileged` fails with "unable to apply caps": kind's node containers and the project's
# own privileged build containers run with it; every other container keeps the daemon's default runtime.
#   - /usr/local/libexec/hnc-runc, registered as the extra runtime hnc-runc: only the "runtimes" key of
#     /etc/docker/daemon.json is merged (every other key kept; the file is backed up once, as
#     daemon.json.hnc-backup), and only on a daemon this script starts. It is never the default runtime.
#   - /usr/local/libexec/hnc/kind-docker/docker (scripts/kind-docker): a docker wrapper that adds
#     --runtime=hnc-runc to kind's node containers; the kind on PATH (scripts/kind-wrapper, linked by
#     scripts/offline/bootstrap.sh) puts it first on kind's PATH only.
#   - the build scripts pass --runtime=hnc-runc to their own privileged containers when the daemon has
#     the runtime (scripts/lib-host.sh, shim_runtime_flag).
# An earlier version of this script made hnc-runc the default runtime ("default-runtime": "hnc-runc" in
# daemon.json). A daemon this script starts loses that setting; a running daemon keeps it, and one line
# says how to undo it.
#
# Undo: remove "hnc-runc" from "runtimes" (and "default-runtime": "hnc-runc", if there) in
# /etc/docker/daemon.json, restart dockerd (systemctl restart docker), and
# rm -r /usr/local/libexec/hnc-runc /usr/local/libexec/hnc
#
# Paths for tests: HNC_DOCKER_DAEMON_JSON (daemon.json), HNC_LIBEXEC (/usr/local/libexec),
# HNC_CAPBND (the capability bounding set, hex; default: this process's), HNC_DOCKERD_LOG.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=lib-host.sh
source "$HERE/lib-host.sh"
LOG=${HNC_DOCKERD_LOG:-/var/log/hnc-dockerd.log}
CONF=${HNC_DOCKER_DAEMON_JSON:-/etc/docker/daemon.json}
LIBEXEC=${HNC_LIBEXEC:-/usr/local/libexec}
SHIM=$LIBEXEC/hnc-runc
KIND_DOCKER=$LIBEXEC/hnc/kind-docker/docker
say() { echo "ensure-docker: $*" >&2; }
fail() { say "$*"; exit 1; }
answers() { bounded 20 docker info >/dev/null 2>&1; }

# Does this host's capability bounding set lack a capability this kernel has?
needs_shim() {
  local last full bnd
  last=$(cat /proc/sys/kernel/cap_last_cap)
  full=$(( (1 << (last + 1)) - 1 ))
  bnd=$(( 16#${HNC_CAPBND:-$(awk '/^CapBnd/ {print $2}' /proc/self/status)} ))
  (( (bnd & full) != full ))
}

# The shim and kind's docker wrapper, copied when missing or changed (one line says so).
install_shim() {
  if cmp -s "$HERE/hnc-runc" "$SHIM" && cmp -s "$HERE/kind-docker" "$KIND_DOCKER"; then return 0; fi
  say "this host's capability bounding set is reduced: installing the capability shim $SHIM for kind's nodes and the project's privileged containers only (never the default runtime; undo: see the header of scripts/ensure-docker.sh)"
  install -D -m 0755 "$HERE/hnc-runc" "$SHIM"
  install -D -m 0755 "$HERE/kind-docker" "$KIND_DOCKER"
}

# daemon_json old-default: status 0 when daemon.json makes hnc-runc the default runtime.
# daemon_json merge: add the runtime hnc-runc (every other key kept) and remove our own earlier
# "default-runtime": "hnc-runc"; prints "removed-default" when it did.
daemon_json() {
  bounded 30 python3 - "$1" "$CONF" "$SHIM" <<'PY'
import json, os, shutil, sys
mode, path, shim = sys.argv[1:4]
conf = {}
if os.path.exists(path):
    with open(path) as f:
        text = f.read()
    conf = json.loads(text) if text.strip() else {}
if mode == "old-default":
    sys.exit(0 if conf.get("default-runtime") == "hnc-runc" else 1)
want = dict(conf)
want["runtimes"] = dict(conf.get("runtimes") or {}, **{"hnc-runc": {"path": shim}})
if want.get("default-runtime") == "hnc-runc":
    del want["default-runtime"]
    print("removed-default")
if want != conf:
    if os.path.exists(path) and not os.path.exists(path + ".hnc-backup"):
        shutil.copy2(path, path + ".hnc-backup")
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path + ".tmp", "w") as f:
        json.dump(want, f, indent=2)
    os.replace(path + ".tmp", path)
PY
}

if answers; then
  if [[ -f $CONF ]] && daemon_json old-default; then
    say "$CONF makes hnc-runc (the capability shim) the default runtime of every container, as an earlier version of this script set it; this running daemon is left as it is. To undo: remove \"default-runtime\": \"hnc-runc\" from $CONF and restart dockerd (systemctl restart docker)"
  fi
  if needs_shim; then
    if [[ -n $(shim_runtime_flag) ]]; then
      install_shim
    else
      say "this host's capability bounding set is reduced and the running daemon has no hnc-runc runtime: kind's privileged nodes may not start (\"unable to apply caps\"); stop dockerd and run this script again to register it"
    fi
  fi
  exit 0
fi

if ! command -v dockerd >/dev/null 2>&1 && [[ ! -x /usr/sbin/dockerd ]]; then
  [[ $(id -u) == 0 ]] || fail "Docker is not running and dockerd is not installed; install Docker or run as root"
  command -v apt-get >/dev/null || fail "Docker is not running and this is not a Debian-like system; install Docker"
  say "installing docker.io"
  (bounded 900 apt-get update && DEBIAN_FRONTEND=noninteractive bounded 900 apt-get install -y docker.io) >"$LOG.install" 2>&1 \
    || fail "apt-get install docker.io failed (log: $LOG.install)"
fi
[[ $(id -u) == 0 ]] || fail "Docker is not running; start it (sudo systemctl start docker)"

if needs_shim; then
  install_shim
  merged=$(daemon_json merge) || fail "cannot merge $CONF (is it valid JSON?)"
  if [[ $merged == removed-default ]]; then
    say "removed \"default-runtime\": \"hnc-runc\" (set by an earlier version of this script) from $CONF: only kind's nodes and the project's privileged containers use the shim"
  fi
fi

if command -v systemctl >/dev/null && bounded 30 systemctl is-system-running >/dev/null 2>&1; then
  bounded 120 systemctl start docker || true
fi
if ! answers; then
  pgrep -x dockerd >/dev/null || (setsid "$(command -v dockerd || echo /usr/sbin/dockerd)" >"$LOG" 2>&1 &)
fi
deadline=$((SECONDS + 60))
while (( SECONDS < deadline )); do
  answers && exit 0
  read -r -t 0.5 <> <(:) || true   # half-second pause without sleep(1)
done
fail "dockerd did not answer within 60s (log: $LOG)"
