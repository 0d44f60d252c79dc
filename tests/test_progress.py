"""Progress lines (hostnet_conformance/progress.py): phases from the run's timeline, each claim's verdict
once its last test is in, written by the main thread only, also while it waits (waiting.PUMP)."""
from __future__ import annotations

import threading
import time
from concurrent.futures import Future

from hostnet_conformance import progress, timeline, waiting
from hostnet_conformance.results import Result


def _result(claim, kind, status, reason=None, name=None):
    return Result(claim, f"suites/test_claims.py::{name or 'test_' + claim.lower() + '_' + kind}", kind,
                  "passed" if status == "PASS" else "failed", {"reason": reason} if reason else None,
                  None, 0.1, None if status == "PASS" else reason, status)


def test_a_claims_verdict_comes_with_its_last_test():
    p = progress.Progress({"C1": 2, "C3": 1})
    p.result(_result("C1", "claim", "PASS", "podIP == hostIP", name="test_c1_pod_ip_equals_node_ip"))
    assert p.drain() == []
    p.result(_result("C1", "negative_control", "PASS", "negative control: podIP 10.244.1.5 != hostIP"))
    p.result(_result("C3", "claim", "FAIL", "cluster DNS did not answer"))
    lines = p.drain()
    assert [line.split()[2:4] for line in lines] == [["C1", "PASS"], ["C3", "FAIL"]], lines
    assert lines[1].endswith("cluster DNS did not answer") and p.pending() == []


def test_phases_but_not_each_test_and_unfinished_claims_named():
    p = progress.Progress({"C1": 1})
    timeline.LISTENERS.append(p.phase)
    try:
        with timeline.span("kind create cluster"):
            pass
        timeline.record("world: facts read", time.monotonic() - 1.5, time.monotonic())
        with timeline.span("test test_claims.py::test_c1"):
            pass
        with timeline.span("observe c1"):
            pass
    finally:
        timeline.LISTENERS.remove(p.phase)
    lines = [line.split("s  ", 1)[1] for line in p.drain()]
    assert lines[0] == "phase: kind create cluster"
    assert lines[1].startswith("phase: kind create cluster (done, ")
    assert lines[2] == "phase: world: facts read (done, 1.5s)"
    assert len(lines) == 3 and p.pending() == ["C1"]


def test_a_broken_listener_never_breaks_the_clock():
    def broken(*_):
        raise RuntimeError("no")
    timeline.LISTENERS.append(broken)
    try:
        timeline.event("something")
    finally:
        timeline.LISTENERS.remove(broken)


def test_the_main_thread_writes_while_it_waits_and_no_other_thread_does():
    p = progress.Progress({})
    written, threads = [], []

    def write(lines):
        written.extend(lines)
        threads.append(threading.current_thread() is threading.main_thread())
    pump = progress.pump_on_main_thread(write, p)
    fut: Future = Future()

    def later():
        p.lines.put("from a thread")   # queued there, written by the waiting main thread
        pump()                         # a thread's pump writes nothing
        time.sleep(1.5)
        fut.set_result(True)
    old, waiting.PUMP = waiting.PUMP, pump
    try:
        threading.Thread(target=later).start()
        assert waiting.result_within(fut, 10, "the test's future") is True
    finally:
        waiting.PUMP = old
    assert written == ["from a thread"] and threads == [True]
