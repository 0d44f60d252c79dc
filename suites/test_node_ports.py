"""Ports a node process already holds (C8). Its own module so pytest-xdist can run this slowest
claim (it waits for a container to crash and back off) beside the other port claims."""
import pytest

from hostnet_conformance import checks
from hostnet_conformance.verdict import expect_failure


@pytest.mark.C8
def test_c8_port_held_by_node_process_crashes(world, record):
    """"If a process on the node already uses the port, the pod fails": listening on the kubelet's 10250."""
    ns = world.scenario("c8")   # the vendor's pod bound to the first worker, on the kubelet's 10250
    v = record(checks.check_c8(world.env, ns, "pinned"))
    v.evidence["reserved_ports_bound"] = checks.reserved_ports(world.env, world.node_probes)
    assert v.passed, v.reason


@pytest.mark.C8
@pytest.mark.negative_control
def test_c8_control_free_port_runs(world, record):
    ns = world.scenario("c8-control")   # the same on a free port
    v = record(checks.check_c8(world.env, ns, "pinned"))
    expect_failure(v, "not_crashlooping", "a pod on a port no node process holds")
