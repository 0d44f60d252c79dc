"""--baseline and --rerun-failed (hostnet_conformance/baseline.py) on recorded reports: a kind run of
2026-11-30 where all 15 claims passed, and a flavour run where a gate made every claim NOT APPLICABLE."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from hostnet_conformance import baseline, report
from hostnet_conformance.html_report import render_html

DATA = Path(__file__).resolve().parent / "data"
KIND = DATA / "report" / "report-kind-2026-11-30.json"
VAP = DATA / "flavours" / "report-vap.json"


def now_of(path: Path, **changed) -> dict:
    """A run's (verdict, reason) per claim as recorded, with some claims changed."""
    data = json.loads(path.read_text())
    now = {c["id"]: (c["verdict"], c["reason"]) for c in data["claims"]}
    now.update(changed)
    return now


def test_the_same_run_changes_nothing():
    base = baseline.load(KIND)
    assert (base.run_id, len(base.verdicts)) == ("c38d2517", 15)
    changes = baseline.compare(base, now_of(KIND))
    assert changes == [] and baseline.exit_status(changes, strict=True) == 0


def test_pass_to_fail_or_error_is_a_regression_and_fails_the_gate():
    base = baseline.load(KIND)
    changes = baseline.compare(base, now_of(
        KIND, C7=("FAIL", "a second pod asking for 20000 on w1 ran: Running"),
        C3=("ERROR", "the API answered HTTP 503 Service Unavailable"),
        C10=("NOT APPLICABLE", "nothing enforces NetworkPolicy")))
    assert [(c.claim, c.before, c.after, c.regression) for c in changes] == [
        ("C3", "PASS", "ERROR", True), ("C7", "PASS", "FAIL", True), ("C10", "PASS", "NOT APPLICABLE", False)]
    assert baseline.exit_status(changes, strict=False) == 1
    assert changes[1].words() == "PASS -> FAIL (regression)"


def test_a_change_that_is_no_regression_passes_unless_strict():
    base = baseline.load(VAP)   # every claim NOT APPLICABLE there
    changes = baseline.compare(base, now_of(KIND))
    assert len(changes) == 15 and not any(c.regression for c in changes)
    assert baseline.exit_status(changes, strict=False) == 0
    assert baseline.exit_status(changes, strict=True) == 1


def test_claims_this_run_did_not_judge_are_no_change():
    base = baseline.load(KIND)
    now = {"C1": ("PASS", "ok"), "C2": ("NOT RUN", "not selected"), "C16": ("FAIL", "a newer claim")}
    changes = baseline.compare(base, now)
    assert [(c.claim, c.before, c.after) for c in changes] == [("C16", baseline.ABSENT, "FAIL")]
    assert baseline.exit_status(changes, strict=False) == 0   # ABSENT -> FAIL: not a claim that held


def test_rerun_takes_what_did_not_pass_and_was_judged(tmp_path):
    data = json.loads(KIND.read_text())
    verdicts = {"C3": "FAIL", "C8": "ERROR", "C10": "NOT APPLICABLE", "C11": "SKIP", "C12": "NOT RUN"}
    for c in data["claims"]:
        c["verdict"] = verdicts.get(c["id"], c["verdict"])
    p = tmp_path / "report.json"
    p.write_text(json.dumps(data))
    assert baseline.rerun_claims(baseline.load(p)) == ["C3", "C8", "C10", "C11"]
    assert baseline.rerun_claims(baseline.load(KIND)) == []


@pytest.mark.parametrize("content, words", [
    (None, "cannot read"),
    ("{not json", "is not JSON"),
    ('{"claims": []}', "is not a hostnet-conformance report.json"),
    ('{"schema_version": 99, "claims": []}', "has report schema 99; this suite reads up to"),
    ('{"schema_version": 2, "claims": [{"id": "C1", "verdict": "GREEN"}]}', "claims[0] has no id and known verdict"),
])
def test_a_bad_baseline_is_one_line_naming_the_file(tmp_path, content, words):
    p = tmp_path / "base.json"
    if content is not None:
        p.write_text(content)
    with pytest.raises(baseline.BaselineError) as e:
        baseline.load(p, "--rerun-failed")
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith("--rerun-failed: ") and str(p) in msg and words in msg, msg


def test_the_reports_name_each_change():
    base = baseline.load(KIND)
    changes = baseline.compare(base, now_of(KIND, C7=("FAIL", "a | b: Running")))
    section = {"path": base.path, "run_id": base.run_id, "started_at": base.started_at, "strict": False,
               "changes": [c.to_dict() for c in changes]}
    md = "\n".join(report.baseline_markdown(section))
    assert "## Against the baseline" in md and "1 claim(s) changed, 1 regression(s)" in md
    assert "| C7 | PASS | FAIL | yes | a \\| b: Running |" in md
    page = render_html({"claims": [], "baseline": section})
    assert "Against the baseline" in page and "regression" in page and "a | b: Running" in page
    lines = baseline.summary_lines(base, changes, strict=True)
    assert lines[0].startswith(f"against {KIND} (run c38d2517") and "any change fails the run" in lines[0]
    assert lines[1].startswith("C7  PASS -> FAIL (regression)  a | b: Running")
    assert baseline.summary_lines(base, [], strict=False)[0].endswith("no claim changed")
