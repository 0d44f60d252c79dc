#!/usr/bin/env bash
# Build every container image an offline kind cluster and the suite need, from Debian packages
# and the Go binaries built by build-k8s.sh / build-go-tools.sh, and assemble the kind node image.
# Each image is tagged hnc.local/NAME:KEY where KEY hashes its inputs, so unchanged images are reused.
source "$(dirname "$0")/lib.sh"
# shellcheck source=../lib-host.sh
source "$HERE/../lib-host.sh"   # after lib.sh: its bounded says `timed out after N s: ...`
export DOCKER_BUILDKIT=0   # the classic builder works with Debian's docker.io without buildx
IMG_DIR="$HERE/images"
K8S_BIN="$CACHE/k8s/$K8S_VERSION/bin"
GOBIN="$CACHE/gobin"
DEBIAN_IMAGE="hnc.local/debian:$DEBIAN_SUITE"
CTX="$CACHE/build-context"
KIND_MOD="$(bounded 60 go env GOMODCACHE)/sigs.k8s.io/kind@$KIND_VERSION"

# content only (never paths), so a checkout elsewhere maps to the same keys
sum() { cat "$@" | sha256sum | cut -c1-12; }
dk() { bounded "$HNC_TIMEOUT_SHORT" docker "$@"; }   # every docker call but build has this deadline
have() { quiet dk image inspect "$1" >/dev/null; }

# image NAME KEY DOCKERFILE CONTEXT [build-args...]: build hnc.local/NAME:KEY unless present.
image() {
  local name=$1 key=$2 file=$3 ctx=$4; shift 4
  local ref="hnc.local/$name:$key"
  if have "$ref"; then log "image $name: up to date ($key)"; echo "$ref"; return; fi
  log "image $name: building"
  local args=() a
  for a in "$@"; do args+=(--build-arg "$a"); done
  bounded "$HNC_TIMEOUT_BUILD" docker build -q -f "$IMG_DIR/$file" "${args[@]}" -t "$ref" "$ctx" >>"$LOGS/images.log" 2>&1 \
    || die images "docker build of $name failed${BOUNDED_LAST:+ ($BOUNDED_LAST)}"
  echo "$ref"
}

# binary_image NAME SRC DEST [ENTRYPOINT-JSON] [BASE]: one static binary on a base (default: static).
binary_image() {
  local name=$1 src=$2 dest=$3 entry=${4:-} base=${5:-$STATIC}
  local c="$CTX/$name"; rm -rf "$c"; mkdir -p "$c"; cp "$src" "$c/bin"
  local key; key=$(sum "$c/bin" "$IMG_DIR/binary.Dockerfile" <(echo "$base $entry"))
  local ref; ref=$(image "$name" "$key" binary.Dockerfile "$c" "BASE=$base" BIN=bin "DEST=$dest")
  if [[ -n "$entry" ]] && [[ "$(dk image inspect -f '{{json .Config.Entrypoint}}' "$ref")" != "$entry" ]]; then
    # classic builder has no ENTRYPOINT build-arg: set it by committing a container
    local cid; cid=$(dk create "$ref" /x); dk commit --change "ENTRYPOINT $entry" "$cid" "$ref" >/dev/null; dk rm "$cid" >/dev/null
  fi
  echo "$ref"
}

mkdir -p "$CTX"; : >"$LOGS/images.log"
have "$DEBIAN_IMAGE" || die images "$DEBIAN_IMAGE missing: run build-debian-base.sh"
DEBIAN_ID=$(dk image inspect -f '{{.Id}}' "$DEBIAN_IMAGE")   # part of every key built on it

STATIC=$(image static "$(sum "$IMG_DIR/static.Dockerfile" <(echo "$DEBIAN_ID"))" \
  static.Dockerfile "$IMG_DIR" "DEBIAN_IMAGE=$DEBIAN_IMAGE")
NETBASE=$(image netbase "$(sum "$IMG_DIR/netbase.Dockerfile" <(echo "$DEBIAN_ID"))" \
  netbase.Dockerfile "$IMG_DIR" "DEBIAN_IMAGE=$DEBIAN_IMAGE")

# pause: upstream's own pause.c, statically linked
mkdir -p "$CTX/pause-build"
PAUSE_SRC="$(bounded 60 go env GOMODCACHE)/k8s.io/kubernetes@$K8S_VERSION/build/pause/linux/pause.c"
bounded "$HNC_TIMEOUT_SHORT" gcc -Os -static -DVERSION="$PAUSE_TAG" -o "$CTX/pause-build/pause" "$PAUSE_SRC" 2>>"$LOGS/images.log" || die images "compiling pause.c failed"
strip "$CTX/pause-build/pause"

