"""The run deploys only what the selected claims observe: every shared DaemonSet a test uses
(ds_of) and every scenario it asks for (world.scenario) must belong to that test's claim, or a
selection such as `-m C1` would leave the test without its workload. Static (ast) scans of suites/."""
from __future__ import annotations

import ast
import inspect
import re
import sys
from pathlib import Path

from hostnet_conformance import scenarios
from hostnet_conformance.verdict import CLAIMS
from hostnet_conformance.world import VARIANT_CLAIMS

ROOT = Path(__file__).resolve().parent.parent
SUITES = sorted((ROOT / "suites").glob("*.py"))


def _uses():
    """(test name, its claim markers, the shared DaemonSets it names), per test; the helpers and
    module fixtures it requests count as its own."""
    out = []
    for path in SUITES:
        text = path.read_text()
        tree = ast.parse(text)
        funcs = {f.name: f for f in tree.body if isinstance(f, ast.FunctionDef)}

        def names(f, pattern):
            return set(re.findall(pattern, ast.get_source_segment(text, f)))
        for f in funcs.values():
            if not f.name.startswith("test_"):
                continue
            claims = {d.attr for d in f.decorator_list if isinstance(d, ast.Attribute) and re.fullmatch(r"C\d+", d.attr)}
            variants = names(f, r'ds_of\(world, "([a-z-]+)"\)')
            for arg in f.args.args:   # helpers and module fixtures this test requests
                if arg.arg in funcs:
                    variants |= names(funcs[arg.arg], r'ds_of\(world, "([a-z-]+)"\)')
            for helper in names(f, r"\b(_[a-z_]+)\(world"):
                if helper in funcs:
                    variants |= names(funcs[helper], r'ds_of\(w(?:orld)?, "([a-z-]+)"\)')
            out.append((f"{path.name}::{f.name}", claims, variants))
    return out


def _observer_uses():
    """(observation key, {its claim}, the shared DaemonSets it names), per registered observation;
    the module helpers it calls with the world count as its own."""
    out = []
    for o in _load_suites().values():
        src = inspect.getsource(o.fn)
        mod = inspect.getmodule(o.fn)
        variants = set(re.findall(r'ds_of\(world, "([a-z-]+)"\)', src))
        for helper in re.findall(r"\b(_[a-z0-9_]+)\(world", src):
            fn = getattr(mod, helper, None)
            if callable(fn):
                variants |= set(re.findall(r'ds_of\(w(?:orld)?, "([a-z-]+)"\)', inspect.getsource(fn)))
        out.append((f"observation {o.key}", {o.claim}, variants))
    return out


def test_every_shared_daemonset_a_test_uses_is_deployed_for_its_claim():
    uses = _uses() + _observer_uses()
    assert sum(bool(v) for _, _, v in uses) >= 15
    for name, claims, variants in uses:
        for v in variants:
            assert v in VARIANT_CLAIMS, f"{name}: unknown shared DaemonSet {v!r}"
            assert claims & VARIANT_CLAIMS[v], f"{name} ({claims}) uses {v!r}, deployed only for {VARIANT_CLAIMS[v]}"


def _load_suites():
    """Import suites/ (which registers their observations), once."""
    import importlib.util
    for path in SUITES:
        name = f"_hnc_suite_{path.stem}"
        if name not in sys.modules:
            spec = importlib.util.spec_from_file_location(name, path)
            mod = importlib.util.module_from_spec(spec)
            sys.modules[name] = mod
            spec.loader.exec_module(mod)
    return scenarios.OBSERVERS


