"""What a failing test's namespaces and nodes show (events, pod states, logs, the node probes'
view), attached to its report and written under <report-dir>/diagnostics/."""
from __future__ import annotations

from pathlib import Path

import pytest

from hostnet_conformance.html_report import diagnostics_name

from .state import NS_BEFORE


@pytest.fixture(scope="module", autouse=True)
def _namespaces_of_module(request):
    """Namespaces that exist before the module's own fixtures run (autouse fixtures come first), so
    the diagnostics of a failing test also cover the namespaces of its module fixtures (C6, C10)."""
    if "world" in request.fixturenames:
        w = request.getfixturevalue("world")
        request.module.__dict__.setdefault("_hnc_ns_before", set(w.namespaces.values()))
    yield


@pytest.fixture(autouse=True)
def _namespaces_of_test(request):
    """Remember which namespaces existed before the test's module, so a failure's diagnostics cover
    every namespace created for it (by the test and by its module fixtures)."""
    if "world" in request.fixturenames:
        w = request.getfixturevalue("world")
        before = getattr(request.module, "_hnc_ns_before", None)
        request.node.stash[NS_BEFORE] = set(before) if before is not None else set(w.namespaces.values())
    yield


def diagnose(item, rep) -> None:
    w = item.funcargs.get("world")
    if w is None:
        return
    from hostnet_conformance import diagnostics
    before = item.stash.get(NS_BEFORE, set())
    names = [v for v in w.namespaces.values() if v not in before]
    vendor = w.daemonsets.get("vendor")
    if vendor and vendor[0] not in names:
        names.append(vendor[0])
    text = diagnostics.collect(w.env.core, names, w.node_probes)
    rep.sections.append(("hostnet-conformance diagnostics", text))
    out = item.config.getoption("report_dir")
    if out:
        d = Path(out) / "diagnostics"
        d.mkdir(parents=True, exist_ok=True)
        (d / diagnostics_name(item.nodeid)).write_text(text + "\n")