declare -A REF
REF[busybox]=$(image busybox "$(sum "$IMG_DIR/busybox.Dockerfile" <(echo "$DEBIAN_ID"))" \
  busybox.Dockerfile "$IMG_DIR" "DEBIAN_IMAGE=$DEBIAN_IMAGE")
REF[kube-apiserver]=$(binary_image kube-apiserver "$K8S_BIN/kube-apiserver" /usr/local/bin/kube-apiserver)
REF[kube-controller-manager]=$(binary_image kube-controller-manager "$K8S_BIN/kube-controller-manager" /usr/local/bin/kube-controller-manager)
REF[kube-scheduler]=$(binary_image kube-scheduler "$K8S_BIN/kube-scheduler" /usr/local/bin/kube-scheduler)
REF[etcd]=$(binary_image etcd "$GOBIN/etcd" /usr/local/bin/etcd)
REF[coredns]=$(binary_image coredns "$GOBIN/coredns" /coredns '["/coredns"]')
REF[pause]=$(binary_image pause "$CTX/pause-build/pause" /pause '["/pause"]')
for agent in kube-proxy kube-router; do
  src="$K8S_BIN/$agent"; [[ -x "$src" ]] || src="$GOBIN/$agent"
  c="$CTX/$agent"; rm -rf "$c"; mkdir -p "$c"; cp "$src" "$c/bin"
  REF[$agent]=$(image "$agent" "$(sum "$c/bin" <(echo "$NETBASE"))" binary.Dockerfile "$c" \
    "BASE=$NETBASE" BIN=bin "DEST=/usr/local/bin/$agent")
done
# kind's own kindnetd (cluster flavour b), on the agents' base for iptables as kind's image has it
REF[kindnetd]=$(binary_image kindnetd "$GOBIN/kindnetd" /bin/kindnetd '["/bin/kindnetd"]' "$NETBASE")
# like upstream's image, node-exporter sits on busybox, so a shell is there to look around with
REF[node-exporter]=$(binary_image node-exporter "$GOBIN/node_exporter" /bin/node_exporter '["/bin/node_exporter"]' "${REF[busybox]}")

