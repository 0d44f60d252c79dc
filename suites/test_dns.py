"""DNS of host-network pods: ClusterFirstWithHostNet keeps cluster DNS, ClusterFirst silently loses it."""
import pytest

from hostnet_conformance import checks
from hostnet_conformance.scenarios import observer
from hostnet_conformance.verdict import expect_control
from hostnet_conformance.world import ds_of

# observations (scenarios.observer): in one process they run at once, each in a thread
observer("c3", "C3")(lambda world: checks.check_c3(world.env, *ds_of(world, "vendor")))
observer("c3-control", "C3")(lambda world: checks.check_c3(world.env, *ds_of(world, "clusterfirst")))
observer("c4", "C4")(lambda world: checks.check_c4(world.env, *ds_of(world, "clusterfirst"), world.node_probes))
observer("c4-control", "C4")(lambda world: checks.check_c4(world.env, *ds_of(world, "vendor"), world.node_probes))


@pytest.mark.C3
def test_c3_cluster_first_with_host_net_keeps_cluster_dns(world, record):
    """"dnsPolicy: ClusterFirstWithHostNet" keeps cluster DNS for a host-network pod."""
    v = record(world.observed("c3"))
    assert v.passed, v.reason


@pytest.mark.C3
@pytest.mark.negative_control
def test_c3_control_cluster_first(world, record):
    v = record(world.observed("c3-control"))
    expect_control(v, "test_c3_control_cluster_first")


@pytest.mark.C4
def test_c4_cluster_first_falls_back_to_node_dns(world, record):
    """"With ClusterFirst, a host-network pod uses the node's DNS" — silently, no event."""
    v = record(world.observed("c4"))
    assert v.passed, v.reason


@pytest.mark.C4
@pytest.mark.negative_control
def test_c4_control_cluster_first_with_host_net(world, record):
    v = record(world.observed("c4-control"))
    expect_control(v, "test_c4_control_cluster_first_with_host_net")
