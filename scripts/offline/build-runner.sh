#!/usr/bin/env bash
# The in-cluster runner image (scripts/offline/images/runner.Dockerfile): the suite's wheel, built
# from this checkout, with its dependencies from a wheelhouse in the cache (filled from the Python
# package index the first time, then used with --no-index). Tagged by the digest of what goes into
# the wheel, so a changed suite gets a new image and an unchanged one is not rebuilt.
# Writes HNC_RUNNER_IMAGE into $CACHE/offline.env and prints the image name.
source "$(dirname "$0")/lib.sh"
# shellcheck source=../lib-host.sh
source "$HERE/../lib-host.sh"   # after lib.sh: its bounded says `timed out after N s: ...`
ROOT="$(cd "$HERE/../.." && pwd)"
WHEELHOUSE="$CACHE/wheelhouse"
inputs=$(cd "$ROOT" && { git ls-files -z pyproject.toml hostnet_conformance suites fixtures 2>/dev/null \
  || find pyproject.toml hostnet_conformance suites fixtures -type f -not -path '*/__pycache__/*' -print0; } \
  | sort -z | xargs -0 sha256sum | cat - "$HERE/images/runner.Dockerfile" | sha256sum | cut -c1-12)
REPO=hostnet-conformance/runner   # a local name: kind loads it, other clusters get it pushed under theirs
IMAGE="$REPO:$inputs"

build() {
  "$ROOT/scripts/install-python-deps.sh"   # pip's wheel support, with the project's own dependencies
  local ctx; ctx="$(mktemp -d)"
  trap 'rm -rf "$ctx"' RETURN
  mkdir -p "$ctx/src" "$ctx/wheels" "$WHEELHOUSE"
  # a copy of the tree: pip would leave build/ and *.egg-info in the checkout
  tar -C "$ROOT" --exclude=.git --exclude=ci-out --exclude=build --exclude='*.egg-info' --exclude=__pycache__ \
    -cf - pyproject.toml README.md hostnet_conformance suites fixtures | tar -C "$ctx/src" -xf -
  bounded "$HNC_TIMEOUT_BUILD" python3 -m pip wheel -q --disable-pip-version-check --no-deps --no-build-isolation \
    -w "$ctx/wheels" "$ctx/src" >/dev/null
  local wheel; wheel=$(ls "$ctx"/wheels/hostnet_conformance-*.whl)
  if ! bounded "$HNC_TIMEOUT_FETCH" python3 -m pip download -q --disable-pip-version-check --no-index \
       --find-links "$WHEELHOUSE" -d "$ctx/wheels" "$wheel" >/dev/null 2>&1; then
    bounded "$HNC_TIMEOUT_FETCH" python3 -m pip download -q --disable-pip-version-check -d "$WHEELHOUSE" "$wheel" >/dev/null
    bounded "$HNC_TIMEOUT_FETCH" python3 -m pip download -q --disable-pip-version-check --no-index \
      --find-links "$WHEELHOUSE" -d "$ctx/wheels" "$wheel" >/dev/null
  fi
  rm -rf "$ctx/src"
  bounded "$HNC_TIMEOUT_BUILD" docker build -q -f "$HERE/images/runner.Dockerfile" \
    --build-arg "DEBIAN_IMAGE=hnc.local/debian:$DEBIAN_SUITE" -t "$IMAGE" "$ctx" >/dev/null
}

if ! quiet bounded "$HNC_TIMEOUT_SHORT" docker image inspect "$IMAGE" >/dev/null; then rm -f "$CACHE/stamps/runner-image"; fi
cached runner-image "$inputs" build
# superseded runner images go (one per suite change otherwise)
bounded "$HNC_TIMEOUT_SHORT" docker images --format '{{.Repository}}:{{.Tag}}' "$REPO" | grep -vx "$IMAGE" \
  | xargs -r timeout --kill-after=30 "$HNC_TIMEOUT_SHORT" docker rmi >/dev/null 2>&1 || true
env_file="$CACHE/offline.env"
touch "$env_file"
sed -i '/^HNC_RUNNER_IMAGE=/d' "$env_file"
echo "HNC_RUNNER_IMAGE=$IMAGE" >>"$env_file"
echo "$IMAGE"
