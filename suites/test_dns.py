"""DNS of host-network pods: ClusterFirstWithHostNet keeps cluster DNS, ClusterFirst silently loses it."""
import pytest

from hostnet_conformance import checks
from hostnet_conformance.verdict import expect_failure
from hostnet_conformance.world import ds_of


@pytest.mark.C3
def test_c3_cluster_first_with_host_net_keeps_cluster_dns(world, record):
    """"dnsPolicy: ClusterFirstWithHostNet" keeps cluster DNS for a host-network pod."""
    v = record(checks.check_c3(world.env, *ds_of(world, "vendor")))
    assert v.passed, v.reason


@pytest.mark.C3
@pytest.mark.negative_control
def test_c3_control_cluster_first(world, record):
    v = record(checks.check_c3(world.env, *ds_of(world, "clusterfirst")))
    expect_failure(v, "nameserver_not_cluster_dns", "dnsPolicy ClusterFirst on a host-network pod")


@pytest.mark.C4
def test_c4_cluster_first_falls_back_to_node_dns(world, record):
    """"With ClusterFirst, a host-network pod uses the node's DNS" — silently, no event."""
    v = record(checks.check_c4(world.env, *ds_of(world, "clusterfirst"), world.node_probes))
    assert v.passed, v.reason


@pytest.mark.C4
@pytest.mark.negative_control
def test_c4_control_cluster_first_with_host_net(world, record):
    v = record(checks.check_c4(world.env, *ds_of(world, "vendor"), world.node_probes))
    expect_failure(v, "cluster_dns_in_pod", "dnsPolicy ClusterFirstWithHostNet, which keeps cluster DNS")
