#!/usr/bin/env python3
"""Run the conformance suite N times on one kept cluster and count failures per test.

    python3 scripts/soak.py --runs 10 -- --cluster-name hnc-soak -n 2

The first run creates (or reuses) the cluster; all runs keep it; it is deleted at the end unless
--keep-cluster is among the pytest arguments. Exit status 1 if any test failed in any run."""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

from bounded import TimedOut, run  # scripts/bounded.py

ROOT = Path(__file__).resolve().parent.parent
RUN_TIMEOUT = 1800   # one suite run, cluster creation included


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("pytest_args", nargs="*", help="passed to pytest (after --)")
    a = ap.parse_args()
    if a.runs < 1:
        ap.error("--runs must be at least 1")
    keep = "--keep-cluster" in a.pytest_args
    args = [x for x in a.pytest_args if x != "--keep-cluster"]
    name = args[args.index("--cluster-name") + 1] if "--cluster-name" in args else "hostnet-conformance"
    failures: Counter[str] = Counter()
    durations = []
    out = Path(tempfile.mkdtemp(prefix="hnc-soak-"))
    try:
        for i in range(1, a.runs + 1):
            xml = out / f"run-{i}.xml"
            t0 = time.monotonic()
            r = run([sys.executable, "-m", "pytest", str(ROOT / "suites"), "-q", "-p", "no:cacheprovider",
                     "--keep-cluster", "--junitxml", str(xml), *args], RUN_TIMEOUT, f"suite run {i}", cwd=ROOT,
                    capture_output=True, text=True)
            durations.append(time.monotonic() - t0)
            failed = []
            if xml.exists():
                for case in ET.parse(xml).getroot().iter("testcase"):
                    if case.find("failure") is not None or case.find("error") is not None:
                        failed.append(f"{case.get('classname')}::{case.get('name')}")
            elif r.returncode:
                failed.append(f"(run ended without a report: {r.stdout.strip().splitlines()[-1:]})")
            failures.update(failed)
            last = (r.stdout.strip().splitlines() or ["?"])[-1]
            print(f"run {i}/{a.runs}: exit {r.returncode} in {durations[-1]:.1f}s: {last}", flush=True)
    finally:
        if not keep:
            run(["kind", "delete", "cluster", "--name", name], 300, capture_output=True)
    durations.sort()
    print(f"\n{a.runs} runs, median {durations[len(durations) // 2]:.1f}s, "
          f"min {durations[0]:.1f}s, max {durations[-1]:.1f}s")
    if not failures:
        print("no test failed in any run")
        return 0
    print("failures per test:")
    for test, n in failures.most_common():
        print(f"  {n}/{a.runs}  {test}")
    return 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except TimedOut as e:
        sys.exit(f"soak: {e}")
