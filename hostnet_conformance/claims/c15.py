"""C15: one pod per node. Spec: verdict.CLAIMS["C15"].

Observed: the DaemonSet, every node and the DaemonSet's pods, as the API serves them. Judged: one
ready pod on each node the DaemonSet controller's own rules select (placement.expected_nodes: taints
against the template's and the controller's tolerations, nodeSelector, required node affinity),
none elsewhere, and the DaemonSet's desired/current/ready counts equal to those nodes."""
from __future__ import annotations

from .. import kube, placement
from ..environment import Env, selector_of
from ..scenarios import observer
from ..world import ds_of
from .base import run, serialize


def observe(env: Env, ns: str, ds: str) -> dict:
    obj = env.cluster.apps.read_namespaced_daemon_set(ds, ns)
    # the nodes and pods as the API serves them (kube.list_json: not decoded, at 300 nodes)
    return {"daemonset": serialize(obj), "nodes": kube.list_json(env.core.list_node),
            "pods": kube.list_json(env.core.list_namespaced_pod, ns, label_selector=selector_of(obj))}


def judge(facts: dict) -> tuple[list, dict, str]:
    ds, pods = facts["daemonset"], facts["pods"]
    st = ds.get("status") or {}
    expected, excluded, may_stay = placement.expected_nodes(ds, facts["nodes"])
    live = [p for p in pods if not (p.get("metadata") or {}).get("deletionTimestamp")]
    placed = sorted((p.get("spec") or {}).get("nodeName") for p in live if (p.get("spec") or {}).get("nodeName"))
    ready_on = sorted((p.get("spec") or {}).get("nodeName") for p in live
                      if any(c.get("type") == "Ready" and c.get("status") == "True"
                             for c in (p.get("status") or {}).get("conditions") or []))
    desired, current, ready = (st.get("desiredNumberScheduled"), st.get("currentNumberScheduled"),
                               st.get("numberReady"))
    ev = {"desired": desired, "current": current, "ready": ready, "expected_nodes": expected,
          "excluded_nodes": excluded, "pods_on": placed, "ready_on": ready_on}
    failures = []
    if not (desired == current == ready == len(expected)):
        failures.append(("counts_differ", f"desired/current/ready {desired}/{current}/{ready} != "
                                          f"{len(expected)} nodes the DaemonSet controller should place a pod on"))
    missing = [n for n in expected if n not in placed]
    extra = [n for n in placed if n not in expected and n not in may_stay]
    twice = sorted({n for n in placed if placed.count(n) > 1})
    if missing or extra or twice:
        failures.append(("placement_differs", "; ".join(x for x in (
            f"no pod on {missing}" if missing else "", f"pods on {extra}, which should run none" if extra else "",
            f"more than one pod on {twice}" if twice else "") if x)))
    not_ready = [n for n in expected if n in placed and n not in ready_on]
    if not_ready:
        failures.append(("not_ready", f"the pod on {not_ready} is not ready"))
    return failures, ev, f"one ready pod on each of the {len(expected)} nodes the DaemonSet controller selects"


observer("c15", "C15")(lambda world: run("c15", "C15", judge, observe, world.env, *ds_of(world, "vendor")))
observer("c15-control", "C15")(lambda world: run("c15-control", "C15", judge, observe, world.env,
                                                 *ds_of(world, "port-held")))
