"""C6: host network only at creation. Spec: verdict.CLAIMS["C6"].

Observed, in two parts. The pod part: the API's answer (status, message) to a patch of a running
host-network Pod. The daemonset part: a patch of a DaemonSet's template, the DaemonSet's generation
before and after it, its pods before, and its pods when the wait for a rollout decided. That wait
ends when new pods have replaced every old one ("rolled"), or when the controller's own status says
it keeps the old pods ("kept": updateStrategy OnDelete, the new generation observed, no new pod and
no old pod deleted; the DaemonSet as then read is kept with it). A wait that runs out is ERROR,
never "no rollout".

Judged: the Pod patch is refused with 422 'pod updates may not change fields other than'; the
template change bumps the generation and rolls out new pods with a new controller-revision-hash
and the template's hostNetwork. The Verdict holds both parts (`parts`): the claim test needs both
to pass, the control demands each part's own failure."""
from __future__ import annotations

from kubernetes import client

from .. import kube, probes, signals
from ..environment import Env, ds_pods, ds_selector, ds_state, wait_daemonset_ready
from ..scenarios import observer
from ..verdict import Verdict
from ..waiting import wait_until
from ..world import require_host_network
from .base import decided, run, serialize

REFUSED = "pod updates may not change fields other than"


def observe_pod(env: Env, ns: str, pod: str, patch: dict) -> dict:
    try:
        _, status, _ = env.core.patch_namespaced_pod_with_http_info(pod, ns, patch)
    except client.ApiException as e:
        # the refusal is what the claim looks for: the API's answer is a fact here, not an API error
        return {"patch": patch, "status": e.status, "message": kube.api_message(e)}
    return {"patch": patch, "status": status}


def observe_daemonset(env: Env, ns: str, ds: str, patch: dict, timeout: float = 120) -> dict:
    before = ds_pods(env, ns, ds)
    facts: dict = {"patch": patch, "pods_before": serialize(before),
                   "generation_before": env.cluster.apps.read_namespaced_daemon_set(ds, ns).metadata.generation}
    gen = facts["generation_after"] = env.cluster.apps.patch_namespaced_daemon_set(ds, ns, patch).metadata.generation
    if gen == facts["generation_before"]:
        return facts   # every spec change bumps the generation: without one no controller rolls anything out
    old = {p.metadata.uid for p in before}

    def rollout():
        pods = ds_pods(env, ns, ds)
        fresh = [p for p in pods if p.metadata.uid not in old and p.metadata.deletion_timestamp is None]
        old_left = [p for p in pods if p.metadata.uid in old]
        if fresh and not old_left and len(fresh) >= len(old):
            return {"rollout": "rolled", "pods_after": serialize(pods)}
        # The controller has seen the new template and says it will not replace the pods: decided.
        obj = env.cluster.apps.read_namespaced_daemon_set(ds, ns)
        strategy = obj.spec.update_strategy.type if obj.spec.update_strategy else "RollingUpdate"
        if (strategy == "OnDelete" and (obj.status.observed_generation or 0) >= gen and not fresh
                and old_left and not any(p.metadata.deletion_timestamp for p in old_left)):
            return {"rollout": "kept", "pods_after": serialize(pods), "daemonset": serialize(obj)}
        return None

    # a wait that runs out is ERROR (WaitTimeout, with the DaemonSet's last state), never "no rollout":
    # that is decided only by the controller's own status ("kept", above)
    facts.update(wait_until(rollout, timeout=timeout, what=f"DaemonSet {ns}/{ds} to roll out new pods",
                            describe=lambda: ds_state(env, ns, ds), retry_on=(client.ApiException,),
                            terminal=lambda: signals.observe(env.core, ns, selector=ds_selector(env, ns, ds))))
    return facts


def observe(env: Env, ns: str, pod: str, pod_patch: dict, ds: str, ds_patch: dict) -> dict:
    return {"pod": observe_pod(env, ns, pod, pod_patch), "daemonset": observe_daemonset(env, ns, ds, ds_patch)}


def judge_pod(facts: dict) -> Verdict:
    failures, ev = [], {"patch": facts["patch"], "status": facts["status"]}
    if facts["status"] < 400:
        failures.append(("patch_accepted", "the patch was accepted"))
    else:
        ev["message"] = facts.get("message", "")[:300]
        if facts["status"] != 422 or REFUSED not in facts.get("message", ""):
            failures.append(("wrong_status", f"HTTP {facts['status']}, not 422 '{REFUSED}'"))
    return decided("C6", failures, ev, f"HTTP 422: {REFUSED} ...", 0.0)


