"""C6: host network only at creation. Its spec is verdict.CLAIMS["C6"]; this module observes the cluster and judges."""
from __future__ import annotations

import time

from kubernetes import client

from .. import kube, probes, signals
from ..environment import Env, ds_pods, ds_selector, ds_state, wait_daemonset_ready
from ..scenarios import observer
from ..verdict import Verdict
from ..waiting import wait_until
from ..world import require_host_network
from .base import verdict

def check_c6_pod(env: Env, ns: str, pod: str, patch: dict) -> Verdict:
    """Patching an existing Pod must be refused with 422 'pod updates may not change fields'."""
    t0, failures, ev = time.monotonic(), [], {"patch": patch}
    try:
        env.core.patch_namespaced_pod(pod, ns, patch)
        ev["status"] = 200
        failures.append(("patch_accepted", "the patch was accepted"))
    except client.ApiException as e:
        ev["status"] = e.status
        ev["message"] = kube.api_message(e)[:300]
        if e.status != 422 or "pod updates may not change fields other than" not in ev["message"]:
            failures.append(("wrong_status",
                             f"HTTP {e.status}, not 422 'pod updates may not change fields other than'"))
    return verdict("C6", failures, ev, "HTTP 422: pod updates may not change fields other than ...", t0)


def check_c6_daemonset(env: Env, ns: str, ds: str, patch: dict, timeout: float = 120) -> Verdict:
    """Patching a DaemonSet template is accepted and rolls out new pods (new UIDs, new revision hash)."""
    t0, failures, ev = time.monotonic(), [], {"patch": patch}
    before = {p.metadata.uid: p.metadata.labels.get("controller-revision-hash") for p in ds_pods(env, ns, ds)}
    gen_before = env.cluster.apps.read_namespaced_daemon_set(ds, ns).metadata.generation
    gen_after = env.cluster.apps.patch_namespaced_daemon_set(ds, ns, patch).metadata.generation
    ev.update(generation_before=gen_before, generation_after=gen_after)
    if gen_after == gen_before:
        # Every spec change bumps the generation; without one no controller will roll anything out.
        failures.append(("no_generation_change",
                         f"the patch left the spec unchanged (generation {gen_after}): no rollout"))
        return verdict("C6", failures, ev, "", t0)

    kept: list = []

    def rolled():
        pods = ds_pods(env, ns, ds)
        fresh = [p for p in pods if p.metadata.uid not in before and p.metadata.deletion_timestamp is None]
        old_left = [p for p in pods if p.metadata.uid in before]
        if fresh and not old_left and len(fresh) >= len(before):
            return fresh
        # The controller has seen the new template and says it will not replace the pods: decided.
        obj = env.cluster.apps.read_namespaced_daemon_set(ds, ns)
        strategy = obj.spec.update_strategy.type if obj.spec.update_strategy else "RollingUpdate"
        if (strategy == "OnDelete" and (obj.status.observed_generation or 0) >= gen_after and not fresh
                and old_left and not any(p.metadata.deletion_timestamp for p in old_left)):
            kept.append(f"updateStrategy OnDelete: generation {gen_after} observed, "
                        f"{obj.status.updated_number_scheduled or 0}/{obj.status.desired_number_scheduled} "
                        f"pods updated, {len(old_left)} old pods kept")
            return "kept"
        return None

    # a wait that runs out is ERROR (WaitTimeout, with the DaemonSet's last state), never "no rollout":
    # that is decided only by the controller's own status (kept, above)
    fresh = wait_until(rolled, timeout=timeout, what=f"DaemonSet {ns}/{ds} to roll out new pods",
                       describe=lambda: ds_state(env, ns, ds), retry_on=(client.ApiException,),
                       terminal=lambda: signals.observe(env.core, ns, selector=ds_selector(env, ns, ds)))
    if fresh == "kept":
        fresh = []
        failures.append(("no_rollout", kept[-1], "controller_kept"))
    after = {p.metadata.uid: p.metadata.labels.get("controller-revision-hash") for p in fresh}
    want = ((patch.get("spec") or {}).get("template") or {}).get("spec", {}).get("hostNetwork")
    host_network = sorted({bool(p.spec.host_network) for p in fresh})
    ev.update(old_hashes=sorted(set(before.values())), new_hashes=sorted(set(after.values())),
              old_uids=len(before), new_uids=len(after), new_pods_host_network=host_network)
    if fresh and set(after.values()) & set(before.values()):
        failures.append(("old_revision_hash", "new pods carry an old controller-revision-hash"))
    if fresh and want is not None and host_network != [want]:
        failures.append(("host_network_unchanged", f"new pods have hostNetwork {host_network}, "
                                                   f"not the template's {want}"))
    return verdict("C6", failures, ev, "template change accepted and rolled out new pods", t0)


@observer("c6-ready", "C6")
def _c6_ready(world):
    """A bare host-network Pod and a one-node DaemonSet, shared by the claim test and its control
    (the control's changes are harmless to the claim test's, in either order or at once): scenarios.c6."""
    require_host_network(world)
    env = world.env
    ns = world.scenario("c6")
    probes.pod_running(env.core, ns, "bare")
    wait_daemonset_ready(env, ns, "rolling")
    wait_daemonset_ready(env, ns, "on-delete")
    return ns


HOSTNET_OFF = {"spec": {"hostNetwork": False}}
TEMPLATE_HOSTNET_OFF = {"spec": {"template": {"spec": {"hostNetwork": False}}}}


def both(pod_v: Verdict, ds_v: Verdict, passed: bool) -> Verdict:
    """The pod's and the DaemonSet's verdicts as one: both reasons, both evidences, every code with its
    mode, and each part's verdict by name (`parts`, for the control's expectations)."""
    v = Verdict("C6", passed, f"pod: {pod_v.reason}; daemonset: {ds_v.reason}",
                {"pod": pod_v.evidence, "daemonset": ds_v.evidence}, pod_v.duration_s + ds_v.duration_s,
                pod_v.codes + ds_v.codes,
                (pod_v.modes or [""] * len(pod_v.codes)) + (ds_v.modes or [""] * len(ds_v.codes)))
    v.parts = {"pod": pod_v, "daemonset": ds_v}
    return v


@observer("c6", "C6")
def _c6(world):
    ns = world.observed("c6-ready")
    pod_v = check_c6_pod(world.env, ns, "bare", HOSTNET_OFF)
    ds_v = check_c6_daemonset(world.env, ns, "rolling", TEMPLATE_HOSTNET_OFF)
    return both(pod_v, ds_v, pod_v.passed and ds_v.passed)


@observer("c6-control", "C6")
def _c6_control(world):
    """A patch of a mutable Pod field is accepted, and the same template change on an OnDelete
    DaemonSet rolls nothing out: the rollout detector itself must decide "no rollout" (from the
    controller's status), not a shortcut on the patch. Each part must fail its own way."""
    ns = world.observed("c6-ready")
    pod_v = check_c6_pod(world.env, ns, "bare", {"spec": {"activeDeadlineSeconds": 86400}})
    ds_v = check_c6_daemonset(world.env, ns, "on-delete", TEMPLATE_HOSTNET_OFF)
    return both(pod_v, ds_v, pod_v.passed or ds_v.passed)
