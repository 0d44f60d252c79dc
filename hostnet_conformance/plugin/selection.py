"""--claims C1,C7: only those claims' tests (and so only their workloads). pytest's own -m and -k
select too. --rerun-failed sets the same list (plugin/baseline.py), which may be empty: no test."""
from __future__ import annotations

from .state import claim_of


def pytest_collection_modifyitems(session, config, items):
    wanted = config.getoption("claims")
    if not isinstance(wanted, list):   # None: every claim
        return
    keep = [i for i in items if claim_of(i) in wanted]
    config.hook.pytest_deselected(items=[i for i in items if i not in keep])
    items[:] = keep
