#!/usr/bin/env python3
"""Measure what docs/benchmarks.md reports, in one go, and print Markdown rows (medians).

    python3 scripts/benchmark.py --repeat 3

- bare `kind create cluster` with the suite's own config (the baseline)
- the full suite on a fresh cluster (creation included), with 1 and 2 xdist workers
- a rerun on a kept cluster, with 1 and 2 workers, and `-m C1` alone
- the offline bootstrap with nothing changed (warm cache)
- the peak memory (max RSS) of each pytest process, and the phases of the last fresh 1-worker
  run as its report.json states them
Needs the offline images (scripts/offline/bootstrap.sh) or network access.

    python3 scripts/benchmark.py --scale [--fake-nodes 0,100,300] [--repeat 3]

The scale rows (issue 22), in one run on one cluster of its own: the suite rerun on a kept cluster
with 0, 100 and 300 simulated nodes (scripts/fake_nodes.py, kwok: bash scripts/offline/build-kwok.sh)
beside its 2 real workers. Per row: wall time, the pods the run created (the API server's own count
of pod creations, apiserver_request_total, read before and after), the run's API requests (as its
client counted them: report.json), its peak RSS; then the slope per added node."""
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


def fake_counts(text: str) -> list[int]:
    try:
        counts = [int(x) for x in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"give node counts like 0,100,300, not {text!r}") from None
    if not counts or any(c < 0 for c in counts) or counts != sorted(set(counts)):
        raise argparse.ArgumentTypeError(f"give increasing node counts from 0, like 0,100,300, not {text!r}")
    return counts


def pod_creates(metrics: str) -> int:
    """Pods created so far, by the API server's count: apiserver_request_total for POST on pods (not
    a subresource, not a dry run: the suite's admission checks create pods with dryRun=All, 5 per run,
    which the API server answers 201 and keeps nothing of) answered 201."""
    total = 0
    for line in metrics.splitlines():
        if not line.startswith("apiserver_request_total{"):
            continue
        labels, _, value = line.rpartition(" ")
        if all(f'{k}="{v}"' in labels for k, v in (("verb", "POST"), ("resource", "pods"), ("code", "201"))) \
                and 'subresource=""' in labels and 'dry_run="All"' not in labels:
            total += int(float(value))
    return total


