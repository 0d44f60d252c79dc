"""The verdict table at the end of the terminal output, the reports (report.md, report.json,
report.html) under --report-dir, and the run's timeline."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from hostnet_conformance import kube, report, timeline, watching
from hostnet_conformance.claims.base import RECORDED

from .state import STATE


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not STATE["results"]:
        return
    tr = terminalreporter
    tr.section("hostnet-conformance verdicts")
    for line in report.terminal_table(STATE["results"]):
        tr.write_line(line)
    out = config.getoption("report_dir")
    if out:
        timeline.event("verdicts printed")
        STATE["capabilities"]["api_requests"] = kube.request_count()   # this process's, the controller's under xdist
        # the pods the run made, each UID its watch saw (watching.py); this process's watch
        STATE["capabilities"].update(watching.stats())
        run = report.Run(STATE.get("run_id", "-"), STATE["started"], STATE["capabilities"], timeline.snapshot(),
                         baseline=STATE.get("baseline_report"))
        try:
            written = report.write_reports(Path(out), STATE["results"], run)
            STATE["report_json"] = written[1]
            if RECORDED:   # what each claim observed, to judge again (claims/base.py); this process's
                written = (*written, report.write_observations(Path(out), RECORDED))
            tr.write_line(f"reports: {' '.join(str(p) for p in written)}")
        except report.ReportError as e:
            tr.write_line(f"hostnet-conformance: {e}")


def pytest_collection_finish(session):
    timeline.record("pytest start and collection", timeline.T0, time.monotonic())


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    """Each test on the run's timeline (its fixtures' set-up included)."""
    with timeline.span(f"test {item.nodeid.split('/')[-1]}"):
        return (yield)
