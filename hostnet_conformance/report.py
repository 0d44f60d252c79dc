"""Reports: one verdict per claim, in the terminal, as Markdown and as JSON.

A claim is judged over all its tests (docs/verdicts.md):
  FAIL            its claim test observed the claim false, or a negative control passed a wrong
                  setup (the check could not tell a wrong setup from a right one);
  ERROR           otherwise, a test could not observe the cluster (image pull, admission of the
                  suite's own workload, API error, a terminal signal), or a control failed for
                  another reason than the one it provokes;
  NOT APPLICABLE  otherwise, a claim test found a precondition missing;
  PASS            otherwise, when every claim test the registry lists for it passed;
  SKIP / NOT RUN  deselected or not collected.
The JSON carries a schema version so tools reading it can detect changes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, get_args

from .html_report import render_html
from .results import ClaimVerdict, Kind, Outcome, Result, TestStatus, reason_of  # noqa: F401 (re-exported)
from .verdict import CLAIMS

REPORT_SCHEMA_VERSION = 2
EVIDENCE_WIDTH = 120
# the run's profiles.Choice (plugin/target.py sets it once detected): what the vendor page says of
# each claim; None: the seed page's word, every claim as observed
PROFILE = None

class ReportError(OSError):
    """The reports could not be written."""


@dataclass(frozen=True)
class Run:
    """What identifies a run in its reports: its id, start time and the cluster's facts."""

    run_id: str
    started_at: datetime
    capabilities: Mapping[str, Any]  # from capability discovery: version, nodes, CNI...
    timeline: Sequence[Mapping[str, Any]] = ()  # timeline.snapshot(): each phase and observation
    # --baseline: {path, run_id, started_at, strict, changes: [Change.to_dict()]} (plugin/baseline.py)
    baseline: Mapping[str, Any] | None = None


@dataclass
class ClaimSummary:
    claim: str
    verdict: ClaimVerdict
    reason: str
    evidence: dict[str, Any]
    duration_s: float
    tests: list[Result]
    observed: str | None = None      # the verdict as observed, when the profile's page changed it
    page: dict[str, Any] | None = None   # what the profile says of the claim, when it says more than "pass"


def _evidence(result: Result | None) -> dict[str, Any]:
    return dict((result.verdict or {}).get("evidence") or {}) if result else {}


def summarize_claim(claim_id: str, tests: Sequence[Result], profile=None) -> ClaimSummary:
    """The claim's verdict: as observed (observed_summary), held to what the profile's page says
    of it (profiles.py: `expect: fail` turns the observed opposite of the seed claim into the page's
    PASS; `either` quotes the page). ERROR, NOT APPLICABLE and SKIP always stand."""
    s = observed_summary(claim_id, tests)
    choice = profile if profile is not None else PROFILE
    if choice is None or not s.tests:
        return s
    from .profiles import expectation
    exp, by = expectation(choice, claim_id)
    if exp.expect in ("pass", "not_applicable"):
        return s
    s.page = {"profile": by, "expect": exp.expect, "statement": exp.statement, "codes": list(exp.codes)}
    if exp.expect == "either":
        s.reason = f"{s.reason} ({by}'s page leaves it to the cluster: {exp.statement})"
        return s
    if s.verdict not in ("PASS", "FAIL"):
        return s
    codes = {c for t in s.tests for c in ((t.verdict or {}).get("codes") or [])}
    s.observed = s.verdict
    if s.verdict == "FAIL" and codes & set(exp.codes):
        s.verdict, s.reason = "PASS", f"as {by}'s page says: {exp.statement} (observed: {s.reason})"
    elif s.verdict == "FAIL":
        s.reason = (f"{by}'s page expects {', '.join(exp.codes)}; observed {', '.join(sorted(codes)) or 'no code'}: "
                    f"{s.reason}")
    else:
        s.verdict, s.reason = "FAIL", f"{by}'s page says: {exp.statement}; observed the opposite: {s.reason}"
    return s


