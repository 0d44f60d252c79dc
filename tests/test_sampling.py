"""The node sample (`--nodes`, `--node-selector`): chosen the same way every time, spread over zones,
instance types and arches, each node with the reason it was picked; bad input is one line."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from kubernetes import client

from hostnet_conformance import sampling

DATA = Path(__file__).resolve().parent / "data"


def node(name: str, zone: str | None = None, itype: str | None = None, arch: str = "amd64"):
    labels = {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": arch}
    if zone:
        labels["topology.kubernetes.io/zone"] = zone
    if itype:
        labels["node.kubernetes.io/instance-type"] = itype
    return client.V1Node(metadata=client.V1ObjectMeta(name=name, labels=labels), spec=client.V1NodeSpec())


def recorded_kind_worker():
    doc = json.loads((DATA / "facts" / "node-kind-worker.json").read_text())
    return client.ApiClient()._ApiClient__deserialize(doc, "V1Node")


def test_kind_two_workers_default_sample_is_both_by_name():
    w = recorded_kind_worker()
    other = client.ApiClient()._ApiClient__deserialize(
        json.loads((DATA / "facts" / "node-kind-worker.json").read_text()), "V1Node")
    other.metadata.name = "zz-" + w.metadata.name
    s = sampling.choose([other, w], sampling.parse_nodes(None))
    assert s.nodes == [w.metadata.name, other.metadata.name] and s.everything
    assert s.in_words().startswith("all 2 schedulable Linux node(s)")


def test_three_zones_two_picked_spread_over_zones_not_names():
    nodes = [node("a-1", "z1", "m5"), node("a-2", "z1", "m5"), node("b-1", "z2", "m5"), node("c-1", "z3", "c6")]
    s = sampling.choose(nodes, 2)
    assert s.nodes == ["a-1", "c-1"]   # c-1 brings a new zone AND a new instance type; b-1 only a zone
    assert s.why["a-1"].startswith("first by name") and "zone z1" in s.why["a-1"]
    assert s.why["c-1"] == "brings zone z3, instance type c6"
    assert not s.everything and "2 of 4 schedulable Linux nodes (--nodes 2)" in s.in_words()


def test_a_new_zone_outweighs_new_instance_types_and_arches():
    nodes = [node("n1", "z1", "m5", "amd64"), node("n2", "z1", "c6", "arm64"), node("n3", "z2", "m5", "amd64")]
    assert sampling.choose(nodes, 2).nodes == ["n1", "n3"]
    assert sampling.choose(nodes, 3).nodes == ["n1", "n3", "n2"]


def test_unlabelled_nodes_go_by_name_and_say_so():
    nodes = [client.V1Node(metadata=client.V1ObjectMeta(name=n)) for n in ("w3", "w1", "w2")]
    s = sampling.choose(nodes, 2)
    assert s.nodes == ["w1", "w2"]
    assert s.why == {"w1": "first by name", "w2": "next by name (no zone, instance type or arch left unsampled)"}


def test_the_same_nodes_in_any_order_give_the_same_sample():
    nodes = [node(f"n{i}", f"z{i % 3}", f"t{i % 2}") for i in range(12)]
    assert sampling.choose(nodes, 3).nodes == sampling.choose(list(reversed(nodes)), 3).nodes


def test_more_asked_than_there_are_and_all_take_every_node():
    nodes = [node("x"), node("y")]
    assert sampling.choose(nodes, 5).nodes == ["x", "y"]
    assert sampling.choose(nodes, None).everything


@pytest.mark.parametrize("text,want", [("all", None), ("ALL", None), ("1", 1), (" 3 ", 3), (None, 2)])
def test_nodes_option(text, want):
    assert sampling.parse_nodes(text) == want


@pytest.mark.parametrize("text", ["0", "-1", "two", "1.5", ""])
def test_bad_nodes_option_is_one_line(text):
    with pytest.raises(sampling.BadSample, match="whole number from 1 or 'all'") as e:
        sampling.parse_nodes(text)
    assert "\n" not in str(e.value)


def test_node_selector_equality_and_existence():
    sel = sampling.parse_selector("node.kubernetes.io/instance-type=m5, pool")
    assert sel == {"node.kubernetes.io/instance-type": "m5", "pool": None}
    n = node("n", "z1", "m5")
    assert not sampling.selected(n, sel)
    n.metadata.labels["pool"] = "blue"
    assert sampling.selected(n, sel)
    assert sampling.parse_selector(None) == {}


@pytest.mark.parametrize("text", ["a=b=c", "=x", ",", "!pool", "a in (b)"])
def test_bad_node_selector_is_one_line(text):
    with pytest.raises(sampling.BadSample, match="--node-selector"):
        sampling.parse_selector(text)


def _world(nodes, asked, selector=None):
    from types import SimpleNamespace
    from hostnet_conformance import world
    from hostnet_conformance.environment import schedulable
    cluster = SimpleNamespace(facts={"schedulable_nodes": schedulable(nodes)})
    env = SimpleNamespace(cluster=cluster, nodes_asked=asked, node_selector=selector or {}, judged_nodes=None)
    return world.World(env=env, ports=None), env


def test_the_world_judges_the_sample_and_the_report_names_it():
    from hostnet_conformance import discovery
    nodes = [node("w1", "z1"), node("w2", "z1"), node("w3", "z2")]
    w, env = _world(nodes, 1)
    discovery.choose_sample(w, nodes)
    assert w.workers == ["w1"] and env.judged_nodes == {"w1"}
    assert env.cluster.facts["node_sample"] == "1 of 3 schedulable Linux nodes (--nodes 1): w1 (first by name; zone z1, arch amd64)"
    w, env = _world(nodes, None)
    discovery.choose_sample(w, nodes)
    assert w.workers == ["w1", "w3", "w2"] and env.judged_nodes is None   # every node: nothing restricted


def test_a_node_pool_restricts_even_when_all_of_it_is_sampled_and_an_empty_pool_is_an_error():
    from hostnet_conformance import discovery
    from hostnet_conformance.verdict import ClusterError
    nodes = [node("w1", "z1", "m5"), node("w2", "z1", "c6")]
    w, env = _world(nodes, None, {"node.kubernetes.io/instance-type": "c6"})
    discovery.choose_sample(w, nodes)
    assert w.workers == ["w2"] and env.judged_nodes == {"w2"}
    w, env = _world(nodes, 2, {"pool": None})
    with pytest.raises(ClusterError, match="--node-selector pool selects none of the 2 schedulable Linux nodes"):
        discovery.choose_sample(w, nodes)


def test_the_suites_own_daemonsets_go_to_the_sample_the_vendors_to_the_pool():
    from hostnet_conformance import manifests
    ds = manifests.load("node-exporter-daemonset")
    pooled = manifests.with_node_selector(ds, {"pool": "blue", "gpu": None})
    spec = manifests.pod_spec(pooled)
    assert spec["nodeSelector"]["pool"] == "blue" and "gpu" not in spec["nodeSelector"]
    assert spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"] == [
        {"matchExpressions": [{"key": "gpu", "operator": "Exists"}]}]
    on = manifests.pod_spec(manifests.on_nodes(ds, ["w1", "w3"]))
    assert on["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"] == [
        {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["w1"]}]},
        {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["w3"]}]}]
    # the API server refuses more than one value in a matchFields requirement (422)
    assert all(len(r["values"]) == 1 for t in on["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
        "nodeSelectorTerms"] for r in t["matchFields"])



def test_a_sampled_run_names_its_sample_in_every_claims_evidence():
    from types import SimpleNamespace
    from hostnet_conformance.claims import base
    env = SimpleNamespace(judged_nodes={"w3", "w1"})
    obs = base.observe("t-sampled", "C14", lambda e: {"x": 1}, env)
    assert obs["node_sample"] == ["w1", "w3"]
    v = base.judged(obs, lambda facts: ([], {"hostname": "w1"}, "ok"))
    assert v.passed and v.evidence == {"hostname": "w1", "node_sample": ["w1", "w3"]}
    whole = base.observe("t-whole", "C14", lambda e: {"x": 1}, SimpleNamespace(judged_nodes=None))
    assert "node_sample" not in whole and base.judged(whole, lambda f: ([], {}, "ok")).evidence == {}
    base.RECORDED.pop("t-sampled"), base.RECORDED.pop("t-whole")


def test_simulated_nodes_are_never_sampled_and_restrict_the_suites_own_daemonsets():
    from hostnet_conformance import discovery
    fakes = [node(f"hnc-fake-{i}", f"z{i}") for i in range(3)]
    fakes[0].metadata.labels[sampling.SIMULATED_LABEL] = "true"
    fakes[1].metadata.annotations = {sampling.KWOK_ANNOTATION: "fake"}
    fakes[2].metadata.labels[sampling.SIMULATED_LABEL] = "true"
    real = [node("w1", "z9"), node("w2", "z9")]
    w, env = _world(real + fakes, None)
    discovery.choose_sample(w, real + fakes)
    assert w.workers == ["w1", "w2"] and env.judged_nodes == {"w1", "w2"}   # all real ones, still restricted
    assert env.cluster.facts["simulated_nodes"] == 3
