import json
from datetime import datetime, timezone

import pytest

from hostnet_conformance.report import (
    REPORT_SCHEMA_VERSION,
    ReportError,
    Result,
    Run,
    render_markdown,
    summarize,
    terminal_table,
    write_reports,
)
from hostnet_conformance.verdict import Verdict

CAPS = {"kubernetes": "v1.33.1", "nodes": ["kind-control-plane", "kind-worker"],
        "networkpolicy": False}
RUN = Run("hnc-abc123", datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone.utc), CAPS)


def result(claim, kind="claim", outcome="passed", verdict=None, test=None, **kw) -> Result:
    """A recorded test result, named as the registry names the claim's (first) claim test or control."""
    from hostnet_conformance.verdict import CLAIMS
    c = CLAIMS.get(claim)
    name = test or (c and (c.claim_tests[0] if kind == "claim" else c.controls[0].test)) \
        or f"test_{claim.lower()}_{kind}"
    return Result(claim, f"suites/test_x.py::{name}", kind, outcome, verdict.to_dict() if verdict else None, **kw)


RESULTS = [
    result("C1", verdict=Verdict("C1", True, "podIP == hostIP on 2 nodes",
                                 {"podIPs": "10.0.0.2|10.0.0.3", "nodes": 2}), duration_s=1.25),
    result("C1", "negative_control", verdict=Verdict("C1", False, "podIP != hostIP"),
           duration_s=2.0),
    result("C2", verdict=Verdict("C2", False, "connection refused", {"url": "http://n:20000"}),
           outcome="failed"),
    result("C3", verdict=Verdict("C3", True, "cluster DNS")),
    result("C3", "negative_control", outcome="failed",
           verdict=Verdict("C3", True, "cluster DNS")),
    result("C10", outcome="skipped", skip_reason="needs networkpolicy: CNI does not enforce"),
    result("C10", "negative_control", outcome="skipped", skip_reason="needs networkpolicy"),
    result("C14", verdict=Verdict("C14", True, "hostname == nodeName",
                                  {"output": "x" * 300})),
]


def by_claim(results=RESULTS):
    return {s.claim: s for s in summarize(results)}


def test_aggregation_rules():
    s = by_claim()
    assert (s["C1"].verdict, s["C1"].reason) == ("PASS", "podIP == hostIP on 2 nodes")
    assert s["C1"].duration_s == pytest.approx(3.25)
    assert (s["C2"].verdict, s["C2"].reason) == ("FAIL", "connection refused")
    # A negative control that fails means the check cannot fail: the claim fails.
    assert s["C3"].verdict == "FAIL" and s["C3"].reason.startswith("negative control passed")
    assert s["C10"].verdict == "SKIP"
    assert s["C10"].reason == "needs networkpolicy: CNI does not enforce"
    assert s["C14"].verdict == "PASS" and "no negative control ran" in s["C14"].reason
    assert s["C5"].verdict == "NOT RUN" and s["C5"].tests == []
    assert list(s)[:3] == ["C1", "C2", "C3"] and len(s) == 15


def test_failure_without_verdict_reports_its_error():
    s = by_claim([result("C6", outcome="failed", error="timed out after 60s waiting for rollout")])
    assert (s["C6"].verdict, s["C6"].reason) == ("FAIL", "timed out after 60s waiting for rollout")


def test_claim_test_skipped_but_control_passed_is_skip():
    s = by_claim([result("C4", outcome="skipped", skip_reason="no DNS"),
                  result("C4", "negative_control")])
    assert (s["C4"].verdict, s["C4"].reason) == ("SKIP", "no DNS")


def test_markdown_header_and_rows():
    md = render_markdown(RESULTS, RUN)
    assert md.startswith("# hostNetwork conformance report: hnc-abc123\n")
    assert "- date: 2025-01-02T03:04:05+00:00" in md
    assert "- kubernetes: v1.33.1" in md and '- nodes: ["kind-control-plane", "kind-worker"]' in md
    rows = [line for line in md.splitlines() if line.startswith("| C")]
    assert len(rows) == 15
    c1 = next(r for r in rows if r.startswith("| C1 |"))
    # The pipe inside the evidence is escaped, so the row keeps exactly 5 cells.
    assert "podIPs=10.0.0.2\\|10.0.0.3, nodes=2" in c1
    assert c1.replace("\\|", "").count("|") == 6
    assert "| the pod shares the node's network namespace | PASS |" in c1
    assert c1.endswith("| 3.2s |")
    assert "| FAIL: connection refused |" in next(r for r in rows if r.startswith("| C2 |"))


def test_markdown_evidence_is_truncated():
    md = render_markdown(RESULTS, RUN)
    c14 = next(line for line in md.splitlines() if line.startswith("| C14 |"))
    evidence = c14.split(" | ")[3]
    assert len(evidence) == 120 and evidence.endswith("…")