def scale(counts: list[int], n: int) -> int:
    """The scale rows: one cluster, its pod subnet widened so that every node gets a podCIDR
    (kube-controller-manager gives each node a /24; kind's 10.244.0.0/16 holds 256), the suite rerun
    `n` times at each count of simulated nodes."""
    import yaml
    kwok = Path(os.environ.get("HNC_CACHE", "/var/cache/hostnet-conformance")) / "gobin" / "kwok"
    if not os.access(kwok, os.X_OK):
        sys.exit(f"benchmark: no kwok at {kwok}: bash scripts/offline/build-kwok.sh")
    name = f"{NAME}-scale"
    work = Path(tempfile.mkdtemp(prefix="hnc-bench-scale-"))
    cfg_path = render_kind_config(work)
    cfg = yaml.safe_load(cfg_path.read_text())
    cfg.setdefault("networking", {})["podSubnet"] = "10.244.0.0/14"
    cfg_path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    kubeconfig, context = work / "kubeconfig", f"kind-{name}"
    fake = [sys.executable, "scripts/fake_nodes.py"]
    target = ["--kubeconfig", str(kubeconfig), "--context", context]
    image = os.environ.get("HNC_NODE_IMAGE")
    rows: dict[int, list[dict]] = {}

    def created() -> int:
        return pod_creates(run(["kubectl", "--kubeconfig", str(kubeconfig), "get", "--raw", "/metrics"],
                               60, capture_output=True, text=True).stdout)

    def earlier_run_gone() -> float:
        """Untimed, before each timed run: wait until the previous run's namespaces are gone (the
        namespace controller deletes their pods after the run has exited; at 300 simulated nodes
        the vendor's 302 pods take 10-25 s on this machine). A timed run then starts on a clean
        cluster, as a user's single run does; the wait is reported beside it."""
        t0 = time.monotonic()
        got = run(["kubectl", "--kubeconfig", str(kubeconfig), "wait", "--for=delete", "namespace",
                   "-l", "app.kubernetes.io/managed-by=hostnet-conformance", "--timeout=600s"], 660,
                  capture_output=True, text=True)
        if got.returncode != 0 and "no matching resources" not in (got.stderr or ""):
            sys.exit(f"benchmark: the previous run's namespaces did not go: {(got.stderr or '').strip()[-300:]}")
        return time.monotonic() - t0
    run(["kind", "delete", "cluster", "--name", name], 300, capture_output=True)
    try:
        timed(["kind", "create", "cluster", "--name", name, "--config", str(cfg_path), "--kubeconfig", str(kubeconfig)]
              + (["--image", image] if image else []), timeout=600)
        args = ["-q", "-p", "no:cacheprovider", "--cluster-name", name, "--keep-cluster"]
        timed([sys.executable, "-m", "pytest", "suites", *args], timeout=1200)   # a first run: images, settling
        for count in counts:
            if count:
                timed([*fake, "add", *target, "--count", str(count)], timeout=900)
            for i in range(n):
                report = work / f"report-{count}-{i}"
                cleanup = earlier_run_gone()
                before = created()
                label = f"scale-{count}-{i}"
                wall = timed([sys.executable, "-m", "pytest", "suites", *args, "--report-dir", str(report)],
                             label=label, timeout=1800)
                pods = created() - before
                out = json.loads((report / "report.json").read_text())
                caps = out["capabilities"]
                row = {"wall": wall, "cleanup": cleanup, "pods": pods, "requests": caps["api_requests"]["total"],
                       "rss": PEAK_MB[label], "nodes": caps.get("nodes"), "sample": caps.get("node_sample"),
                       "verdicts": out.get("summary")}
                rows.setdefault(count, []).append(row)
                print(f"{count} fake nodes, run {i + 1}: {row}", file=sys.stderr, flush=True)
    finally:
        run([*fake, "remove", *target], 900, capture_output=True)
        run(["kind", "delete", "cluster", "--name", name], 300, capture_output=True)
    print_scale(rows)
    return 0


def print_scale(rows: dict[int, list[dict]]) -> None:
    med = {c: {k: statistics.median(r.get(k, 0) for r in rs) for k in ("wall", "pods", "requests", "rss", "cleanup")}
           for c, rs in rows.items()}
    base = med[min(med)]
    print(f"| simulated nodes | nodes | wall s (median) | runs s | wall / {min(med)} | pods created | API requests "
          "| peak RSS MiB | earlier run's namespaces gone, s (untimed) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for c, rs in rows.items():
        m, walls = med[c], " ".join(f"{r['wall']:.1f}" for r in rs)
        cleanups = " ".join(f"{r.get('cleanup', 0):.1f}" for r in rs)
        print(f"| {c} | {rs[-1]['nodes']} | {m['wall']:.1f} | {walls} | "
              f"{m['wall'] / base['wall']:.2f}x | {m['pods']:.0f} | {m['requests']:.0f} | {m['rss']:.0f} | {cleanups} |")
    top = max(med)
    if top > min(med):
        per = lambda k: (med[top][k] - base[k]) / (top - min(med))  # noqa: E731
        print(f"\nper added node ({min(med)} to {top}): {per('pods'):.2f} pods, {per('requests'):.2f} API requests, "
              f"{per('wall') * 1000:.0f} ms, {per('rss') * 1024:.0f} KiB peak RSS")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--scale", action="store_true", help="the scale rows instead (simulated nodes, issue 22)")
    ap.add_argument("--fake-nodes", type=fake_counts, default=[0, 100, 300], help="with --scale (default 0,100,300)")
    a = ap.parse_args()
    n = a.repeat
    if a.scale:
        return scale(a.fake_nodes, n)
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
