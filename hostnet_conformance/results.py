"""One test's recorded outcome (Result) and its reason in every report: the words report.md,
report.json, report.html and the terminal share (report and html_report both import this)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal["claim", "negative_control"]
Outcome = Literal["passed", "failed", "skipped"]
ClaimVerdict = Literal["PASS", "FAIL", "NOT APPLICABLE", "ERROR", "SKIP", "NOT RUN"]
TestStatus = Literal["PASS", "FAIL", "NOT APPLICABLE", "ERROR", "SKIP"]


@dataclass
class Result:
    """One test's outcome, as the pytest hooks record it."""

    claim: str
    nodeid: str
    kind: Kind
    outcome: Outcome
    verdict: dict[str, Any] | None = None  # Verdict.to_dict() when the check returned one
    skip_reason: str | None = None
    duration_s: float = 0.0
    # The failure's reason in the cluster's words, for tests that failed before their check
    # returned a verdict (a terminal signal, a WaitTimeout, an API error).
    error: str | None = None
    status: TestStatus | None = None   # set by the plugin (plugin/verdicts.py); derived from `outcome` when absent

    def status_(self) -> str:
        if self.status:
            return self.status
        return {"passed": "PASS", "failed": "FAIL"}.get(self.outcome, "SKIP")


def reason_of(result: Result, fallback: str) -> str:
    """A test's reason in the reports: its skip reason, its error, its verdict's reason."""
    if result.outcome == "skipped" and result.skip_reason:
        return result.skip_reason
    if result.error and result.status_() == "ERROR":
        return result.error
    if result.verdict and result.verdict.get("reason"):
        return str(result.verdict["reason"])
    return result.error or fallback
