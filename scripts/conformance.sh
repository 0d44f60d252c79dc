#!/usr/bin/env bash
# Run the conformance suite against a kind cluster it creates (and deletes afterwards).
# Does all set-up on a fresh machine with Docker: Python dependencies, Docker itself
# (scripts/ensure-docker.sh), and the images. Where the images come from is decided without asking
# any registry (nothing is pulled to find out):
#   HNC_ONLINE=1     from their registries (kind's node image, the suite's images);
#   HNC_NODE_IMAGE   names an image present in the local Docker daemon: offline, with the images the
#                    caller set (e.g. after `set -a; source $HNC_CACHE/offline.env`);
#   HNC_OFFLINE=1    offline: scripts/offline/bootstrap.sh builds (or reuses, cached) every image from
#                    Debian packages and Go modules, and its offline.env is sourced;
#   none of these    offline, as with HNC_OFFLINE=1, with one line saying HNC_ONLINE=1 uses registries.
# Any extra arguments go to pytest:  scripts/conformance.sh -m C7 --keep-cluster
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
# shellcheck source=lib-host.sh
source "$ROOT/scripts/lib-host.sh"
say() { echo "conformance: $*" >&2; }
if [[ "${HNC_ONLINE:-}" == 1 && "${HNC_OFFLINE:-}" == 1 ]]; then
  say "HNC_ONLINE=1 and HNC_OFFLINE=1 contradict each other: set one"; exit 2
fi
"$ROOT/scripts/install-python-deps.sh"
"$ROOT/scripts/ensure-docker.sh"
if [[ "${HNC_ONLINE:-}" == 1 ]]; then
  :   # images come from their registries
elif [[ -n "${HNC_NODE_IMAGE:-}" ]] && quiet bounded 60 docker image inspect "$HNC_NODE_IMAGE" >/dev/null; then
  export HNC_OFFLINE=1   # the caller built and set the offline images
else
  [[ -z "${BOUNDED_LAST:-}" ]] || exit 1   # docker did not answer (quiet said so)
  if [[ -n "${HNC_NODE_IMAGE:-}" ]]; then
    say "HNC_NODE_IMAGE=$HNC_NODE_IMAGE is not in the local Docker daemon: build or load it, unset HNC_NODE_IMAGE for the offline images, or set HNC_ONLINE=1 to pull it"
    exit 2
  fi
  if [[ "${HNC_OFFLINE:-}" != 1 ]]; then
    say "offline (the default; no registry is asked): building or reusing the local images (scripts/offline/bootstrap.sh); HNC_ONLINE=1 uses registries instead"
  fi
  "$ROOT/scripts/offline/bootstrap.sh"
  set -a
  # shellcheck source=/dev/null
  source "${HNC_CACHE:-/var/cache/hostnet-conformance}/offline.env"
  set +a
  export HNC_OFFLINE=1
fi
exec python3 -m pytest suites "$@"
