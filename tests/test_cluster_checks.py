"""What the cluster's own tests (suites/test_cluster.py) decide on, judged on recorded API
objects: kube-system's pods (a k3s cluster keeps its helm-install Jobs' finished pods there), the
two nodes of the cross-node check (one node: NOT APPLICABLE), the cluster domain of the name looked
up (configz clusterDomain), and one URL helper for every URL the suite builds."""
from __future__ import annotations

import ast
import copy
import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from kubernetes import client

from hostnet_conformance import kube, probes
from hostnet_conformance.claims.dns import cluster_name
from hostnet_conformance.environment import schedulable, two_workers
from hostnet_conformance.facts import parse_configz
from hostnet_conformance.verdict import NotApplicable
from hostnet_conformance.world import World

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"


def deserialize(path: Path, kind: str):
    return client.ApiClient()._ApiClient__deserialize(json.loads(path.read_text()), kind)


def signal_pod(name: str):
    return deserialize(DATA / "signals" / f"pod-{name}.json", "V1Pod")


def owned_by_job(pod):
    pod = copy.deepcopy(pod)
    pod.metadata.owner_references = [client.V1OwnerReference(api_version="batch/v1", kind="Job", name="helm-install-x",
                                                             uid="c2f3e4d5-b6a7-4c8d-9e0f-1a2b3c4d5e6f")]
    return pod


def test_k3s_kube_system_with_finished_helm_install_job_pods_is_healthy():
    pods = deserialize(DATA / "cluster" / "pods-kube-system-k3s.json", "V1PodList").items
    assert [p.status.phase for p in pods] == ["Running", "Succeeded", "Succeeded"]
    assert kube.not_running(pods) == []


def test_recorded_kube_system_with_a_completed_job_pod_is_healthy():
    """Flavour m's kube-system, recorded: its pods Running and one Job pod Succeeded."""
    pods = deserialize(DATA / "cluster" / "pods-kube-system-non-kind-defaults.json", "V1PodList").items
    done = [p for p in pods if p.status.phase == "Succeeded"]
    assert [p.metadata.owner_references[0].kind for p in done] == ["Job"]
    assert kube.not_running(pods) == []


def test_pending_failed_and_unknown_pods_still_fail_a_jobs_failed_pod_too():
    failed_job_pod = owned_by_job(signal_pod("exited-never"))
    unknown = copy.deepcopy(signal_pod("running"))
    unknown.metadata.name, unknown.status.phase = "lost", "Unknown"
    assert kube.not_running([signal_pod("running"), signal_pod("unschedulable"), failed_job_pod, unknown]) == [
        "unschedulable=Pending", "exited-never=Failed", "lost=Unknown"]


def test_a_pod_that_succeeded_without_a_job_is_not_accepted():
    bare = copy.deepcopy(signal_pod("exited-never"))
    bare.status.phase = "Succeeded"
    assert kube.not_running([bare]) == ["exited-never=Succeeded"]
    assert not kube.finished_job_pod(bare) and kube.finished_job_pod(owned_by_job(bare))


def nodes(*specs: tuple[str, str, bool]) -> list:
    """Recorded kind nodes (tests/data/placement), renamed, with or without the control plane's taint."""
    out = []
    for recorded, name, tainted in specs:
        n = deserialize(DATA / "placement" / f"node-{recorded}.json", "V1Node")
        n.metadata.name = name
        if not tainted:
            n.spec.taints = None
        out.append(n)
    return out


def test_kind_three_nodes_give_the_two_workers():
    kind = nodes(("control-plane", "hnc-dev-control-plane", True), ("worker", "hnc-dev-worker", False),
                 ("worker", "hnc-dev-worker2", False))
    assert kind[0].spec.taints   # the recorded control plane is tainted NoSchedule
    w = SimpleNamespace(workers=sorted(schedulable(kind)))
    assert two_workers(w) == ("hnc-dev-worker", "hnc-dev-worker2")


@pytest.mark.parametrize("cluster", [
    [("control-plane", "single", False)],                                      # one node, its taint removed
    [("control-plane", "cp", True), ("worker", "only-worker", False)],         # one worker beside the control plane
])
def test_one_schedulable_node_makes_the_cross_node_check_not_applicable(cluster):
    w = SimpleNamespace(workers=sorted(schedulable(nodes(*cluster))))
    with pytest.raises(NotApplicable, match=r"needs two schedulable Linux nodes; this cluster has 1: "):
        two_workers(w)


def test_the_cross_node_scenario_on_one_node_makes_nothing_and_its_tests_say_not_applicable():
    # an Env that would fail any API call: the scenario must not reach the cluster
    w = World(env=SimpleNamespace(), ports=None, workers=["single"])
    for _ in range(2):   # the wave's attempt, then the test's: both NOT APPLICABLE
        with pytest.raises(NotApplicable, match="this cluster has 1: single"):
            w.scenario("cross-node")
    assert isinstance(w.started["cross-node"], NotApplicable) and w.namespaces == {}


def test_the_name_looked_up_is_under_the_kubelets_cluster_domain():
    doc = json.loads((DATA / "facts" / "configz-kind-worker.json").read_text())
    assert cluster_name(parse_configz(doc).cluster_domain) == "kubernetes.default.svc.cluster.local."
    doc["kubeletconfig"]["clusterDomain"] = "hnc.example."
    assert cluster_name(parse_configz(doc).cluster_domain) == "kubernetes.default.svc.hnc.example."


def _sources():
    for d in ("hostnet_conformance", "suites", "scripts"):
        for path in sorted((ROOT / d).rglob("*.py")):
            yield path, ast.parse(path.read_text())


def test_no_cluster_domain_is_written_into_the_suite():
    """cluster.local only as facts.Kubelet's documented default (and in prose): the domain is read."""
    found = []
    for path, tree in _sources():
        prose = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Expr)}
        for n in ast.walk(tree):
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and "cluster.local" in n.value \
                    and id(n) not in prose:
                found.append(f"{path.relative_to(ROOT)}:{n.lineno}")
    assert found == ["hostnet_conformance/facts.py:" + str(_default_line())], found


def _default_line() -> int:
    text = (ROOT / "hostnet_conformance" / "facts.py").read_text().splitlines()
    return next(i for i, line in enumerate(text, 1) if 'cluster_domain: str = "cluster.local"' in line)


def test_every_url_is_built_by_one_helper():
    """probes.url brackets an IPv6 address; facts.Kubelet.healthz_url brackets its own bind address.
    No other f-string begins with a scheme."""
    found = []
    for path, tree in _sources():
        for n in ast.walk(tree):
            if isinstance(n, ast.JoinedStr) and n.values and isinstance(n.values[0], ast.Constant) \
                    and str(n.values[0].value).startswith(("http://", "https://")):
                found.append(path.relative_to(ROOT).as_posix())
    assert sorted(found) == ["hostnet_conformance/facts.py"], found


def test_url_brackets_ipv6_for_every_scheme():
    assert probes.url("fd00::1", 8443, "/validate", scheme="https") == "https://[fd00::1]:8443/validate"
    assert probes.url("172.18.0.1", 8443, "/validate", scheme="https") == "https://172.18.0.1:8443/validate"


def test_a_one_node_sample_says_so_not_that_the_cluster_has_one():
    w = SimpleNamespace(workers=["w1"], env=SimpleNamespace(judged_nodes={"w1"}))
    with pytest.raises(NotApplicable, match=r"the run's node sample \(--nodes, --node-selector\) has 1: w1"):
        two_workers(w)
