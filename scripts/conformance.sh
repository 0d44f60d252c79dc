#!/usr/bin/env bash
# Run the conformance suite against a kind cluster it creates (and deletes afterwards).
# Does all set-up on a fresh machine with Docker: Python dependencies, and, when the machine
# cannot pull images (offline / air-gapped, or HNC_OFFLINE=1), the locally built images.
# Any extra arguments go to pytest:  scripts/conformance.sh -m C7 --keep-cluster
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
"$ROOT/scripts/install-python-deps.sh"
if [[ -n "${HNC_NODE_IMAGE:-}" && -n "${HNC_OFFLINE:-}" ]]; then
  "$ROOT/scripts/ensure-docker.sh"   # the caller already built and sourced the offline images
elif [[ "${HNC_ONLINE:-}" == 1 ]]; then
  "$ROOT/scripts/ensure-docker.sh"   # images come from their registries
elif [[ "${HNC_OFFLINE:-}" == 1 ]] || ! { "$ROOT/scripts/ensure-docker.sh" && timeout 60 docker pull -q busybox:1.36.1 >/dev/null 2>&1; }; then
  # No registry reachable (the probe image cannot be pulled): build or reuse the offline toolchain.
  "$ROOT/scripts/offline/bootstrap.sh"
  set -a; source "${HNC_CACHE:-/var/cache/hostnet-conformance}/offline.env"; set +a
  export HNC_OFFLINE=1
fi
exec python3 -m pytest suites "$@"
