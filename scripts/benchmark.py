#!/usr/bin/env python3
"""Measure what docs/benchmarks.md reports, in one go, and print Markdown rows (medians).

    python3 scripts/benchmark.py --repeat 3

- bare `kind create cluster` with the suite's own config (the baseline)
- the full suite on a fresh cluster (creation included), with 1 and 2 xdist workers
- a rerun on a kept cluster, with 1 and 2 workers
- the offline bootstrap with nothing changed (warm cache)
Needs the offline images (scripts/offline/bootstrap.sh) or network access."""
from __future__ import annotations

import argparse
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


def timed(cmd: list[str], env: dict | None = None) -> float:
    t0 = time.monotonic()
    r = subprocess.run(cmd, cwd=ROOT, env={**os.environ, **(env or {})}, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"benchmark: {' '.join(cmd[:6])} failed: {(r.stdout + r.stderr).strip().splitlines()[-1:]}")
    return time.monotonic() - t0


def delete():
    subprocess.run(["kind", "delete", "cluster", "--name", NAME], capture_output=True)


def suite(*extra: str) -> list[str]:
    return [sys.executable, "-m", "pytest", "suites", "-q", "-p", "no:cacheprovider", "--cluster-name", NAME, *extra]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    n = ap.parse_args().repeat
    image = os.environ.get("HNC_NODE_IMAGE")
    cfg = render_kind_config(Path(tempfile.mkdtemp(prefix="hnc-bench-")))
    rows: dict[str, list[float]] = {}

    def measure(label, fn):
        rows.setdefault(label, []).append(fn())
        print(f"{label}: {rows[label][-1]:.1f}s", file=sys.stderr, flush=True)

    delete()
    for _ in range(n):
        create = ["kind", "create", "cluster", "--name", NAME, "--config", str(cfg)] + (["--image", image] if image else [])
        measure("bare kind create cluster (3 nodes)", lambda: timed(create))
        delete()
        measure("full suite, fresh cluster, 1 worker", lambda: timed(suite()))
        measure("full suite, fresh cluster, 2 workers", lambda: timed(suite("-n", "2", "--keep-cluster")))
        measure("rerun on kept cluster, 2 workers", lambda: timed(suite("-n", "2", "--keep-cluster")))
        measure("rerun on kept cluster, 1 worker", lambda: timed(suite("--keep-cluster")))
        delete()
        measure("offline bootstrap, warm", lambda: timed(["bash", "scripts/offline/bootstrap.sh"]))
    base = statistics.median(rows["bare kind create cluster (3 nodes)"])
    print(f"| measurement | median of {n} (s) | runs (s) | ratio to bare create |")
    print("|---|---|---|---|")
    for label, xs in rows.items():
        med = statistics.median(xs)
        print(f"| {label} | {med:.1f} | {' '.join(f'{x:.1f}' for x in xs)} | {med / base:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
