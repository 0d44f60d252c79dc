"""report.html: one self-contained page (inline CSS, no script, no external asset) rendered from
the same dict as report.json, so any recorded report.json renders again the same way.

Per claim: the page's sentence, the verdict, its reason, the evidence, the duration; under it each
of its tests (the claim test and its negative controls) with their own status and reason, and a
link to the diagnostics of a failed one. Then the cluster's capabilities and the run's timeline."""
from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from html import escape
from typing import Any

from .results import Result, reason_of   # the same words as report.md's

COLOURS = {"PASS": "#1a7f37", "FAIL": "#cf222e", "ERROR": "#9a6700", "NOT APPLICABLE": "#57606a",
           "SKIP": "#57606a", "NOT RUN": "#8c959f"}
CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em auto;max-width:1200px;color:#1f2328;padding:0 1em}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #d0d7de}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #d0d7de;padding:.35em .5em;text-align:left;vertical-align:top}
th{background:#f6f8fa}.v{font-weight:600;white-space:nowrap;color:#fff;border-radius:4px;padding:.1em .45em}
.tests td{border:0;padding:.15em .5em;font-size:.92em}.mono{font-family:ui-monospace,monospace;font-size:.88em;word-break:break-all}
.counts span{margin-right:1em}.bar{background:#0969da;height:.7em;border-radius:2px;min-width:1px}
details summary{cursor:pointer;color:#0969da}.tests td.mono{min-width:19em;word-break:normal;overflow-wrap:anywhere}
"""


def diagnostics_name(nodeid: str) -> str:
    """The file of a failed test's diagnostics, under <report-dir>/diagnostics/."""
    return nodeid.replace("/", "_").replace("::", "__") + ".txt"


def _badge(verdict: str) -> str:
    return f'<span class="v" style="background:{COLOURS.get(verdict, "#57606a")}">{escape(verdict)}</span>'


def _value(v: Any) -> str:
    return escape(v if isinstance(v, str) else json.dumps(v, default=str))


def _evidence(evidence: Mapping[str, Any]) -> str:
    if not evidence:
        return ""
    rows = "".join(f"<tr><td>{escape(str(k))}</td><td class=mono>{_value(v)}</td></tr>" for k, v in evidence.items())
    return f"<details><summary>evidence ({len(evidence)})</summary><table>{rows}</table></details>"


def _tests(tests: list[Mapping[str, Any]], diagnostics: Collection[str]) -> str:
    rows = []
    for t in tests:
        result = Result(**t)
        kind = "negative control" if t.get("kind") == "negative_control" else "claim test"
        status = result.status_()
        name = diagnostics_name(t.get("nodeid", ""))
        link = f' <a href="diagnostics/{escape(name)}">diagnostics</a>' if name in diagnostics else ""
        took = (t.get("verdict") or {}).get("duration_s", t.get("duration_s"))
        nodeid = t.get("nodeid", "")
        rows.append(f"<tr><td>{kind}</td><td>{_badge(status)}</td>"
                    f"<td class=mono title=\"{escape(nodeid)}\">{escape(nodeid.split('::')[-1])}</td>"
                    f"<td>{escape(reason_of(result, ''))}{link}{_evidence((t.get('verdict') or {}).get('evidence') or {})}</td>"
                    f"<td>{'' if took is None else f'{float(took):.1f}s'}</td></tr>")
    return f'<table class="tests">{"".join(rows)}</table>'


def _timeline(spans: list[Mapping[str, Any]]) -> str:
    spans = [s for s in spans if s.get("end_s") is not None and not str(s.get("name", "")).startswith("test ")]
    if not spans:
        return "<p>no timeline recorded</p>"
    end = max(float(s["end_s"]) for s in spans) or 1.0
    rows = "".join(
        f"<tr><td>{escape(str(s['name']))}</td><td>{float(s['start_s']):.1f}</td><td>{float(s['end_s']):.1f}</td>"
        f"<td>{float(s.get('duration_s') or 0):.1f}</td><td style=\"width:35%\"><div class=bar style=\"margin-left:"
        f"{float(s['start_s']) / end * 100:.1f}%;width:{float(s.get('duration_s') or 0) / end * 100:.1f}%\"></div></td></tr>"
        for s in sorted(spans, key=lambda s: (float(s["start_s"]), str(s["name"]))))
    return ("<table><tr><th>phase or observation</th><th>start s</th><th>end s</th><th>took s</th><th></th></tr>"
            f"{rows}</table>")


def render_html(data: Mapping[str, Any], diagnostics: Collection[str] = ()) -> str:
    """The page for one report.json dict; `diagnostics`: the file names present under diagnostics/."""
    summary = data.get("summary") or {}
    counts = "".join(f"<span>{_badge(k)} {int(v)}</span>" for k, v in summary.items() if k != "tests" and v)
    claims = "".join(
        f"<tr id=\"{escape(c['id'])}\"><td><b>{escape(c['id'])}</b></td><td>{escape(c.get('sentence') or '')}</td>"
        f"<td>{_badge(c['verdict'])}</td><td>{escape(c.get('reason') or '')}"
        f"{_tests(c.get('tests') or [], diagnostics) if c.get('tests') else ''}</td><td>{_took(c)}</td></tr>"
        for c in data.get("claims") or [])
    caps = "".join(f"<tr><td>{escape(str(k))}</td><td class=mono>{_value(v)}</td></tr>"
                   for k, v in (data.get("capabilities") or {}).items())
    run = escape(str(data.get("run_id", "-")))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>hostNetwork conformance: {run}</title>
<style>{CSS}</style></head><body>
<h1>hostNetwork conformance report: {run}</h1>
<p>started {escape(str(data.get("started_at", "-")))}; {int(summary.get("tests", 0))} claim tests and negative controls;
report schema {escape(str(data.get("schema_version", "-")))}</p>
<p class="counts">{counts}</p>
<h2>Claims</h2>
<table><tr><th>claim</th><th>the page says</th><th>verdict</th><th>why, and each test with its evidence</th><th>took</th></tr>{claims}</table>
{_baseline(data.get("baseline"))}<h2>The cluster</h2>
<table>{caps}</table>
<h2>Timeline</h2>
<p>Seconds since the test process started.</p>
{_timeline(list(data.get("timeline") or []))}
</body></html>
"""


def _baseline(base: Mapping[str, Any] | None) -> str:
    """--baseline: each claim whose verdict changed, before and after."""
    if not base:
        return ""
    changes = list(base.get("changes") or [])
    rows = "".join(f"<tr><td><b>{escape(str(c['claim']))}</b></td><td>{_badge(str(c['before']))}</td>"
                   f"<td>{_badge(str(c['after']))}</td><td>{'regression' if c.get('regression') else ''}</td>"
                   f"<td>{escape(str(c.get('reason') or ''))}</td></tr>" for c in changes)
    head = (f"{escape(str(base.get('path')))} (run {escape(str(base.get('run_id')))}, "
            f"{escape(str(base.get('started_at')))}): "
            + (f"{len(changes)} claim(s) changed, {sum(bool(c.get('regression')) for c in changes)} regression(s)"
               if changes else "no claim changed"))
    table = (f"<table><tr><th>claim</th><th>baseline</th><th>this run</th><th></th><th>this run's reason</th></tr>"
             f"{rows}</table>" if rows else "")
    return f"<h2>Against the baseline</h2>\n<p>{head}</p>\n{table}\n"


def _took(c: Mapping[str, Any]) -> str:
    """A claim's time to verdict: its slowest test's observation (tests observe concurrently)."""
    times = [float((t.get("verdict") or {}).get("duration_s") or t.get("duration_s") or 0) for t in c.get("tests") or []]
    return f"{max(times):.1f}s" if times else "-"
