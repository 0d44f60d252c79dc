"""Security: Pod Security admission, hostPID and the /proc, /sys mounts."""
import pytest

from hostnet_conformance import checks, manifests
from hostnet_conformance.scenarios import observer
from hostnet_conformance.verdict import expect_control
from hostnet_conformance.world import VENDOR_PORT, ds_of, require_host_network


def _restricted_ns(world, purpose):
    """A namespace at enforce=baseline: the cluster default when it is strict, else an explicit label."""
    default = world.env.cluster.facts.get("pod_security_default")
    return world.ns(purpose, psa=None if default in ("baseline", "restricted") else "baseline")


def _pod(world, name):
    return manifests.pod_from_daemonset(manifests.with_port(world.vendor_ds(), world.ports.port_for("c9-pod")), name)


@pytest.mark.C9
@pytest.mark.denial_only
def test_c9_strict_pod_security_rejects_host_network_pod(world, record):
    """"Clusters with strict security policies block host networking": the Pod gets HTTP 403."""
    v = record(checks.check_c9_pod_rejected(world.env, _restricted_ns(world, "c9-pod"), _pod(world, "blocked")))
    assert v.passed, v.reason


@pytest.mark.C9
@pytest.mark.negative_control
def test_c9_control_privileged_namespace_admits_pod(world, record):
    v = record(checks.check_c9_pod_rejected(world.env, world.ns("c9-pod-control"), _pod(world, "admitted")))
    expect_control(v, "test_c9_control_privileged_namespace_admits_pod")


@observer("c9-ds", "C9")
def _c9_daemonset(world):
    require_host_network(world)
    ds = manifests.with_port(world.vendor_ds(), world.ports.port_for("c9-ds"))
    return checks.check_c9_daemonset_blocked_then_fixed(world.env, _restricted_ns(world, "c9-ds"), ds)


@pytest.mark.C9
def test_c9_label_namespace_privileged_unblocks_daemonset(world, record):
    """"Label the namespace pod-security.kubernetes.io/enforce=privileged": FailedCreate until then, pods after."""
    v = record(world.observed("c9-ds"))
    assert v.passed, v.reason


observer("c12", "C12")(lambda world: checks.check_c12(world.env, *ds_of(world, "vendor"), VENDOR_PORT,
                                                      world.node_probes))
observer("c12-control", "C12")(lambda world: checks.check_c12(world.env, *ds_of(world, "no-hostpid"),
                                                              world.ports.port_for("no-hostpid"), world.node_probes))


@pytest.mark.C12
def test_c12_host_pid_and_proc_sys_expose_node(world, record):
    """"hostPID and the /proc, /sys mounts give the exporter the node's view": the node's PID 1, the node's
    /proc and /sys through the mounts, node_uname_info."""
    v = record(world.observed("c12"))
    assert v.passed, v.reason


@pytest.mark.C12
@pytest.mark.negative_control
def test_c12_control_without_host_pid(world, record):
    v = record(world.observed("c12-control"))
    expect_control(v, "test_c12_control_without_host_pid")
