"""C15's expected nodes are the DaemonSet controller's own decision (placement.py), judged on
nodes recorded from the offline kind cluster (tests/data/placement, v1.34.4) and their real-cluster
variants: a cordoned node, a NotReady node, a Windows node, taints and tolerations, affinity."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from hostnet_conformance.claims import c15
from hostnet_conformance import manifests, placement

DATA = Path(__file__).resolve().parent / "data" / "placement"


def node(name: str, rename: str | None = None) -> dict:
    n = json.loads((DATA / f"node-{name}.json").read_text())
    if rename:
        n["metadata"]["name"] = rename
        n["metadata"]["labels"]["kubernetes.io/hostname"] = rename
    return n


def cordoned(n: dict) -> dict:
    n = copy.deepcopy(n)
    n["spec"]["unschedulable"] = True   # and the taint the node lifecycle controller adds for it
    n["spec"]["taints"] = [{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}]
    return n


def windows(n: dict) -> dict:
    n = copy.deepcopy(n)
    n["metadata"]["labels"].update({"kubernetes.io/os": "windows", "beta.kubernetes.io/os": "windows"})
    return n


def vendor() -> dict:
    return manifests.load("node-exporter-daemonset")


def cluster() -> list[dict]:
    return [node("control-plane"), node("worker", "w1"), cordoned(node("worker", "w2")),
            node("worker-not-ready", "w3"), windows(node("worker", "win1"))]


def test_the_vendor_daemonset_runs_where_its_controller_would_place_it():
    run, why_not, may_stay = placement.expected_nodes(vendor(), cluster())
    # a cordoned node gets a pod (DaemonSet pods tolerate unschedulable); a Windows node too, when
    # nothing selects the OS: the controller does not know the image is Linux-only
    assert run == ["w1", "w2", "win1"]
    assert why_not["hnc-ci-control-plane"] == "untolerated taint node-role.kubernetes.io/control-plane:NoSchedule"
    assert why_not["w3"] == "untolerated taint node.kubernetes.io/not-ready:NoSchedule"
    assert may_stay == ["hnc-ci-control-plane", "w3"]   # only NoSchedule: a running pod would stay


def test_a_linux_selector_keeps_windows_nodes_out():
    ds = vendor()
    ds["spec"]["template"]["spec"]["nodeSelector"] = {"kubernetes.io/os": "linux"}
    run, why_not, _ = placement.expected_nodes(ds, cluster())
    assert run == ["w1", "w2"] and why_not["win1"] == "nodeSelector kubernetes.io/os=linux (node has 'windows')"


def test_tolerations_of_the_template_and_of_the_controller():
    cp = node("control-plane")
    spec = {"hostNetwork": True}
    assert not placement.should_run(spec, cp)[0]
    assert placement.should_run({**spec, "tolerations": [{"operator": "Exists"}]}, cp)[0]
    assert placement.should_run({**spec, "tolerations": [{"key": "node-role.kubernetes.io/control-plane",
                                                          "operator": "Exists", "effect": "NoSchedule"}]}, cp)[0]
    assert not placement.should_run({**spec, "tolerations": [{"key": "node-role.kubernetes.io/control-plane",
                                                              "operator": "Exists", "effect": "NoExecute"}]}, cp)[0]
    net = node("worker")
    net["spec"]["taints"] = [{"key": "node.kubernetes.io/network-unavailable", "effect": "NoSchedule"}]
    assert placement.should_run({"hostNetwork": True}, net)[0]        # added for host-network pods only
    assert not placement.should_run({"hostNetwork": False}, net)[0]
    equal = node("worker")
    equal["spec"]["taints"] = [{"key": "dedicated", "value": "gpu", "effect": "NoExecute"}]
    assert placement.should_run({"tolerations": [{"key": "dedicated", "operator": "Equal", "value": "gpu"}]}, equal)[0]
    assert not placement.should_run({"tolerations": [{"key": "dedicated", "value": "cpu"}]}, equal)[0]


@pytest.mark.parametrize("term,runs", [
    ({"matchFields": [{"key": "metadata.name", "operator": "NotIn", "values": ["w1"]}]}, False),
    ({"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["w1"]}]}, True),
    ({"matchExpressions": [{"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64", "arm64"]}]}, True),
    ({"matchExpressions": [{"key": "node-role.kubernetes.io/control-plane", "operator": "DoesNotExist"}]}, True),
    ({"matchExpressions": [{"key": "example.com/gpus", "operator": "Gt", "values": ["0"]}]}, False),
    ({}, False),   # an empty term selects nothing
])
def test_required_node_affinity(term, runs):
    spec = {"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [term]}}}}
    assert placement.should_run(spec, node("worker", "w1"))[0] is runs


def pod_on(name: str, ready: bool = True) -> dict:
    return {"metadata": {"name": f"node-exporter-{name}"}, "spec": {"nodeName": name},
            "status": {"conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}


def with_status(ds: dict, desired: int, ready: int) -> dict:
    ds = copy.deepcopy(ds)
    ds["status"] = {"desiredNumberScheduled": desired, "currentNumberScheduled": desired, "numberReady": ready}
    return ds


def test_c15_passes_with_one_ready_pod_on_each_selected_node_including_a_cordoned_one():
    nodes = [node("control-plane"), node("worker", "w1"), cordoned(node("worker", "w2"))]
    failures, ev, summary = c15.judge({"daemonset": with_status(vendor(), 2, 2), "nodes": nodes,
                                      "pods": [pod_on("w1"), pod_on("w2")]})
    assert failures == [] and ev["expected_nodes"] == ["w1", "w2"]
    assert "2 nodes the DaemonSet controller selects" in summary


def test_c15_fails_when_a_held_port_keeps_one_pod_pending():
    """The control's setup: the controller wants a pod on both workers; the one on w1 is Pending
    (no nodeName: the scheduler found no free port), so desired 2, ready 1."""
    nodes = [node("control-plane"), node("worker", "w1"), node("worker", "w2")]
    pending = {"metadata": {"name": "node-exporter-p"}, "spec": {},
               "status": {"conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable"}]}}
    failures, ev, _ = c15.judge({"daemonset": with_status(vendor(), 2, 1), "nodes": nodes,
                                 "pods": [pod_on("w2"), pending]})
    codes = [c for c, _ in failures]
    assert codes == ["counts_differ", "placement_differs"] and "no pod on ['w1']" in failures[1][1]


def test_c15_names_a_pod_on_a_node_that_should_run_none_and_a_pod_not_ready():
    nodes = [node("worker", "w1"), windows(node("worker", "win1"))]
    ds = vendor()
    ds["spec"]["template"]["spec"]["nodeSelector"] = {"kubernetes.io/os": "linux"}
    failures, _, _ = c15.judge({"daemonset": with_status(ds, 1, 0), "nodes": nodes,
                                "pods": [pod_on("w1", ready=False), pod_on("win1")]})
    assert [c for c, _ in failures] == ["counts_differ", "placement_differs", "not_ready"]
    assert "pods on ['win1'], which should run none" in failures[1][1]


def test_node_probes_go_where_the_runs_pods_go_never_to_a_tainted_control_plane():
    """world.probed_nodes: the vendor's DaemonSet's nodes by the controller's rules and the sampled
    workers; kind's control plane (NoSchedule taint, no toleration in the vendor's DaemonSet) gets
    no node probe: no pod of the run goes there."""
    from types import SimpleNamespace

    from kubernetes import client as k8s

    from hostnet_conformance import world as world_mod

    def model(d):
        return k8s.ApiClient()._ApiClient__deserialize(d, "V1Node")

    nodes = [model(node("control-plane")), model(node("worker"))]
    cp, workers = nodes[0].metadata.name, [nodes[1].metadata.name]
    env = SimpleNamespace(judged_nodes=None, node_selector=None, exporter_image="img",
                          cluster=SimpleNamespace(facts={}, api=k8s.ApiClient()))
    w = SimpleNamespace(env=env, workers=workers, blocked=None)
    w.vendor_ds = lambda: world_mod.World.vendor_ds(w)
    probed = [n.metadata.name for n in world_mod.probed_nodes(w, nodes)]
    assert cp not in probed and set(probed) == set(workers)
    # a vendor's DaemonSet that tolerates every taint runs on the control plane: its node is probed too
    placement_tolerant = manifests.load("node-exporter-daemonset")
    placement_tolerant["spec"]["template"]["spec"]["tolerations"] = [{"operator": "Exists"}]
    w.vendor_ds = lambda: placement_tolerant
    assert cp in [n.metadata.name for n in world_mod.probed_nodes(w, nodes)]