def test_every_observation_a_test_asks_for_belongs_to_its_claim_and_each_scenario_to_its_observations():
    observers = _load_suites()
    asked = set()
    for claim in CLAIMS.values():   # the claims' tests, made from the registry
        for key in [t.observation for t in claim.tests] + [claim.control_observation(c) for c in claim.controls]:
            assert key in observers, f"{claim.id}: no observation {key!r}"
            assert observers[key].claim == claim.id, f"{claim.id} asks for {key!r} of {observers[key].claim}"
            asked.add(key)
    for path in SUITES:
        text = path.read_text()
        for f in ast.parse(text).body:
            if not (isinstance(f, ast.FunctionDef) and f.name.startswith("test_")):
                continue
            claims = {d.attr for d in f.decorator_list
                      if isinstance(d, ast.Attribute) and re.fullmatch(r"C\d+", d.attr)} or {"cluster"}
            src = ast.get_source_segment(text, f)
            keys = set(re.findall(r'world\.observed\("([a-z0-9 -]+)"\)', src))
            keys |= {f"{prefix}{v}" for prefix in re.findall(r'world\.observed\(f"([a-z0-9-]+)\{client\}"\)', src)
                     for v in ("pod", "host-network pod")}
            for k in keys:
                assert k in observers, f"{path.name}::{f.name}: no observation {k!r}"
                assert observers[k].claim in claims, f"{path.name}::{f.name} ({claims}) asks for {k!r} of {observers[k].claim}"
                asked.add(k)
    # the observations of other observations (C6's, C10's set-up) count as asked for
    inner = {k for o in observers.values() for k in re.findall(r'observed\("([a-z0-9 -]+)"\)', inspect.getsource(o.fn))}
    assert set(observers) - asked - inner == set(), "observations no test asks for"
    made = set()
    for o in observers.values():
        for k in re.findall(r'world\.scenario\("([a-z0-9-]+)"\)', inspect.getsource(o.fn)):
            sc = scenarios.SCENARIOS[k]
            assert o.claim in (sc.claim, *sc.also), f"observation {o.key} ({o.claim}) makes {k!r}"
            made.add(k)
    made |= {"c5", "c5-control"}   # C5's two observations share _c5(world, key)
    made |= {"x1"}   # so do X1's: _x1(world, pod, service)
    assert made == set(scenarios.SCENARIOS), f"scenarios no observation makes: {set(scenarios.SCENARIOS) - made}"


def test_the_wave_has_two_phases_and_selection_picks_by_claim():
    first = {s.key for s in scenarios.selected(None, after_vendor=False)}
    second = {s.key for s in scenarios.selected(None, after_vendor=True)}
    assert second == {"c7"} and not first & second   # it takes 20000 from the vendor's pods
    assert "c7-kubelet" not in first   # its test makes it, after C7's DaemonSet verdict
    assert {s.key for s in scenarios.selected({"C8"}, after_vendor=False)} == {"c8", "c8-control"}
    assert scenarios.selected({"C1"}, after_vendor=False) == [] == scenarios.selected(set(), after_vendor=True)
    # C7's kubelet control observes C8's control pod (a pod bound by nodeName to a free port)
    assert "c8-control" in {s.key for s in scenarios.selected({"C7"}, after_vendor=False)}


# ---------------------------------------------------------------- where the makers put their pods, and on which ports

import json  # noqa: E402
from collections import defaultdict  # noqa: E402
from types import SimpleNamespace  # noqa: E402

import pytest  # noqa: E402

from hostnet_conformance import facts, manifests, placement  # noqa: E402
from hostnet_conformance import world as world_mod  # noqa: E402
from hostnet_conformance.host_ports import make_port_holder  # noqa: E402
from hostnet_conformance.ports import PortAllocator  # noqa: E402

DATA = ROOT / "tests" / "data"


def _node(name: str, hostname_label: str | None = None) -> dict:
    """A worker recorded from the offline kind cluster, renamed; `hostname_label` as a kubelet with
    --hostname-override labels it (EKS, Bottlerocket), else its name."""
    n = json.loads((DATA / "placement" / "node-worker.json").read_text())
    n["metadata"]["name"] = name
    n["metadata"]["labels"]["kubernetes.io/hostname"] = hostname_label or name
    return n