def _hash(p: dict):
    return (p["metadata"].get("labels") or {}).get("controller-revision-hash")


def judge_daemonset(facts: dict) -> Verdict:
    gen = facts["generation_after"]
    failures, ev = [], {"patch": facts["patch"], "generation_before": facts["generation_before"],
                        "generation_after": gen}
    if gen == facts["generation_before"]:
        failures.append(("no_generation_change", f"the patch left the spec unchanged (generation {gen}): no rollout"))
        return decided("C6", failures, ev, "", 0.0)
    before = {p["metadata"]["uid"]: _hash(p) for p in facts["pods_before"]}
    if facts["rollout"] == "kept":
        ds = facts["daemonset"]
        st, strategy = ds.get("status") or {}, (ds["spec"].get("updateStrategy") or {}).get("type", "RollingUpdate")
        kept = [p for p in facts["pods_after"] if p["metadata"]["uid"] in before]
        failures.append(("no_rollout", f"updateStrategy {strategy}: generation {gen} observed, "
                                       f"{st.get('updatedNumberScheduled') or 0}/{st.get('desiredNumberScheduled')} "
                                       f"pods updated, {len(kept)} old pods kept", "controller_kept"))
        fresh = []
    else:
        fresh = [p for p in facts["pods_after"]
                 if p["metadata"]["uid"] not in before and not p["metadata"].get("deletionTimestamp")]
    after = {p["metadata"]["uid"]: _hash(p) for p in fresh}
    want = ((facts["patch"].get("spec") or {}).get("template") or {}).get("spec", {}).get("hostNetwork")
    host_network = sorted({bool(p["spec"].get("hostNetwork")) for p in fresh})
    ev.update(old_hashes=sorted(set(before.values())), new_hashes=sorted(set(after.values())),
              old_uids=len(before), new_uids=len(after), new_pods_host_network=host_network)
    if fresh and set(after.values()) & set(before.values()):
        failures.append(("old_revision_hash", "new pods carry an old controller-revision-hash"))
    if fresh and want is not None and host_network != [want]:
        failures.append(("host_network_unchanged", f"new pods have hostNetwork {host_network}, "
                                                   f"not the template's {want}"))
    return decided("C6", failures, ev, "template change accepted and rolled out new pods", 0.0)


def both(pod_v: Verdict, ds_v: Verdict, passed: bool) -> Verdict:
    """The pod's and the DaemonSet's verdicts as one: both reasons, both evidences, every code with its
    mode, and each part's verdict by name (`parts`, for the control's expectations)."""
    v = Verdict("C6", passed, f"pod: {pod_v.reason}; daemonset: {ds_v.reason}",
                {"pod": pod_v.evidence, "daemonset": ds_v.evidence}, pod_v.duration_s + ds_v.duration_s,
                pod_v.codes + ds_v.codes,
                (pod_v.modes or [""] * len(pod_v.codes)) + (ds_v.modes or [""] * len(ds_v.codes)))
    v.parts = {"pod": pod_v, "daemonset": ds_v}
    return v


def judge(facts: dict) -> Verdict:
    """Both parts; the claim passes only when both do (a control's parts are demanded one by one)."""
    pod_v, ds_v = judge_pod(facts["pod"]), judge_daemonset(facts["daemonset"])
    return both(pod_v, ds_v, pod_v.passed and ds_v.passed)


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
# a field a running Pod may change
MUTABLE = {"spec": {"activeDeadlineSeconds": 86400}}

observer("c6", "C6")(lambda world: run("c6", "C6", judge, observe, world.env, world.observed("c6-ready"),
                                       "bare", HOSTNET_OFF, "rolling", TEMPLATE_HOSTNET_OFF))
# A patch of a mutable Pod field is accepted, and the same template change on an OnDelete DaemonSet
# rolls nothing out: the rollout detector itself must decide "no rollout" (from the controller's
# status), not a shortcut on the patch. Each part must fail its own way.
observer("c6-control", "C6")(lambda world: run("c6-control", "C6", judge, observe, world.env,
                                               world.observed("c6-ready"), "bare", MUTABLE,
                                               "on-delete", TEMPLATE_HOSTNET_OFF))
