"""Bounded waits: poll a condition until it holds, or fail with the last observed state.

The one wait loop of the suite (style: never sleep, never copy a wait loop). A timeout
reads like the Kubernetes e2e framework's: what was awaited, for how long, and what the
cluster looked like at the end, so a failure explains itself without a re-run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
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

T = TypeVar("T")


class WaitTimeout(AssertionError):
    """A wait ran out of time. An AssertionError so pytest reports it as a test failure."""

    def __init__(self, what: str, timeout: float, state: str) -> None:
        self.what, self.timeout, self.state = what, timeout, state
        super().__init__(
            f"timed out after {timeout:.0f}s waiting for {what}; last observed state:\n{state}"
        )


def _safe_describe(describe: Callable[[], str]) -> str:
    # The state report must never hide the timeout itself (e.g. the API went away).
    try:
        return str(describe())
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
) -> T:
    """Call `condition` every `interval` s until it returns a truthy value, and return it.

    Exceptions of a `retry_on` type count as "not yet" (e.g. a 404 while an object is
    being created); any other exception propagates at once, since a wait cannot fix it.
    `terminal`, asked at most every `terminal_every` s while the condition does not hold,
    returns a signals.Signal that settles the wait early (CrashLoopBackOff, an image pull
    error, an admission denial...): the wait raises signals.TerminalSignal at once.
    On timeout raises WaitTimeout with `describe()`'s report of the last state.
    """
    if terminal is not None:
        condition = _with_terminal(condition, terminal, what, terminal_every)
    retry: retry_base = retry_if_result(lambda value: not value)
    if retry_on:
        retry = retry | retry_if_exception_type(retry_on)
    retrying = Retrying(stop=stop_after_delay(timeout), wait=wait_fixed(interval), retry=retry)
    try:
        return retrying(condition)
    except RetryError as e:
        state = _safe_describe(describe)
        if (error := e.last_attempt.exception()) is not None:
            state += f"\nlast error: {type(error).__name__}: {error}"
        raise WaitTimeout(what, timeout, state) from None


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


def each(fn, items: dict) -> dict:
    """{key: fn(value)} with every call at once, each in its own thread: one exec per node, and an
    exec's time is mostly waiting for the API server and the kubelet. An exception is raised here."""
    from concurrent.futures import ThreadPoolExecutor
    if len(items) <= 1:
        return {k: fn(v) for k, v in items.items()}
    with ThreadPoolExecutor(max_workers=min(8, len(items)), thread_name_prefix="hnc-each") as pool:
        futures = {k: pool.submit(fn, v) for k, v in items.items()}
        return {k: f.result() for k, f in futures.items()}
