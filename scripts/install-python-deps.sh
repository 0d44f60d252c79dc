#!/usr/bin/env bash
# Install the project (editable) with its test extras, once per change of pyproject.toml.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=lib-host.sh
source "$ROOT/scripts/lib-host.sh"
stamp="${HNC_CACHE:-/var/cache/hostnet-conformance}/stamps/python-deps"
key="$(cat "$ROOT/pyproject.toml" | sha256sum | cut -c1-16) $ROOT $(python3 --version 2>&1)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$key" ]] && python3 -c "import pytest_kind, kubernetes, tenacity, yaml, requests, hostnet_conformance" 2>/dev/null; then
  exit 0
fi
quiet bounded 900 python3 -m pip install -q --disable-pip-version-check -e "${ROOT}[dev]" >/dev/null \
  || { echo "install-python-deps: pip install -e .[dev] failed; run it by hand to see why" >&2; exit 1; }
mkdir -p "$(dirname "$stamp")"; echo "$key" >"$stamp"
