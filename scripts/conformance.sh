#!/usr/bin/env bash
# Run the conformance suite against a kind cluster it creates (and deletes afterwards).
# Does all set-up on a fresh machine with Docker: Python dependencies, and, when the machine
# cannot pull the upstream kind node image (offline / air-gapped), the locally built images.
# Any extra arguments go to pytest:  scripts/conformance.sh -m C7 --keep-cluster
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
"$ROOT/scripts/install-python-deps.sh"
if [[ -z "${HNC_ONLINE:-}" ]] && ! docker image inspect kindest/node >/dev/null 2>&1; then
  # No upstream node image here; build (or reuse) the offline toolchain and images.
  "$ROOT/scripts/offline/bootstrap.sh"
  set -a; source "${HNC_CACHE:-/var/cache/hostnet-conformance}/offline.env"; set +a
  export HNC_OFFLINE=1
else
  "$ROOT/scripts/ensure-docker.sh"
fi
exec python3 -m pytest suites "$@"
