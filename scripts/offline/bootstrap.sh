#!/usr/bin/env bash
# One command for an offline / air-gapped machine (Debian/Ubuntu, root, Docker or apt):
# Docker (with the capability shim where the host needs it), kind, a matching kubectl,
# Kubernetes, etcd, CoreDNS, kube-router, node-exporter and busybox images built from Debian
# packages and Go modules, a kind node image with all of them preloaded, and the in-cluster runner
# image (the suite's wheel on Debian's Python).
# Idempotent and cached by inputs: a second run with nothing changed takes seconds.
# Afterwards: `source $HNC_CACHE/offline.env` (done by scripts/conformance.sh) gives the suite
# the node image and the images to load.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
t0=$SECONDS
"$HERE/../ensure-docker.sh"
command -v go >/dev/null || { echo "offline: step go failed: Go toolchain not found (install golang)" >&2; exit 1; }
command -v gcc >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y gcc libc6-dev >/dev/null
"$HERE/build-debian-base.sh"
"$HERE/build-k8s.sh" >/dev/null
"$HERE/build-go-tools.sh"
"$HERE/build-kindnetd.sh"
"$HERE/build-images.sh"
"$HERE/build-runner.sh" >/dev/null   # after build-images.sh, which rewrites offline.env
source "$HERE/lib.sh"
# kind and kubectl on PATH (only our own links are ever replaced)
for tool in kind:"$CACHE/gobin/kind" kubectl:"$CACHE/k8s/$K8S_VERSION/bin/kubectl"; do
  name=${tool%%:*} target=${tool#*:}
  link=/usr/local/bin/$name
  if [[ ! -e $link || -L $link && $(readlink "$link") == "$CACHE"/* ]]; then ln -sfn "$target" "$link"; fi
done
log "offline toolchain ready in $((SECONDS - t0))s; images: $(grep -c '=' "$CACHE/offline.env") settings in $CACHE/offline.env"