def test_json_round_trip(tmp_path):
    md_path, json_path, _ = write_reports(tmp_path / "out" / "nested", RESULTS, RUN)
    assert md_path.read_text() == render_markdown(RESULTS, RUN)
    data = json.loads(json_path.read_text())
    assert data["schema_version"] == REPORT_SCHEMA_VERSION == 2
    assert (data["run_id"], data["started_at"]) == ("hnc-abc123", "2025-01-02T03:04:05+00:00")
    assert data["capabilities"] == CAPS
    assert data["summary"] == {"tests": 8, "PASS": 2, "FAIL": 2, "NOT APPLICABLE": 0, "ERROR": 0, "SKIP": 1,
                               "NOT RUN": 10}
    c1 = data["claims"][0]
    assert (c1["id"], c1["verdict"]) == ("C1", "PASS")
    assert [t["kind"] for t in c1["tests"]] == ["claim", "negative_control"]
    assert c1["tests"][0]["verdict"]["evidence"]["nodes"] == 2


def test_json_tolerates_non_json_capabilities(tmp_path):
    run = Run("r", datetime(2025, 1, 1), {"started": datetime(2025, 1, 1)})
    _, json_path, _ = write_reports(tmp_path, RESULTS, run)
    assert json.loads(json_path.read_text())["capabilities"]["started"].startswith("2025-01-01")


def test_unwritable_directory_is_a_one_line_report_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")  # a directory below a regular file cannot exist, even for root
    with pytest.raises(ReportError, match="cannot write reports to .*a-file/reports") as e:
        write_reports(blocker / "reports", RESULTS, RUN)
    assert isinstance(e.value, OSError) and "\n" not in str(e.value)


def test_terminal_table_lists_only_claims_that_ran():
    lines = terminal_table(RESULTS)
    assert [line.split()[:2] for line in lines] == [
        ["C1", "PASS"], ["C2", "FAIL"], ["C3", "FAIL"], ["C10", "SKIP"], ["C14", "PASS"]
    ]
    assert lines[0] == "C1   PASS  podIP == hostIP on 2 nodes"
    assert terminal_table([]) == []


def test_four_outcomes_and_their_precedence():
    err = "pod node-exporter-x on node w1: crash_loop: CrashLoopBackOff (exit code 1): bind: address already in use"
    s = by_claim([
        result("C1", outcome="failed", status="ERROR", error=err),
        result("C1", "negative_control", verdict=Verdict("C1", False, "podIP != hostIP")),
        result("C10", outcome="skipped", status="NOT APPLICABLE",
               skip_reason="NOT APPLICABLE: nothing enforces NetworkPolicy"),
        result("C10", "negative_control", outcome="skipped", status="NOT APPLICABLE", skip_reason="n/a"),
        # a claim test FAIL outranks a control ERROR
        result("C3", outcome="failed", status="FAIL", verdict=Verdict("C3", False, "cluster DNS has no ready endpoints")),
        result("C3", "negative_control", outcome="failed", status="ERROR", error="ErrImagePull"),
        # a control that could not observe makes the claim ERROR even when the claim test passed
        result("C8", verdict=Verdict("C8", True, "exit 1, bind")),
        result("C8", "negative_control", outcome="failed", status="ERROR",
               error="negative control (free port) failed for another reason than 'not_crashlooping': image_pull"),
    ])
    assert (s["C1"].verdict, s["C1"].reason) == ("ERROR", err)
    assert (s["C10"].verdict, s["C10"].reason) == ("NOT APPLICABLE", "NOT APPLICABLE: nothing enforces NetworkPolicy")
    assert (s["C3"].verdict, s["C3"].reason) == ("FAIL", "cluster DNS has no ready endpoints")
    assert s["C8"].verdict == "ERROR" and s["C8"].reason.startswith("negative control")
    lines = terminal_table([r for c in ("C1", "C10") for r in s[c].tests])
    assert lines[1].startswith("C10  NOT APPLICABLE  NOT APPLICABLE: nothing enforces")


def test_a_claim_with_two_claim_tests_is_not_applicable_when_either_part_is():
    """C9 on a cluster whose admission policy refuses host networking everywhere: the Pod part is
    judged (Pod Security refused it in the baseline namespace), the DaemonSet part cannot be."""
    s = by_claim([
        result("C9", verdict=Verdict("C9", True, "HTTP 403 violates PodSecurity baseline")),
        result("C9", outcome="skipped", status="NOT APPLICABLE",
               skip_reason="NOT APPLICABLE: an admission gate refuses host-network pods"),
        result("C9", "negative_control", outcome="skipped", status="NOT APPLICABLE", skip_reason="n/a"),
    ])
    assert s["C9"].verdict == "NOT APPLICABLE" and "admission gate" in s["C9"].reason


def test_a_claim_passes_only_when_every_claim_test_it_lists_passed():
    """C9 has two claim tests: with one deselected (-k), the claim is not judged, never PASS."""
    from hostnet_conformance.report import summarize_claim
    pod = result("C9", verdict=Verdict("C9", True, "HTTP 403"),
                 test="test_c9_strict_pod_security_rejects_host_network_pod")
    ds = result("C9", verdict=Verdict("C9", True, "FailedCreate, then running"),
                test="test_c9_label_namespace_privileged_unblocks_daemonset")
    one = summarize_claim("C9", [pod])
    assert one.verdict == "SKIP" and "test_c9_label_namespace_privileged_unblocks_daemonset did not run" in one.reason
    assert summarize_claim("C9", [pod, ds]).verdict == "PASS"
