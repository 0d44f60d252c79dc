"""Ports: containerPort vs the real listen port, and conflicts between workloads."""
import pytest

from hostnet_conformance import checks, manifests
from hostnet_conformance.verdict import expect_failure
from hostnet_conformance.world import VENDOR_PORT, require_pod_network


@pytest.mark.C5
def test_c5_container_port_must_match(world, record):
    """"containerPort must match the port the application listens on": a mismatch answers on the real
    port only, while the scheduler reserves the declared one."""
    require_pod_network(world)   # observed through the pod network: a precondition
    p = world.ports.port_for
    ds = manifests.with_ports(world.vendor_ds(), declared=p("c5-declared"), listening=p("c5-listening"))
    ns = world.deploy("c5", ds)
    checks.wait_daemonset_ready(world.env, ns, "node-exporter")
    v = record(checks.check_c5(world.env, ns, "node-exporter", world.pod_probe))
    assert v.passed, v.reason


@pytest.mark.C5
@pytest.mark.negative_control
def test_c5_control_matching_ports(world, record):
    require_pod_network(world)   # observed through the pod network: a precondition
    ds = manifests.with_port(world.vendor_ds(), world.ports.port_for("c5-matching"))
    ns = world.deploy("c5-control", ds)
    checks.wait_daemonset_ready(world.env, ns, "node-exporter")
    v = record(checks.check_c5(world.env, ns, "node-exporter", world.pod_probe))
    # observed on the cluster: the metrics answer on the declared port (not only the spec saying so)
    expect_failure(v, "declared_port_answers", "a containerPort that matches the listen port")


def _second_daemonset(world, purpose, port):
    ds = manifests.with_name(manifests.with_port(world.vendor_ds(), port), "second-exporter")
    return world.deploy(purpose, ds)


@pytest.mark.C7
def test_c7_port_conflict_keeps_pod_pending(world, record):
    """"If another workload uses the port, the pod stays Pending": a second DaemonSet on 20000."""
    ns = _second_daemonset(world, "c7", VENDOR_PORT)
    v = record(checks.check_c7_scheduler(world.env, ns, "second-exporter"))
    assert v.passed, v.reason


@pytest.mark.C7
@pytest.mark.negative_control
def test_c7_control_free_port_schedules(world, record):
    ns = _second_daemonset(world, "c7-control", world.ports.port_for("c7-free"))
    v = record(checks.check_c7_scheduler(world.env, ns, "second-exporter"))
    expect_failure(v, "scheduled", "a second DaemonSet on a free host port")


@pytest.mark.C7
def test_c7_pod_bound_by_node_name_is_rejected_by_kubelet(world, record):
    """Without the scheduler (spec.nodeName), the kubelet itself refuses the conflicting port: NodePorts."""
    ns = world.pinned_pod("c7-kubelet", VENDOR_PORT, world.workers[0])
    v = record(checks.check_c7_kubelet(world.env, ns, "pinned"))
    assert v.passed, v.reason


@pytest.mark.C7
@pytest.mark.negative_control
def test_c7_control_pod_bound_to_free_port_runs(world, record):
    ns = world.pinned_pod("c7-kubelet-control", world.ports.port_for("c7-free-pod"), world.workers[-1])
    v = record(checks.check_c7_kubelet(world.env, ns, "pinned"))
    expect_failure(v, "not_rejected", "a pod bound by nodeName to a free host port")