def _world(monkeypatch, nodes: list[dict], kubelets: dict | None = None):
    """A run's world on these schedulable nodes whose makers only record what they create; each
    node's kubelet facts from `kubelets` ({node: Kubelet}), else from the recorded kind configz."""
    kind = facts.parse_configz((DATA / "facts" / "configz-kind-worker.json").read_bytes())
    names = [n["metadata"]["name"] for n in nodes]
    kubelet = {n: (kubelets or {}).get(n, kind).to_dict() for n in names}
    env = SimpleNamespace(cluster=SimpleNamespace(facts={"kubelet": kubelet}), run_id="r1",
                          exporter_image="exporter:1", probe_image="probe:1")
    made: list = []
    monkeypatch.setattr(world_mod.World, "ns", lambda self, purpose, psa="privileged": f"hnc-r1-{purpose}")
    monkeypatch.setattr(world_mod.World, "create", lambda self, ns, obj: made.append((ns, obj)))
    return world_mod.World(env=env, ports=PortAllocator(20100, world_mod.PORT_KEYS), workers=sorted(names)), made


def _placed_on(obj: dict, nodes: list[dict]) -> list[str]:
    """The nodes a Pod (its nodeName, else where the scheduler may put it) or a DaemonSet (the
    controller's own rules, placement.py) runs on."""
    spec = manifests.pod_spec(obj)
    if obj["kind"] == "Pod" and spec.get("nodeName"):
        return [spec["nodeName"]]
    return placement.expected_nodes({"spec": {"template": {"spec": spec}}}, nodes)[0]


def _host_ports(obj: dict) -> set[int]:
    """The host ports the object's pods ask for: every containerPort of a host-network pod, else hostPort."""
    spec = manifests.pod_spec(obj)
    return {p.get("hostPort") or (p["containerPort"] if spec.get("hostNetwork") else None)
            for c in spec["containers"] for p in c.get("ports", [])} - {None}


def _wanted(made: list, nodes: list[dict]) -> dict:
    """{(node, host port): [the objects asking for it]}."""
    out = defaultdict(list)
    for ns, obj in made:
        for node in _placed_on(obj, nodes):
            for port in _host_ports(obj):
                out[(node, port)].append(f"{ns}/{obj['kind']}/{obj['metadata']['name']}")
    return out


def _by_name(made: list) -> dict:
    return {obj["metadata"]["name"]: obj for _, obj in made}


def test_c6_on_one_node_the_bare_pod_and_each_daemonset_take_their_own_host_port(monkeypatch):
    """One schedulable node: the first worker is the last. The rolling DaemonSet's replacement (its
    template patched to hostNetwork false; a hostPort kept, the worst case) asks for its pod's port
    once that pod is gone (a rollout with a host port cannot surge): it must not be another's."""
    nodes = [_node("solo")]
    w, made = _world(monkeypatch, nodes)
    scenarios.c6(w)
    objs = _by_name(made)
    assert sorted(objs) == ["bare", "on-delete", "rolling"]
    assert {n: _placed_on(o, nodes) for n, o in objs.items()} == {"bare": ["solo"], "on-delete": ["solo"],
                                                                 "rolling": ["solo"]}
    assert all(len(owners) == 1 for owners in _wanted(made, nodes).values()), dict(_wanted(made, nodes))
    replacement = manifests.with_host_network(objs["rolling"], False)
    for p in manifests.pod_spec(replacement)["containers"][0]["ports"]:
        p["hostPort"] = p["containerPort"]
    others = _host_ports(objs["bare"]) | _host_ports(objs["on-delete"])
    assert _host_ports(replacement) == _host_ports(objs["rolling"]) and not _host_ports(replacement) & others
    assert _host_ports(objs["rolling"]) == {w.ports.port_for("c6")}
    assert _host_ports(objs["bare"]) == {w.ports.port_for("c6-bare")}


