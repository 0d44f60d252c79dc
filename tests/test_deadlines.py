"""A deadline on every call (issue 19, part 3): an API server that accepts a connection and never
answers ends each call, each wait and each exec within its bound, as ERROR `timed out after N s`,
never as a verdict. The real client and real sockets on 127.0.0.1; nothing is mocked between them."""
from __future__ import annotations

import socket
import threading
import time
from types import SimpleNamespace

import pytest
from kubernetes import client

from hostnet_conformance import kube, waiting
from hostnet_conformance.plugin.verdicts import status_and_reason
from hostnet_conformance.verdict import ERROR, CallTimeout
from hostnet_conformance.waiting import WaitTimeout, each, wait_until

BOUND = 1.0   # the request timeout of these tests, in seconds


@pytest.fixture
def silent_server():
    """A TCP socket on 127.0.0.1 that accepts every connection and never sends a byte."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(32)
    held = []

    def accept():
        while True:
            try:
                conn, _ = srv.accept()
            except OSError:   # closed at the end of the test
                return
            held.append(conn)
    threading.Thread(target=accept, daemon=True, name="silent-server").start()
    yield srv.getsockname()[1]
    srv.close()
    for conn in held:
        conn.close()


@pytest.fixture
def short_requests(monkeypatch):
    monkeypatch.setattr(waiting, "REQUEST_TIMEOUT", BOUND)


def core_at(port: int, scheme: str = "https") -> client.CoreV1Api:
    """The suite's client configured for the server at 127.0.0.1:port (as a kubeconfig would)."""
    cfg = client.Configuration()
    cfg.host = f"{scheme}://127.0.0.1:{port}"
    cfg.verify_ssl = False
    return client.CoreV1Api(kube.ApiClient(cfg))


def error_of(exc: BaseException) -> tuple[str, str]:
    """How the plugin reports a test that raised `exc` (its status and reason)."""
    rep = SimpleNamespace(passed=False, skipped=False, when="call")
    return status_and_reason(rep, SimpleNamespace(value=exc))


@pytest.mark.parametrize("scheme", ["https", "http"])   # TLS handshake unanswered, or the request
@pytest.mark.parametrize("call", ["list", "create"])
def test_an_api_call_to_a_silent_server_ends_at_its_deadline_as_error(silent_server, short_requests, scheme, call):
    core = core_at(silent_server, scheme)
    client.CoreV1Api   # the client's lazy import of its model classes is not the call's time
    t0 = time.monotonic()
    with pytest.raises(CallTimeout) as e:
        if call == "list":
            core.list_namespace()
        else:
            kube.create_namespace(core, "deadbeef", "c1")
    took = time.monotonic() - t0
    # one request timeout, not one per urllib3 retry (4 with the client's default retries)
    assert took < 2 * BOUND, took
    what = "GET /api/v1/namespaces" if call == "list" else "POST /api/v1/namespaces"
    assert str(e.value) == f"timed out after 1 s: {what}"
    assert error_of(e.value) == (ERROR, f"timed out after 1 s: {what}")


def test_an_exec_to_a_silent_server_ends_at_its_deadline_as_error(silent_server, short_requests):
    t0 = time.monotonic()
    with pytest.raises(CallTimeout, match=r"^timed out after 1 s: exec cat /proc/net/tcp in ns1/probe$"):
        kube.exec_in(core_at(silent_server, "http"), "ns1", "probe", ["cat", "/proc/net/tcp"], timeout=30)
    assert time.monotonic() - t0 < 2 * BOUND


def test_a_wait_on_a_silent_server_ends_within_its_deadline_and_the_claim_is_error(silent_server, short_requests):
    """A claim's wait whose every attempt is an API call that hangs: the wait ends within its timeout
    plus one request timeout, and the claim is ERROR, in one line."""
    core = core_at(silent_server)
    t0 = time.monotonic()
    with pytest.raises(CallTimeout) as e:
        wait_until(lambda: core.read_namespaced_pod("p", "ns1"), timeout=5, interval=0.1, what="pod p to run",
                   describe=lambda: "", retry_on=(client.ApiException,))
    assert time.monotonic() - t0 < 5 + BOUND
    status, reason = error_of(e.value)
    assert (status, reason) == (ERROR, "timed out after 1 s: GET /api/v1/namespaces/ns1/pods/p")


