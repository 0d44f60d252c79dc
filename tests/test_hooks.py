"""The pytest hooks that turn tests into verdicts (conftest.py), run with pytester on stand-in tests
that need no cluster: each of the four outcomes reaches the terminal table, report.json and JUnit,
with the reason in the cluster's words (never a file location or an exception class name)."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]
ROOT = Path(__file__).resolve().parent.parent

STAND_INS = '''
import pytest
from hostnet_conformance.signals import Signal, TerminalSignal
from hostnet_conformance.verdict import ClusterError, NotApplicable, Verdict, expect_failure
from hostnet_conformance.waiting import WaitTimeout


@pytest.mark.C1
def test_c1_pod_ip_equals_node_ip(record):
    v = record(Verdict("C1", True, "podIP == hostIP == node InternalIP for 2 pods"))
    assert v.passed, v.reason


@pytest.mark.C1
@pytest.mark.negative_control
def test_c1_control(record):
    v = record(Verdict("C1", False, "podIP 10.244.1.5 != hostIP 172.18.0.3", codes=["pod_ip_not_node_ip"]))
    expect_failure(v, "pod_ip_not_node_ip", "no hostNetwork")


@pytest.mark.C3
def test_c3_claim(record):
    v = record(Verdict("C3", False, "cluster DNS has no ready endpoints: Deployment coredns is scaled to 0 replicas",
                       codes=["cluster_dns_unavailable"]))
    assert v.passed, v.reason


@pytest.mark.C8
def test_c8_claim(record):
    raise TerminalSignal("pod ns/pinned to crash-loop", Signal(
        "image_pull", "ErrImageNeverPull: Container image \\"x:0\\" is not present with pull policy of Never",
        "pinned", "worker"))


@pytest.mark.C8
@pytest.mark.negative_control
def test_c8_control(record):
    v = record(Verdict("C8", False, "timed out after 120s waiting for ns/p to crash-loop", codes=["timeout"]))
    expect_failure(v, "not_crashlooping", "a free port")


@pytest.mark.C10
def test_c10_claim(record):
    raise NotApplicable("nothing enforces NetworkPolicy: default-deny did not block http://10.244.1.9:8080/")


@pytest.mark.C12
def test_c12_claim(record):
    raise ClusterError("the shared 'vendor' DaemonSet did not become ready: node w1: crash_loop: "
                       "CrashLoopBackOff (exit code 1): bind: address already in use")


@pytest.mark.C13
def test_c13_claim(record):
    raise WaitTimeout("DaemonSet ns/x ready on every node", 180, "daemonset x: desired=2 ready=1\\npod x-1 Pending")
'''


def _stand_ins(pytester) -> None:
    pytester.makeconftest((ROOT / "conftest.py").read_text())
    pytester.makepyfile(test_stand_ins=STAND_INS)
    pytester.makefile(".ini", pytest="[pytest]\nmarkers =\n" + "".join(
        f"    C{i}: claim\n" for i in range(1, 16)) + "    negative_control: control\n")


@pytest.fixture
def run(pytester):
    _stand_ins(pytester)
    out = pytester.path / "out"
    result = pytester.runpytest("-p", "no:cacheprovider", "--report-dir", str(out), "--junitxml", str(out / "j.xml"))
    data = json.loads((out / "report.json").read_text())
    return result, {c["id"]: c for c in data["claims"]}, ET.parse(out / "j.xml").getroot()


def test_each_outcome_and_its_reason(run):
    result, claims, _ = run
    assert claims["C1"]["verdict"] == "PASS"
    assert (claims["C3"]["verdict"], claims["C3"]["reason"]) == (
        "FAIL", "cluster DNS has no ready endpoints: Deployment coredns is scaled to 0 replicas")
    assert claims["C8"]["verdict"] == "ERROR"
    assert claims["C8"]["reason"].startswith("pod ns/pinned to crash-loop: pod pinned on node worker: image_pull: "
                                             "ErrImageNeverPull")
    assert claims["C10"]["verdict"] == "NOT APPLICABLE"
    assert claims["C10"]["reason"] == "NOT APPLICABLE: nothing enforces NetworkPolicy: default-deny did not block " \
                                      "http://10.244.1.9:8080/"
    assert claims["C12"]["verdict"] == "ERROR" and "node w1: crash_loop" in claims["C12"]["reason"]
    assert claims["C13"]["verdict"] == "ERROR"
    assert claims["C13"]["reason"] == ("timed out after 180s waiting for DaemonSet ns/x ready on every node; "
                                       "last seen: daemonset x: desired=2 ready=1 | pod x-1 Pending")
    for c in claims.values():
        assert ".py:" not in c["reason"] and "Error:" not in c["reason"] and "Exception" not in c["reason"], c
    result.assert_outcomes(passed=2, failed=5, skipped=1)


def test_inconclusive_control_is_an_error_not_a_passed_control(run):
    _, claims, _ = run
    c8 = {t["kind"]: t for t in claims["C8"]["tests"]}
    assert c8["negative_control"]["status"] == "ERROR"
    assert "failed for another reason than 'not_crashlooping': timeout" in c8["negative_control"]["error"]


def test_terminal_table_shows_the_four_outcomes(run):
    result, _, _ = run
    table = result.stdout.str().split("hostnet-conformance verdicts")[1]
    for line in ("C1   PASS", "C3   FAIL", "C8   ERROR", "C10  NOT APPLICABLE", "C13  ERROR"):
        assert line in table, table


def test_junit_not_applicable_is_a_skip_with_its_reason(run):
    _, _, junit = run
    cases = {tc.get("name"): tc for tc in junit.iter("testcase")}
    skipped = cases["test_c10_claim"].find("skipped")
    assert skipped is not None and "NOT APPLICABLE: nothing enforces NetworkPolicy" in skipped.get("message")
    assert cases["test_c8_claim"].find("failure") is not None
    props = {p.get("name"): p.get("value") for p in cases["test_c8_claim"].iter("property")}
    assert props.get("hnc_outcome") == "ERROR"


@pytest.fixture
def stand_ins(pytester):
    """The stand-in tests, to run several times with options of their own: (result, report.json, junit)."""
    _stand_ins(pytester)
    runs = [0]

    def run_with(*args):
        runs[0] += 1
        out = pytester.path / f"out{runs[0]}"
        result = pytester.runpytest("-p", "no:cacheprovider", "-q", "--report-dir", str(out),
                                    "--junitxml", str(out / "j.xml"), *args)
        js = out / "report.json"
        return (result, json.loads(js.read_text()) if js.exists() else None,
                ET.parse(out / "j.xml").getroot() if (out / "j.xml").exists() else None)
    return run_with


def _with_verdicts(data: dict, path: Path, **verdicts) -> Path:
    for c in data["claims"]:
        c["verdict"] = verdicts.get(c["id"], c["verdict"])
    path.write_text(json.dumps(data))
    return path


def test_baseline_of_the_same_run_exits_0_whatever_failed(stand_ins, tmp_path):
    first, data, _ = stand_ins()
    assert first.ret == 1   # C3 FAIL, C8/C12/C13 ERROR
    base = _with_verdicts(data, tmp_path / "base.json")
    result, again, junit = stand_ins("--baseline", str(base))
    assert result.ret == 0, result.stdout.str()
    out = result.stdout.str()
    assert "hostnet-conformance baseline" in out and "no claim changed" in out
    assert again["baseline"]["changes"] == []
    props = {p.get("name"): p.get("value") for p in junit.find("testsuite").find("properties").iter("property")}
    assert props["hnc_baseline"].startswith(str(base))


def test_baseline_regression_fails_the_run_and_names_the_claim(stand_ins, tmp_path):
    _, data, _ = stand_ins()
    base = _with_verdicts(data, tmp_path / "base.json", C3="PASS", C1="FAIL")
    result, again, junit = stand_ins("--baseline", str(base))
    assert result.ret == 1
    out = result.stdout.str()
    assert "2 claim(s) changed, 1 regression(s)" in out, out
    assert "C1  FAIL -> PASS" in out and "C3  PASS -> FAIL (regression)  cluster DNS has no ready endpoints" in out
    assert [(c["claim"], c["regression"]) for c in again["baseline"]["changes"]] == [("C1", False), ("C3", True)]
    suite = {p.get("name"): p.get("value") for p in junit.find("testsuite").find("properties").iter("property")}
    assert suite["hnc_baseline_change_C3"] == "PASS -> FAIL (regression)"
    cases = {tc.get("name"): tc for tc in junit.iter("testcase")}
    props = {p.get("name"): p.get("value") for p in cases["test_c3_claim"].iter("property")}
    assert props["hnc_baseline_verdict"] == "PASS"


def test_baseline_strict_fails_on_any_change(stand_ins, tmp_path):
    _, data, _ = stand_ins()
    base = _with_verdicts(data, tmp_path / "base.json", C1="FAIL")
    assert stand_ins("--baseline", str(base))[0].ret == 0
    assert stand_ins("--baseline", str(base), "--baseline-strict")[0].ret == 1


def test_rerun_failed_runs_only_what_did_not_pass(stand_ins, tmp_path):
    _, data, _ = stand_ins()
    base = _with_verdicts(data, tmp_path / "base.json")
    result, again, _ = stand_ins("--rerun-failed", str(base))
    ran = {c["id"] for c in again["claims"] if c["verdict"] != "NOT RUN"}
    assert ran == {"C3", "C8", "C10", "C12", "C13"}, ran
    assert "reran C3, C8, C10, C12, C13" in result.stdout.str()
    result, again, _ = stand_ins("--rerun-failed", str(base), "--claims", "C8,C1")
    assert {c["id"] for c in again["claims"] if c["verdict"] != "NOT RUN"} == {"C8"}
    all_passed = _with_verdicts(data, tmp_path / "green.json", C3="PASS", C8="PASS", C10="PASS", C12="PASS",
                                C13="PASS")
    result, _, _ = stand_ins("--rerun-failed", str(all_passed))
    assert result.ret == 0 and "nothing to rerun: every claim it judged passed" in result.stdout.str()


def test_bad_baseline_is_a_usage_error_in_one_line(stand_ins, tmp_path):
    result, _, _ = stand_ins("--baseline", str(tmp_path / "missing.json"))
    assert result.ret == 4
    err = [line for line in result.stderr.str().splitlines() if "missing.json" in line]
    assert len(err) == 1 and "--baseline: cannot read" in err[0], result.stderr.str()
    result, _, _ = stand_ins("--baseline-strict")
    assert result.ret == 4 and "--baseline-strict needs --baseline" in result.stderr.str()


def test_progress_prints_each_verdict_as_it_arrives_also_with_q(stand_ins):
    result, _, _ = stand_ins()
    lines = [line for line in result.stdout.lines if line.startswith("hnc ")]
    assert "8 tests of 6 claims" in lines[0], lines
    verdicts = {line.split()[2]: line for line in lines[1:]}
    assert verdicts["C1"].split()[3] == "PASS" and verdicts["C3"].split()[3] == "FAIL"
    assert "NOT APPLICABLE" in verdicts["C10"] and "ERROR" in verdicts["C13"]
    # before the table at the end, each as its last test reported
    assert result.stdout.str().index(verdicts["C1"]) < result.stdout.str().index("hostnet-conformance verdicts")
    quiet, _, _ = stand_ins("--no-progress")
    assert not [line for line in quiet.stdout.lines if line.startswith("hnc ")]


def test_unknown_or_overlay_profile_is_a_usage_error_in_one_line(stand_ins):
    result, _, _ = stand_ins("--profile", "eks")
    assert result.ret == 4 and "--profile: no profile 'eks'; shipped: base" in result.stderr.str()
    result, _, _ = stand_ins("--profile", "cilium-host-firewall")
    assert result.ret == 4 and "an overlay (detected on its own)" in result.stderr.str()
