#!/usr/bin/env bash
# Run the project's own tests (no cluster, no Docker): helpers, reports, options, the CI workflow
# (linted by actionlint, built once from its Go module).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
"$ROOT/scripts/install-python-deps.sh"
if command -v go >/dev/null; then   # with Go (the offline bootstrap needs it too), a failed build fails here
  HNC_ACTIONLINT="$("$ROOT/scripts/install-actionlint.sh")"; export HNC_ACTIONLINT
else
  echo "selftest: no Go toolchain, so actionlint is not built and its workflow tests are skipped" >&2
fi
exec python3 -m pytest tests "$@"
