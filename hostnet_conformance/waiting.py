"""Bounded waits: poll a condition until it holds, or fail with the last observed state.

The one wait loop of the suite (style: never sleep, never copy a wait loop). A timeout
reads like the Kubernetes e2e framework's: what was awaited, for how long, and what the
cluster looked like at the end, so a failure explains itself without a re-run.

Every wait here has a real bound: an attempt, a describe(), each call of `each` and
`within` is awaited only until its bound, also when it hangs. And the run's stop: STOPPING is set
when teardown starts (stop_run); from then on nothing is created (kube checks it) and every
stoppable wait ends at its next attempt; stop_run joins the run's background threads
(start_thread), with a bound, before teardown deletes what the run made.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import wait as wait_futures
from typing import TypeVar

from tenacity import (
    RetryError,
    Retrying,
    retry_base,
    retry_if_exception_type,
    retry_if_result,
    stop_after_delay,
    wait_fixed,
)

from .verdict import CallTimeout, ClusterError

REQUEST_TIMEOUT = 30.0   # seconds; --request-timeout


def request_timeout() -> float:
    """The bound on one API request (and on an exec's connection) of every client the suite makes."""
    return REQUEST_TIMEOUT


def set_request_timeout(seconds: float) -> None:
    global REQUEST_TIMEOUT
    REQUEST_TIMEOUT = float(seconds)


MAX_WAIT: float | None = None   # seconds; --max-wait: no single wait on the cluster lasts longer


def set_max_wait(seconds: float | None) -> None:
    global MAX_WAIT
    MAX_WAIT = None if seconds is None else float(seconds)

T = TypeVar("T")

# set when the run's teardown starts: nothing is created after it, stoppable waits end
STOPPING = threading.Event()
_NEVER = threading.Event()   # the pause of a wait that is not stoppable (never set)
_threads: list[threading.Thread] = []   # the run's background threads (start_thread), joined by stop_run
_threads_lock = threading.Lock()
EACH_BOUND = 300.0
MIN_GAP = 0.2   # wait_until(changes=...): the shortest pause between two attempts   # each(): the whole of one call (its API requests are bounded one by one besides)


class Stopped(ClusterError):
    """The run is ending (STOPPING is set): what was asked is not done."""

    code = "stopped"


class WaitTimeout(AssertionError):
    """A wait ran out of time. An AssertionError so pytest reports it as a test failure."""

    def __init__(self, what: str, timeout: float, state: str) -> None:
        self.what, self.timeout, self.state = what, timeout, state
        super().__init__(
            f"timed out after {timeout:.0f}s waiting for {what}; last observed state:\n{state}"
        )

    def in_words(self, limit: int = 600) -> str:
        """One line for a verdict's reason: what was awaited, and the last state in the cluster's words."""
        return " ".join(f"timed out after {self.timeout:.0f}s waiting for {self.what}; last seen: "
                        f"{last_seen(self.state)}".split())[:limit]


def last_seen(state: str, limit: int = 480) -> str:
    """A wait's last observed state in the cluster's words, shortest first: the object's own line,
    its pods with their conditions, then the latest Warning events (describe_pods/ds_state)."""
    lines = [ln.strip() for ln in state.splitlines() if ln.strip()]
    if not lines:
        return "nothing: the wait read no state"
    warnings = [ln for ln in lines if ln.startswith("event Warning")][-2:]
    pods = [ln for ln in lines[1:] if ln.startswith("pod ")][:2]
    picked = list(dict.fromkeys([lines[0], *pods, *warnings]))
    return " | ".join(picked)[:limit]


def _safe_describe(describe: Callable[[], str], seconds: float = 30.0) -> str:
    # The state report must never hide the timeout itself (e.g. the API went away), nor delay it
    # past the wait's bound.
    try:
        return str(within(describe, seconds, "describe()"))
    except CallTimeout:
        return f"<describe() did not answer within {max(0.0, seconds):.0f}s>"
    except Exception as e:  # noqa: BLE001 - any failure is reported, not raised
        return f"<describe() failed: {type(e).__name__}: {e}>"


def wait_until(
    condition: Callable[[], T],
    *,
    timeout: float,
    describe: Callable[[], str],
    what: str,
    interval: float = 0.5,
    retry_on: tuple[type[BaseException], ...] = (),
    terminal: Callable[[], object] | None = None,
    terminal_every: float = 2.0,
    stoppable: bool = True,
    changes=None,
) -> T:
    """Call `condition` every `interval` s until it returns a truthy value, and return it.

    Exceptions of a `retry_on` type count as "not yet" (e.g. a 404 while an object is
    being created); any other exception propagates at once, since a wait cannot fix it.
    `terminal`, asked at most every `terminal_every` s while the condition does not hold,
    returns a signals.Signal that settles the wait early (CrashLoopBackOff, an image pull
    error, an admission denial...): the wait raises signals.TerminalSignal at once.
    On timeout raises WaitTimeout with `describe()`'s report of the last state.

    The deadline is real: every attempt and the final describe() run in a thread of their own
    and are awaited only until `timeout` plus one request timeout (request_timeout(),
    --request-timeout) have passed since the wait began. So a wait ends within timeout + one
    request timeout even when an attempt hangs (WaitTimeout then says an attempt was still
    running); the abandoned attempt ends with its own API calls' deadlines. With `stoppable`
    (the default) the wait ends with Stopped once the run is ending (STOPPING), at its next attempt.

    `changes` (a watching.RunWatch): the pause after an attempt ends early, MIN_GAP s after it, at the
    first change the run's watch sees; `interval` is then only the longest pause (a condition that
    reads the watch's copies costs no request, and sees a change at once).
    """
    if MAX_WAIT is not None and timeout > MAX_WAIT:   # the user's bound on every wait (--max-wait)
        timeout = MAX_WAIT
    if terminal is not None:
        condition = _with_terminal(condition, terminal, what, terminal_every)
    end = time.monotonic() + timeout + request_timeout()
    seen = [changes.generation if changes is not None else 0]   # the watch's generation at the attempt

    def attempt() -> T:
        if stoppable and STOPPING.is_set():
            raise Stopped(f"the run is ending: stopped waiting for {what}")
        if changes is not None:
            seen[0] = changes.generation
        fut = _in_thread(condition)
        if not _done_within(fut, end - time.monotonic()):
            raise _Overran()
        return fut.result()

    retry: retry_base = retry_if_result(lambda value: not value)
    if retry_on:
        retry = retry | retry_if_exception_type(retry_on)
    stop = STOPPING if stoppable else _NEVER   # a stop wakes the pause between attempts

    def pause(seconds: float) -> None:
        if PUMP is not None:
            PUMP()
        if changes is None or seconds <= MIN_GAP:
            stop.wait(seconds)
        elif not stop.wait(MIN_GAP):   # then until the watch sees a change, or the interval is up
            changes.wait_change(seen[0], seconds - MIN_GAP)
    retrying = Retrying(stop=stop_after_delay(timeout), wait=wait_fixed(interval), retry=retry, sleep=pause)
    try:
        return retrying(attempt)
    except _Overran:
        raise WaitTimeout(what, timeout, f"an attempt was still running {request_timeout():.0f}s after the "
                                         f"deadline") from None
    except RetryError as e:
        state = _safe_describe(describe, end - time.monotonic())
        if (error := e.last_attempt.exception()) is not None:
            state += f"\nlast error: {type(error).__name__}: {error}"
        raise WaitTimeout(what, timeout, state) from None


def within(fn: Callable[[], T], seconds: float, what: str) -> T:
    """fn() in a daemon thread of its own, awaited for at most `seconds`: its value, or what it
    raised; past the bound, CallTimeout `timed out after N s: <what>` (fn goes on, unwaited)."""
    return result_within(_in_thread(fn), seconds, what)


def result_within(fut: Future, seconds: float, what: str):
    """A future's result (or its exception, raised), awaited for at most `seconds`: past them,
    CallTimeout `timed out after N s: <what>`."""
    if not _done_within(fut, seconds):
        raise CallTimeout(max(0.0, seconds), what)
    return fut.result()


class _Overran(Exception):
    """A wait's attempt still running at the wait's bound (never a condition's own exception)."""


def _in_thread(fn: Callable[[], T]) -> Future:
    fut: Future = Future()
    threading.Thread(target=_settle, args=(fut, fn), daemon=True, name="hnc-attempt").start()
    return fut


# called every PUMP_EVERY s while a wait blocks (progress.py: writes the queued progress lines, on
# the main thread only); None: no progress
PUMP = None
PUMP_EVERY = 1.0


def _done_within(fut: Future, seconds: float) -> bool:
    end = time.monotonic() + max(0.0, seconds)
    while True:
        pump = PUMP
        left = end - time.monotonic()
        if pump is None:
            return bool(wait_futures([fut], timeout=max(0.0, left)).done)
        if wait_futures([fut], timeout=max(0.0, min(left, PUMP_EVERY))).done:
            return True
        if left <= PUMP_EVERY:
            return False
        pump()


def _settle(fut: Future, fn: Callable) -> None:
    try:
        fut.set_result(fn())
    except BaseException as e:  # noqa: BLE001 - handed to whoever awaits the future
        fut.set_exception(e)


def _with_terminal(condition: Callable[[], T], terminal: Callable[[], object], what: str,
                   every: float) -> Callable[[], T]:
    from .signals import TerminalSignal

    last = [float("-inf")]

    def checked() -> T:
        value = condition()
        if value:
            return value
        now = time.monotonic()
        if now - last[0] >= every:
            last[0] = now
            sig = terminal()
            if sig:
                raise TerminalSignal(what, sig)
        return value

    return checked


def each(fn, items: dict, timeout: float = EACH_BOUND) -> dict:
    """{key: fn(value)} with every call at once (at most 8 running), each in its own thread: one
    exec per node, and an exec's time is mostly waiting for the API server and the kubelet. The
    first exception (in the items' order) is raised here, once every call has ended. The calls are
    awaited for `timeout` s in all: past it, CallTimeout `timed out after N s: <fn> for <key>`
    (the calls left go on in their threads, which stop_run joins)."""
    limit = threading.BoundedSemaphore(8)

    def limited(value):
        with limit:
            return fn(value)

    futures: dict = {}
    for key, value in items.items():
        futures[key] = Future()
        start_thread(_settle, futures[key], lambda value=value: limited(value), name="hnc-each")
    wait_futures(futures.values(), timeout=timeout)
    for key, fut in futures.items():
        if not fut.done():
            raise CallTimeout(timeout, f"{getattr(fn, '__name__', 'a call')} for {key}")
    return {key: fut.result() for key, fut in futures.items()}


def start_thread(fn: Callable, *args, name: str) -> threading.Thread:
    """Start fn(*args) in a daemon thread that belongs to the run: stop_run joins it."""
    t = threading.Thread(target=fn, args=args, daemon=True, name=name)
    with _threads_lock:
        _threads[:] = [x for x in _threads if x.is_alive()]
        _threads.append(t)
    t.start()
    return t


def begin_run() -> None:
    """A run starts: nothing is stopping (pytest may run the suite more than once in a process)."""
    STOPPING.clear()


def stop_run(join_timeout: float) -> list[str]:
    """The run's teardown starts: set STOPPING (nothing is created from now on, stoppable waits
    end), then join the run's background threads, `join_timeout` s for all of them together.
    Returns the names of the threads still running after it."""
    STOPPING.set()
    deadline = time.monotonic() + join_timeout
    with _threads_lock:
        threads = [t for t in _threads if t is not threading.current_thread()]
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    return sorted({t.name for t in threads if t.is_alive()})
