"""--baseline FILE [--baseline-strict] and --rerun-failed FILE: this run against an earlier run's
report.json (hostnet_conformance/baseline.py has the rules)."""
from __future__ import annotations

import pytest

from hostnet_conformance import baseline, report

from .state import STATE, claim_of


def pytest_addoption(parser):
    g = parser.getgroup("hostnet-conformance")
    g.addoption("--baseline", default=None, metavar="REPORT_JSON",
                help="compare each claim's verdict with an earlier run's report.json: the changes are named in the "
                     "terminal, the reports and JUnit; the exit status is non-zero only on a regression (PASS -> FAIL "
                     "or ERROR)")
    g.addoption("--baseline-strict", action="store_true",
                help="with --baseline: any changed verdict makes the exit status non-zero")
    g.addoption("--rerun-failed", default=None, metavar="REPORT_JSON",
                help="run only the claims that did not PASS in that report.json (FAIL, ERROR, NOT APPLICABLE, SKIP; "
                     "not the ones it did not run); with --claims, only those among them")


def pytest_configure(config):
    """After the options plugin's checks (tryfirst there): --claims is parsed by now."""
    try:
        if config.getoption("baseline_strict") and not config.getoption("baseline"):
            raise baseline.BaselineError("--baseline-strict needs --baseline REPORT_JSON")
        if config.getoption("baseline"):
            STATE["baseline"] = baseline.load(config.getoption("baseline"))
        if config.getoption("rerun_failed"):
            base = baseline.load(config.getoption("rerun_failed"), "--rerun-failed")
            ids = baseline.rerun_claims(base)
            given = config.getoption("claims")
            if isinstance(given, list):
                ids = [c for c in ids if c in given]
            config.option.claims = ids   # a list, maybe empty: selection.py then keeps no test
            STATE["rerun"] = (base, ids)
    except baseline.BaselineError as e:
        raise pytest.UsageError(str(e)) from None


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session, exitstatus):
    """Before the terminal summary and the reports (which show the comparison) and before JUnit is
    written (which carries it): compare, and set the exit status."""
    rerun = STATE.get("rerun")
    if rerun is not None and not rerun[1] and session.exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED:
        session.exitstatus = pytest.ExitCode.OK   # nothing to rerun is a success, said in the summary
    base = STATE.get("baseline")
    if base is None or not STATE["results"]:
        return
    now = {s.claim: (s.verdict, s.reason) for s in report.summarize(STATE["results"], include_not_run=False)}
    changes = baseline.compare(base, now)
    strict = bool(session.config.getoption("baseline_strict"))
    STATE["baseline_changes"] = changes
    STATE["baseline_report"] = {
        "path": base.path, "run_id": base.run_id, "started_at": base.started_at, "strict": strict,
        "changes": [c.to_dict() for c in changes]}
    if session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        session.exitstatus = pytest.ExitCode(baseline.exit_status(changes, strict))
    xml = _junit(session.config)
    if xml is not None:
        xml.add_global_property("hnc_baseline", f"{base.path} (run {base.run_id})")
        for c in changes:
            xml.add_global_property(f"hnc_baseline_change_{c.claim}", c.words())


def _junit(config):
    try:
        from _pytest.junitxml import xml_key   # what pytest's record_testsuite_property uses
    except ImportError:
        return None
    return config.stash.get(xml_key, None)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Each claim test's JUnit entry names its claim's verdict in the baseline."""
    yield
    base = STATE.get("baseline")
    claim = claim_of(item)
    if base is not None and claim is not None and call.when == "call":
        item.user_properties.append(("hnc_baseline_verdict", base.verdicts.get(claim, baseline.ABSENT)))


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    tr = terminalreporter
    rerun = STATE.get("rerun")
    if rerun is not None:
        base, ids = rerun
        tr.write_line(f"hostnet-conformance --rerun-failed {base.path}: "
                      + (f"reran {', '.join(ids)}" if ids else "nothing to rerun: every claim it judged passed"))
    base = STATE.get("baseline")
    if base is None or "baseline_changes" not in STATE:
        return
    tr.section("hostnet-conformance baseline")
    strict = bool(config.getoption("baseline_strict"))
    for line in baseline.summary_lines(base, STATE["baseline_changes"], strict):
        tr.write_line(line)
