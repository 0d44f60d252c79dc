"""Progress (issue 23): the phase the run is in and each claim's verdict as it arrives, written as
plain lines while the run works, also with -q (hostnet_conformance/progress.py). --no-progress
turns it off. Only where the reports are gathered (the only process, or xdist's controller)."""
from __future__ import annotations

import collections

import pytest

from hostnet_conformance import progress, timeline, waiting
from hostnet_conformance.report import Result

from .state import STATE, claim_of

KEY = "progress"


def pytest_addoption(parser):
    parser.getgroup("hostnet-conformance").addoption(
        "--no-progress", action="store_true",
        help="no progress lines while the run works (the phase, and each claim's verdict as it arrives)")


def _writer(config):
    tr = config.pluginmanager.get_plugin("terminalreporter")
    capman = config.pluginmanager.get_plugin("capturemanager")

    def out(lines: list[str]) -> None:
        if getattr(tr._tw, "width_of_current_line", 0):   # -q's dots: the line starts on a line of its own
            tr._tw.line()
        for line in lines:
            tr.write_line(line)

    def write(lines: list[str]) -> None:
        if tr is None:
            return
        if capman is not None:
            with capman.global_and_fixture_disabled():   # as live logging does: out now, not at the test's end
                out(lines)
        else:
            out(lines)
    return write


def pytest_collection_finish(session):
    config = session.config
    if config.getoption("no_progress") or hasattr(config, "workerinput"):
        return
    expected = collections.Counter(c for c in (claim_of(i) for i in session.items) if c)
    if not expected:
        return
    p = progress.Progress(expected)
    write = _writer(config)
    pump = progress.pump_on_main_thread(write, p)

    def listener(kind, name, start, end):   # a phase the main thread starts is out at once
        p.phase(kind, name, start, end)
        pump()
    STATE[KEY] = (p, write, listener)
    timeline.LISTENERS.append(listener)
    waiting.PUMP = pump
    write([f"hnc {timeline.now():7.1f}s  {sum(expected.values())} tests of {len(expected)} claims: "
           f"each claim's verdict is printed here as it arrives (--no-progress: not)"])


@pytest.hookimpl(trylast=True)
def pytest_runtest_logreport(report):
    """After verdicts.py's hook gathered the result (trylast): the claim's line when it is whole."""
    held = STATE.get(KEY)
    if held is None:
        return
    p, write, _ = held
    for key, value in report.user_properties:
        if key == "hnc_result":
            p.result(Result(**value))
    lines = p.drain()
    if lines:
        write(lines)


def pytest_sessionfinish(session, exitstatus):
    held = STATE.pop(KEY, None)
    if held is None:
        return
    p, write, listener = held
    if listener in timeline.LISTENERS:
        timeline.LISTENERS.remove(listener)
    waiting.PUMP = None
    lines = p.drain()
    if p.pending():
        lines.append(f"hnc {timeline.now():7.1f}s  no verdict for {', '.join(p.pending())}: "
                     f"not every test of theirs reported")
    if lines:
        write(lines)
