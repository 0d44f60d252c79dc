"""C1: the pod shares the node's network namespace. Spec: verdict.CLAIMS["C1"].

Observed: the DaemonSet's pods and their nodes, as the API serves them. Judged: every pod's podIPs
equal its hostIPs and lie among its node's InternalIPs, as sets (a dual-stack node has one address
per family, in any order)."""
from __future__ import annotations

from .. import facts as cluster_facts
from .. import kube
from ..environment import Env, ds_selector
from ..scenarios import observer
from ..world import ds_of
from .base import run


def observe(env: Env, ns: str, ds: str) -> dict:
    # as the API serves them, in one list each (not one GET per node: 302 at 300 simulated nodes)
    pods = kube.list_json(env.core.list_namespaced_pod, ns, label_selector=ds_selector(env, ns, ds))
    names = {(p.get("spec") or {}).get("nodeName") for p in pods} - {None}
    nodes = {n["metadata"]["name"]: n for n in kube.list_json(env.core.list_node) if n["metadata"]["name"] in names}
    return {"pods": pods, "nodes": dict(sorted(nodes.items()))}


def judge(facts: dict) -> tuple[list, dict, str]:
    failures, ev = [], {}
    pods = facts["pods"]
    if not pods:
        failures.append(("no_pods", "no DaemonSet pods"))
    for p in pods:
        name, node = p["metadata"]["name"], (p.get("spec") or {}).get("nodeName")
        st = p.get("status") or {}
        pod_ips = [x["ip"] for x in st.get("podIPs") or []]
        host_ips = sorted(x["ip"] for x in st.get("hostIPs") or []) or [st.get("hostIP")]
        internal = sorted(cluster_facts.addresses(facts["nodes"][node], "InternalIP")) if node else []
        ev[node] = {"podIP": st.get("podIP"), "hostIP": st.get("hostIP"), "podIPs": pod_ips, "hostIPs": host_ips,
                    "nodeInternalIPs": internal}
        if not pod_ips or set(pod_ips) != set(host_ips) or not set(pod_ips) <= set(internal):
            failures.append(("pod_ip_not_node_ip", f"{name}: podIPs {sorted(pod_ips)} != hostIPs "
                                                   f"{host_ips} / node InternalIPs {internal}"))
    ok = f"podIP == hostIP == node InternalIP for {len(pods)} pods"
    dual = [p for p in pods if len({":" in x["ip"] for x in (p.get("status") or {}).get("podIPs") or []}) == 2]
    if dual:
        ok += f"; dual-stack: {len(dual)} of them have an IPv4 and an IPv6 podIP, compared as sets"
    return failures, ev, ok


observer("c1", "C1")(lambda world: run("c1", "C1", judge, observe, world.env, *ds_of(world, "vendor")))
observer("c1-control", "C1")(lambda world: run("c1-control", "C1", judge, observe, world.env,
                                               *ds_of(world, "no-hostnet")))
