"""C13: requests and limits as written. Spec: verdict.CLAIMS["C13"].

Observed: the DaemonSet's pods as the API serves them, and in the first one its container's cgroup
memory limit (cgroup v2 memory.max, else v1 memory.limit_in_bytes). Judged: that pod's container
carries requests 64Mi/100m and limits 128Mi/200m, its QoS class is Burstable and its cgroup holds
the 128Mi limit. A cgroup read that did not exit 0 read nothing (ERROR)."""
from __future__ import annotations

from dataclasses import asdict

from ..environment import Env, exec_pods, exec_pod
from ..scenarios import observer
from ..world import ds_of
from .base import exec_failed, run, serialize

WANT_RESOURCES = {"requests": {"memory": "64Mi", "cpu": "100m"}, "limits": {"memory": "128Mi", "cpu": "200m"}}
CGROUP_LIMIT = "cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes"


def observe(env: Env, ns: str, ds: str) -> dict:
    found = exec_pods(env, ns, ds)
    facts: dict = {"pods": serialize(found)}
    if found:
        facts["cgroup_memory_limit"] = asdict(exec_pod(env, found[0], "sh", "-c", CGROUP_LIMIT))
    return facts


def judge(facts: dict) -> tuple[list, dict, str]:
    failures, ev = [], {}
    if not facts["pods"]:
        return [("no_pods", "no DaemonSet pods")], ev, ""
    p = facts["pods"][0]
    name, cg = p["metadata"]["name"], facts["cgroup_memory_limit"]
    # both files unreadable, or no exit status at all: the limit was not seen, so it cannot differ
    exec_failed(f"C13: reading the cgroup memory limit in {name}", cg)
    res = (p["spec"]["containers"][0].get("resources") or {})
    got = {"requests": dict(res.get("requests") or {}), "limits": dict(res.get("limits") or {})}
    qos, limit = (p.get("status") or {}).get("qosClass"), cg["stdout"].strip()
    ev.update(pod=name, resources=got, qosClass=qos, cgroup_memory_limit=limit)
    if got != WANT_RESOURCES:
        failures.append(("resources_differ", f"resources {got} != {WANT_RESOURCES}"))
    if qos != "Burstable":
        failures.append(("qos_differs", f"QoS class {qos}, not Burstable"))
    if limit != str(128 * 1024 * 1024):
        failures.append(("cgroup_limit_differs", f"the container's cgroup memory limit is {limit!r}, not 134217728"))
    return failures, ev, "64Mi/100m requests, 128Mi/200m limits (also in the cgroup), Burstable"


observer("c13", "C13")(lambda world: run("c13", "C13", judge, observe, world.env, *ds_of(world, "vendor")))
observer("c13-control", "C13")(lambda world: run("c13-control", "C13", judge, observe, world.env,
                                                 *ds_of(world, "guaranteed")))
