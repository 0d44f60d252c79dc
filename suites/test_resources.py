"""Resources as the page writes them."""
import pytest

from hostnet_conformance import checks
from hostnet_conformance.scenarios import observer
from hostnet_conformance.verdict import expect_control
from hostnet_conformance.world import ds_of

# observations (scenarios.observer): in one process they run at once, each in a thread
observer("c13", "C13")(lambda world: checks.check_c13(world.env, *ds_of(world, "vendor")))
observer("c13-control", "C13")(lambda world: checks.check_c13(world.env, *ds_of(world, "guaranteed")))


@pytest.mark.C13
def test_c13_requests_and_limits_as_written(world, record):
    """"requests 64Mi/100m, limits 128Mi/200m": carried by the running pod, Burstable QoS."""
    v = record(world.observed("c13"))
    assert v.passed, v.reason


@pytest.mark.C13
@pytest.mark.negative_control
def test_c13_control_guaranteed_variant(world, record):
    v = record(world.observed("c13-control"))
    # observed on the cluster: the API server classes the running pod Guaranteed (status.qosClass)
    expect_control(v, "test_c13_control_guaranteed_variant")