def observed_summary(claim_id: str, tests: Sequence[Result]) -> ClaimSummary:
    """Aggregate a claim's tests: FAIL, then ERROR, then NOT APPLICABLE, then PASS (module doc)."""
    tests = list(tests)
    duration = sum(t.duration_s for t in tests)
    if not tests:
        return ClaimSummary(claim_id, "NOT RUN", "not selected", {}, 0.0, [])
    main = next((t for t in tests if t.kind == "claim"), None)
    ordered = sorted(tests, key=lambda t: t.kind != "claim")   # the claim test speaks first

    def first(status: str) -> Result | None:
        return next((t for t in ordered if t.status_() == status), None)

    for status in ("FAIL", "ERROR"):
        t = first(status)
        if t is not None:
            reason = reason_of(t, "test failed")
            if t.kind == "negative_control" and not reason.startswith("negative control"):
                reason = (f"negative control passed a wrong setup: {reason}" if status == "FAIL"
                          else f"negative control could not observe: {reason}")
            return ClaimSummary(claim_id, status, reason, _evidence(t), duration, tests)
    # a claim with several claim tests (C9: the Pod, the DaemonSet) is judged only when every part was
    na = next((t for t in ordered if t.kind == "claim" and t.status_() == "NOT APPLICABLE"), None)
    if na is not None:
        return ClaimSummary(claim_id, "NOT APPLICABLE", reason_of(na, "precondition missing"), _evidence(na),
                            duration, tests)
    if main is not None and main.status_() == "PASS":
        # every claim test the registry lists must have passed: a PASS with one deselected proves half a claim
        ran = {t.nodeid.split("::")[-1].split("[")[0] for t in tests if t.kind == "claim" and t.status_() == "PASS"}
        missing = [n for n in (CLAIMS[claim_id].claim_tests if claim_id in CLAIMS else ()) if n not in ran]
        if missing:
            return ClaimSummary(claim_id, "SKIP", f"not judged: its claim test {', '.join(missing)} did not run "
                                                  f"(deselected?); a PASS needs every one", _evidence(main), duration,
                                tests)
        reason = reason_of(main, "passed")
        if not any(t.kind == "negative_control" and t.status_() == "PASS" for t in tests):
            reason += " (no negative control ran)"
        return ClaimSummary(claim_id, "PASS", reason, _evidence(main), duration, tests)
    skipped = main or tests[0]
    reason = reason_of(skipped, "claim test did not run")
    return ClaimSummary(claim_id, "SKIP", reason, _evidence(skipped), duration, tests)


def summarize(results: Sequence[Result], *, include_not_run: bool = True) -> list[ClaimSummary]:
    """One summary per claim, in registry order (C1..C15), then any unregistered ids."""
    by_claim: dict[str, list[Result]] = {}
    for r in results:
        by_claim.setdefault(r.claim.upper(), []).append(r)
    # an extra claim (verdict.Claim.extra) is listed only when it ran
    ids = [c for c in CLAIMS if (include_not_run and not CLAIMS[c].extra) or c in by_claim]
    ids += sorted(c for c in by_claim if c not in CLAIMS)
    return [summarize_claim(c, by_claim.get(c, [])) for c in ids]


# --- formatting --------------------------------------------------------------------


