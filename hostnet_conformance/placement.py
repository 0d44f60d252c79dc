"""Which nodes should run a DaemonSet pod: the DaemonSet controller's own decision, on API JSON.

Kubernetes v1.34 (pkg/controller/daemon/daemon_controller.go `predicates`): a node should run the
pod when the template's nodeName (if any) is the node, its nodeSelector and required node affinity
match the node, and no NoSchedule/NoExecute taint of the node is left untolerated by the template's
tolerations plus those the controller adds to every DaemonSet pod (util.AddOrUpdateDaemonPodTolerations):
not-ready and unreachable (NoExecute); disk-, memory- and pid-pressure and unschedulable (NoSchedule);
network-unavailable (NoSchedule) for host-network pods. A cordoned node therefore gets a pod, a
NotReady one (its `not-ready:NoSchedule` taint) does not get a new one. A pod already running on a
node whose only untolerated taints are NoSchedule may stay (shouldContinueRunning)."""
from __future__ import annotations

DAEMON_TOLERATIONS = [
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/disk-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/memory-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/pid-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"},
]
NETWORK_UNAVAILABLE = {"key": "node.kubernetes.io/network-unavailable", "operator": "Exists", "effect": "NoSchedule"}


def tolerates(toleration: dict, taint: dict) -> bool:
    """v1.Toleration.ToleratesTaint."""
    if toleration.get("effect") and toleration["effect"] != taint.get("effect"):
        return False
    if toleration.get("key") and toleration["key"] != taint.get("key"):
        return False
    if toleration.get("operator") == "Exists":
        return True
    return (toleration.get("value") or "") == (taint.get("value") or "")   # "Equal" or unset


def pod_tolerations(pod_spec: dict) -> list[dict]:
    extra = DAEMON_TOLERATIONS + ([NETWORK_UNAVAILABLE] if pod_spec.get("hostNetwork") else [])
    return list(pod_spec.get("tolerations") or []) + extra


def _requirement(req: dict, value_of) -> bool:
    op, values = req.get("operator"), req.get("values") or []
    present, v = value_of(req.get("key"))
    if op == "In":
        return present and v in values
    if op == "NotIn":
        return not present or v not in values
    if op == "Exists":
        return present
    if op == "DoesNotExist":
        return not present
    if op in ("Gt", "Lt") and present and len(values) == 1:
        try:
            a, b = int(v), int(values[0])
        except ValueError:
            return False
        return a > b if op == "Gt" else a < b
    return False


def _term(term: dict, node: dict) -> bool:
    labels = (node.get("metadata") or {}).get("labels") or {}
    exprs, fields = term.get("matchExpressions") or [], term.get("matchFields") or []
    if not exprs and not fields:
        return False   # an empty term matches no node
    by_label = lambda k: (k in labels, labels.get(k))  # noqa: E731
    by_field = lambda k: (k == "metadata.name", (node.get("metadata") or {}).get("name"))  # noqa: E731
    return all(_requirement(r, by_label) for r in exprs) and all(_requirement(r, by_field) for r in fields)


def affinity_matches(pod_spec: dict, node: dict) -> tuple[bool, str]:
    labels = (node.get("metadata") or {}).get("labels") or {}
    for k, v in (pod_spec.get("nodeSelector") or {}).items():
        if labels.get(k) != v:
            return False, f"nodeSelector {k}={v} (node has {labels.get(k)!r})"
    required = (((pod_spec.get("affinity") or {}).get("nodeAffinity") or {})
                .get("requiredDuringSchedulingIgnoredDuringExecution") or {})
    terms = required.get("nodeSelectorTerms")
    if terms is not None and not any(_term(t, node) for t in terms):
        return False, "required node affinity does not match"
    return True, ""


def untolerated(pod_spec: dict, node: dict) -> list[dict]:
    tols = pod_tolerations(pod_spec)
    return [t for t in (node.get("spec") or {}).get("taints") or []
            if t.get("effect") in ("NoSchedule", "NoExecute") and not any(tolerates(x, t) for x in tols)]


def should_run(pod_spec: dict, node: dict) -> tuple[bool, bool, str]:
    """(shouldRun, shouldContinueRunning, why not) for one node, as the DaemonSet controller decides."""
    name = (node.get("metadata") or {}).get("name")
    if pod_spec.get("nodeName") and pod_spec["nodeName"] != name:
        return False, False, f"the template's nodeName is {pod_spec['nodeName']}"
    fits, why = affinity_matches(pod_spec, node)
    if not fits:
        return False, False, why
    taints = untolerated(pod_spec, node)
    if taints:
        text = ", ".join(f"{t.get('key')}{'=' + t['value'] if t.get('value') else ''}:{t.get('effect')}" for t in taints)
        return False, all(t.get("effect") == "NoSchedule" for t in taints), f"untolerated taint {text}"
    return True, True, ""


def expected_nodes(daemonset: dict, nodes: list[dict]) -> tuple[list[str], dict[str, str], list[str]]:
    """(nodes that should run a pod, {excluded node: why}, nodes where a running pod may stay)."""
    spec = ((daemonset.get("spec") or {}).get("template") or {}).get("spec") or {}
    run, why_not, may_stay = [], {}, []
    for n in nodes:
        name = n["metadata"]["name"]
        ok, stay, why = should_run(spec, n)
        if ok:
            run.append(name)
        else:
            why_not[name] = why
            if stay:
                may_stay.append(name)
    return sorted(run), why_not, sorted(may_stay)
