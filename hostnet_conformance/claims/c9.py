"""C9: strict Pod Security blocks host networking until the namespace is labelled privileged.
Spec: verdict.CLAIMS["C9"].

Observed, Pod part (facts "kind": "pod"): the host features of the host-network Pod sent (the
vendor's, without what an admission gate refuses), the namespace's enforce label, and the API's
answer to creating it (HTTP status and message). Judged: HTTP 403 from Pod Security naming, in its
own words, each violation of the Pod sent: the host namespaces it uses, its hostPath volumes, its
host ports. The control creates the same Pod in a namespace labelled privileged: admitted.

Observed, DaemonSet part (facts "kind": "daemonset"): the admission warning on creating the
DaemonSet; the pods its controller made, or its FailedCreate events (with their counts); after
labelling the namespace privileged, whether the pods ran, and if the wait ran out, its words and the
FailedCreate events then. Judged: warned, refused, running once labelled. Refused again after the
label (a new FailedCreate, or one counted up) is FAIL; a wait that ran out without that is ERROR."""
from __future__ import annotations

import re

from kubernetes import client

from .. import admission, kube, manifests, signals
from ..environment import Env, deploy, ds_pods, wait_daemonset_ready
from ..scenarios import observer
from ..verdict import ClusterError
from ..waiting import WaitTimeout, wait_until
from ..world import require_host_network
from .base import run, serialize

# the level is whatever the namespace (or the cluster default) enforces: baseline or restricted
PSA_LEVEL = re.compile(r'violates PodSecurity "(baseline|restricted):[^"]+"')
# pod-security-admission's checks hostNamespaces, in its order
HOST_NAMESPACES = ("hostNetwork", "hostPID", "hostIPC")


def host_features(pod: dict) -> dict:
    """The host features of a Pod as the API server admits it: the host namespaces it uses, its
    hostPath volumes (in the Pod's order) and each container's host ports. A host-network Pod's
    containerPorts are host ports: the API server defaults hostPort to containerPort before
    admission."""
    spec = pod["spec"]
    containers = [*spec.get("initContainers", []), *spec["containers"]]   # the order Pod Security visits
    ports = {c["name"]: [p.get("hostPort") or (p["containerPort"] if spec.get("hostNetwork") else 0)
                         for p in c.get("ports", [])] for c in containers}
    return {"name": pod["metadata"]["name"],
            "host_namespaces": [n for n in HOST_NAMESPACES if spec.get(n)],
            "hostpath_volumes": [v["name"] for v in spec.get("volumes", []) if "hostPath" in v],
            "host_ports": {c: [p for p in ps if p] for c, ps in ports.items() if any(ps)}}


def observe_pod(env: Env, ns: str, pod: dict) -> dict:
    labels = env.core.read_namespace(ns).metadata.labels or {}
    facts = {"kind": "pod", "namespace": ns, "namespace_enforce_label": labels.get(kube.PSA_ENFORCE),
             "pod_sent": host_features(pod)}
    try:
        deploy(env, ns, pod)
        facts.update(status=201, message=None)
    except client.ApiException as e:
        facts.update(status=e.status, message=kube.api_message(e))
    return facts


def observe_daemonset(env: Env, ns: str, ds: dict, timeout: float = 90) -> dict:
    name = ds["metadata"]["name"]
    _, _, headers = env.cluster.apps.create_namespaced_daemon_set_with_http_info(ns, kube.owned(ds, env.run_id))
    facts = {"kind": "daemonset", "namespace": ns, "daemonset": name,
             "admission_warning": (headers or {}).get("Warning", "")}

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
    if seen == "created":   # Pod Security admitted them: nothing to label
        facts.update(pods_created=[p.metadata.name for p in what], failed_create=[])
        return facts
    facts.update(pods_created=[], failed_create=serialize(what))
    env.core.patch_namespace(ns, {"metadata": {"labels": {kube.PSA_ENFORCE: "privileged"}}})
    try:
        # the denials from before the label stay in the event list: they are what this claim expects
        wait_daemonset_ready(env, ns, name, timeout, allow=_psa_denial)
        facts["after_label"] = {"ready": True}
    except WaitTimeout as e:
        # refused again, or nothing observed in time: the judge tells them apart by the events
        facts["after_label"] = {"ready": False, "wait": e.in_words(), "failed_create": serialize(failed_create())}
    return facts


def _psa_denial(s: signals.Signal) -> bool:
    return s.code == "failed_create" and "PodSecurity" in s.message


def judge(facts: dict) -> tuple[list, dict, str]:
    return (_judge_pod if facts["kind"] == "pod" else _judge_daemonset)(facts)


def _join_quote(items: list) -> str:
    return ", ".join(f'"{x}"' for x in items)


def _plural(singular: str, plural: str, n: int) -> str:
    return singular if n == 1 else plural


