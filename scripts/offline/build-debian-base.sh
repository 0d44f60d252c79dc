#!/usr/bin/env bash
# A minimal Debian image built with debootstrap from the host's own apt mirror, imported
# into Docker. Every other offline image starts FROM it (no registry needed).
source "$(dirname "$0")/lib.sh"
IMAGE="hnc.local/debian:$DEBIAN_SUITE"

mirror() {
  if [[ -n "${HNC_DEBIAN_MIRROR:-}" ]]; then echo "$HNC_DEBIAN_MIRROR"; return; fi
  # Use the mirror this machine's apt already uses (deb822 or one-line format).
  local m
  m=$(grep -hE '^(URIs:|deb )' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null \
      | grep -v security | head -n1 | awk '{print ($1=="deb") ? $2 : $2}')
  [[ -n "$m" ]] || { echo "no apt mirror configured; set HNC_DEBIAN_MIRROR" >&2; return 1; }
  echo "$m"
}

build() {
  command -v debootstrap >/dev/null || DEBIAN_FRONTEND=noninteractive bounded "$HNC_TIMEOUT_FETCH" apt-get install -y debootstrap
  local root="$CACHE/rootfs-$DEBIAN_SUITE"
  rm -rf "$root"
  bounded "$HNC_TIMEOUT_FETCH" debootstrap --variant=minbase "$DEBIAN_SUITE" "$root" "$(mirror)"
  # keep the image small and reproducible: no apt lists, no docs
  rm -rf "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* "$root"/usr/share/man/*
  tar -C "$root" -c . | bounded "$HNC_TIMEOUT_SHORT" docker import - "$IMAGE"
  rm -rf "$root"
}

if ! bounded "$HNC_TIMEOUT_SHORT" docker image inspect "$IMAGE" >/dev/null 2>&1; then rm -f "$CACHE/stamps/debian-base"; fi
cached debian-base "$(inputs_hash "$SELF")" build
