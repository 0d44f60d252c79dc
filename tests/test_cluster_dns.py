"""Cluster DNS is the Service at the kubelets' clusterDNS address, in whatever namespace it lives
(cluster.find_dns_service), and its readiness is its own EndpointSlices' (cluster.dns_state).
Judged on API objects of kind, of OpenShift and of a NodeLocal DNSCache cluster
(tests/data/cluster/README.md) and on the kind worker's recorded configz."""
from __future__ import annotations

import copy
import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from kubernetes import client

from hostnet_conformance import cluster
from hostnet_conformance.facts import Kubelet, parse_configz

DATA = Path(__file__).resolve().parent / "data"


def load(name: str, kind: str):
    return client.ApiClient()._ApiClient__deserialize(json.loads((DATA / "cluster" / name).read_text()), kind)


def services(name: str) -> list:
    return load(f"services-{name}.json", "V1ServiceList").items


def configz(**changes) -> dict:
    doc = json.loads((DATA / "facts" / "configz-kind-worker.json").read_text())
    doc["kubeletconfig"].update(changes)
    return {"kind-worker": parse_configz(doc).to_dict()}


def by_name(items: list, name: str):
    return next(i for i in items if i.metadata.name == name)


class Core:
    """list_namespaced_service and list_service_for_all_namespaces over recorded Services, counting
    each list."""

    def __init__(self, items: list):
        self.items, self.lists = items, []

    def list_namespaced_service(self, ns: str):
        self.lists.append(ns)
        return SimpleNamespace(items=[s for s in self.items if s.metadata.namespace == ns])

    def list_service_for_all_namespaces(self):
        self.lists.append("(all)")
        return SimpleNamespace(items=list(self.items))


def test_kind_the_kubelets_recorded_cluster_dns_is_kube_dns_found_in_kube_system_alone():
    ips = cluster.dns_addresses(configz())
    core = Core(services("kind"))
    svc, how = cluster.find_dns_service(core, ips)
    assert ips == ["10.96.0.10"]
    assert (svc.metadata.namespace, svc.metadata.name) == ("kube-system", "kube-dns")
    assert how == "at the kubelet's clusterDNS 10.96.0.10"
    assert core.lists == ["kube-system"]   # kind costs one list, as before


def test_openshift_dns_default_is_found_by_its_address_in_its_own_namespace():
    ips = cluster.dns_addresses(configz(clusterDNS=["172.30.0.10"]))
    core = Core(services("openshift"))
    svc, how = cluster.find_dns_service(core, ips)
    assert (svc.metadata.namespace, svc.metadata.name) == ("openshift-dns", "dns-default")
    assert how == "at the kubelet's clusterDNS 172.30.0.10"
    assert core.lists == ["kube-system", "(all)"]


def test_recorded_dns_moved_out_of_kube_system_under_another_name_is_found_by_the_kubelets_address():
    """Flavour m's Services and its worker's configz, recorded: CoreDNS as Service dns-default in
    namespace hnc-flavour-dns, labelled unlike kube-dns, at the kubelets' clusterDNS."""
    doc = json.loads((DATA / "facts" / "configz-non-kind-defaults.json").read_text())
    ips = cluster.dns_addresses({"hnc-flavour-m-worker": parse_configz(doc).to_dict()})
    core = Core(services("non-kind-defaults"))
    svc, how = cluster.find_dns_service(core, ips)
    assert (svc.metadata.namespace, svc.metadata.name) == ("hnc-flavour-dns", "dns-default")
    assert "k8s-app" not in (svc.metadata.labels or {})
    assert how == f"at the kubelet's clusterDNS {ips[0]}"
    assert core.lists == ["kube-system", "(all)"]


def test_a_node_local_cache_address_is_no_service_so_kube_dns_is_found_by_its_label_not_its_look_alike():
    svcs = services("nodelocal-dns")
    assert by_name(svcs, "kube-dns-upstream").metadata.labels["k8s-app"] == "kube-dns"
    svc, how = cluster.find_dns_service(Core(svcs), cluster.dns_addresses(configz(clusterDNS=["169.254.20.10"])))
    assert svc.metadata.name == "kube-dns"
    assert how == "found by its label k8s-app=kube-dns, as the kubelet's clusterDNS 169.254.20.10 is no Service's address"


def test_a_node_local_cache_without_kube_dns_falls_back_to_the_name_dns_default():
    svc, how = cluster.find_dns_service(Core(services("openshift")), ["169.254.20.10"])
    assert (svc.metadata.namespace, svc.metadata.name) == ("openshift-dns", "dns-default")
    assert how.startswith("found by its name, as the kubelet's clusterDNS 169.254.20.10 is no Service's address")


