"""C14: the pod's hostname is the node's. Spec: verdict.CLAIMS["C14"].

Observed: the DaemonSet's pods and their nodes as the API serves them, and `hostname` run in each
pod. Judged: each pod's hostname is its node's Hostname address (with --hostname-override, as on
EKS or Bottlerocket, the node's name is not its OS hostname; upstream e2e compares with the address
too, k8s PR 126088); a node name that differs is an environment note in the summary, never a
failure. A `hostname` that did not exit 0 read nothing (ERROR)."""
from __future__ import annotations

from dataclasses import asdict

from .. import facts as cluster_facts
from ..environment import Env, exec_pods, exec_pod, node_json
from ..scenarios import observer
from ..world import ds_of
from .base import exec_failed, run, serialize


def observe(env: Env, ns: str, ds: str) -> dict:
    found = exec_pods(env, ns, ds)
    names = sorted({p.spec.node_name for p in found} - {None})
    return {"pods": serialize(found), "nodes": {n: node_json(env, n) for n in names},
            "hostname": {p.metadata.name: asdict(exec_pod(env, p, "hostname")) for p in found}}


def judge(facts: dict) -> tuple[list, dict, str]:
    failures, ev, renamed = [], {}, []
    for p in facts["pods"]:
        pod, r = p["metadata"]["name"], facts["hostname"][p["metadata"]["name"]]
        exec_failed(f"C14: `hostname` in {pod}", r)
        node = facts["nodes"].get((p.get("spec") or {}).get("nodeName"), {})
        hostname, want = r["stdout"].strip(), cluster_facts.os_hostname(node)
        name = (node.get("metadata") or {}).get("name", "")
        ev[pod] = {"hostname": hostname, "nodeName": name, "nodeHostnameAddress": want}
        if hostname != want:
            failures.append(("hostname_differs", f"{pod}: hostname {hostname!r} != the node's Hostname "
                                                 f"address {want!r} (nodeName {name!r})"))
        elif hostname != name:
            renamed.append(name)
    if not facts["pods"]:
        failures.append(("no_pods", "no DaemonSet pods"))
    ok = "hostname inside the container == the node's Hostname address"
    if renamed:
        ok += (f"; environment note: on {', '.join(sorted(renamed))} the node name is not the OS hostname "
               f"(kubelet --hostname-override), so the claim is judged on the node's Hostname address")
    return failures, ev, ok


observer("c14", "C14")(lambda world: run("c14", "C14", judge, observe, world.env, *ds_of(world, "vendor")))
observer("c14-control", "C14")(lambda world: run("c14-control", "C14", judge, observe, world.env,
                                                 *ds_of(world, "no-hostnet")))
