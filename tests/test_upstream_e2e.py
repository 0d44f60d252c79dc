"""The upstream e2e reference run's decision logic: the spec list, the focus arguments and the
verdict read back from e2e.test's JUnit. No cluster: JUnit files are written here in the shape
ginkgo writes them (testcase name, status attribute, failure/skipped child)."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from hostnet_conformance import upstream_e2e as ue

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "fixtures" / "upstream-e2e" / "specs.yaml"

HOSTPORT = ("[sig-network] HostPort validates that there is no conflict between pods with same hostPort "
            "but different hostIP and protocol [LinuxOnly] [Conformance]")
NO_ENDPOINTS = "[sig-network] Services should be rejected when no endpoints exist"
ITP_LOCAL = "[sig-network] Services should respect internalTrafficPolicy=Local Pod to Pod"
ITP_HOSTNET = "[sig-network] Services should respect internalTrafficPolicy=Local Pod (hostNetwork: true) to Pod"


def junit(tmp_path: Path, *cases: tuple[str, str, str]) -> Path:
    body = []
    for name, status, msg in cases:
        child = ""
        if status == "failed":
            child = f'<failure message="{msg}" type="failed">{msg}</failure>'
        elif status == "skipped":
            child = f'<skipped message="{msg or "skipped"}"></skipped>'
        body.append(f'<testcase name="{name}" classname="Kubernetes e2e suite" status="{status}" time="3.2">'
                    f"{child}</testcase>")
    p = tmp_path / f"junit_{len(list(tmp_path.glob('*.xml'))):02d}.xml"
    p.write_text('<?xml version="1.0" encoding="UTF-8"?><testsuites><testsuite name="Kubernetes e2e suite">'
                 + "".join(body) + "</testsuite></testsuites>")
    return p


def spec(focus: str, **kw) -> ue.Spec:
    return ue.Spec(focus=focus, why="test", **kw)


def test_project_spec_list_is_valid_and_covers_the_issue_focus():
    specs = ue.load_specs(SPECS)
    text = " ".join(s.focus for s in specs)
    for needed in ("HostPort", "SchedulerPredicates", "node-pod communication: http", "node-pod communication: udp",
                   "DNS HostNetwork", "internalTrafficPolicy", "rejected when no endpoints exist",
                   "Downward API should provide host IP", "KubeletManagedEtcHosts"):
        assert needed in text, needed
    assert all(s.serial == ("\\[Serial\\]" in s.focus) for s in specs), "[Serial] specs go in the serial run"
    assert all(s.skip is None for s in specs), "no spec may be skipped without a stated reason"


def test_project_focus_matches_the_upstream_spec_names():
    specs = ue.load_specs(SPECS)
    assert any(s.matches(HOSTPORT) for s in specs)
    assert sum(s.matches(NO_ENDPOINTS) for s in specs) == 1
    # the two internalTrafficPolicy foci must not both match the same spec
    assert sum(s.matches(ITP_LOCAL) for s in specs) == 1
    assert sum(s.matches(ITP_HOSTNET) for s in specs) == 1


def test_focus_args_split_serial_from_parallel():
    specs = [spec("a"), spec("b", serial=True)]
    assert ue.focus_args(specs, serial=False) == ["--ginkgo.focus=a"]
    assert ue.focus_args(specs, serial=True) == ["--ginkgo.focus=b"]


def test_all_listed_specs_passed(tmp_path):
    j = junit(tmp_path, ("[SynchronizedBeforeSuite]", "passed", ""), (HOSTPORT, "passed", ""),
              (NO_ENDPOINTS, "passed", ""), ("[sig-apps] something else", "skipped", ""))
    outcomes, setup = ue.judge([spec("HostPort validates"), spec("rejected when no endpoints exist$")],
                               ue.read_junit(j))
    assert [o.status for o in outcomes] == ["PASS", "PASS"] and not setup


def test_failure_quotes_the_first_line_of_e2e_message(tmp_path):
    j = junit(tmp_path, (NO_ENDPOINTS, "failed", "expected error REFUSED, got: 404 page not found&#10;more"))
    (o,), _ = ue.judge([spec("rejected when no endpoints exist$")], ue.read_junit(j))
    assert o.status == "FAIL" and not o.ok
    assert "failed: expected error REFUSED, got: 404 page not found" in o.detail
    assert "more" not in o.detail


def test_focus_matching_nothing_is_an_error_not_a_pass(tmp_path):
    j = junit(tmp_path, (HOSTPORT, "passed", ""))
    (o,), _ = ue.judge([spec("a spec that was renamed upstream")], ue.read_junit(j))
    assert o.status == "UNMATCHED" and not o.ok


def test_skip_needs_a_stated_reason(tmp_path):
    j = junit(tmp_path, (ITP_HOSTNET, "skipped", "Requires at least 2 nodes (not 1)"))
    (o,), _ = ue.judge([spec("Pod \\(hostNetwork: true\\) to Pod$")], ue.read_junit(j))
    assert o.status == "FAIL" and "skipped without a stated reason" in o.detail
    assert "Requires at least 2 nodes" in o.detail
    (o,), _ = ue.judge([spec("Pod \\(hostNetwork: true\\) to Pod$", skip="single-node clusters")],
                       ue.read_junit(j))
    assert o.status == "SKIP" and o.ok


def test_focus_matching_two_specs_that_ran_is_ambiguous(tmp_path):
    j = junit(tmp_path, (ITP_LOCAL, "passed", ""), (ITP_HOSTNET, "passed", ""))
    (o,), _ = ue.judge([spec("internalTrafficPolicy=Local")], ue.read_junit(j))
    assert o.status == "AMBIGUOUS"


def test_filtered_out_specs_do_not_count(tmp_path):
    # ginkgo lists specs left out by --focus as skipped; the one that ran decides
    j = junit(tmp_path, (ITP_LOCAL, "passed", ""), (ITP_HOSTNET, "skipped", ""))
    (o,), _ = ue.judge([spec("internalTrafficPolicy=Local")], ue.read_junit(j))
    assert o.status == "PASS"


def test_suite_setup_failure_is_reported(tmp_path):
    j = junit(tmp_path, ("[SynchronizedBeforeSuite]", "failed", "1 nodes not ready"), (HOSTPORT, "skipped", ""))
    outcomes, setup = ue.judge([spec("HostPort validates")], ue.read_junit(j))
    assert setup and "1 nodes not ready" in setup[0]
    assert "1 failed" in ue.report(outcomes, setup).splitlines()[-1] or "2 failed" in ue.report(outcomes, setup)


def test_report_ends_with_a_plain_count_line(tmp_path):
    j = junit(tmp_path, (HOSTPORT, "passed", ""), (NO_ENDPOINTS, "failed", "boom"))
    outcomes, setup = ue.judge([spec("HostPort validates"), spec("no endpoints exist$")], ue.read_junit(j))
    assert ue.report(outcomes, setup).splitlines()[-1] == "1 passed, 1 failed, 0 skipped"


@pytest.mark.parametrize("text,message", [
    ("specs: []", "no `specs:` list"),
    ("specs:\n  - focus: 'x'\n", "needs a `focus` string and a `why`"),
    ("specs:\n  - focus: '(unclosed'\n    why: y\n", "not a regular expression"),
    ("specs:\n  - focus: '^Kubernetes'\n    why: y\n", "starts with ^"),
    ("specs: [", "cannot read the spec list"),
])
def test_bad_spec_list_gives_one_line_and_exit_2(tmp_path, text, message):
    p = tmp_path / "specs.yaml"
    p.write_text(text)
    r = subprocess.run([sys.executable, "-m", "hostnet_conformance.upstream_e2e", "focus", str(p), "parallel"],
                       capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert r.returncode == 2
    assert message in r.stderr and len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr


def test_unreadable_junit_is_a_clear_error(tmp_path):
    r = subprocess.run([sys.executable, "-m", "hostnet_conformance.upstream_e2e", "check", str(SPECS),
                        str(tmp_path / "missing.xml")], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert r.returncode == 2 and re.search(r"cannot read the JUnit report", r.stderr)


@pytest.mark.parametrize("args,message", [
    ([], "name a cluster"),
    (["--cluster-name"], "--cluster-name needs a value"),
    (["--bogus"], "unknown argument: --bogus"),
    (["--cluster-name", "a", "--kubeconfig", "/etc/hostname"], "exclude each other"),
    (["--kubeconfig", "/nonexistent/kubeconfig"], "cannot read /nonexistent/kubeconfig"),
    (["--cluster-name", "a", "--context", "x"], "--context goes with --kubeconfig"),
])
def test_script_bad_input_one_line_exit_2(args, message):
    r = subprocess.run(["bash", str(ROOT / "scripts" / "upstream-e2e.sh"), *args], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 2, r
    assert r.stderr.splitlines()[0] == f"upstream-e2e: {message}" or message in r.stderr.splitlines()[0]
    assert "Traceback" not in r.stderr


RECORDED = Path(__file__).resolve().parent / "data" / "upstream-e2e-junit-parallel.xml"


def test_recorded_run_every_parallel_entry_passes_exactly_once():
    """A JUnit report recorded from e2e.test v1.34.4 on the offline cluster (2026-11-29; the
    thousands of specs left out by --focus trimmed to the near misses): every non-serial entry
    of the project's list matches exactly one spec that ran, and it passed."""
    specs = [s for s in ue.load_specs(SPECS) if not s.serial]
    outcomes, setup = ue.judge(specs, ue.read_junit(RECORDED))
    assert not setup
    assert [o.status for o in outcomes] == ["PASS"] * len(specs), ue.report(outcomes, setup)
    # the serial entries were not part of that run: they are filtered out there, so not a PASS
    serial = [s for s in ue.load_specs(SPECS) if s.serial]
    outcomes, _ = ue.judge(serial, ue.read_junit(RECORDED))
    assert all(o.status == "FAIL" and "skipped without a stated reason" in o.detail for o in outcomes)