# Upstream names: Kubernetes images exactly as this kubeadm lists them; workload images as the
# suite's manifests name them (so manifests are identical online and offline).
mapfile -t KUBEADM_IMAGES < <(bounded 60 "$K8S_BIN/kubeadm" config images list --kubernetes-version "$K8S_VERSION" 2>/dev/null)
[[ ${#KUBEADM_IMAGES[@]} -ge 6 ]] || die images "kubeadm config images list printed nothing"
UPSTREAM=()
for up in "${KUBEADM_IMAGES[@]}"; do
  base=${up##*/}; base=${base%%:*}
  [[ -n "${REF[$base]:-}" ]] || die images "no local build for kubeadm image $up"
  dk tag "${REF[$base]}" "$up"; UPSTREAM+=("$up")
done
dk tag "${REF[kube-router]}" hnc.local/kube-router:offline
dk tag "${REF[node-exporter]}" "prom/node-exporter:$NODE_EXPORTER_VERSION"
dk tag "${REF[busybox]}" busybox:1.36.1
PAUSE_REF=$(printf '%s\n' "${UPSTREAM[@]}" | grep /pause:)

# ---- the node base image (kind's images/base, from Debian packages)
NB="$CTX/node-base"; rm -rf "$NB"; mkdir -p "$NB/bin"
cp -r "$KIND_MOD/images/base/files" "$NB/files"; chmod -R u+w "$NB/files"
cp -r "$IMG_DIR/node-files/." "$NB/files/"   # the node's own resolver (hnc-node-dns): no name leaves the machine
# kind's entrypoint asks DNS for host.docker.internal at every node start; Linux Docker does not
# hold that name, so its embedded DNS forwarded the query off the machine and kind fell back to the
# default gateway. Here only /etc/hosts is asked (the same answer on Linux, and no query).
grep -q "getent ahostsv4 'host.docker.internal'" "$NB/files/usr/local/bin/entrypoint" \
  || die images "kind's entrypoint no longer looks up host.docker.internal as expected: review the patch"
sed -i "s/getent ahostsv4 'host.docker.internal'/getent -s files ahostsv4 'host.docker.internal'/" \
  "$NB/files/usr/local/bin/entrypoint"
cp "$K8S_BIN/kubeadm" "$K8S_BIN/kubelet" "$K8S_BIN/kubectl" "$NB/bin/"
[[ -x "$GOBIN/crictl" ]] && cp "$GOBIN/crictl" "$NB/bin/"
sed -i "s#^\(\s*sandbox_image = \).*#\1\"$PAUSE_REF\"#" "$NB/files/etc/containerd/config.toml"
NODE_BASE=$(image node-base "$(sum "$IMG_DIR/node-base.Dockerfile" <(cd "$NB" && find . -type f -exec sha256sum {} + | sort) \
  <(echo "$DEBIAN_ID"))" node-base.Dockerfile "$NB" "DEBIAN_IMAGE=$DEBIAN_IMAGE")

# ---- the node image: the base plus every image kubeadm and the CNI need, in containerd's k8s.io namespace
NODE_TAG="hnc.local/kind-node:$K8S_VERSION"
# The suite's own two images ride along, unpinned (as `kind load` leaves them): a fresh cluster then
# needs no `kind load` import while its nodes start (kind load finds them present and skips them), which
# on 2 cores took ~13 s of CPU from the nodes coming up.
SUITE_IMAGES=("prom/node-exporter:$NODE_EXPORTER_VERSION" busybox:1.36.1)
ids=$(for r in "$NODE_BASE" "${UPSTREAM[@]}" hnc.local/kube-router:offline "${SUITE_IMAGES[@]}"; do dk image inspect -f '{{.Id}}' "$r"; done)
NODE_KEY=$(sum <(echo "$ids") "$IMG_DIR/default-cni.yaml" "$SELF")
if have "hnc.local/kind-node:$NODE_KEY"; then
  log "image kind-node: up to date ($NODE_KEY)"
else
  log "image kind-node: assembling"
  runtime=$(shim_runtime_flag)   # the capability shim, where ensure-docker.sh registered it
  cid=$(dk run -d ${runtime:+"$runtime"} --privileged --entrypoint=sleep "$NODE_BASE" infinity)
  trap 'dk rm -f "$cid" >/dev/null 2>&1 || true' EXIT
  inside() { dk exec "$cid" "$@"; }
  inside bash -c 'nohup containerd >/tmp/containerd.log 2>&1 &'
  for _ in $(seq 1 100); do inside ctr version >/dev/null 2>&1 && break; read -r -t 0.2 <> <(:) || true; done
  inside ctr version >/dev/null 2>&1 || die images "containerd did not start in the node build container"
  dk save "${UPSTREAM[@]}" hnc.local/kube-router:offline \
    | dk exec -i "$cid" ctr --namespace=k8s.io images import --label=io.cri-containerd.pinned=pinned \
        --all-platforms --no-unpack --digests - >>"$LOGS/images.log" 2>&1 || die images "ctr import into the node image failed"
  dk save "${SUITE_IMAGES[@]}" \
    | dk exec -i "$cid" ctr --namespace=k8s.io images import \
        --all-platforms --no-unpack --digests - >>"$LOGS/images.log" 2>&1 || die images "ctr import of the suite's images failed"
  inside mkdir -p /kind/manifests
  dk cp "$IMG_DIR/default-cni.yaml" "$cid:/kind/manifests/default-cni.yaml"
  inside bash -c "echo $K8S_VERSION > /kind/version"
  inside pkill containerd || true
  for _ in $(seq 1 100); do inside pgrep containerd >/dev/null || break; read -r -t 0.2 <> <(:) || true; done
  inside rm -rf /tmp/containerd.log
  dk commit \
    --change 'ENTRYPOINT [ "/usr/local/bin/entrypoint", "/sbin/init" ]' \
    --change 'CMD []' \
    "$cid" "hnc.local/kind-node:$NODE_KEY" >/dev/null
  dk rm -f "$cid" >/dev/null; trap - EXIT
fi
dk tag "hnc.local/kind-node:$NODE_KEY" "$NODE_TAG"

cat >"$CACHE/offline.env" <<ENV
# written by scripts/offline/build-images.sh
HNC_NODE_IMAGE=$NODE_TAG
HNC_NODE_EXPORTER_IMAGE=prom/node-exporter:$NODE_EXPORTER_VERSION
HNC_PROBE_IMAGE=busybox:1.36.1
HNC_PAUSE_IMAGE=${REF[pause]}
HNC_LOAD_IMAGES=prom/node-exporter:$NODE_EXPORTER_VERSION,busybox:1.36.1
HNC_KINDNETD_IMAGE=${REF[kindnetd]}
ENV
log "node image: $NODE_TAG"

# Drop our own superseded builds (hnc.local/NAME:KEY tags no longer current) so disk use stays flat.
current=" $STATIC $NETBASE $NODE_BASE hnc.local/kind-node:$NODE_KEY ${REF[*]} "
# (build-e2e.sh's images, hnc.local/e2e/* and hnc.local/e2e-tools, are its own to prune)
dk images --format '{{.Repository}}:{{.Tag}}' | grep '^hnc\.local/' | grep -vE '^hnc\.local/e2e[/-]' \
  | grep -vE ':(offline|bookworm|v[0-9]+\.[0-9]+\.[0-9]+)$' | while read -r old; do
    [[ "$current" == *" $old "* ]] || dk rmi "$old" >/dev/null 2>&1 || true
  done || true   # nothing superseded: grep exits 1
