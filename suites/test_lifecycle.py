"""Lifecycle: host network mode is fixed at creation; one pod per node."""
import pytest

from hostnet_conformance import checks, environment, probes
from hostnet_conformance.scenarios import observer
from hostnet_conformance.verdict import expect_control
from hostnet_conformance.world import ds_of, require_host_network


@observer("c6-ready", "C6")
def _c6_ready(world):
    """A bare host-network Pod and a one-node DaemonSet, shared by the claim test and its control
    (the control's changes are harmless to the claim test's, in either order or at once): scenarios.c6."""
    require_host_network(world)
    env = world.env
    ns = world.scenario("c6")
    probes.pod_running(env.core, ns, "bare")
    environment.wait_daemonset_ready(env, ns, "rolling")
    environment.wait_daemonset_ready(env, ns, "on-delete")
    return ns


HOSTNET_OFF = {"spec": {"hostNetwork": False}}
TEMPLATE_HOSTNET_OFF = {"spec": {"template": {"spec": {"hostNetwork": False}}}}


def _both(pod_v, ds_v, passed: bool) -> checks.Verdict:
    """The pod's and the DaemonSet's verdicts as one: both reasons, both evidences, every code with its mode."""
    return checks.Verdict("C6", passed, f"pod: {pod_v.reason}; daemonset: {ds_v.reason}",
                          {"pod": pod_v.evidence, "daemonset": ds_v.evidence}, pod_v.duration_s + ds_v.duration_s,
                          pod_v.codes + ds_v.codes, (pod_v.modes or [""] * len(pod_v.codes)) + (ds_v.modes or [""] * len(ds_v.codes)))


@observer("c6", "C6")
def _c6(world):
    ns = world.observed("c6-ready")
    pod_v = checks.check_c6_pod(world.env, ns, "bare", HOSTNET_OFF)
    ds_v = checks.check_c6_daemonset(world.env, ns, "rolling", TEMPLATE_HOSTNET_OFF)
    return _both(pod_v, ds_v, pod_v.passed and ds_v.passed)


@observer("c6-control", "C6")
def _c6_control(world):
    """A patch of a mutable Pod field is accepted, and the same template change on an OnDelete
    DaemonSet rolls nothing out: the rollout detector itself must decide "no rollout" (from the
    controller's status), not a shortcut on the patch."""
    ns = world.observed("c6-ready")
    pod_v = checks.check_c6_pod(world.env, ns, "bare", {"spec": {"activeDeadlineSeconds": 86400}})
    ds_v = checks.check_c6_daemonset(world.env, ns, "on-delete", TEMPLATE_HOSTNET_OFF)
    return pod_v, ds_v


@pytest.mark.C6
def test_c6_host_network_only_at_creation(world, record):
    """"Host network mode can only be set when the pod is created": a Pod patch is refused (422),
    while a DaemonSet template change is accepted and replaces the pods."""
    v = record(world.observed("c6"))
    assert v.passed, v.reason


@pytest.mark.C6
@pytest.mark.negative_control
def test_c6_control_mutable_field_and_noop_template(world, record):
    pod_v, ds_v = world.observed("c6-control")
    record(_both(pod_v, ds_v, pod_v.passed or ds_v.passed))
    expect_control(pod_v, "test_c6_control_mutable_field_and_noop_template", part="pod")
    expect_control(ds_v, "test_c6_control_mutable_field_and_noop_template", part="daemonset")


observer("c15", "C15")(lambda world: checks.check_c15(world.env, *ds_of(world, "vendor")))
observer("c15-control", "C15")(lambda world: checks.check_c15(world.env, *ds_of(world, "port-held")))


@pytest.mark.C15
def test_c15_one_pod_per_schedulable_node(world, record):
    """"The DaemonSet places one pod on each node": on each node the DaemonSet controller's own rules
    select (its taints against the pod's tolerations and the controller's, selectors, affinity)."""
    v = record(world.observed("c15"))
    assert v.passed, v.reason


@pytest.mark.C15
@pytest.mark.negative_control
def test_c15_control_port_held_on_one_node(world, record):
    v = record(world.observed("c15-control"))
    expect_control(v, "test_c15_control_port_held_on_one_node")
