"""Lifecycle: host network mode is fixed at creation; one pod per node."""
import pytest

from hostnet_conformance import checks, manifests, probes
from hostnet_conformance.world import ds_of


@pytest.fixture(scope="module")
def c6_workloads(world):
    """A bare host-network Pod and a one-node DaemonSet, shared by the claim test and its control
    (the control's changes are harmless to the claim test's, in either order)."""
    env, port = world.env, world.ports.port_for("c6")
    ns = world.ns("c6")
    pod = manifests.with_node_name(manifests.pod_from_daemonset(manifests.with_port(world.vendor_ds(), port), "bare"),
                                   world.workers[0])
    world.create(ns, pod)
    ds = manifests.with_name(manifests.with_port(world.vendor_ds(), port), "rolling")
    ds["spec"]["template"]["spec"]["nodeSelector"] = {"kubernetes.io/hostname": world.workers[-1]}
    world.create(ns, ds)
    probes.pod_running(env.core, ns, "bare")
    checks.wait_daemonset_ready(env, ns, "rolling")
    return ns


HOSTNET_OFF = {"spec": {"hostNetwork": False}}
TEMPLATE_HOSTNET_OFF = {"spec": {"template": {"spec": {"hostNetwork": False}}}}


@pytest.mark.C6
def test_c6_host_network_only_at_creation(c6_workloads, world, record):
    """"Host network mode can only be set when the pod is created": a Pod patch is refused (422),
    while a DaemonSet template change is accepted and replaces the pods."""
    ns = c6_workloads
    pod_v = checks.check_c6_pod(world.env, ns, "bare", HOSTNET_OFF)
    ds_v = checks.check_c6_daemonset(world.env, ns, "rolling", TEMPLATE_HOSTNET_OFF)
    v = record(checks.Verdict("C6", pod_v.passed and ds_v.passed, f"pod: {pod_v.reason}; daemonset: {ds_v.reason}",
                              {"pod": pod_v.evidence, "daemonset": ds_v.evidence}, pod_v.duration_s + ds_v.duration_s))
    assert v.passed, v.reason


@pytest.mark.C6
@pytest.mark.negative_control
def test_c6_control_mutable_field_and_noop_template(c6_workloads, world, record):
    """A patch of a mutable Pod field is accepted, and a DaemonSet patch that leaves the template alone
    rolls nothing out: the same checks must report failure."""
    ns = c6_workloads
    pod_v = checks.check_c6_pod(world.env, ns, "bare", {"spec": {"activeDeadlineSeconds": 86400}})
    ds_v = checks.check_c6_daemonset(world.env, ns, "rolling", {"metadata": {"labels": {"touched": "yes"}}})
    v = record(checks.Verdict("C6", pod_v.passed or ds_v.passed, f"pod: {pod_v.reason}; daemonset: {ds_v.reason}",
                              {"pod": pod_v.evidence, "daemonset": ds_v.evidence}))
    assert not pod_v.passed and not ds_v.passed, f"a harmless change looked like a refused/rolled one: {v.evidence}"


@pytest.mark.C15
def test_c15_one_pod_per_schedulable_node(world, record):
    """"The DaemonSet places one pod on each node" (nodes with an untolerated NoSchedule taint excepted)."""
    v = record(checks.check_c15(world.env, *ds_of(world, "vendor")))
    assert v.passed, v.reason


@pytest.mark.C15
@pytest.mark.negative_control
def test_c15_control_node_selector_on_one_node(world, record):
    v = record(checks.check_c15(world.env, *ds_of(world, "one-node")))
    assert not v.passed, f"a DaemonSet pinned to one node looked like one-per-node: {v.evidence}"
