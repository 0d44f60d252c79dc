"""Resources as the page writes them."""
import pytest

from hostnet_conformance import checks
from hostnet_conformance.world import ds_of


@pytest.mark.C13
def test_c13_requests_and_limits_as_written(world, record):
    """"requests 64Mi/100m, limits 128Mi/200m": carried by the running pod, Burstable QoS."""
    v = record(checks.check_c13(world.env, *ds_of(world, "vendor")))
    assert v.passed, v.reason


@pytest.mark.C13
@pytest.mark.negative_control
def test_c13_control_guaranteed_variant(world, record):
    v = record(checks.check_c13(world.env, *ds_of(world, "guaranteed")))
    assert not v.passed, f"a Guaranteed variant looked like the page's resources: {v.evidence}"
