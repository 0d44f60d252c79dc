"""One clock for the whole run: when each phase and each observation started and ended, in
seconds since the test process started. report.json carries it as `timeline`, and
scripts/benchmark.py prints it with the critical path (issue 11's per-phase breakdown)."""
from __future__ import annotations

import threading
import time
from contextlib import contextmanager



def _process_start() -> float:
    """The monotonic time this process started (Linux: /proc), so interpreter start and pytest's
    collection count too; the import time where /proc cannot tell."""
    try:
        import os
        ticks = os.sysconf("SC_CLK_TCK")
        with open("/proc/self/stat") as f:
            started = int(f.read().rsplit(")", 1)[1].split()[19]) / ticks
        with open("/proc/uptime") as f:
            up = float(f.read().split()[0])
        t = time.monotonic() - (up - started)
        return t if 0 <= time.monotonic() - t < 60 else time.monotonic()
    except (OSError, ValueError, IndexError):
        return time.monotonic()


T0 = _process_start()
_LOCK = threading.Lock()
SPANS: dict[str, list] = {}   # name -> [start, end or None] (seconds since T0)
# called as listener(kind, name, start, end) after each change, in the thread that made it:
# kind "start" (end None), "end", "record" or "event" (progress.py); a listener never raises
LISTENERS: list = []


def _tell(kind: str, name: str, span: list) -> None:
    for listener in list(LISTENERS):
        try:
            listener(kind, name, span[0], span[1])
        except Exception:  # noqa: BLE001 - the run's clock never fails for its audience
            pass


def now() -> float:
    return round(time.monotonic() - T0, 2)


def start(name: str) -> None:
    with _LOCK:
        span = SPANS[name] = [now(), None]
    _tell("start", name, span)


def end(name: str) -> None:
    with _LOCK:
        span = SPANS.setdefault(name, [now(), None])
        span[1] = now()
    _tell("end", name, list(span))


def record(name: str, started: float, ended: float) -> None:
    """A span measured elsewhere, by its time.monotonic() start and end."""
    with _LOCK:
        span = SPANS[name] = [round(started - T0, 2), round(ended - T0, 2)]
    _tell("record", name, span)


def event(name: str) -> None:
    """A moment, not a span (start == end)."""
    t = now()
    with _LOCK:
        span = SPANS[name] = [t, t]
    _tell("event", name, span)


@contextmanager
def span(name: str):
    start(name)
    try:
        yield
    finally:
        end(name)


def snapshot() -> list[dict]:
    """Every span so far, by start time: [{name, start_s, end_s, duration_s}] (end None: unfinished)."""
    with _LOCK:
        items = sorted(SPANS.items(), key=lambda kv: (kv[1][0], kv[0]))
    return [{"name": n, "start_s": s, "end_s": e, "duration_s": None if e is None else round(e - s, 2)}
            for n, (s, e) in items]


def critical_path(spans: list[dict]) -> list[dict]:
    """The spans that ended last, walking back: from the latest-ending span, the one before it is the
    latest-ending span that ended no later than it started (what it could have been waiting for).
    A chain that explains where the run's time went, not a proof of dependency."""
    done = [s for s in spans if s["end_s"] is not None]
    if not done:
        return []
    chain = [max(done, key=lambda s: (s["end_s"], -s["start_s"]))]
    while True:
        head = chain[-1]
        before = [s for s in done if s["end_s"] <= head["start_s"] + 0.05 and s is not head and s not in chain]
        if not before:
            break
        chain.append(max(before, key=lambda s: (s["end_s"], -s["start_s"])))
    return list(reversed(chain))