def test_a_hung_attempt_does_not_hold_a_wait_past_timeout_plus_one_request_timeout(short_requests):
    """An attempt that never returns at all (no client deadline could end it): the wait still ends."""
    never = threading.Event()
    t0 = time.monotonic()
    with pytest.raises(WaitTimeout) as e:
        wait_until(lambda: never.wait(60), timeout=0.5, interval=0.1, what="the hung thing", describe=lambda: "")
    assert time.monotonic() - t0 < 0.5 + BOUND + 0.5
    assert str(e.value).startswith("timed out after 0s waiting for the hung thing; last observed state:\n"
                                   "an attempt was still running 1s after the deadline")
    assert error_of(e.value)[0] == ERROR
    never.set()


def test_a_hung_describe_does_not_hold_a_timed_out_wait(short_requests):
    never = threading.Event()
    t0 = time.monotonic()
    with pytest.raises(WaitTimeout, match="describe\\(\\) did not answer"):
        wait_until(lambda: False, timeout=0.3, interval=0.1, what="x", describe=lambda: never.wait(60))
    assert time.monotonic() - t0 < 0.3 + BOUND + 0.5
    never.set()


def test_each_awaits_its_calls_with_a_bound():
    never = threading.Event()

    def hang(v):   # "b" hangs
        return v if v == 1 else never.wait(60)

    t0 = time.monotonic()
    with pytest.raises(CallTimeout, match=r"^timed out after 0 s: hang for b$"):
        each(hang, {"a": 1, "b": 2}, timeout=0.3)
    assert time.monotonic() - t0 < 2
    never.set()
    assert each(lambda v: v * 2, {"a": 1, "b": 2}) == {"a": 2, "b": 4}
    with pytest.raises(KeyError):   # a call's own exception, raised here
        each(lambda v: {}[v], {"a": 1, "b": 2})


def test_an_observation_that_never_ends_is_an_error_for_its_test(monkeypatch):
    from concurrent.futures import Future

    from hostnet_conformance import world as w

    monkeypatch.setattr(w, "OBSERVATION_BOUND", 0.2)
    world = w.World(env=None, ports=None)
    world.observations["c8"] = Future()   # its thread never finishes
    with pytest.raises(CallTimeout, match=r"^timed out after 0 s: observation c8$"):
        world.observed("c8")
    with pytest.raises(CallTimeout, match=r"^timed out after 0 s: observation c8$"):
        world.await_observation("c8")
    world.observations["c8"].set_exception(TimeoutError("its own"))   # the observation's own outcome
    world.await_observation("c8")
    with pytest.raises(TimeoutError, match="its own"):
        world.observed("c8")


def test_a_stoppable_wait_ends_when_the_run_stops():
    try:
        threading.Timer(0.2, waiting.STOPPING.set).start()
        t0 = time.monotonic()
        with pytest.raises(waiting.Stopped, match="the run is ending: stopped waiting for x"):
            wait_until(lambda: False, timeout=30, interval=5, what="x", describe=lambda: "")
        assert time.monotonic() - t0 < 2   # the stop wakes the pause between attempts
        assert wait_until(lambda: True, timeout=1, what="y", describe=lambda: "", stoppable=False)
    finally:
        waiting.begin_run()


def test_request_timeout_option_is_validated():
    from hostnet_conformance.options import UsageError, parse_seconds

    assert parse_seconds("2.5", "--request-timeout") == 2.5
    for bad in ("0", "-1", "soon", "1e9"):
        with pytest.raises(UsageError, match="--request-timeout: .* is not a number of seconds"):
            parse_seconds(bad, "--request-timeout")
