"""C13: resources. Its spec is verdict.CLAIMS["C13"]; this module observes the cluster and judges."""
from __future__ import annotations

import time

from ..environment import Env, ds_pods, exec_pod
from ..scenarios import observer
from ..verdict import Verdict
from ..world import ds_of
from .base import verdict

WANT_RESOURCES = {"requests": {"memory": "64Mi", "cpu": "100m"}, "limits": {"memory": "128Mi", "cpu": "200m"}}


def check_c13(env: Env, ns: str, ds: str) -> Verdict:
    t0, failures, ev = time.monotonic(), [], {}
    pods = ds_pods(env, ns, ds)
    if not pods:
        return verdict("C13", [("no_pods", "no DaemonSet pods")], ev, "", t0)
    p = pods[0]
    res = p.spec.containers[0].resources
    got = {"requests": dict(res.requests or {}), "limits": dict(res.limits or {})}
    cg = exec_pod(env, p, "sh", "-c", "cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes")
    ev.update(pod=p.metadata.name, resources=got, qosClass=p.status.qos_class, cgroup_memory_limit=cg.stdout.strip())
    if got != WANT_RESOURCES:
        failures.append(("resources_differ", f"resources {got} != {WANT_RESOURCES}"))
    if p.status.qos_class != "Burstable":
        failures.append(("qos_differs", f"QoS class {p.status.qos_class}, not Burstable"))
    if cg.stdout.strip() != str(128 * 1024 * 1024):
        failures.append(("cgroup_limit_differs",
                         f"the container's cgroup memory limit is {cg.stdout.strip()!r}, not 134217728"))
    return verdict("C13", failures, ev, "64Mi/100m requests, 128Mi/200m limits (also in the cgroup), Burstable", t0)


observer("c13", "C13")(lambda world: check_c13(world.env, *ds_of(world, "vendor")))
observer("c13-control", "C13")(lambda world: check_c13(world.env, *ds_of(world, "guaranteed")))
