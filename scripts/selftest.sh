#!/usr/bin/env bash
# Run the project's own tests (no cluster, no Docker): helpers, reports, options, the CI workflow
# (linted by actionlint, built once from its Go module).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
"$ROOT/scripts/install-python-deps.sh"
HNC_ACTIONLINT="$("$ROOT/scripts/install-actionlint.sh")"; export HNC_ACTIONLINT
exec python3 -m pytest tests "$@"
