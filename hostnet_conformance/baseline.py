"""--baseline and --rerun-failed: this run's claim verdicts against an earlier run's report.json.

A change is a claim whose verdict differs from the baseline's, among the claims this run judged
(a claim this run did not select, NOT RUN, is never a change). A regression is a change from PASS
to FAIL or ERROR: with --baseline the run's exit status is non-zero on a regression only (on any
change with --baseline-strict), so a CI gate stays green on a cluster whose known failures did
not move, and goes red when a claim that held breaks. Every change is named in the terminal,
report.md, report.json, report.html and JUnit, whatever the exit status.

--rerun-failed runs the claims whose verdict there was not PASS (FAIL, ERROR, NOT APPLICABLE,
SKIP); claims that run did not select (NOT RUN) are not rerun."""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import get_args

from .results import ClaimVerdict
from .verdict import CLAIMS

VERDICTS = frozenset(get_args(ClaimVerdict))
REGRESSED = ("FAIL", "ERROR")
NOT_JUDGED = ("NOT RUN",)
ABSENT = "ABSENT"   # the claim is not in the baseline's report (a newer suite's claim)


class BaselineError(ValueError):
    """The baseline cannot be read: one line naming the file and why."""


@dataclass(frozen=True)
class Baseline:
    path: str
    run_id: str
    started_at: str
    verdicts: Mapping[str, str]   # claim id -> verdict
    reasons: Mapping[str, str]


@dataclass(frozen=True)
class Change:
    claim: str
    before: str
    after: str
    reason: str   # this run's reason for its verdict

    @property
    def regression(self) -> bool:
        return self.before == "PASS" and self.after in REGRESSED

    def words(self) -> str:
        return f"{self.before} -> {self.after}" + (" (regression)" if self.regression else "")

    def to_dict(self) -> dict:
        return {**asdict(self), "regression": self.regression}


def load(path: str | Path, option: str = "--baseline") -> Baseline:
    """An earlier run's report.json, checked: every problem is one line naming the file."""
    p = Path(path)
    try:
        text = p.read_text()
    except OSError as e:
        raise BaselineError(f"{option}: cannot read {p}: {e.strerror or e}") from None
    try:
        data = json.loads(text)
    except ValueError as e:
        raise BaselineError(f"{option}: {p} is not JSON ({e})") from None
    if not isinstance(data, dict) or not isinstance(data.get("claims"), list) or "schema_version" not in data:
        raise BaselineError(f"{option}: {p} is not a hostnet-conformance report.json "
                            f"(no schema_version and claims list)")
    from .report import REPORT_SCHEMA_VERSION
    version = data["schema_version"]
    if not isinstance(version, int) or version > REPORT_SCHEMA_VERSION:
        raise BaselineError(f"{option}: {p} has report schema {version!r}; this suite reads up to "
                            f"{REPORT_SCHEMA_VERSION}")
    verdicts: dict[str, str] = {}
    reasons: dict[str, str] = {}
    for i, c in enumerate(data["claims"]):
        if not isinstance(c, dict) or not isinstance(c.get("id"), str) or c.get("verdict") not in VERDICTS:
            raise BaselineError(f"{option}: {p}: claims[{i}] has no id and known verdict "
                                f"({', '.join(sorted(VERDICTS))})")
        verdicts[c["id"].upper()] = c["verdict"]
        reasons[c["id"].upper()] = str(c.get("reason") or "")
    return Baseline(str(p), str(data.get("run_id", "-")), str(data.get("started_at", "-")), verdicts, reasons)


def compare(base: Baseline, now: Mapping[str, tuple[str, str]]) -> list[Change]:
    """The changes: `now` maps each claim id to this run's (verdict, reason); claims this run did
    not judge (NOT RUN) are left out. Registry order, then any other id."""
    order = {c: i for i, c in enumerate(CLAIMS)}
    changes = []
    for claim in sorted(now, key=lambda c: (order.get(c, len(order)), c)):
        verdict, reason = now[claim]
        if verdict in NOT_JUDGED:
            continue
        before = base.verdicts.get(claim, ABSENT)
        if before != verdict:
            changes.append(Change(claim, before, verdict, reason))
    return changes


def exit_status(changes: list[Change], strict: bool) -> int:
    """0, or 1 (pytest's "tests failed") on a regression, or on any change when strict."""
    return 1 if any(c.regression for c in changes) or (strict and changes) else 0


def rerun_claims(base: Baseline) -> list[str]:
    """The claims to run again: those the baseline judged and did not PASS, that this suite knows."""
    return [c for c in CLAIMS if base.verdicts.get(c, "PASS") not in ("PASS", *NOT_JUDGED)]


def summary_lines(base: Baseline, changes: list[Change], strict: bool, reason_width: int = 80) -> list[str]:
    """The terminal's and the JUnit's words for the comparison."""
    head = (f"against {base.path} (run {base.run_id}, {base.started_at}): "
            + (f"{len(changes)} claim(s) changed, {sum(c.regression for c in changes)} regression(s)"
               if changes else "no claim changed"))
    gate = " [--baseline-strict: any change fails the run]" if strict else ""
    lines = [head + gate]
    width = max((len(c.claim) for c in changes), default=3)
    for c in changes:
        reason = c.reason if len(c.reason) <= reason_width else c.reason[:reason_width - 1] + "…"
        lines.append(f"{c.claim:<{width}}  {c.words()}" + (f"  {reason}" if reason else ""))
    return lines
