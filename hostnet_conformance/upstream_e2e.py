"""The upstream Kubernetes e2e reference run (scripts/upstream-e2e.sh): the list of specs, the
ginkgo focus arguments made from it, and the verdict read back from the JUnit files e2e.test writes.

Every listed spec must match exactly one spec of the binary and that spec must pass; a skip counts
only when the list states why it may be skipped. A focus that matches nothing is an error, never a
silent pass.

    python3 -m hostnet_conformance.upstream_e2e focus SPECS {parallel|serial}
    python3 -m hostnet_conformance.upstream_e2e check SPECS JUNIT...
"""
from __future__ import annotations

import re
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import yaml

# ginkgo matches --ginkgo.focus against the suite description, a space, then the spec's full text.
SUITE_PREFIX = "Kubernetes e2e suite "


class SpecListError(ValueError):
    """The spec list file is malformed."""


@dataclass(frozen=True)
class Spec:
    focus: str
    why: str
    serial: bool = False
    skip: str | None = None

    def matches(self, name: str) -> bool:
        return re.search(self.focus, SUITE_PREFIX + name) is not None


@dataclass(frozen=True)
class Case:
    name: str
    status: str          # passed, failed, skipped, ... as ginkgo writes it
    message: str = ""
    seconds: float = 0.0


@dataclass(frozen=True)
class Outcome:
    spec: Spec
    status: str          # PASS, FAIL, SKIP (stated), UNMATCHED, AMBIGUOUS
    detail: str

    @property
    def ok(self) -> bool:
        return self.status in ("PASS", "SKIP")


def load_specs(path: str | Path) -> list[Spec]:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        where = getattr(e, "problem_mark", None)
        what = getattr(e, "problem", None) or getattr(e, "strerror", None) or type(e).__name__
        at = f" (line {where.line + 1}, column {where.column + 1})" if where else ""
        raise SpecListError(f"{path}: cannot read the spec list: {what}{at}") from None
    entries = (data or {}).get("specs") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not entries:
        raise SpecListError(f"{path}: no `specs:` list")
    specs = []
    for i, e in enumerate(entries, 1):
        if not isinstance(e, dict) or not isinstance(e.get("focus"), str) or not str(e.get("why") or "").strip():
            raise SpecListError(f"{path}: entry {i} needs a `focus` string and a `why`")
        try:
            re.compile(e["focus"])
        except re.error as err:
            raise SpecListError(f"{path}: entry {i}: focus is not a regular expression: {err}") from None
        if e["focus"].startswith("^"):
            raise SpecListError(f"{path}: entry {i}: focus starts with ^, which never matches "
                                f"(ginkgo prefixes {SUITE_PREFIX!r})")
        skip = e.get("skip")
        specs.append(Spec(e["focus"], str(e["why"]).strip(), bool(e.get("serial", False)),
                          str(skip).strip() if skip else None))
    return specs


def focus_args(specs: list[Spec], serial: bool) -> list[str]:
    return [f"--ginkgo.focus={s.focus}" for s in specs if s.serial == serial]


def read_junit(path: str | Path) -> list[Case]:
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as e:
        raise SpecListError(f"{path}: cannot read the JUnit report: {getattr(e, 'strerror', None) or e}") from None
    cases = []
    for tc in root.iter("testcase"):
        name = tc.get("name", "")
        name = re.sub(r"^\[It\] ", "", name)
        status = tc.get("status")
        msg = ""
        for tag in ("failure", "error", "skipped"):
            el = tc.find(tag)
            if el is not None:
                status = status or ("skipped" if tag == "skipped" else "failed")
                msg = (el.get("message") or el.text or "").strip()
                break
        cases.append(Case(name, status or "passed", msg, float(tc.get("time") or 0)))
    return cases


def _first_line(text: str, limit: int = 300) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return (lines[0] if lines else "")[:limit]


def judge(specs: list[Spec], cases: list[Case]) -> tuple[list[Outcome], list[str]]:
    """One outcome per listed spec, plus problems outside the list (suite set-up failures)."""
    outcomes = []
    for spec in specs:
        hits = [c for c in cases if spec.matches(c.name)]
        ran = [c for c in hits if c.status != "skipped"]   # filtered-out specs are reported as skipped
        if not hits:
            outcomes.append(Outcome(spec, "UNMATCHED", "no spec in the JUnit reports matches the focus"))
        elif len(ran) > 1 or (not ran and len(hits) > 1):
            outcomes.append(Outcome(spec, "AMBIGUOUS", f"{len(ran or hits)} specs match: "
                                    + "; ".join(c.name for c in (ran or hits)[:3])))
        elif ran and ran[0].status == "passed":
            outcomes.append(Outcome(spec, "PASS", f"{ran[0].name} ({ran[0].seconds:.0f}s)"))
        elif ran:
            c = ran[0]
            outcomes.append(Outcome(spec, "FAIL", f"{c.name}: {c.status}: {_first_line(c.message)}"))
        elif spec.skip:
            outcomes.append(Outcome(spec, "SKIP", f"{hits[0].name}: {spec.skip}"))
        else:
            why = _first_line(hits[0].message)
            outcomes.append(Outcome(spec, "FAIL", f"{hits[0].name}: skipped without a stated reason"
                                    + (f" (e2e said: {why})" if why and why != "skipped" else "")))
    setup = [f"{c.name}: {c.status}: {_first_line(c.message)}" for c in cases
             if c.status not in ("passed", "skipped") and c.name.startswith("[")
             and re.match(r"^\[(Synchronized)?(Before|After)Suite\]", c.name)]
    return outcomes, setup


def report(outcomes: list[Outcome], setup: list[str]) -> str:
    lines = [f"{o.status:<9} {o.detail}" for o in outcomes]
    lines += [f"SETUP     {p}" for p in setup]
    passed = sum(o.status == "PASS" for o in outcomes)
    failed = sum(not o.ok for o in outcomes) + len(setup)
    skipped = sum(o.status == "SKIP" for o in outcomes)
    lines.append(f"{passed} passed, {failed} failed, {skipped} skipped")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    try:
        if len(argv) == 3 and argv[0] == "focus" and argv[2] in ("parallel", "serial"):
            print("\0".join(focus_args(load_specs(argv[1]), argv[2] == "serial")), end="")
            return 0
        if len(argv) >= 3 and argv[0] == "check":
            specs = load_specs(argv[1])
            cases = [c for p in argv[2:] for c in read_junit(p)]
            outcomes, setup = judge(specs, cases)
            print(report(outcomes, setup))
            return 0 if all(o.ok for o in outcomes) and not setup else 1
    except SpecListError as e:
        print(f"upstream-e2e: {e}", file=sys.stderr)
        return 2
    print("usage: python3 -m hostnet_conformance.upstream_e2e focus SPECS {parallel|serial} | check SPECS JUNIT...",
          file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
