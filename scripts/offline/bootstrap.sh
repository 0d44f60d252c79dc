#!/usr/bin/env bash
# One command for an offline / air-gapped machine (Debian/Ubuntu, root, Docker or apt):
# Docker (with the capability shim where the host needs it), kind, a matching kubectl,
# Kubernetes, etcd, CoreDNS, kube-router, node-exporter and busybox images built from Debian
# packages and Go modules, a kind node image with all of them preloaded, and the in-cluster runner
# image (the suite's wheel on Debian's Python).
# Idempotent and cached by inputs: a second run with nothing changed takes seconds.
# Afterwards: `source $HNC_CACHE/offline.env` (done by scripts/conformance.sh) gives the suite
# the node image and the images to load.
# kind on PATH is scripts/kind-wrapper (copied to $HNC_CACHE/bin/kind), which runs the kind built
# here and, where ensure-docker.sh installed the capability shim, gives kind's node containers alone
# the shim runtime (see scripts/ensure-docker.sh).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
source "$HERE/lib.sh"
# shellcheck source=../lib-host.sh
source "$HERE/../lib-host.sh"   # after lib.sh: its bounded says `timed out after N s: ...`
t0=$SECONDS
"$HERE/../ensure-docker.sh"
command -v go >/dev/null || { echo "offline: step go failed: Go toolchain not found (install golang)" >&2; exit 1; }
command -v gcc >/dev/null || DEBIAN_FRONTEND=noninteractive bounded "$HNC_TIMEOUT_FETCH" apt-get install -y gcc libc6-dev >/dev/null
"$HERE/build-debian-base.sh"
"$HERE/build-k8s.sh" >/dev/null
"$HERE/build-go-tools.sh"
"$HERE/build-kindnetd.sh"
"$HERE/build-images.sh"
"$HERE/build-runner.sh" >/dev/null   # after build-images.sh, which rewrites offline.env
install -D -m 0755 "$HERE/../kind-wrapper" "$CACHE/bin/kind"
# kind and kubectl on PATH (only our own links are ever replaced)
for tool in kind:"$CACHE/bin/kind" kubectl:"$CACHE/k8s/$K8S_VERSION/bin/kubectl"; do
  name=${tool%%:*} target=${tool#*:}
  link=/usr/local/bin/$name
  if [[ ! -e $link || -L $link && $(readlink "$link") == "$CACHE"/* ]]; then ln -sfn "$target" "$link"; fi
done
log "offline toolchain ready in $((SECONDS - t0))s; images: $(grep -c '=' "$CACHE/offline.env") settings in $CACHE/offline.env"
