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


@pytest.fixture
def run(pytester):
    pytester.makeconftest((ROOT / "conftest.py").read_text())
    pytester.makepyfile(test_stand_ins=STAND_INS)
    pytester.makefile(".ini", pytest="[pytest]\nmarkers =\n" + "".join(
        f"    C{i}: claim\n" for i in range(1, 16)) + "    negative_control: control\n")
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
