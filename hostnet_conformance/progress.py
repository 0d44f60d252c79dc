"""Progress while a run works (issue 23): the phase the run is in, and each claim's verdict the
moment its last test reports, as plain lines (no cursor control, so a CI log reads the same):

    hnc   12.4s  phase: world: facts read (done, 1.2s)
    hnc   40.1s  C7   PASS            a second pod asking for 20000 on worker2 stays Pending: ...

Lines are queued from any thread (the timeline's listeners run where the phase ran) and written
by the main thread only, where pytest's output capture can be lifted for the line (plugin/progress.py):
between the tests, and every waiting.PUMP_EVERY s while the main thread waits."""
from __future__ import annotations

import collections
import queue
import threading
from collections.abc import Callable, Mapping

from . import report, timeline
from .results import Result

REASON_WIDTH = 100
# timeline names that are not phases: each test's own span, each observation's (the claim's verdict
# line says when it is over), and moments the report keeps
QUIET_PREFIXES = ("test ", "observe ", "verdicts printed", "pytest start")


class Progress:
    def __init__(self, expected: Mapping[str, int]):
        self.expected = dict(expected)   # claim id -> how many of its tests this run will report
        self.results: dict[str, list[Result]] = collections.defaultdict(list)
        self.lines: queue.SimpleQueue[str] = queue.SimpleQueue()
        self.announced: set[str] = set()
        self._lock = threading.Lock()

    @staticmethod
    def _at() -> str:
        return f"hnc {timeline.now():7.1f}s  "

    def phase(self, kind: str, name: str, start: float, end: float | None) -> None:
        """A timeline listener: a span began ("start"), ended ("end"), or was recorded whole."""
        if name.startswith(QUIET_PREFIXES):
            return
        if kind == "start":
            self.lines.put(f"{self._at()}phase: {name}")
        elif end is not None:
            self.lines.put(f"{self._at()}phase: {name} (done, {end - start:.1f}s)")

    def result(self, r: Result) -> None:
        """One test's result; the claim's verdict line once its last expected test is in."""
        claim = r.claim.upper()
        with self._lock:
            self.results[claim].append(r)
            if claim in self.announced or len(self.results[claim]) < self.expected.get(claim, 1):
                return
            self.announced.add(claim)
            tests = list(self.results[claim])
        s = report.summarize_claim(claim, tests)
        reason = report.one_line(s.reason)
        if len(reason) > REASON_WIDTH:
            reason = reason[:REASON_WIDTH - 1] + "…"
        self.lines.put(f"{self._at()}{claim:<4} {s.verdict:<15} {reason}")

    def drain(self) -> list[str]:
        out = []
        while True:
            try:
                out.append(self.lines.get_nowait())
            except queue.Empty:
                return out

    def pending(self) -> list[str]:
        """Claims whose verdict never came (a test that did not report: an interrupted run)."""
        return [c for c in self.expected if c not in self.announced]


def pump_on_main_thread(write: Callable[[list[str]], None], progress: Progress) -> Callable[[], None]:
    """The function waiting.py calls while the main thread waits: writes what is queued, there only."""
    def pump() -> None:
        if threading.current_thread() is threading.main_thread():
            lines = progress.drain()
            if lines:
                write(lines)
    return pump