def test_c6_on_two_workers_keeps_the_bare_pod_on_the_first_and_the_daemonsets_on_the_last(monkeypatch):
    nodes = [_node("hnc-ci-worker"), _node("hnc-ci-worker2")]
    w, made = _world(monkeypatch, nodes)
    scenarios.c6(w)
    assert {n: _placed_on(o, nodes) for n, o in _by_name(made).items()} == {
        "bare": ["hnc-ci-worker"], "rolling": ["hnc-ci-worker2"], "on-delete": ["hnc-ci-worker2"]}
    assert _by_name(made)["on-delete"]["spec"]["updateStrategy"] == {"type": "OnDelete"}


def test_c6_places_its_daemonsets_by_node_name_whatever_the_hostname_label_says(monkeypatch):
    """kubelet --hostname-override: the node's kubernetes.io/hostname label is not its name."""
    nodes = [_node("hnc-ci-worker"), _node("ip-10-0-1-7.ec2.internal", hostname_label="ip-10-0-1-7")]
    w, made = _world(monkeypatch, nodes)
    scenarios.c6(w)
    for name in ("rolling", "on-delete"):
        ds = _by_name(made)[name]
        assert "kubernetes.io/hostname" not in (manifests.pod_spec(ds).get("nodeSelector") or {})
        assert _placed_on(ds, nodes) == ["ip-10-0-1-7.ec2.internal"]


def test_no_manifest_or_maker_selects_a_node_by_its_hostname_label():
    """A node's name is what the suite knows (w.workers): the label may differ from it."""
    selects = re.compile(r"""["']?kubernetes\.io/hostname["']?\s*:""")
    for path in [*(ROOT / "hostnet_conformance").rglob("*.py"), *(ROOT / "fixtures" / "manifests").glob("*.yaml")]:
        assert not selects.search(path.read_text()), path


@pytest.mark.parametrize("configz,port", [("configz-kind-worker.json", 10250),
                                          ("configz-non-kind-defaults.json", 10350)])
def test_c8_listens_on_the_port_its_nodes_kubelet_serves_on(monkeypatch, configz, port):
    """The first worker's kubelet, from its recorded configz; the last worker's may differ."""
    nodes = [_node("hnc-ci-worker"), _node("hnc-ci-worker2")]
    first = facts.parse_configz((DATA / "facts" / configz).read_bytes())
    w, made = _world(monkeypatch, nodes, {"hnc-ci-worker": first, "hnc-ci-worker2": facts.Kubelet("configz", port=1)})
    assert scenarios.SCENARIOS["c8"].make(w) == "hnc-r1-c8"
    (_, pod), = made
    assert manifests.pod_spec(pod)["nodeName"] == "hnc-ci-worker"
    assert manifests.declared_port(pod) == manifests.listen_port(pod) == port


def test_c8_without_configz_uses_the_kubelets_default_port(monkeypatch):
    nodes = [_node("solo")]
    w, made = _world(monkeypatch, nodes, {"solo": facts.Kubelet("defaults: configz unreadable (HTTP 403 Forbidden)")})
    scenarios.SCENARIOS["c8"].make(w)
    assert manifests.listen_port(made[0][1]) == 10250


def test_on_one_node_only_the_claims_own_conflicts_share_a_host_port(monkeypatch):
    """Every workload a run makes without the API's help (shared DaemonSets, C15's holder, the
    scenarios but the cross-node one), on one schedulable node: the only host ports two of them ask
    for there are the ones a claim makes them share on purpose, the vendor's 20000 (C7) and C15's
    control port (the holder pod and its DaemonSet)."""
    nodes = [_node("solo")]
    w, made = _world(monkeypatch, nodes)
    for name, ds in world_mod.variants(w).items():
        w.deploy(name, ds)
    make_port_holder(w)
    for s in scenarios.SCENARIOS.values():
        # not the extra claims': X1's host port is the node port the API server allots, X2 needs two nodes
        if s.key != "cross-node" and not CLAIMS[s.claim].extra:
            s.make(w)
    shared = {port for (_, port), owners in _wanted(made, nodes).items() if len(owners) > 1}
    assert shared == {manifests.VENDOR_PORT, w.ports.port_for("port-held")}

