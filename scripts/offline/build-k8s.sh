#!/usr/bin/env bash
# Build the Kubernetes binaries kind's node image needs from the Go module proxy,
# with the same version ldflags as hack/lib/version.sh so kubeadm reports the real version.
source "$(dirname "$0")/lib.sh"
OUT="$CACHE/k8s/$K8S_VERSION/bin"

build() {
  local mod="$CACHE/k8s/$K8S_VERSION/mod"
  mkdir -p "$mod" "$OUT"
  cd "$mod"
  local staging
  staging=$(bounded "$HNC_TIMEOUT_FETCH" go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | python3 -c 'import json,sys; print(json.load(sys.stdin)["GoMod"])')
  {
    echo "module hnc.local/k8sbuild"; echo; echo "go 1.24.0"; echo
    echo "require k8s.io/kubernetes $K8S_VERSION"; echo; echo "replace ("
    # Each staging module k8s.io/X that upstream replaces with ./staging is published as v0.N.
    sed -n 's#^\s*\(k8s.io/[a-z0-9-]*\) => ./staging/.*#\t\1 => \1 '"$K8S_STAGING_VERSION"'#p' "$staging"
    echo ")"
  } >go.mod
  cat >main.go <<'GO'
package main

import (
	_ "k8s.io/kubernetes/cmd/kubelet/app"
)

func main() {}
GO
  bounded "$HNC_TIMEOUT_FETCH" go mod tidy
  local major minor pkg ld date
  major=${K8S_VERSION#v}; minor=${major#*.}; minor=${minor%%.*}; major=${major%%.*}
  date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  ld="-s -w"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
    ld+=" -X $pkg.gitCommit=0000000000000000000000000000000000000000 -X $pkg.gitTreeState=clean -X $pkg.buildDate=$date"
  done
  CGO_ENABLED=0 bounded "$HNC_TIMEOUT_BUILD" go build -mod=mod -trimpath -ldflags "$ld" -o "$OUT/" \
    k8s.io/kubernetes/cmd/kubeadm k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kubectl \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kube-proxy
  bounded 30 "$OUT/kubeadm" version -o short | grep -qx "$K8S_VERSION"
}

cached k8s-binaries "$(inputs_hash "$SELF")" build
echo "$OUT"