def expected_violations(pod: dict, level: str) -> dict[str, str]:
    """{violation: Pod Security's words for it} for the host features of the Pod sent, as
    pod-security-admission's checks word them (hostNamespaces, hostPathVolumes, hostPorts; at
    restricted, restrictedVolumes words the hostPath volumes and overrides hostPathVolumes)."""
    out = {}
    if pod["host_namespaces"]:
        out["host namespaces"] = f"host namespaces ({', '.join(f'{n}=true' for n in pod['host_namespaces'])})"
    vols = pod["hostpath_volumes"]
    if vols:
        n = len(vols)
        out["hostPath"] = (f"restricted volume types ({_plural('volume', 'volumes', n)} {_join_quote(vols)} "
                           f"{_plural('uses', 'use', n)} restricted volume type \"hostPath\")" if level == "restricted"
                           else f"hostPath volumes ({_plural('volume', 'volumes', n)} {_join_quote(vols)})")
    ports = pod["host_ports"]
    if ports:
        numbers = sorted({str(p) for ps in ports.values() for p in ps})   # a set of strings, listed sorted
        out["hostPort"] = (f"hostPort ({_plural('container', 'containers', len(ports))} {_join_quote(list(ports))} "
                           f"{_plural('uses', 'use', len(ports))} {_plural('hostPort', 'hostPorts', len(numbers))} "
                           f"{', '.join(numbers)})")
    return out


def _judge_pod(facts: dict) -> tuple[list, dict, str]:
    """Creating the host-network Pod in a namespace at enforce=baseline (or the cluster's strict
    default) -> HTTP 403 naming the Pod's violations."""
    failures, ev = [], {"namespace_enforce_label": facts["namespace_enforce_label"] or "(cluster default)",
                        "status": facts["status"]}
    if facts["status"] == 201:
        failures.append(("admitted", "the Pod was admitted"))
        return failures, ev, ""
    body = facts["message"] or ""
    ev["message"] = body[body.find("violates"):][:300] if "violates" in body else body[:300]
    gate = admission.classify(facts["status"], body)
    ev["gate"] = f"{gate.kind} {gate.name}".strip() if gate else "none (not an admission denial)"
    other_gate = gate is not None and gate.kind != admission.POD_SECURITY
    if other_gate:
        # Pod Security runs before every other gate: it admitted the pod, another gate refused it
        failures.append(("other_gate", f"refused by {gate}, not by Pod Security"))
    elif facts["status"] != 403:
        failures.append(("wrong_status", f"HTTP {facts['status']}, not 403"))
    level = PSA_LEVEL.search(body)
    ev["level"] = level.group(1) if level else None
    expected = expected_violations(facts["pod_sent"], ev["level"] or "baseline")
    ev["expected_violations"] = list(expected.values())
    missing = [words for words in expected.values() if words not in body]
    if not level:
        missing.insert(0, 'violates PodSecurity "<baseline|restricted>:<version>"')
    if missing and not other_gate:
        failures.append(("violations_missing", f"the rejection lacks {missing}"))
    return failures, ev, f"HTTP 403 violates PodSecurity {ev['level'] or 'baseline'}: {', '.join(expected)}"


def _judge_daemonset(facts: dict) -> tuple[list, dict, str]:
    """The DaemonSet is admitted (with a warning), its controller emits FailedCreate; after labelling
    the namespace privileged its pods run."""
    failures, ev = [], {}
    warning = facts["admission_warning"]
    ev["admission_warning"] = warning[:200]
    if "violate PodSecurity" not in warning and "violates PodSecurity" not in warning:
        failures.append(("no_warning", "no PodSecurity warning on DaemonSet creation"))
    pods = facts["pods_created"]
    if pods:
        failures.append(("pods_admitted", f"the controller created {len(pods)} pods in a namespace that enforces "
                                          f"Pod Security: {pods[:3]}"))
        ev["failed_create"] = None
        return failures, ev, ""
    ev["failed_create"] = facts["failed_create"][0]["message"][:200]
    after = facts["after_label"]
    if after["ready"]:
        ev["after_label"] = "pods running"
    else:
        # refused again after the label (a new FailedCreate, or one counted up): observed false;
        # otherwise nothing was observed in time: ERROR, the wait's own words
        counts = {e["metadata"]["uid"]: e.get("count") or 1 for e in facts["failed_create"]}
        again = [e for e in after["failed_create"] if (e.get("count") or 1) > counts.get(e["metadata"]["uid"], 0)]
        if not again:
            raise ClusterError(after["wait"])
        ev["after_label"] = "refused again"
        failures.append(("refused_after_label", "FailedCreate after labelling the namespace privileged: "
                                                + " ".join((again[-1].get("message") or "").split())[:200]))
    return failures, ev, "DaemonSet admitted with warning, FailedCreate, runs once labelled privileged"


def _restricted_ns(world, purpose):
    """A namespace at enforce=baseline: the cluster default when it is strict, else an explicit label."""
    default = world.env.cluster.facts.get("pod_security_default")
    return world.ns(purpose, psa=None if default in ("baseline", "restricted") else "baseline")


def _pod(world, name):
    return manifests.pod_from_daemonset(manifests.with_port(world.derived_ds(), world.ports.port_for("c9-pod")), name)


observer("c9-pod", "C9")(lambda world: run("c9-pod", "C9", judge, observe_pod, world.env,
                                           _restricted_ns(world, "c9-pod"), _pod(world, "blocked")))
observer("c9-pod-control", "C9")(lambda world: run("c9-pod-control", "C9", judge, observe_pod, world.env,
                                                   world.ns("c9-pod-control"), _pod(world, "admitted")))


@observer("c9-ds", "C9")
def _c9_daemonset(world):
    require_host_network(world)
    # on one worker: the gate answers for the DaemonSet, not per node (one pod fewer per sampled node)
    ds = manifests.one_node(world, manifests.with_port(world.derived_ds(), world.ports.port_for("c9-ds")), 1)
    return run("c9-ds", "C9", judge, observe_daemonset, world.env, _restricted_ns(world, "c9-ds"), ds)