def one_line(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return " ".join(text.split())


def _truncate(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _cell(text: str) -> str:
    # A raw '|' would split the Markdown table cell.
    return text.replace("\\", "\\\\").replace("|", "\\|")


def evidence_text(evidence: Mapping[str, Any], width: int = EVIDENCE_WIDTH) -> str:
    return _truncate(", ".join(f"{k}={one_line(v)}" for k, v in evidence.items()), width)


def _sentence(claim_id: str) -> str:
    return CLAIMS[claim_id].sentence if claim_id in CLAIMS else ""


def render_markdown(results: Sequence[Result], run: Run) -> str:
    lines = [
        f"# hostNetwork conformance report: {run.run_id}",
        "",
        f"- date: {run.started_at.isoformat(timespec='seconds')}",
        *(f"- {k}: {one_line(v)}" for k, v in run.capabilities.items()),
        "",
        "| claim | the page says | verdict | evidence | duration |",
        "|---|---|---|---|---|",
    ]
    for s in summarize(results):
        # The reason tells why a claim is not proven; a pass speaks through its evidence.
        verdict = s.verdict if s.verdict in ("PASS", "NOT RUN") else f"{s.verdict}: {s.reason}"
        duration = f"{s.duration_s:.1f}s" if s.tests else "-"
        cells = [s.claim, _sentence(s.claim), one_line(verdict), evidence_text(s.evidence)]
        lines.append("| " + " | ".join(map(_cell, cells)) + f" | {duration} |")
    lines += baseline_markdown(run.baseline)
    return "\n".join(lines) + "\n"


def baseline_markdown(base: Mapping[str, Any] | None) -> list[str]:
    """The section naming each claim whose verdict changed against --baseline."""
    if not base:
        return []
    changes = list(base.get("changes") or [])
    regressions = sum(bool(c.get("regression")) for c in changes)
    lines = ["", "## Against the baseline", "",
             f"{base.get('path')} (run {base.get('run_id')}, {base.get('started_at')}): "
             + (f"{len(changes)} claim(s) changed, {regressions} regression(s)" if changes else "no claim changed")
             + (" (strict: any change fails the run)" if base.get("strict") else "")]
    if changes:
        lines += ["", "| claim | baseline | this run | regression | this run's reason |", "|---|---|---|---|---|"]
        for c in changes:
            cells = [c["claim"], c["before"], c["after"], "yes" if c.get("regression") else "no", one_line(c["reason"])]
            lines.append("| " + " | ".join(map(_cell, cells)) + " |")
    return lines


def render_json(results: Sequence[Result], run: Run) -> dict[str, Any]:
    summaries = summarize(results)
    claims = [
        {
            "id": s.claim,
            "sentence": _sentence(s.claim),
            "verdict": s.verdict,
            "reason": s.reason,
            "duration_s": s.duration_s,
            **({"observed": s.observed} if s.observed else {}),
            **({"page": s.page} if s.page else {}),
            "tests": [asdict(t) for t in s.tests],
        }
        for s in summaries
    ]
    counts = {v: sum(s.verdict == v for s in summaries) for v in get_args(ClaimVerdict)}
    return {
        "schema_version": REPORT_SCHEMA_VERSION,
        "run_id": run.run_id,
        "started_at": run.started_at.isoformat(),
        "capabilities": dict(run.capabilities),
        "claims": claims,
        "summary": {"tests": len(results), **counts},
        "timeline": [dict(t) for t in run.timeline],
        **({"baseline": dict(run.baseline)} if run.baseline else {}),
        **({"profile": PROFILE.to_dict()} if PROFILE is not None else {}),
    }


def write_reports(
    directory: str | Path, results: Sequence[Result], run: Run
) -> tuple[Path, Path, Path]:
    """Write report.md, report.json and report.html into `directory` (created); returns their paths."""
    directory = Path(directory)
    md, js, page = directory / "report.md", directory / "report.json", directory / "report.html"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        md.write_text(render_markdown(results, run))
        _write_json_and_html(directory, render_json(results, run))
    except OSError as e:
        raise ReportError(f"cannot write reports to {directory}: {e.strerror or e}") from e
    return md, js, page


def write_observations(directory: Path, observations: Mapping[str, Any]) -> Path:
    """observations.json: what each claim observed (claims/base.py), keyed by observation."""
    path = directory / "observations.json"
    try:
        path.write_text(json.dumps(dict(sorted(observations.items())), indent=1, default=str))
    except OSError as e:
        raise ReportError(f"cannot write {path}: {e.strerror or e}") from e
    return path


def _write_json_and_html(directory: Path, data: Mapping[str, Any]) -> None:
    """report.json, and report.html rendered from the same dict (linking the diagnostics present)."""
    # default=str: capabilities may hold versions or IPs as non-JSON objects.
    data = json.loads(json.dumps(data, default=str))
    (directory / "report.json").write_text(json.dumps(data, indent=2))
    diagnostics = {p.name for p in (directory / "diagnostics").glob("*.txt")}
    (directory / "report.html").write_text(render_html(data, diagnostics))


def rewrite_timeline(js: Path, timeline: Sequence[Mapping[str, Any]]) -> None:
    """Give written reports a longer timeline (the deletion of the cluster, after the verdicts)."""
    data = json.loads(js.read_text())
    data["timeline"] = list(timeline)
    _write_json_and_html(js.parent, data)


def terminal_table(results: Sequence[Result], reason_width: int = 80) -> list[str]:
    """Lines for pytest's terminal summary: one per claim that ran."""
    summaries = summarize(results, include_not_run=False)
    width = max((len(s.claim) for s in summaries), default=3)
    vwidth = max((len(s.verdict) for s in summaries), default=4)
    return [
        f"{s.claim:<{width}}  {s.verdict:<{vwidth}}  {_truncate(one_line(s.reason), reason_width)}"
        for s in summaries
    ]
