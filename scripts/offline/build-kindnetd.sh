#!/usr/bin/env bash
# kind's own CNI daemon, kindnetd, for cluster flavour b (fixtures/flavours.yaml). The module proxy
# does not serve sigs.k8s.io/kind/images/kindnetd, so this compiles the copy of kind v0.31.0's
# source in third_party/kindnetd (its dependencies come from the module proxy, pinned by its go.sum).
# build-images.sh puts the binary on the network agents' base image.
source "$(dirname "$0")/lib.sh"
SRC="$HERE/third_party/kindnetd"
BIN="$CACHE/gobin"
mkdir -p "$BIN"

build_kindnetd() {
  cd "$SRC"
  CGO_ENABLED=0 bounded "$HNC_TIMEOUT_BUILD" go build -mod=readonly -trimpath -ldflags "-s -w" \
    -o "$BIN/kindnetd" ./cmd/kindnetd
}

[[ -x "$BIN/kindnetd" ]] || rm -f "$CACHE/stamps/go-kindnetd"
cached go-kindnetd "$(inputs_hash "$SELF" "$SRC/go.mod" "$SRC/go.sum" "$SRC"/cmd/kindnetd/*.go)" build_kindnetd
