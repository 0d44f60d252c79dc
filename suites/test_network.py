"""Host networking: shared network namespace, metrics on the host port, node-local services,
NetworkPolicy bypass, hostname."""
import pytest

from hostnet_conformance import checks, environment, manifests, probes
from hostnet_conformance.scenarios import observer
from hostnet_conformance.verdict import ClusterError, ControlInconclusive, expect_control
from hostnet_conformance.world import VENDOR_PORT, ds_of, require_host_network, require_pod_network
from hostnet_conformance.waiting import wait_until


# Each test below records an observation (scenarios.observer): in one process they all run at
# once, each in a thread, as soon as the shared DaemonSets they read are judged.
observer("c1", "C1")(lambda world: checks.check_c1(world.env, *ds_of(world, "vendor")))
observer("c1-control", "C1")(lambda world: checks.check_c1(world.env, *ds_of(world, "no-hostnet")))


@pytest.mark.C1
def test_c1_pod_ip_equals_node_ip(world, record):
    """"The pod shares the node's network namespace": podIP == hostIP == the node's InternalIP."""
    v = record(world.observed("c1"))
    assert v.passed, v.reason


@pytest.mark.C1
@pytest.mark.negative_control
def test_c1_control_without_host_network(world, record):
    v = record(world.observed("c1-control"))
    expect_control(v, "test_c1_control_without_host_network")


@observer("c2", "C2")
def _c2(world):
    require_pod_network(world)   # observed through the pod network: a precondition
    return checks.check_c2(world.env, *ds_of(world, "vendor"), VENDOR_PORT, world.node_probes, world.pod_probe)


@observer("c2-control", "C2")
def _c2_control(world):
    require_pod_network(world)   # observed through the pod network: a precondition
    port = world.ports.port_for("no-hostnet")
    return checks.check_c2(world.env, *ds_of(world, "no-hostnet"), port, world.node_probes, world.pod_probe)


@pytest.mark.C2
def test_c2_metrics_on_host_port(world, record):
    """"Metrics are served on the host port": GET <nodeIP>:20000/metrics, and localhost:20000 on the node."""
    v = record(world.observed("c2"))
    assert v.passed, v.reason


@pytest.mark.C2
@pytest.mark.negative_control
def test_c2_control_without_host_network(world, record):
    v = record(world.observed("c2-control"))
    expect_control(v, "test_c2_control_without_host_network")


def _vendor_pod(world):
    return environment.ds_pods(world.env, *ds_of(world, "vendor"))[0]


observer("c11", "C11")(lambda world: checks.check_c11(world.env, _vendor_pod(world), world.pod_probe))
observer("c11-control", "C11")(lambda world: checks.check_c11(
    world.env, world.env.core.read_namespaced_pod(world.pod_probe.name, world.pod_probe.ns), world.pod_probe))


@pytest.mark.C11
def test_c11_pod_reaches_node_local_services(world, record):
    """"A compromised pod reaches the node's network services": the kubelet's 127.0.0.1:10248/healthz."""
    v = record(world.observed("c11"))
    assert v.passed, v.reason


@pytest.mark.C11
@pytest.mark.negative_control
def test_c11_control_from_normal_pod(world, record):
    v = record(world.observed("c11-control"))
    expect_control(v, "test_c11_control_from_normal_pod")


observer("c14", "C14")(lambda world: checks.check_c14(world.env, *ds_of(world, "vendor")))
observer("c14-control", "C14")(lambda world: checks.check_c14(world.env, *ds_of(world, "no-hostnet")))


@pytest.mark.C14
def test_c14_hostname_is_node_name(world, record):
    """"The pod's hostname is the node's": `hostname` in the container == spec.nodeName."""
    v = record(world.observed("c14"))
    assert v.passed, v.reason


@pytest.mark.C14
@pytest.mark.negative_control
def test_c14_control_without_host_network(world, record):
    v = record(world.observed("c14-control"))
    expect_control(v, "test_c14_control_without_host_network")


@observer("c10-policy", "C10")
def _policy_ns(world):
    """A namespace with a normal web pod, a host-network DaemonSet and one without, then a
    default-deny ingress policy. Enforcement is proven here first (web reachable before the policy,
    unreachable after), never assumed."""
    require_host_network(world)
    require_pod_network(world)   # observed through the pod network: a precondition
    env = world.env
    ns = world.scenario("c10")   # the web pod and both exporters (scenarios.c10)
    port, port_nohost = world.ports.port_for("c10"), world.ports.port_for("c10-no-hostnet")
    web_pod = probes.pod_running(env.core, ns, "web")
    for d in ("exporter-hostnet", "exporter-podnet"):
        environment.wait_daemonset_ready(env, ns, d)
    url = f"http://{web_pod.status.pod_ip}:8080/"
    # Each exporter answers before the policy, so a block after it is the policy's doing (the control
    # needs this: an exporter that never answered proves nothing about NetworkPolicy).
    urls = {"web": url, **{d: f"http://{environment.ds_pods(env, ns, d)[0].status.pod_ip}:{p}/metrics"
                           for d, p in (("exporter-hostnet", port), ("exporter-podnet", port_nohost))}}
    got = probes.http_get_many(env.core, world.pod_probe, urls)
    before = got.pop("web")
    exporters_before = {d: r["ok"] or r["error"] or "no answer" for d, r in got.items()}
    world.create(ns, manifests.load("default-deny-ingress"))
    try:
        wait_until(lambda: not probes.http_get(env.core, world.pod_probe, url, timeout=2)["ok"], timeout=30,
                   what="the default-deny policy to block the normal pod", describe=lambda: f"{url} still answers")
        enforced = before["ok"]
    except AssertionError:
        enforced = False
    world.env.cluster.facts["networkpolicy_enforced"] = enforced
    if not before["ok"]:
        raise ClusterError(f"the normal pod {url} did not answer even before any policy: {before['error']}")
    if not enforced:
        pytest.skip(f"NOT APPLICABLE: nothing enforces NetworkPolicy: a default-deny ingress policy did not "
                    f"block {url} within 30s")
    return {"ns": ns, "port": port, "port_nohost": port_nohost, "exporters_before": exporters_before}


@pytest.fixture(scope="module")
def policy_ns(world):
    return world.observed("c10-policy")


@observer("c10", "C10")
def _c10(world):
    p = world.observed("c10-policy")
    return checks.check_c10(world.env, p["ns"], "exporter-hostnet", p["port"], "web", world.pod_probe)


@observer("c10-control", "C10")
def _c10_control(world):
    p = world.observed("c10-policy")
    answered = p["exporters_before"]["exporter-podnet"]
    if answered is not True:
        raise ControlInconclusive(f"the pod-network exporter did not answer before the policy: {answered}")
    v = checks.check_c10(world.env, p["ns"], "exporter-podnet", p["port_nohost"], "web", world.pod_probe)
    v.evidence["answered_before_policy"] = True
    return v


@pytest.mark.C10
def test_c10_host_network_bypasses_network_policy(world, policy_ns, record):
    """"Host-network pods bypass NetworkPolicy": default-deny blocks a normal pod, nodeIP:port still answers."""
    v = record(world.observed("c10"))
    assert v.passed, v.reason


@pytest.mark.C10
@pytest.mark.negative_control
def test_c10_control_pod_network_is_blocked(world, policy_ns, record):
    v = record(world.observed("c10-control"))
    expect_control(v, "test_c10_control_pod_network_is_blocked")
