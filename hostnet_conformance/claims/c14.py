"""C14: hostname. Its spec is verdict.CLAIMS["C14"]; this module observes the cluster and judges."""
from __future__ import annotations

import time

from .. import facts as cluster_facts
from ..environment import Env, ds_pods, exec_pod, node_json
from ..scenarios import observer
from ..verdict import Verdict
from ..world import ds_of
from .base import verdict

def judge_c14(seen: list[tuple[str, str, dict]]) -> tuple[list, dict, str]:
    """C14 on what was observed: (pod name, `hostname` inside it, its node's JSON) per DaemonSet pod.
    The node's Hostname address decides (with --hostname-override, as on EKS or Bottlerocket, the
    node's name is not its OS hostname; upstream e2e compares with the address too, k8s PR 126088);
    a node name that differs is an environment note in the summary, never a failure."""
    failures, ev, renamed = [], {}, []
    for pod, hostname, node in seen:
        name = (node.get("metadata") or {}).get("name", "")
        want = cluster_facts.os_hostname(node)
        ev[pod] = {"hostname": hostname, "nodeName": name, "nodeHostnameAddress": want}
        if hostname != want:
            failures.append(("hostname_differs", f"{pod}: hostname {hostname!r} != the node's Hostname "
                                                 f"address {want!r} (nodeName {name!r})"))
        elif hostname != name:
            renamed.append(name)
    if not seen:
        failures.append(("no_pods", "no DaemonSet pods"))
    ok = "hostname inside the container == the node's Hostname address"
    if renamed:
        ok += (f"; environment note: on {', '.join(sorted(renamed))} the node name is not the OS hostname "
               f"(kubelet --hostname-override), so the claim is judged on the node's Hostname address")
    return failures, ev, ok


def check_c14(env: Env, ns: str, ds: str) -> Verdict:
    t0 = time.monotonic()
    seen = [(p.metadata.name, exec_pod(env, p, "hostname").stdout.strip(), node_json(env, p.spec.node_name))
            for p in ds_pods(env, ns, ds)]
    failures, ev, ok = judge_c14(seen)
    return verdict("C14", failures, ev, ok, t0)


observer("c14", "C14")(lambda world: check_c14(world.env, *ds_of(world, "vendor")))
observer("c14-control", "C14")(lambda world: check_c14(world.env, *ds_of(world, "no-hostnet")))
