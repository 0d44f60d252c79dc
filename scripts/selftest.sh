#!/usr/bin/env bash
# Run the project's own tests (no cluster, no Docker): helpers, reports, options, the CI workflow.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
"$ROOT/scripts/install-python-deps.sh"
exec python3 -m pytest tests "$@"
