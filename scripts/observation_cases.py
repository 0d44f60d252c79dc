#!/usr/bin/env python3
"""Turn a run's observations.json (--report-dir) into recorded cases for the claims' judges:
tests/data/observations/cN/<key>.json, each with what judging it gives today as its "expect"
(tests/test_claim_judges.py). A control's observation is checked against its registered control.

  python3 scripts/observation_cases.py REPORT_DIR/observations.json [KEY ...] [--out DIR]

Review each case before committing it: the expectation is what the judge says now."""
from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hostnet_conformance.claims import base  # noqa: E402
from hostnet_conformance.verdict import CLAIMS, ClusterError, NotApplicable  # noqa: E402


def expectation(obs: dict) -> dict:
    claim = CLAIMS[obs["claim"]]
    try:
        v = base.judged(obs, importlib.import_module(f"hostnet_conformance.claims.{claim.id.lower()}").judge)
    except NotApplicable as e:
        return {"outcome": "NOT APPLICABLE", "reason": str(e)[:80]}
    except ClusterError as e:
        return {"outcome": "ERROR", "reason": str(e)[:80]}
    want = {"outcome": v.outcome}
    if not v.passed:
        want.update(codes=v.codes, modes=v.modes)
    ctls = [c for c in claim.controls if claim.control_observation(c) == obs["key"]]
    if ctls:
        want["control"] = ctls[0].test
        if ctls[0].part:
            want["part"] = ctls[0].part
    return want


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("observations", type=Path)
    ap.add_argument("keys", nargs="*")
    ap.add_argument("--out", type=Path, default=ROOT / "tests" / "data" / "observations")
    a = ap.parse_args(argv)
    try:
        recorded = json.loads(a.observations.read_text())
    except (OSError, ValueError) as e:
        print(f"observation_cases: cannot read {a.observations}: {e}", file=sys.stderr)
        return 2
    for key, obs in recorded.items():
        if a.keys and key not in a.keys or obs.get("claim") not in CLAIMS:
            continue
        path = a.out / obs["claim"].lower() / f"{key}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"expect": expectation(obs), "observation": obs}, indent=1) + "\n")
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
