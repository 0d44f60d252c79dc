"""Each test's outcome as a verdict: PASS, FAIL (observed false), NOT APPLICABLE (a precondition
missing, naming it), ERROR (the cluster could not be observed, in its own words). Results reach
the process that writes the reports (the only one, or xdist's controller) through user_properties."""
from __future__ import annotations

from dataclasses import asdict

import pytest
from kubernetes import client

from hostnet_conformance import kube, report
from hostnet_conformance.report import Result
from hostnet_conformance.signals import TerminalSignal
from hostnet_conformance.verdict import ERROR, FAIL, NOT_APPLICABLE, PASS, ClusterError, NotApplicable
from hostnet_conformance.waiting import WaitTimeout

from .diagnostics import diagnose
from .state import STATE, VERDICTS, claim_of


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """A missing precondition (NotApplicable) is a skip with its reason: NOT APPLICABLE in the
    table and the reports, a skip in JUnit."""
    try:
        return (yield)
    except NotApplicable as e:
        pytest.skip(f"NOT APPLICABLE: {e}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    """The same for a precondition a fixture checks (a module fixture's, for each of its tests)."""
    try:
        return (yield)
    except NotApplicable as e:
        pytest.skip(f"NOT APPLICABLE: {e}")


def status_and_reason(rep, excinfo) -> tuple[str, str | None]:
    """The test's outcome (PASS, FAIL, NOT APPLICABLE, ERROR, SKIP) and, for a failure, its reason
    in the cluster's words: never a file location or an exception class name."""
    if rep.passed:
        return PASS, None
    if rep.skipped:
        text = str(rep.longrepr[2]) if isinstance(rep.longrepr, tuple) else str(rep.longrepr)
        return (NOT_APPLICABLE if text.startswith("Skipped: NOT APPLICABLE") or text.startswith("NOT APPLICABLE")
                else "SKIP"), None
    exc = excinfo.value if excinfo is not None else None
    if isinstance(exc, (ClusterError, TerminalSignal)):
        return ERROR, one_line(str(exc))
    if isinstance(exc, WaitTimeout):
        return ERROR, one_line(exc.in_words(), limit=600)
    if isinstance(exc, client.ApiException):
        return ERROR, one_line(f"the API answered HTTP {exc.status} {exc.reason}: {kube.api_message(exc)}")
    if isinstance(exc, AssertionError):
        # `assert v.passed, v.reason`: the message before pytest's "assert ..." explanation
        msg = str(exc).split("\nassert ")[0]
        status = FAIL if rep.when == "call" else ERROR
        return status, one_line(msg) or "assertion failed"
    if exc is not None:
        return ERROR, one_line(str(exc)) or "the test could not run"
    return (FAIL if rep.when == "call" else ERROR), None


def one_line(text: str, limit: int = 400) -> str:
    return report.one_line(str(text))[:limit]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed and rep.when in ("call", "setup"):
        try:
            diagnose(item, rep)
        except Exception as e:  # noqa: BLE001 - diagnostics must never hide the failure itself
            rep.sections.append(("hostnet-conformance diagnostics", f"unavailable: {one_line(str(e))}"))
    claim = claim_of(item)
    if claim is None or not (rep.when == "call" or (rep.when == "setup" and rep.outcome != "passed")):
        return
    v = item.stash.get(VERDICTS, None)
    kind = "negative_control" if item.get_closest_marker("negative_control") else "claim"
    skip = str(rep.longrepr[2]) if rep.skipped and isinstance(rep.longrepr, tuple) else None
    if skip and skip.startswith("Skipped: "):
        skip = skip[len("Skipped: "):]
    status, err = status_and_reason(rep, call.excinfo)
    result = Result(claim, item.nodeid, kind, rep.outcome, v.to_dict() if v else None,
                    skip, round(rep.duration, 2), err, status)
    rep.user_properties.append(("hnc_result", asdict(result)))
    item.user_properties.append(("hnc_outcome", status))   # JUnit: <property name="hnc_outcome">
    w = item.funcargs.get("world")
    if w is not None and len(w.env.cluster.facts) != STATE.get("facts_sent"):
        # facts found during tests (e.g. NetworkPolicy enforcement) reach the xdist controller this way
        STATE["facts_sent"] = len(w.env.cluster.facts)
        rep.user_properties.append(("hnc_facts", dict(w.env.cluster.facts)))


def pytest_runtest_logreport(report):
    """Runs where reports are gathered (the only process, or the xdist controller)."""
    for key, value in report.user_properties:
        if key == "hnc_result":
            STATE["results"].append(Result(**value))  # `report` is this hook's argument, not the module
        elif key == "hnc_facts":
            for k, v in value.items():
                STATE["capabilities"].setdefault(k, v)


@pytest.fixture(autouse=True)
def _host_network_admitted(request):
    """Every claim needs an admitted host-network pod, except the ones marked `denial_only`; of the
    cluster tests, those marked `host_network_pods`. When an admission gate refuses such pods even
    in a privileged namespace, those tests are NOT APPLICABLE, naming the gate (discovery.discover_admission).
    A claim's tests are NOT APPLICABLE too when the claim (or, for a negative control, the control)
    needs a host feature a gate refuses (admission.CLAIM_FEATURES), naming the feature and the gate."""
    item = request.node
    claim = claim_of(item)
    needs = (item.get_closest_marker("host_network_pods") is not None
             or (claim is not None and item.get_closest_marker("denial_only") is None))
    if (needs or claim is not None) and "world" in request.fixturenames:
        from hostnet_conformance.world import require_features, require_host_network
        w = request.getfixturevalue("world")
        said = page_not_applicable(claim)
        if said:
            pytest.skip(f"NOT APPLICABLE: {said}")
        try:
            if needs:
                require_host_network(w)
            if claim is not None:
                require_features(w, claim, control=item.get_closest_marker("negative_control") is not None)
        except NotApplicable as e:
            pytest.skip(f"NOT APPLICABLE: {e}")
    yield


def page_not_applicable(claim: str | None) -> str | None:
    """The reason the run's profile gives for a claim its page says cannot hold (profiles.py), or None."""
    from hostnet_conformance.profiles import expectation
    choice = report.PROFILE
    if choice is None or claim is None:
        return None
    exp, by = expectation(choice, claim)
    return f"{by}'s page: {exp.reason}" if exp.expect == "not_applicable" else None
