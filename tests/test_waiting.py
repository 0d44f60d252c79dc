import itertools
import time

import pytest

from hostnet_conformance.waiting import WaitTimeout, wait_until


def test_returns_the_first_truthy_value():
    calls = itertools.count()
    value = wait_until(lambda: next(calls) >= 2 and "ready", timeout=2, interval=0.01,
                       describe=lambda: "n/a", what="three calls")
    assert value == "ready"


def test_timeout_reports_what_and_last_state():
    start = time.monotonic()
    with pytest.raises(WaitTimeout) as e:
        wait_until(lambda: None, timeout=0.3, interval=0.05,
                   describe=lambda: "phase=Pending\nevents: FailedScheduling", what="pod p to run")
    assert time.monotonic() - start < 1.5
    assert isinstance(e.value, AssertionError)
    assert str(e.value) == (
        "timed out after 0s waiting for pod p to run; last observed state:\n"
        "phase=Pending\nevents: FailedScheduling"
    )


def test_failing_describe_does_not_hide_the_timeout():
    def describe():
        raise RuntimeError("api gone")

    with pytest.raises(WaitTimeout, match="describe\\(\\) failed: RuntimeError: api gone"):
        wait_until(lambda: False, timeout=0.2, interval=0.05, describe=describe, what="x")


def test_unlisted_exceptions_propagate_at_once():
    calls = []

    def condition():
        calls.append(1)
        raise KeyError("boom")

    with pytest.raises(KeyError, match="boom"):
        wait_until(condition, timeout=5, interval=0.05, describe=lambda: "", what="x")
    assert len(calls) == 1


def test_listed_exceptions_are_retried_and_reported():
    attempts = itertools.count()

    def condition():
        if next(attempts) < 2:
            raise ConnectionError("refused")
        return True

    assert wait_until(condition, timeout=2, interval=0.01, describe=lambda: "",
                      what="x", retry_on=(ConnectionError,))

    def never():
        raise ConnectionError("still refused")

    with pytest.raises(WaitTimeout, match="last error: ConnectionError: still refused"):
        wait_until(never, timeout=0.2, interval=0.05, describe=lambda: "s", what="x",
                   retry_on=(ConnectionError,))


def test_terminal_signal_ends_the_wait_at_once_quoting_it():
    from hostnet_conformance.signals import Signal, TerminalSignal
    sig = Signal("image_pull", "ErrImagePull: pull access denied", "p", "worker")
    start = time.monotonic()
    with pytest.raises(TerminalSignal) as e:
        wait_until(lambda: None, timeout=30, interval=0.01, describe=lambda: "n/a", what="pod p Running",
                   terminal=lambda: sig)
    assert time.monotonic() - start < 2
    assert e.value.signal is sig
    assert str(e.value) == "pod p Running: pod p on node worker: image_pull: ErrImagePull: pull access denied"


def test_terminal_is_not_asked_once_the_condition_holds_and_is_rate_limited():
    asked = []
    calls = itertools.count()
    value = wait_until(lambda: next(calls) >= 5 and "ok", timeout=5, interval=0.01, describe=lambda: "n/a",
                       what="x", terminal=lambda: asked.append(1), terminal_every=10)
    assert value == "ok" and len(asked) == 1


def test_steady_holds_only_after_its_time_and_restarts_on_a_miss():
    """environment.Steady: a DaemonSet seen ready in the instant before its pods crash is not ready."""
    from hostnet_conformance.environment import Steady
    answers = iter(["ready", "ready", None, "ready", "ready", "ready"])
    now = iter([0.0, 1.0, 3.5, 4.0, 7.1])   # one reading per truthy answer
    s = Steady(lambda: next(answers), steady=3.0, clock=lambda: next(now))
    assert [s(), s(), s(), s(), s(), s()] == [None, None, None, None, None, "ready"]
