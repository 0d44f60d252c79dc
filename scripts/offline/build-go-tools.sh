#!/usr/bin/env bash
# Build the Go programs the offline cluster and the suite's images need, each through a
# throw-away wrapper module (so upstream replace directives never get in the way).
# Usage: build-go-tools.sh [tool...]   (default: all)
source "$(dirname "$0")/lib.sh"
BIN="$CACHE/gobin"
mkdir -p "$BIN"

# wrapper_build NAME MODULE VERSION PACKAGE [LDFLAGS]
wrapper_build() {
  local name=$1 module=$2 version=$3 pkg=$4 ldflags=${5:-}
  local dir="$CACHE/gomod/$name"
  rm -rf "$dir"; mkdir -p "$dir"; cd "$dir"
  printf 'module hnc.local/build/%s\n\ngo 1.24.0\n\nrequire %s %s\n' "$name" "$module" "$version" >go.mod
  printf 'package main\n\nimport _ "%s"\n' "$pkg" >tools.go
  # tools.go imports a main package, which Go forbids for builds; it is only there for tidy.
  sed -i '1i //go:build tools' tools.go
  bounded "$HNC_TIMEOUT_FETCH" go mod tidy -e >/dev/null 2>&1 || true
  CGO_ENABLED=0 bounded "$HNC_TIMEOUT_BUILD" go build -mod=mod -trimpath -ldflags "-s -w $ldflags" -o "$BIN/$name" "$pkg"
  bounded 30 "$BIN/$name" --version >/dev/null 2>&1 || bounded 30 "$BIN/$name" version >/dev/null 2>&1 || true
}

build_kind() { wrapper_build kind sigs.k8s.io/kind "$KIND_VERSION" sigs.k8s.io/kind; }
build_etcd() { wrapper_build etcd go.etcd.io/etcd/server/v3 "$ETCD_VERSION" go.etcd.io/etcd/server/v3; }
build_coredns() { wrapper_build coredns github.com/coredns/coredns "$COREDNS_VERSION" github.com/coredns/coredns; }
build_node_exporter() {
  local v=github.com/prometheus/common/version
  wrapper_build node_exporter github.com/prometheus/node_exporter "$NODE_EXPORTER_VERSION" \
    github.com/prometheus/node_exporter \
    "-X $v.Version=${NODE_EXPORTER_VERSION#v} -X $v.Branch=HEAD -X $v.Revision=offline -X $v.BuildUser=hostnet-conformance"
}
build_kube_router() {
  wrapper_build kube-router github.com/cloudnativelabs/kube-router/v2 "$KUBE_ROUTER_VERSION" \
    github.com/cloudnativelabs/kube-router/v2/cmd/kube-router
}

# crictl goes into the node image, so `kind export logs` and `crictl ps` work inside nodes
build_crictl() {
  wrapper_build crictl sigs.k8s.io/cri-tools "$CRICTL_VERSION" sigs.k8s.io/cri-tools/cmd/crictl \
    "-X sigs.k8s.io/cri-tools/pkg/version.Version=$CRICTL_VERSION"
}

tools=("$@"); [[ ${#tools[@]} -gt 0 ]] || tools=(kind etcd coredns node_exporter kube_router crictl)
for t in "${tools[@]}"; do
  if [[ ! -x "$BIN/${t//_/-}" && ! -x "$BIN/$t" ]]; then rm -f "$CACHE/stamps/go-$t"; fi
  cached "go-$t" "$(inputs_hash "$SELF")" "build_$t"
done
