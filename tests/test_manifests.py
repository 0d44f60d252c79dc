import copy

import pytest

from hostnet_conformance import manifests as m


@pytest.fixture
def ds() -> dict:
    return m.load("node-exporter-daemonset")


def test_load_accepts_name_with_or_without_suffix(ds):
    assert ds == m.load("node-exporter-daemonset.yaml")
    assert ds["kind"] == "DaemonSet"
    assert m.load_all("probe-pod")[0]["kind"] == "Pod"


def test_every_fixture_loads():
    for path in sorted(m.MANIFEST_DIR.glob("*.yaml")):
        assert m.load(path.name)["kind"]


def test_missing_manifest_names_the_file():
    with pytest.raises(m.ManifestError, match="no-such-thing.yaml") as e:
        m.load("no-such-thing")
    assert "\n" not in str(e.value)


def test_malformed_manifest_is_one_line(tmp_path, monkeypatch):
    (tmp_path / "bad.yaml").write_text("kind: Pod\nspec: [unclosed\n")
    (tmp_path / "scalar.yaml").write_text("just a string\n")
    (tmp_path / "two.yaml").write_text("kind: Pod\n---\nkind: Pod\n")
    monkeypatch.setattr(m, "MANIFEST_DIR", tmp_path)
    for name, fragment in [("bad", "malformed YAML"), ("scalar", "no 'kind'"), ("two", "found 2")]:
        with pytest.raises(m.ManifestError, match=fragment) as e:
            m.load(name)
        assert "\n" not in str(e.value) and f"{name}.yaml" in str(e.value)
    assert len(m.load_all("two")) == 2


def test_fixture_matches_the_vendor_page(ds):
    spec = m.pod_spec(ds)
    assert spec["hostNetwork"] and spec["hostPID"]
    assert spec["dnsPolicy"] == "ClusterFirstWithHostNet"
    assert m.listen_port(ds) == m.declared_port(ds) == 20000


def test_variants_never_mutate_their_input(ds):
    before = copy.deepcopy(ds)
    variants = [
        m.with_host_network(ds, False), m.with_host_pid(ds, False),
        m.with_dns_policy(ds, "ClusterFirst"), m.with_ports(ds, 20001, 20000),
        m.with_port(ds, 20005), m.with_image(ds, "x:1"), m.with_name(ds, "other"),
        m.pod_from_daemonset(ds, "p"),
    ]
    assert ds == before
    for v in variants:  # and share no nested object with it
        m.pod_spec(v)["containers"][0]["image"] = "mutated"
    assert ds == before


def test_host_network_off_drops_host_ports():
    pod = m.pod_from_daemonset(m.load("node-exporter-daemonset"), "p")
    m.pod_spec(pod)["containers"][0]["ports"][0]["hostPort"] = 20000
    off = m.with_host_network(pod, False)
    assert m.pod_spec(off)["hostNetwork"] is False
    assert "hostPort" not in m.pod_spec(off)["containers"][0]["ports"][0]
    on = m.with_host_network(pod, True)
    assert m.pod_spec(on)["containers"][0]["ports"][0]["hostPort"] == 20000


def test_with_ports_splits_declared_and_listening(ds):
    v = m.with_ports(ds, declared=20001, listening=20000)
    assert (m.declared_port(v), m.listen_port(v)) == (20001, 20000)
    assert "--web.listen-address=0.0.0.0:20000" in m.pod_spec(v)["containers"][0]["args"]
    assert "--path.procfs=/host/proc" in m.pod_spec(v)["containers"][0]["args"]
    same = m.with_port(ds, 20007)
    assert m.declared_port(same) == m.listen_port(same) == 20007


def test_with_ports_keeps_host_port_equal_to_container_port(ds):
    pod = m.pod_from_daemonset(ds, "p")
    m.pod_spec(pod)["containers"][0]["ports"][0]["hostPort"] = 20000
    port = m.pod_spec(m.with_port(pod, 20009))["containers"][0]["ports"][0]
    assert port["hostPort"] == port["containerPort"] == 20009


def test_with_name_gives_a_daemonset_its_own_pods(ds):
    v = m.with_name(ds, "conflict")
    assert v["metadata"]["name"] == "conflict"
    assert v["spec"]["selector"]["matchLabels"] == {"app": "conflict"}
    assert v["spec"]["template"]["metadata"]["labels"]["app"] == "conflict"
    pod = m.with_name(m.load("probe-pod"), "probe-2")
    assert pod["metadata"] == {"name": "probe-2", "labels": {"app": "hostnet-probe"}}


def test_pod_level_setters(ds):
    probe = m.load("probe-pod")
    assert m.with_node_name(probe, "kind-worker")["spec"]["nodeName"] == "kind-worker"
    assert m.pod_spec(m.with_dns_policy(ds, "ClusterFirst"))["dnsPolicy"] == "ClusterFirst"
    assert m.pod_spec(m.with_host_pid(ds, False))["hostPID"] is False
    vendor = m.with_image(ds, "prom/node-exporter:v0.17.0")
    assert {c["image"] for c in m.pod_spec(vendor)["containers"]} == {"prom/node-exporter:v0.17.0"}


def test_pod_from_daemonset(ds):
    ds = copy.deepcopy(ds)
    ds["metadata"]["namespace"] = "ns1"
    pod = m.pod_from_daemonset(ds, "ne-pod")
    assert (pod["apiVersion"], pod["kind"]) == ("v1", "Pod")
    assert pod["metadata"] == {
        "name": "ne-pod", "namespace": "ns1", "labels": {"app": "node-exporter"}
    }
    assert pod["spec"] == ds["spec"]["template"]["spec"]


def test_port_accessors_report_missing_fields():
    probe = m.load("probe-pod")
    with pytest.raises(m.ManifestError, match="Pod/probe"):
        m.listen_port(probe)
    with pytest.raises(m.ManifestError, match="no containerPort"):
        m.declared_port(probe)
    assert m.declared_port(m.load("web-pod")) == 8080


def test_same_image_matches_qualified_node_names():
    from hostnet_conformance.kube import same_image
    assert same_image("reg.example/library/busybox:1.36.1", "busybox:1.36.1")
    assert same_image("reg.example/prom/node-exporter:v1.8.2", "prom/node-exporter:v1.8.2")
    assert not same_image("reg.example/prom/node-exporter:v1.8.2", "node-exporter:v1.8.2")
    assert not same_image("reg.example/library/busybox:1.36.0", "busybox:1.36.1")


def test_the_suites_own_copies_request_less_cpu_and_the_vendors_keeps_its_own(ds):
    light = m.light(ds)
    res = light["spec"]["template"]["spec"]["containers"][0]["resources"]
    assert res["requests"] == {"memory": "64Mi", "cpu": m.SUITE_CPU_REQUEST}
    assert res["limits"] == {"memory": "128Mi", "cpu": "200m"}          # limits as they were
    assert ds["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"] == "100m"
    tiny = m.light(m.light(ds))                          # a smaller request is kept
    assert tiny == light
    one_cpu = copy.deepcopy(ds)
    one_cpu["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"] = "1"
    assert m.light(one_cpu)["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"] \
        == m.SUITE_CPU_REQUEST
    one_cpu["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"] = "5m"
    assert m.light(one_cpu)["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"] == "5m"
