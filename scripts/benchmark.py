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

NAME = "hnc-bench"


PEAK_MB: dict[str, float] = {}


def timed(cmd: list[str], env: dict | None = None, label: str | None = None) -> float:
    """Wall time of one command (process start to exit); its peak RSS goes to PEAK_MB[label]."""
    t0 = time.monotonic()
    with tempfile.TemporaryFile("w+") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **(env or {})}, stdout=out, stderr=subprocess.STDOUT,
                                text=True)
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
    subprocess.run(["kind", "delete", "cluster", "--name", NAME], capture_output=True)


def suite(*extra: str) -> list[str]:
    return [sys.executable, "-m", "pytest", "suites", "-q", "-p", "no:cacheprovider", "--cluster-name", NAME, *extra]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    n = ap.parse_args().repeat
    image = os.environ.get("HNC_NODE_IMAGE")
    work = Path(tempfile.mkdtemp(prefix="hnc-bench-"))
    cfg, report = render_kind_config(work), work / "report-fresh-1"
    rows: dict[str, list[float]] = {}

    def measure(label, fn):
        rows.setdefault(label, []).append(fn())
        print(f"{label}: {rows[label][-1]:.1f}s", file=sys.stderr, flush=True)

    delete()
    for _ in range(n):
        create = ["kind", "create", "cluster", "--name", NAME, "--config", str(cfg)] + (["--image", image] if image else [])
        measure("bare kind create cluster (3 nodes)", lambda: timed(create))
        delete()
        measure("full suite, fresh cluster, 1 worker", lambda: timed(suite("--report-dir", str(report)), label="fresh-1"))
        delete()
        measure("full suite, fresh cluster, 2 workers", lambda: timed(suite("-n", "2", "--keep-cluster"), label="fresh-2"))
        measure("rerun on kept cluster, 2 workers", lambda: timed(suite("-n", "2", "--keep-cluster"), label="rerun-2"))
        measure("rerun on kept cluster, 1 worker", lambda: timed(suite("--keep-cluster"), label="rerun-1"))
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
    return 0


def print_phases(path: Path) -> None:
    """The last fresh 1-worker run's phases, from its report.json: the cluster, the shared
    deployments and wave, and each claim's time to its verdict (the slowest bounds the run)."""
    if not path.is_file():
        return
    r = json.loads(path.read_text())
    caps = r.get("capabilities") or {}
    print("\n| phase (last fresh 1-worker run) | s |\n|---|---|")
    for key in ("timing_kind_cluster_s", "timing_wait_ready_s", "timing_ready_and_images_loaded_s",
                "timing_shared_deployments_s"):
        if key in caps:
            print(f"| {key[len('timing_'):-2].replace('_', ' ')} | {caps[key]} |")
    per_claim = sorted(((sum(t.get("duration_s") or 0 for t in c.get("tests") or []), c["id"]) for c in r["claims"]),
                       reverse=True)
    for s, claim in per_claim:
        print(f"| {claim} tests (sum of its tests' durations) | {s:.1f} |")


if __name__ == "__main__":
    sys.exit(main())