def test_unknown_cluster_dns_configz_unreadable_falls_back_to_the_label_in_kube_system_alone():
    ips = cluster.dns_addresses({"kind-worker": Kubelet("defaults: configz unreadable (HTTP 403 Forbidden)").to_dict()})
    core = Core(services("kind"))
    svc, how = cluster.find_dns_service(core, ips)
    assert ips == [] and svc.metadata.name == "kube-dns" and core.lists == ["kube-system"]
    assert how == "found by its label k8s-app=kube-dns, as the kubelet's clusterDNS is not known"


def test_no_dns_service_anywhere_says_every_place_it_looked_and_waiting_cannot_help():
    only_api = [by_name(services("kind"), "kubernetes")]
    svc, how = cluster.find_dns_service(Core(only_api), ["10.96.0.10"])
    assert svc is None
    state = cluster.dns_state(svc, how, [], [])
    assert state["settled"] and not state["ready"] and state["service"] is None
    assert state["why"] == ("no cluster DNS Service: the kubelet's clusterDNS 10.96.0.10 is no Service's address, "
                            "kube-system has no k8s-app=kube-dns Service and none is named kube-dns or dns-default")


def test_ipv6_addresses_match_however_they_are_written_and_headless_services_never_do():
    svcs = copy.deepcopy(services("openshift"))
    dns = by_name(svcs, "dns-default")
    dns.spec.cluster_ip, dns.spec.cluster_ips = "fd00:10:96::a", ["fd00:10:96::a"]
    svc, how = cluster.pick_dns_service(svcs, ["fd00:10:96:0:0:0:0:a"])
    assert svc is dns and how == "at the kubelet's clusterDNS fd00:10:96::a"
    headless = by_name(svcs, "kubelet")
    assert headless.spec.cluster_ip == "None" and cluster.service_ips(headless) == set()
    assert cluster.pick_dns_service([headless], ["None"])[0] is None


def test_a_dual_stack_service_is_found_by_its_second_family():
    svcs = copy.deepcopy(services("kind"))
    dns = by_name(svcs, "kube-dns")
    dns.spec.cluster_ips = ["10.96.0.10", "fd00:10:96::a"]
    assert cluster.pick_dns_service(svcs, ["fd00:10:96::a"])[0] is dns


def test_the_kubelet_facts_discovery_read_are_used_else_one_linux_nodes_configz_now(monkeypatch):
    known = SimpleNamespace(facts={"kubelet": {**configz(), "other": {"cluster_dns": ["10.96.0.10", "fd00::a"]}}})
    assert cluster.kubelet_dns_addresses(known) == ["10.96.0.10", "fd00::a"]
    nodes = [client.ApiClient()._ApiClient__deserialize(json.loads((DATA / "placement" / f).read_text()), "V1Node")
             for f in ("node-worker.json", "node-control-plane.json")]
    read = []
    monkeypatch.setattr(cluster.cluster_facts, "read_kubelet",
                        lambda api, node: read.append(node) or parse_configz({"kubeletconfig": {"clusterDNS": ["10.96.0.10"]}}))
    fresh = SimpleNamespace(facts={}, api=None, nodes=lambda: nodes)
    assert cluster.kubelet_dns_addresses(fresh) == ["10.96.0.10"]
    assert read == [sorted(n.metadata.name for n in nodes)[0]]


def kind_state(slices=None, deps=None, pods=list):
    svc = by_name(services("kind"), "kube-dns")
    slices = load("endpointslices-kube-dns-kind.json", "V1EndpointSliceList").items if slices is None else slices
    deps = [load("deployment-coredns-kind.json", "V1Deployment")] if deps is None else deps
    return cluster.dns_state(svc, "at the kubelet's clusterDNS 10.96.0.10", slices, deps, pods)


def test_kind_recorded_endpoints_ready_and_coredns_available():
    state = kind_state()
    assert state == {"ready": True, "settled": True, "complete": True,
                     "service": "Service kube-system/kube-dns at the kubelet's clusterDNS 10.96.0.10",
                     "why": "2 ready endpoints of Service kube-system/kube-dns at the kubelet's clusterDNS 10.96.0.10"}


def test_an_endpoint_not_yet_ready_keeps_a_fresh_cluster_waiting_a_terminating_one_does_not():
    slices = load("endpointslices-kube-dns-kind.json", "V1EndpointSliceList").items
    slices[0].endpoints[1].conditions.ready = False
    assert cluster.endpoint_counts(slices) == (1, 1)
    state = kind_state(slices)
    assert state["ready"] and not state["complete"]
    slices[0].endpoints[1].conditions.terminating = True
    assert cluster.endpoint_counts(slices) == (1, 0) and kind_state(slices)["complete"]


