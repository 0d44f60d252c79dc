"""scripts/benchmark.py's count of pods created: the API server's own, on recorded metric lines
(kind v1.34.4, hnc-scale): real creates only, never a binding or an admission dry run."""
from __future__ import annotations

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "benchmark.py"
METRICS = """\
# TYPE apiserver_request_total counter
apiserver_request_total{code="201",component="apiserver",dry_run="",group="",resource="pods",scope="resource",subresource="",verb="POST",version="v1"} 2412
apiserver_request_total{code="201",component="apiserver",dry_run="",group="",resource="pods",scope="resource",subresource="binding",verb="POST",version="v1"} 2288
apiserver_request_total{code="201",component="apiserver",dry_run="All",group="",resource="pods",scope="resource",subresource="",verb="POST",version="v1"} 50
apiserver_request_total{code="403",component="apiserver",dry_run="",group="",resource="pods",scope="resource",subresource="",verb="POST",version="v1"} 248
apiserver_request_total{code="201",component="apiserver",dry_run="",group="apps",resource="daemonsets",scope="resource",subresource="",verb="POST",version="v1"} 90
"""


def test_pods_created_are_real_creates_only(monkeypatch):
    monkeypatch.syspath_prepend(str(SCRIPT.parent))   # the script imports its neighbour bounded.py
    spec = importlib.util.spec_from_file_location("benchmark", SCRIPT)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert bench.pod_creates(METRICS) == 2412
