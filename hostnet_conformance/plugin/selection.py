"""--claims C1,C7: only those claims' tests (and so only their workloads). pytest's own -m and -k
select too. --rerun-failed sets the same list (plugin/baseline.py), which may be empty: no test.
The extra claims (verdict.Claim.extra: pitfalls beyond the vendor's page) run with --extra, or when
--claims names them."""
from __future__ import annotations

from hostnet_conformance.verdict import CLAIMS

from .state import claim_of


def pytest_collection_modifyitems(session, config, items):
    wanted = config.getoption("claims")
    if not isinstance(wanted, list):   # None: every claim, the extra ones with --extra only
        if not config.getoption("extra"):
            extra = {c.id for c in CLAIMS.values() if c.extra}
            keep = [i for i in items if claim_of(i) not in extra]
            if len(keep) != len(items):
                config.hook.pytest_deselected(items=[i for i in items if i not in keep])
                items[:] = keep
        return
    keep = [i for i in items if claim_of(i) in wanted]
    config.hook.pytest_deselected(items=[i for i in items if i not in keep])
    items[:] = keep