def test_unset_ready_condition_counts_as_ready():
    slices = load("endpointslices-kube-dns-kind.json", "V1EndpointSliceList").items
    slices[0].endpoints[0].conditions.ready = None
    assert cluster.endpoint_counts(slices) == (2, 0)


def test_coredns_scaled_to_zero_is_settled_and_named():
    dep = load("deployment-coredns-kind.json", "V1Deployment")
    dep.spec.replicas, dep.status.available_replicas = 0, None
    state = kind_state(slices=[], deps=[dep])
    assert state["settled"] and not state["ready"]
    assert state["why"] == ("cluster DNS has no ready endpoints: Deployment coredns is scaled to 0 replicas "
                            "(Service kube-system/kube-dns at the kubelet's clusterDNS 10.96.0.10)")


def test_dns_pods_not_ready_are_waited_for_and_named():
    pod = client.ApiClient()._ApiClient__deserialize(
        json.loads((DATA / "signals" / "pod-unschedulable.json").read_text()), "V1Pod")
    pod.metadata.name = "coredns-66bc5c9577-7xkqp"
    state = kind_state(slices=[], pods=lambda: [pod])
    assert not state["ready"] and not state["settled"]
    assert state["why"] == ("cluster DNS has no ready endpoints (coredns-66bc5c9577-7xkqp Pending; "
                            "Service kube-system/kube-dns at the kubelet's clusterDNS 10.96.0.10)")


def test_openshift_a_daemonset_behind_the_service_is_judged_by_its_endpoints_alone():
    svc = by_name(services("openshift"), "dns-default")
    coredns = load("deployment-coredns-kind.json", "V1Deployment")
    # kind's CoreDNS Deployment is not behind OpenShift's Service: its pods lack the selector's label
    assert not cluster.selects(svc.spec.selector, coredns.spec.template.metadata.labels)
    assert cluster.selects(by_name(services("kind"), "kube-dns").spec.selector, coredns.spec.template.metadata.labels)
    slices = load("endpointslices-kube-dns-kind.json", "V1EndpointSliceList").items
    state = cluster.dns_state(svc, "at the kubelet's clusterDNS 172.30.0.10", slices, [])
    assert state["ready"] and state["complete"]
    assert state["why"].endswith("of Service openshift-dns/dns-default at the kubelet's clusterDNS 172.30.0.10")


@pytest.mark.parametrize("selector", [None, {}])
def test_a_service_without_a_selector_selects_no_deployment(selector):
    assert not cluster.selects(selector, {"k8s-app": "kube-dns"})


def test_cluster_dns_state_reads_the_found_services_own_slices_deployments_and_pods(monkeypatch):
    """The wiring: the Service found by address, its namespace's slices by kubernetes.io/service-name,
    the Deployments its selector picks, and its pods (by that selector) only when none is ready."""
    asked = []
    coredns = load("deployment-coredns-kind.json", "V1Deployment")
    slices = load("endpointslices-kube-dns-kind.json", "V1EndpointSliceList").items

    class Discovery:
        def __init__(self, api_client):
            pass

        def list_namespaced_endpoint_slice(self, ns, label_selector):
            asked.append(("slices", ns, label_selector))
            return SimpleNamespace(items=slices)

    class Apps:
        def list_namespaced_deployment(self, ns):
            asked.append(("deployments", ns))
            return SimpleNamespace(items=[coredns])   # not behind dns-default: its selector differs

    def list_namespaced_pod(ns, label_selector):
        asked.append(("pods", ns, label_selector))
        return SimpleNamespace(items=[])

    core = Core(services("openshift"))
    core.api_client, core.list_namespaced_pod = None, list_namespaced_pod
    monkeypatch.setattr(cluster.client, "DiscoveryV1Api", Discovery)
    state = cluster.cluster_dns_state(core, Apps(), ["172.30.0.10"])
    assert state["ready"] and state["complete"]   # kind's CoreDNS Deployment, unavailable or not, is not OpenShift's
    assert asked == [("slices", "openshift-dns", "kubernetes.io/service-name=dns-default"),
                     ("deployments", "openshift-dns")]
    slices = []
    state = cluster.cluster_dns_state(core, Apps(), ["172.30.0.10"])
    assert not state["settled"] and asked[-1] == ("pods", "openshift-dns", "dns.operator.openshift.io/daemonset-dns=default")
    assert state["why"] == ("cluster DNS has no ready endpoints (no DNS pods; "
                            "Service openshift-dns/dns-default at the kubelet's clusterDNS 172.30.0.10)")
