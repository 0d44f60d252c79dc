"""Facts read from the cluster, decided on a recorded configz and node (the offline kind cluster,
Kubernetes v1.34.4, 2026-11-29) and on the variants real clusters show (shared/docs/real-clusters.md)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from hostnet_conformance import facts

DATA = Path(__file__).resolve().parent / "data" / "facts"


def configz() -> dict:
    return json.loads((DATA / "configz-kind-worker.json").read_text())


def test_recorded_kind_configz():
    k = facts.parse_configz(configz())
    assert k.source == "configz"
    assert (k.healthz_bind, k.healthz_port, k.cluster_dns, k.cluster_domain, k.resolv_conf) == (
        "127.0.0.1", 10248, ["10.96.0.10"], "cluster.local", "/etc/resolv.conf")
    assert k.healthz_url == "http://127.0.0.1:10248/healthz" and k.healthz_node_local
    assert k.port == 10250


def test_the_kubelets_port_and_domain_where_the_cluster_moved_them():
    """configz recorded from flavour m's worker (kubeadm's `networking.dnsDomain` and the kubelet's
    `port` moved: docs/flavours.md)."""
    k = facts.parse_configz((DATA / "configz-non-kind-defaults.json").read_bytes())
    assert (k.source, k.port, k.cluster_domain) == ("configz", 10350, "hnc-cluster.internal")


def test_without_configz_the_kubelets_port_is_its_default_and_the_source_says_so():
    k = facts.Kubelet("defaults: configz unreadable (HTTP 403 Forbidden)")
    assert k.port == 10250 and k.source.startswith("defaults: ")
    doc = configz()
    del doc["kubeletconfig"]["port"]
    assert facts.parse_configz(doc).port == 10250


def test_kubelet_facts_recorded_before_the_port_was_read_still_load():
    """A run's facts (and pytest-xdist's state) hold each kubelet as a dict: one without `port`
    gives the default."""
    old = facts.parse_configz(configz()).to_dict()
    del old["port"]
    assert facts.Kubelet(**old).port == 10250


@pytest.mark.parametrize("change,url,local", [
    ({"healthzBindAddress": "::1"}, "http://[::1]:10248/healthz", True),
    ({"healthzBindAddress": "0.0.0.0"}, "http://127.0.0.1:10248/healthz", False),
    ({"healthzPort": 10258}, "http://127.0.0.1:10258/healthz", True),
    ({"healthzPort": 0}, None, True),
])
def test_healthz_variants(change, url, local):
    doc = configz()
    doc["kubeletconfig"].update(change)
    k = facts.parse_configz(doc)
    assert k.healthz_url == url and k.healthz_node_local is local


def test_node_local_dns_and_other_resolv_conf():
    doc = configz()
    doc["kubeletconfig"].update(clusterDNS=["169.254.20.10"], resolvConf="/run/systemd/resolve/resolv.conf",
                                clusterDomain="corp.example.")
    k = facts.parse_configz(json.dumps(doc))
    assert k.cluster_dns == ["169.254.20.10"] and k.resolv_conf == "/run/systemd/resolve/resolv.conf"
    assert k.cluster_domain == "corp.example"


def test_hostname_address_wins_over_the_node_name():
    node = json.loads((DATA / "node-kind-worker.json").read_text())
    assert facts.os_hostname(node) == node["metadata"]["name"] == "hnc-ci-worker"
    assert facts.addresses(node, "InternalIP") == ["172.18.0.2"]
    node["status"]["addresses"] = [{"type": "InternalIP", "address": "10.0.1.7"},
                                   {"type": "Hostname", "address": "ip-10-0-1-7.ec2.internal"}]
    assert facts.os_hostname(node) == "ip-10-0-1-7.ec2.internal"
    node["status"]["addresses"] = []
    assert facts.os_hostname(node) == "hnc-ci-worker"


def test_defaults_name_their_reason():
    k = facts.Kubelet("defaults: configz unreadable (HTTP 403 Forbidden)")
    assert k.healthz_url == "http://127.0.0.1:10248/healthz" and k.source.startswith("defaults: ")


def test_the_node_file_gives_the_same_facts_as_configz_and_says_where_they_came_from():
    """configz forbidden: the node probe reads the kubelet's config file (recorded from a kind node)."""
    text = (DATA / "kubelet-config-kind-worker.yaml").read_text()
    k = facts.parse_config_file(text, "/var/lib/kubelet/config.yaml", "configz unreadable (HTTP 403 Forbidden)")
    same = facts.parse_configz(configz())
    assert (k.healthz_bind, k.healthz_port, k.cluster_dns, k.cluster_domain, k.resolv_conf, k.port) == (
        same.healthz_bind, same.healthz_port, same.cluster_dns, same.cluster_domain, same.resolv_conf, same.port)
    assert k.source.startswith("node file /var/lib/kubelet/config.yaml (configz unreadable (HTTP 403 Forbidden)")
    # kubeadm's file leaves `port` out (the kubelet serves on its default): a moved port is read
    assert "port" not in yaml.safe_load(text)
    moved = facts.parse_config_file(text + "port: 10350\n", "/var/lib/kubelet/config.yaml", "x")
    assert moved.port == 10350 and moved.source.startswith("node file ")


def test_a_file_that_is_not_a_kubelet_configuration_is_refused():
    with pytest.raises(ValueError, match="not a KubeletConfiguration"):
        facts.parse_config_file("apiVersion: v1\nkind: Config\n", "/etc/kubernetes/kubelet.conf", "x")


def test_without_configz_the_kubelets_port_comes_from_the_nodes_status(monkeypatch):
    """configz refused (nodes/proxy not granted): the port the node's status states, not a guess."""
    from types import SimpleNamespace

    from kubernetes import client
    node = json.loads((DATA / "node-kind-worker.json").read_text())
    node["status"]["daemonEndpoints"]["kubeletEndpoint"]["Port"] = 10350

    def refused(*a, **kw):
        raise client.ApiException(status=403, reason="Forbidden")
    api = client.ApiClient()
    core = SimpleNamespace(connect_get_node_proxy_with_path=refused, read_node=lambda name, **kw: node)
    monkeypatch.setattr(client, "CoreV1Api", lambda a: core)
    k = facts.read_kubelet(api, "w1")
    assert (k.port, k.source) == (10350, "defaults: configz unreadable (HTTP 403 Forbidden); port 10350 from the "
                                         "node's status.daemonEndpoints")
    core.read_node = refused
    k = facts.read_kubelet(api, "w1")
    assert (k.port, k.source) == (10250, "defaults: configz unreadable (HTTP 403 Forbidden)")
    assert facts.endpoint_port({"status": {}}) is None
