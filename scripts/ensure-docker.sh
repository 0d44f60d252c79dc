#!/usr/bin/env bash
# Make sure a Docker daemon answers. Idempotent: a running daemon is reused as is.
# On a machine without Docker (Debian/Ubuntu, root) it installs Debian's docker.io and starts
# dockerd; on hosts whose capability bounding set is reduced it registers the hnc-runc shim
# so privileged kind nodes can start.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
LOG=${HNC_DOCKERD_LOG:-/var/log/hnc-dockerd.log}
fail() { echo "ensure-docker: $*" >&2; exit 1; }

if docker info >/dev/null 2>&1; then exit 0; fi

if ! command -v dockerd >/dev/null 2>&1 && [[ ! -x /usr/sbin/dockerd ]]; then
  [[ $(id -u) == 0 ]] || fail "Docker is not running and dockerd is not installed; install Docker or run as root"
  command -v apt-get >/dev/null || fail "Docker is not running and this is not a Debian-like system; install Docker"
  echo "ensure-docker: installing docker.io" >&2
  (timeout 900 apt-get update && DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y docker.io) >"$LOG.install" 2>&1 \
    || fail "apt-get install docker.io failed (log: $LOG.install)"
fi
[[ $(id -u) == 0 ]] || fail "Docker is not running; start it (sudo systemctl start docker)"

# Full bounding set on this kernel = every bit up to cap_last_cap.
last=$(cat /proc/sys/kernel/cap_last_cap)
full=$(( (1 << (last + 1)) - 1 ))
bnd=$(( 16#$(awk '/^CapBnd/ {print $2}' /proc/self/status) ))
mkdir -p /etc/docker
if (( (bnd & full) != full )); then
  install -D -m 0755 "$HERE/hnc-runc" /usr/local/libexec/hnc-runc
  # Merge our runtime into an existing daemon.json (keep every other setting; back it up once).
  timeout 30 python3 - /etc/docker/daemon.json /usr/local/libexec/hnc-runc <<'PY' || fail "cannot merge /etc/docker/daemon.json (is it valid JSON?)"
import json, os, shutil, sys
path, runc = sys.argv[1], sys.argv[2]
conf = {}
if os.path.exists(path):
    with open(path) as f:
        text = f.read()
    conf = json.loads(text) if text.strip() else {}
want = dict(conf)
want.setdefault("runtimes", {})
want["runtimes"] = dict(want["runtimes"], **{"hnc-runc": {"path": runc}})
want["default-runtime"] = "hnc-runc"
if want != conf:
    if os.path.exists(path) and not os.path.exists(path + ".hnc-backup"):
        shutil.copy2(path, path + ".hnc-backup")
    with open(path + ".tmp", "w") as f:
        json.dump(want, f, indent=2)
    os.replace(path + ".tmp", path)
PY
fi

if command -v systemctl >/dev/null && systemctl is-system-running >/dev/null 2>&1; then
  timeout 120 systemctl start docker || true
fi
if ! docker info >/dev/null 2>&1; then
  pgrep -x dockerd >/dev/null || (setsid /usr/sbin/dockerd >"$LOG" 2>&1 &)
fi
for _ in $(seq 1 120); do
  docker info >/dev/null 2>&1 && exit 0
  read -r -t 0.5 <> <(:) || true   # half-second pause without sleep(1)
done
fail "dockerd did not answer within 60s (log: $LOG)"
