"""A kind cluster the suite waits on: every node container must have registered as a Node (a worker
that registers a moment late would otherwise be left out of the run as not ready)."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from hostnet_conformance import cluster


def fake_kind(tmp_path: Path, out: str, rc: int = 0) -> Path:
    kind = tmp_path / "kind"
    kind.write_text(f"#!/bin/sh\n[ \"$1 $2 $3 $4\" = 'get nodes --name hnc-x' ] || exit 9\nprintf '{out}'\nexit {rc}\n")
    kind.chmod(0o755)
    return kind


def test_kind_node_containers_less_the_load_balancer(tmp_path):
    c = SimpleNamespace(kind_bin=fake_kind(tmp_path, "hnc-x-control-plane\\nhnc-x-worker\\nhnc-x-worker2\\n"
                                                     "hnc-x-external-load-balancer\\n"), kind_name="hnc-x")
    assert cluster.kind_node_names(c) == ["hnc-x-control-plane", "hnc-x-worker", "hnc-x-worker2"]


def test_kind_that_cannot_say_expects_nothing(tmp_path):
    c = SimpleNamespace(kind_bin=fake_kind(tmp_path, "boom", rc=1), kind_name="hnc-x")
    assert cluster.kind_node_names(c) == []


def test_the_wait_says_how_many_nodes_registered():
    core = SimpleNamespace(list_node=lambda: SimpleNamespace(items=[object(), object()]))
    assert cluster._registered(["a", "b", "c"], core) == "\n2 of kind's 3 nodes registered (a, b, c)"
    assert cluster._registered(["a", "b"], core) == ""


def test_the_nodes_left_out_and_why_in_the_apis_words():
    import copy
    import json
    from kubernetes import client
    from hostnet_conformance.environment import not_schedulable, schedulable
    doc = json.loads((Path(__file__).resolve().parent / "data" / "facts" / "node-kind-worker.json").read_text())
    worker = client.ApiClient()._ApiClient__deserialize(doc, "V1Node")
    worker.spec.taints = None   # recorded a moment before the node lifecycle controller lifted not-ready
    late = copy.deepcopy(worker)
    late.metadata.name = "late"
    late.spec.taints = [client.V1Taint(key="node.kubernetes.io/not-ready", effect="NoSchedule"),
                        client.V1Taint(key="example.com/soft", effect="PreferNoSchedule")]
    cordoned = copy.deepcopy(worker)
    cordoned.metadata.name, cordoned.spec.unschedulable = "cordoned", True
    nodes = [worker, late, cordoned]
    assert schedulable(nodes) == [worker.metadata.name]
    assert not_schedulable(nodes) == {"late": "taint node.kubernetes.io/not-ready:NoSchedule",
                                      "cordoned": "cordoned (spec.unschedulable)"}
