#!/usr/bin/env bash
# Build upstream Kubernetes e2e offline, as the cluster's outside reference (scripts/upstream-e2e.sh):
#   - e2e.test: `go test -c k8s.io/kubernetes/test/e2e` at the pinned version, in a wrapper module
#     made like build-k8s.sh's (same requirements, so the Go build cache is shared);
#   - agnhost: k8s.io/kubernetes/test/images/agnhost from the same module;
#   - the images the focused specs run, built from Debian packages and tagged exactly as the
#     e2e binary names them once KUBE_TEST_REPO_LIST points its registries at hnc.local/e2e
#     (`e2e.test --list-images` is asked, never a hard-coded list of versions).
# Prints the path of the env file upstream-e2e.sh sources. Cached by inputs like every step.
source "$(dirname "$0")/lib.sh"
export DOCKER_BUILDKIT=0
OUT="$CACHE/e2e/$K8S_VERSION"
MOD="$CACHE/k8s/$K8S_VERSION/e2e-mod"
REPO_LIST="$OUT/repo-list.yaml"
IMG_DIR="$HERE/images"
mkdir -p "$OUT"

build() {
  rm -rf "$MOD"; mkdir -p "$MOD"; cd "$MOD"
  local staging
  staging=$(bounded "$HNC_TIMEOUT_FETCH" go mod download -json "k8s.io/kubernetes@$K8S_VERSION" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["GoMod"])')
  {
    echo "module hnc.local/k8se2e"; echo; echo "go 1.24.0"; echo
    echo "require k8s.io/kubernetes $K8S_VERSION"; echo; echo "replace ("
    sed -n 's#^\s*\(k8s.io/[a-z0-9-]*\) => ./staging/.*#\t\1 => \1 '"$K8S_STAGING_VERSION"'#p' "$staging"
    echo ")"
  } >go.mod
  # Every package the e2e test main imports (its _test.go imports are not seen by `go mod tidy`
  # through a dependency), plus agnhost: the import list is read from upstream's own file.
  local e2e_dir; e2e_dir="$(bounded "$HNC_TIMEOUT_SHORT" go env GOMODCACHE)/k8s.io/kubernetes@$K8S_VERSION"
  {
    echo "//go:build tools"; echo; echo "package tools"; echo; echo "import ("
    sed -n '/^import (/,/^)/p' "$e2e_dir/test/e2e/e2e_test.go" | grep -oE '"[a-z0-9.]+/[^"]+"' \
      | sort -u | sed 's/^/\t_ /'
    printf '\t_ "k8s.io/kubernetes/test/e2e"\n\t_ "k8s.io/kubernetes/test/images/agnhost"\n)\n'
  } >tools.go
  bounded "$HNC_TIMEOUT_FETCH" go mod tidy
  local major minor pkg ld
  major=${K8S_VERSION#v}; minor=${major#*.}; minor=${minor%%.*}; major=${major%%.*}
  ld="-s -w"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
    ld+=" -X $pkg.gitCommit=0000000000000000000000000000000000000000 -X $pkg.gitTreeState=clean"
  done
  CGO_ENABLED=0 bounded "$HNC_TIMEOUT_BUILD" go test -c -mod=mod -trimpath -ldflags "$ld" \
    -o "$OUT/e2e.test" k8s.io/kubernetes/test/e2e
  CGO_ENABLED=0 bounded "$HNC_TIMEOUT_BUILD" go build -mod=mod -trimpath -ldflags "-s -w" \
    -o "$OUT/agnhost" k8s.io/kubernetes/test/images/agnhost
  cp "$e2e_dir/test/images/agnhost/VERSION" "$OUT/agnhost.version"
  bounded 60 "$OUT/e2e.test" --help >/dev/null 2>&1 || true   # links and starts
  bounded 30 "$OUT/agnhost" --help | grep -q netexec
}

cached e2e-binaries "$(inputs_hash "$SELF")" build

# ---- images, tagged as the binary names them
cat >"$REPO_LIST" <<'YAML'
# KUBE_TEST_REPO_LIST for the offline cluster: every e2e registry is the local prefix hnc.local/e2e,
# so the images below are found on the nodes (loaded with `kind load`) and nothing is ever pulled.
gcAuthenticatedRegistry: hnc.local/e2e
promoterE2eRegistry: hnc.local/e2e
buildImageRegistry: hnc.local/e2e
invalidRegistry: hnc.local/e2e-invalid
gcEtcdRegistry: hnc.local/e2e
gcRegistry: hnc.local/e2e
sigStorageRegistry: hnc.local/e2e
privateRegistry: hnc.local/e2e
dockerLibraryRegistry: hnc.local/e2e
cloudProviderGcpRegistry: hnc.local/e2e
YAML
mapfile -t LISTED < <(KUBE_TEST_REPO_LIST="$REPO_LIST" bounded 60 "$OUT/e2e.test" --list-images 2>/dev/null \
  | grep '^hnc\.local/e2e/' | sort -u)
want() {  # want NAME [VERSION]: the exact reference the binary uses for image NAME (at VERSION)
  local r; for r in "${LISTED[@]}"; do
    [[ ${r#hnc.local/e2e/} == "$1":${2:-}* ]] && { [[ -z ${2:-} || ${r##*:} == "$2" ]]; } && { echo "$r"; return; }
  done
  die e2e-images "e2e.test --list-images names no $1${2:+ $2} image"
}
have() { bounded "$HNC_TIMEOUT_SHORT" docker image inspect "$1" >/dev/null 2>&1; }
dk() { bounded "$HNC_TIMEOUT_SHORT" docker "$@"; }
setting() { grep -E "^$1=" "$CACHE/offline.env" | cut -d= -f2; }
DEBIAN_IMAGE="hnc.local/debian:$DEBIAN_SUITE"
have "$DEBIAN_IMAGE" || die e2e-images "$DEBIAN_IMAGE missing: run build-debian-base.sh"
DEBIAN_ID=$(dk image inspect -f '{{.Id}}' "$DEBIAN_IMAGE")
# agnhost_context DIR CTX: the build context of agnhost.Dockerfile. Every file it COPYs is placed
# at the path it has in upstream's test/images/agnhost directory DIR, from where upstream's
# Dockerfile ADDs it: the agnhost binary built above, the cluster's own CoreDNS build in place of
# the archive upstream ADDs from a URL, every other file copied from the module as it is.
agnhost_context() {
  local dir=$1 ctx=$2 src
  rm -rf "$ctx"; mkdir -p "$ctx"
  while read -r src; do
    mkdir -p "$ctx/$(dirname "$src")"
    case $src in
      agnhost) cp "$OUT/agnhost" "$ctx/$src" ;;
      coredns) cp "$CACHE/gobin/coredns" "$ctx/$src" ;;
      *) cp "$dir/$src" "$ctx/$src" ;;
    esac || die e2e-images "agnhost.Dockerfile copies $src, which is not there to copy (run bootstrap.sh)"
  done < <(sed -n 's/^COPY \([^ ]*\) .*/\1/p' "$IMG_DIR/agnhost.Dockerfile")
}
# context_key CTX LINE...: a digest of every file in CTX (path and content) and the given lines
context_key() {
  local ctx=$1; shift
  { printf '%s\n' "$@"; (cd "$ctx" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum); } \
    | sha256sum | cut -c1-12
}
mkdir -p "$CACHE/build-context/e2e-tools"   # the tools image takes nothing from its context
TOOLS_KEY=$(cat "$IMG_DIR/e2e-tools.Dockerfile" <(echo "$DEBIAN_ID") | sha256sum | cut -c1-12)
TOOLS="hnc.local/e2e-tools:$TOOLS_KEY"
if have "$TOOLS"; then log "image e2e-tools: up to date ($TOOLS_KEY)"; else
  log "image e2e-tools: building"
  bounded "$HNC_TIMEOUT_BUILD" docker build -q -f "$IMG_DIR/e2e-tools.Dockerfile" \
    --build-arg "DEBIAN_IMAGE=$DEBIAN_IMAGE" -t "$TOOLS" "$CACHE/build-context/e2e-tools" \
    >>"$LOGS/e2e-images.log" 2>&1 || die e2e-images "docker build of e2e-tools failed"
fi
# The agnhost image: the tools image plus upstream's files and directives (agnhost.Dockerfile),
# rebuilt when any file of its context, its Dockerfile or the tools image changes. jessie-dnsutils
# runs a shell loop with dig and getent, which the tools image has; busybox and pause are the
# cluster's own.
AGN_DIR="$(bounded "$HNC_TIMEOUT_SHORT" go env GOMODCACHE)/k8s.io/kubernetes@$K8S_VERSION/test/images/agnhost"
CTX="$CACHE/build-context/e2e"
agnhost_context "$AGN_DIR" "$CTX"
KEY=$(context_key "$CTX" "$(cat "$IMG_DIR/agnhost.Dockerfile")" "$(dk image inspect -f '{{.Id}}' "$TOOLS")")
AGNHOST=$(want agnhost "$(cat "$OUT/agnhost.version")")
JESSIE=$(want jessie-dnsutils)
BUSYBOX=$(want busybox)
PAUSE=$(want pause)
if [[ "$(dk image inspect -f '{{index .Config.Labels "hnc.local.e2e-key"}}' "$AGNHOST" 2>/dev/null)" == "$KEY" ]]; then
  log "image agnhost: up to date ($KEY)"
else
  log "image agnhost: building ($KEY)"
  old=$(dk image inspect -f '{{.Id}}' "$AGNHOST" 2>/dev/null) || old=""
  bounded "$HNC_TIMEOUT_BUILD" docker build -q -f "$IMG_DIR/agnhost.Dockerfile" --build-arg "TOOLS_IMAGE=$TOOLS" \
    --label "hnc.local.e2e-key=$KEY" -t "$AGNHOST" "$CTX" >>"$LOGS/e2e-images.log" 2>&1 \
    || die e2e-images "docker build of agnhost failed"
  # the build it replaces, once no tag names it any more (ours alone: it had the agnhost tag)
  if [[ -n $old && "$(dk image inspect -f '{{len .RepoTags}}' "$old" 2>/dev/null)" == 0 ]]; then
    dk rmi "$old" >/dev/null 2>&1 || true   # still used by a container: left in place
  fi
fi
dk tag "$TOOLS" "$JESSIE"
dk tag "$(setting HNC_PROBE_IMAGE)" "$BUSYBOX"
dk tag "$(setting HNC_PAUSE_IMAGE)" "$PAUSE"
cat >"$OUT/e2e.env" <<ENV
# written by scripts/offline/build-e2e.sh
HNC_E2E_TEST=$OUT/e2e.test
HNC_E2E_REPO_LIST=$REPO_LIST
HNC_E2E_IMAGES=$AGNHOST,$JESSIE,$BUSYBOX,$PAUSE
ENV
# drop superseded builds of the tools image (ours only)
dk images --format '{{.Repository}}:{{.Tag}}' | grep '^hnc\.local/e2e-tools:' | grep -vx "$TOOLS" \
  | while read -r old; do dk rmi "$old" >/dev/null 2>&1 || true; done || true   # none left over: grep exits 1
log "e2e images: $AGNHOST $JESSIE $BUSYBOX $PAUSE"
echo "$OUT/e2e.env"
