#!/usr/bin/env python3
"""Measure what docs/benchmarks.md reports, in one go, and print Markdown rows (medians).

    python3 scripts/benchmark.py --repeat 3

- bare `kind create cluster` with the suite's own config (the baseline)
- the full suite on a fresh cluster (creation included), with 1 and 2 xdist workers
- a rerun on a kept cluster, with 1 and 2 workers, and `-m C1` alone
- the offline bootstrap with nothing changed (warm cache)
- the peak memory (max RSS) of each pytest process, and the phases of the last fresh 1-worker
  run as its report.json states them
Needs the offline images (scripts/offline/bootstrap.sh) or network access."""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from hostnet_conformance.cluster import render_kind_config  # noqa: E402
from bounded import TimedOut, deadline, run  # noqa: E402  (scripts/bounded.py)

NAME = "hnc-bench"


PEAK_MB: dict[str, float] = {}


def timed(cmd: list[str], env: dict | None = None, label: str | None = None, timeout: float = 1800) -> float:
    """Wall time of one command (process start to exit), under a deadline; its peak RSS goes to PEAK_MB[label]."""
    t0 = time.monotonic()
    with tempfile.TemporaryFile("w+") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **(env or {})}, stdout=out, stderr=subprocess.STDOUT,
                                text=True)
        with deadline(proc.pid, timeout, " ".join(cmd[:6])):
            _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.monotonic() - t0
        if proc.returncode != 0:
            out.seek(0)
            sys.exit(f"benchmark: {' '.join(cmd[:6])} failed: {out.read().strip().splitlines()[-1:]}")
    if label:
        PEAK_MB[label] = max(PEAK_MB.get(label, 0), usage.ru_maxrss / 1024)
    return wall


def delete():
    run(["kind", "delete", "cluster", "--name", NAME], 300, capture_output=True)


def suite(*extra: str) -> list[str]:
    return [sys.executable, "-m", "pytest", "suites", "-q", "-p", "no:cacheprovider", "--cluster-name", NAME, *extra]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    n = ap.parse_args().repeat
    image = os.environ.get("HNC_NODE_IMAGE")
    work = Path(tempfile.mkdtemp(prefix="hnc-bench-"))
    cfg, report, rerun = render_kind_config(work), work / "report-fresh-1", work / "report-rerun-1"
    rows: dict[str, list[float]] = {}

    def measure(label, fn):
        rows.setdefault(label, []).append(fn())
        print(f"{label}: {rows[label][-1]:.1f}s", file=sys.stderr, flush=True)

    delete()
    for _ in range(n):
        create = ["kind", "create", "cluster", "--name", NAME, "--config", str(cfg)] + (["--image", image] if image else [])
        measure("bare kind create cluster (3 nodes)", lambda: timed(create, timeout=600))
        delete()
        measure("full suite, fresh cluster, 1 worker", lambda: timed(suite("--report-dir", str(report)), label="fresh-1"))
        delete()
        measure("full suite, fresh cluster, 2 workers", lambda: timed(suite("-n", "2", "--keep-cluster"), label="fresh-2"))
        measure("rerun on kept cluster, 2 workers", lambda: timed(suite("-n", "2", "--keep-cluster"), label="rerun-2"))
        measure("rerun on kept cluster, 1 worker", lambda: timed(suite("--keep-cluster", "--report-dir", str(rerun)),
                                                                 label="rerun-1"))
        measure("rerun on kept cluster, -m C1, 1 worker", lambda: timed(suite("--keep-cluster", "-m", "C1"),
                                                                         label="rerun-C1"))
        delete()
        measure("offline bootstrap, warm", lambda: timed(["bash", "scripts/offline/bootstrap.sh"]))
    base = statistics.median(rows["bare kind create cluster (3 nodes)"])
    print(f"| measurement | median of {n} (s) | runs (s) | ratio to bare create |")
    print("|---|---|---|---|")
    for label, xs in rows.items():
        med = statistics.median(xs)
        print(f"| {label} | {med:.1f} | {' '.join(f'{x:.1f}' for x in xs)} | {med / base:.2f}x |")
    print("\n| pytest process | peak RSS (MiB) |\n|---|---|")
    for label, mb in PEAK_MB.items():
        print(f"| {label} | {mb:.0f} |")
    print_phases(report / "report.json")
    print_phases(rerun / "report.json", "last rerun, 1 worker")
    return 0


def print_phases(path: Path, label: str = "last fresh 1-worker run") -> None:
    """A run's timeline from its report.json (seconds since its process started): the cluster's
    phases, the world's, each observation's time to its verdict, and the critical path (the chain of
    spans, each ending no later than the next began, that ends last)."""
    from hostnet_conformance.timeline import critical_path
    if not path.is_file():
        return
    spans = json.loads(path.read_text()).get("timeline") or []
    if not spans:
        return
    print(f"\n| span ({label}) | start s | end s | s |\n|---|---|---|---|")
    for t in spans:
        if t["name"].startswith("test ") or t["end_s"] is None:
            continue   # the tests only record what their observation saw
        print(f"| {t['name']} | {t['start_s']:.1f} | {t['end_s']:.1f} | {t['duration_s']:.1f} |")
    print(f"\n| critical path ({label}) | start s | end s |\n|---|---|---|")
    for t in critical_path([t for t in spans if not t["name"].startswith("test ")]):
        print(f"| {t['name']} | {t['start_s']:.1f} | {t['end_s']:.1f} |")


if __name__ == "__main__":
    try:
        sys.exit(main())
    except TimedOut as e:
        sys.exit(f"benchmark: {e}")
