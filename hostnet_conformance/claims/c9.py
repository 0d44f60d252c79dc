"""C9: Pod Security. Its spec is verdict.CLAIMS["C9"]; this module observes the cluster and judges."""
from __future__ import annotations

import re
import time

from kubernetes import client

from .. import admission, kube, manifests, signals
from ..environment import Env, deploy, ds_pods, wait_daemonset_ready
from ..scenarios import observer
from ..verdict import Verdict
from ..waiting import wait_until
from ..world import require_host_network
from .base import verdict

# the level is whatever the namespace (or the cluster default) enforces: baseline or restricted
PSA_LEVEL = re.compile(r'violates PodSecurity "(baseline|restricted):[^"]+"')
PSA_HOST_NAMESPACES = "host namespaces (hostNetwork=true, hostPID=true)"
# the hostPath violation in each level's words (restricted's volume check overrides baseline's)
PSA_HOST_PATH = {"baseline": 'hostPath volumes (volumes "proc", "sys")',
                 "restricted": 'restricted volume types (volumes "proc", "sys" use restricted volume type "hostPath")'}


def check_c9_pod_rejected(env: Env, ns: str, pod: dict) -> Verdict:
    """Creating the host-network Pod in a namespace at enforce=baseline -> HTTP 403 naming the violations."""
    t0, failures, ev = time.monotonic(), [], {}
    labels = env.core.read_namespace(ns).metadata.labels or {}
    ev["namespace_enforce_label"] = labels.get(kube.PSA_ENFORCE, "(cluster default)")
    try:
        deploy(env, ns, pod)
        ev["status"] = 201
        failures.append(("admitted", "the Pod was admitted"))
    except client.ApiException as e:
        body = kube.api_message(e)
        ev["status"] = e.status
        ev["message"] = body[body.find("violates"):][:300] if "violates" in body else body[:300]
        gate = admission.classify(e.status, body)
        ev["gate"] = f"{gate.kind} {gate.name}".strip() if gate else "none (not an admission denial)"
        if gate and gate.kind != admission.POD_SECURITY:
            # Pod Security runs before every other gate: it admitted the pod, another gate refused it
            failures.append(("other_gate", f"refused by {gate}, not by Pod Security"))
        elif e.status != 403:
            failures.append(("wrong_status", f"HTTP {e.status}, not 403"))
        level = PSA_LEVEL.search(body)
        ev["level"] = level.group(1) if level else None
        needles = (PSA_HOST_NAMESPACES, PSA_HOST_PATH[level.group(1) if level else "baseline"], "hostPort")
        missing = [n for n in needles if n not in body]
        if not level:
            missing.insert(0, 'violates PodSecurity "<baseline|restricted>:<version>"')
        if missing and not (gate and gate.kind != admission.POD_SECURITY):
            failures.append(("violations_missing", f"the rejection lacks {missing}"))
    return verdict("C9", failures, ev, f"HTTP 403 violates PodSecurity {ev.get('level') or 'baseline'}: host namespaces, "
                   "hostPath, hostPort", t0)


def check_c9_daemonset_blocked_then_fixed(env: Env, ns: str, ds: dict, timeout: float = 90) -> Verdict:
    """The DaemonSet is admitted (with a warning), its controller emits FailedCreate; after labelling
    the namespace privileged its pods run."""
    t0, failures, ev = time.monotonic(), [], {}
    apps = env.cluster.apps
    _, _, headers = apps.create_namespaced_daemon_set_with_http_info(ns, kube.owned(ds, env.run_id))
    warning = headers.get("Warning", "") if headers else ""
    ev["admission_warning"] = warning[:200]
    if "violate PodSecurity" not in warning and "violates PodSecurity" not in warning:
        failures.append(("no_warning", "no PodSecurity warning on DaemonSet creation"))
    name = ds["metadata"]["name"]

    def failed_create():
        return [e for e in kube.events(env.core, ns) if e.reason == "FailedCreate" and "PodSecurity" in (e.message or "")]

    def refused_or_created():
        pods = ds_pods(env, ns, name)
        if pods:
            return "created", pods
        denials = failed_create()
        return ("refused", denials) if denials else None

    # the controller either creates pods or reports FailedCreate; neither within the bound is ERROR
    # (WaitTimeout with the namespace's last state)
    seen, what = wait_until(refused_or_created, timeout=30, what=f"FailedCreate events or pods of {ns}/{name}",
                            describe=lambda: kube.describe_pods(env.core, ns), retry_on=(client.ApiException,),
                            terminal=lambda: signals.observe(env.core, ns, allow=_psa_denial))
    if seen == "created":
        failures.append(("pods_admitted", f"the controller created {len(what)} pods in a namespace that enforces "
                                          f"Pod Security: {[p.metadata.name for p in what][:3]}"))
        ev["failed_create"] = None
        return verdict("C9", failures, ev, "", t0)
    ev["failed_create"] = what[0].message[:200]
    counts = {e.metadata.uid: e.count or 1 for e in what}
    env.core.patch_namespace(ns, {"metadata": {"labels": {kube.PSA_ENFORCE: "privileged"}}})
    try:
        # the denials from before the label stay in the event list: they are what this claim expects
        wait_daemonset_ready(env, ns, name, timeout, allow=_psa_denial)
        ev["after_label"] = "pods running"
    except AssertionError:
        # refused again after the label (a new FailedCreate, or one counted up): observed false;
        # otherwise nothing was observed in time: ERROR, the wait's own message
        again = [e for e in failed_create() if (e.count or 1) > counts.get(e.metadata.uid, 0)]
        if not again:
            raise
        ev["after_label"] = "refused again"
        failures.append(("refused_after_label", "FailedCreate after labelling the namespace privileged: "
                                                + " ".join((again[-1].message or "").split())[:200]))
    return verdict("C9", failures, ev, "DaemonSet admitted with warning, FailedCreate, runs once labelled privileged", t0)


def _psa_denial(s: signals.Signal) -> bool:
    return s.code == "failed_create" and "PodSecurity" in s.message


def _restricted_ns(world, purpose):
    """A namespace at enforce=baseline: the cluster default when it is strict, else an explicit label."""
    default = world.env.cluster.facts.get("pod_security_default")
    return world.ns(purpose, psa=None if default in ("baseline", "restricted") else "baseline")


def _pod(world, name):
    return manifests.pod_from_daemonset(manifests.with_port(world.vendor_ds(), world.ports.port_for("c9-pod")), name)


observer("c9-pod", "C9")(lambda world: check_c9_pod_rejected(world.env, _restricted_ns(world, "c9-pod"),
                                                             _pod(world, "blocked")))
observer("c9-pod-control", "C9")(lambda world: check_c9_pod_rejected(world.env, world.ns("c9-pod-control"),
                                                                     _pod(world, "admitted")))


@observer("c9-ds", "C9")
def _c9_daemonset(world):
    require_host_network(world)
    ds = manifests.with_port(world.vendor_ds(), world.ports.port_for("c9-ds"))
    return check_c9_daemonset_blocked_then_fixed(world.env, _restricted_ns(world, "c9-ds"), ds)
