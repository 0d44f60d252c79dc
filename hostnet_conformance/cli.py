"""`hostnet-conformance`: the packaged suite, run by pytest, with every pytest option passed through.

    hostnet-conformance --kubeconfig ~/.kube/config --context prod-eu --report-dir out/
    hostnet-conformance -m C7 --keep-cluster          # a kind cluster it creates (and keeps)
"""
from __future__ import annotations

import sys

import pytest

from .resources import suites_dir


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    suites = suites_dir()
    # the packaged suite, not whatever the working directory holds; no cache written beside it
    return int(pytest.main([str(suites), "--rootdir", str(suites), "-p", "no:cacheprovider", *args]))


if __name__ == "__main__":
    sys.exit(main())
