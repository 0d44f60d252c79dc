"""Ports: containerPort vs the real listen port, and conflicts between workloads."""
import pytest

from hostnet_conformance import checks
from hostnet_conformance.verdict import expect_failure
from hostnet_conformance.world import require_pod_network


@pytest.mark.C5
def test_c5_container_port_must_match(world, record):
    """"containerPort must match the port the application listens on": a mismatch answers on the real
    port only, while the scheduler reserves the declared one."""
    require_pod_network(world)   # observed through the pod network: a precondition
    ns = world.scenario("c5")   # the vendor's DaemonSet declaring one port and listening on another
    checks.wait_daemonset_ready(world.env, ns, "node-exporter")
    v = record(checks.check_c5(world.env, ns, "node-exporter", world.pod_probe))
    assert v.passed, v.reason


@pytest.mark.C5
@pytest.mark.negative_control
def test_c5_control_matching_ports(world, record):
    require_pod_network(world)   # observed through the pod network: a precondition
    ns = world.scenario("c5-control")   # declared == listening
    checks.wait_daemonset_ready(world.env, ns, "node-exporter")
    v = record(checks.check_c5(world.env, ns, "node-exporter", world.pod_probe))
    # observed on the cluster: the metrics answer on the declared port (not only the spec saying so)
    expect_failure(v, "declared_port_answers", "a containerPort that matches the listen port")


@pytest.mark.C7
def test_c7_port_conflict_keeps_pod_pending(world, record):
    """"If another workload uses the port, the pod stays Pending": a second DaemonSet on 20000."""
    ns = world.scenario("c7")   # the vendor's DaemonSet again, as "second-exporter", on 20000
    v = record(checks.check_c7_scheduler(world.env, ns, "second-exporter"))
    assert v.passed, v.reason


@pytest.mark.C7
@pytest.mark.negative_control
def test_c7_control_free_port_schedules(world, record):
    ns = world.scenario("c7-control")   # the same on a free port
    v = record(checks.check_c7_scheduler(world.env, ns, "second-exporter"))
    expect_failure(v, "scheduled", "a second DaemonSet on a free host port")


@pytest.mark.C7
def test_c7_pod_bound_by_node_name_is_rejected_by_kubelet(world, record):
    """Without the scheduler (spec.nodeName), the kubelet itself refuses the conflicting port: NodePorts."""
    ns = world.scenario("c7-kubelet")   # the vendor's pod bound to the first worker, on 20000
    v = record(checks.check_c7_kubelet(world.env, ns, "pinned"))
    assert v.passed, v.reason


@pytest.mark.C7
@pytest.mark.negative_control
def test_c7_control_pod_bound_to_free_port_runs(world, record):
    ns = world.scenario("c7-kubelet-control")   # bound to the last worker, on a free port
    v = record(checks.check_c7_kubelet(world.env, ns, "pinned"))
    expect_failure(v, "not_rejected", "a pod bound by nodeName to a free host port")
