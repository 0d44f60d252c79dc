"""Ports: containerPort vs the real listen port, and conflicts between workloads."""
import pytest

from hostnet_conformance import checks, environment
from hostnet_conformance.scenarios import observer
from hostnet_conformance.verdict import expect_control
from hostnet_conformance.world import require_pod_network


def _c5(world, key):
    require_pod_network(world)   # observed through the pod network: a precondition
    ns = world.scenario(key)
    environment.wait_daemonset_ready(world.env, ns, "node-exporter")
    return checks.check_c5(world.env, ns, "node-exporter", world.pod_probe)


observer("c5", "C5")(lambda world: _c5(world, "c5"))   # the vendor's DaemonSet declaring one port, listening on another
observer("c5-control", "C5")(lambda world: _c5(world, "c5-control"))   # declared == listening


@pytest.mark.C5
def test_c5_container_port_must_match(world, record):
    """"containerPort must match the port the application listens on": a mismatch answers on the real
    port only, while the scheduler reserves the declared one."""
    v = record(world.observed("c5"))
    assert v.passed, v.reason


@pytest.mark.C5
@pytest.mark.negative_control
def test_c5_control_matching_ports(world, record):
    v = record(world.observed("c5-control"))
    # observed on the cluster: the metrics answer on the declared port (not only the spec saying so)
    expect_control(v, "test_c5_control_matching_ports")


# the vendor's DaemonSet again, as "second-exporter": on 20000 (the claim), on a free port (control)
observer("c7", "C7")(lambda world: checks.check_c7_scheduler(world.env, world.scenario("c7"), "second-exporter"))
observer("c7-control", "C7")(lambda world: checks.check_c7_scheduler(world.env, world.scenario("c7-control"),
                                                                     "second-exporter"))


@observer("c7-kubelet", "C7")
def _c7_kubelet(world):
    # made only after the second DaemonSet's verdict: once the kubelet rejects this pod, the scheduler
    # forgets that 20000 is taken on its node (scenarios.py)
    world.await_observation("c7")
    ns = world.scenario("c7-kubelet")   # the vendor's pod bound to the first worker, on 20000
    return checks.check_c7_kubelet(world.env, ns, "pinned")


observer("c7-kubelet-control", "C7")(   # bound to the last worker, on a free port
    lambda world: checks.check_c7_kubelet(world.env, world.scenario("c7-kubelet-control"), "pinned"))


@pytest.mark.C7
def test_c7_port_conflict_keeps_pod_pending(world, record):
    """"If another workload uses the port, the pod stays Pending": a second DaemonSet on 20000."""
    v = record(world.observed("c7"))
    assert v.passed, v.reason


@pytest.mark.C7
@pytest.mark.negative_control
def test_c7_control_free_port_schedules(world, record):
    v = record(world.observed("c7-control"))
    expect_control(v, "test_c7_control_free_port_schedules")


@pytest.mark.C7
def test_c7_pod_bound_by_node_name_is_rejected_by_kubelet(world, record):
    """Without the scheduler (spec.nodeName), the kubelet itself refuses the conflicting port: NodePorts."""
    v = record(world.observed("c7-kubelet"))
    assert v.passed, v.reason


@pytest.mark.C7
@pytest.mark.negative_control
def test_c7_control_pod_bound_to_free_port_runs(world, record):
    v = record(world.observed("c7-kubelet-control"))
    expect_control(v, "test_c7_control_pod_bound_to_free_port_runs")
