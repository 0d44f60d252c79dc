"""C15: one pod per node. Its spec is verdict.CLAIMS["C15"]; this module observes the cluster and judges."""
from __future__ import annotations

import time

from .. import placement
from ..environment import Env, ds_pods
from ..scenarios import observer
from ..verdict import Verdict
from ..world import ds_of
from .base import verdict

def judge_c15(ds: dict, nodes: list[dict], pods: list[dict]) -> tuple[list, dict, str]:
    """C15 on API JSON: the DaemonSet's status and pods against the nodes its controller should
    place a pod on (placement.expected_nodes). Returns (failures, evidence, summary)."""
    st = ds.get("status") or {}
    expected, excluded, may_stay = placement.expected_nodes(ds, nodes)
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


def check_c15(env: Env, ns: str, ds: str) -> Verdict:
    """One ready pod on each node the DaemonSet controller's own rules select (taints against the
    template's and the controller's tolerations, nodeSelector, required node affinity), none elsewhere."""
    t0 = time.monotonic()
    ser = env.cluster.api.sanitize_for_serialization
    obj = ser(env.cluster.apps.read_namespaced_daemon_set(ds, ns))
    nodes = [ser(n) for n in env.cluster.nodes()]
    pods = [ser(p) for p in ds_pods(env, ns, ds)]
    failures, ev, summary = judge_c15(obj, nodes, pods)
    return verdict("C15", failures, ev, summary, t0)


observer("c15", "C15")(lambda world: check_c15(world.env, *ds_of(world, "vendor")))
observer("c15-control", "C15")(lambda world: check_c15(world.env, *ds_of(world, "port-held")))
