"""Ports a node process already holds (C8). Its own module so pytest-xdist can run this slowest
claim (it waits for a container to crash and back off) beside the other port claims."""
import pytest

from hostnet_conformance import checks
from hostnet_conformance.scenarios import observer
from hostnet_conformance.verdict import expect_control


@observer("c8", "C8")
def _held_by_the_kubelet(world):
    ns = world.scenario("c8")   # the vendor's pod bound to the first worker, on the kubelet's 10250
    v = checks.check_c8(world.env, ns, "pinned")
    v.evidence["reserved_ports_bound"] = checks.reserved_ports(world.env, world.node_probes)
    return v


@observer("c8-control", "C8")
def _free_port(world):
    return checks.check_c8(world.env, world.scenario("c8-control"), "pinned")   # the same on a free port


@pytest.mark.C8
def test_c8_port_held_by_node_process_crashes(world, record):
    """"If a process on the node already uses the port, the pod fails": listening on the kubelet's 10250."""
    v = record(world.observed("c8"))
    assert v.passed, v.reason


@pytest.mark.C8
@pytest.mark.negative_control
def test_c8_control_free_port_runs(world, record):
    v = record(world.observed("c8-control"))
    expect_control(v, "test_c8_control_free_port_runs")
