"""C7: port conflict. Its spec is verdict.CLAIMS["C7"]; this module observes the cluster and judges."""
from __future__ import annotations

import time

from kubernetes import client

from .. import kube, signals
from ..environment import Env, ds_pods, ds_selector, ds_state
from ..scenarios import observer
from ..verdict import Verdict
from ..waiting import wait_until
from .base import scheduled, verdict

def check_c7_scheduler(env: Env, ns: str, ds: str, timeout: float = 60) -> Verdict:
    """Pods of a DaemonSet whose host port is taken stay Pending: Unschedulable + FailedScheduling."""
    t0, failures, ev = time.monotonic(), [], {}
    needle = "didn't have free ports for the requested pod ports"

    def settled(p) -> bool:
        # the event can arrive before the pod's condition is written: wait for the condition itself
        if p.status.phase == "Running":
            return True
        return scheduled(p) is not None

    def observed():
        pods = ds_pods(env, ns, ds)
        if not pods or not all(settled(p) for p in pods):
            return None
        evs = [e for e in kube.events(env.core, ns) if e.reason == "FailedScheduling" and needle in (e.message or "")]
        running = [p for p in pods if p.status.phase == "Running"]
        return (pods, evs) if evs or running else None

    # the one Unschedulable reason this claim waits for; any other settles the wait as ERROR, and so
    # does a wait that runs out (WaitTimeout, with the pods' last state)
    pods, evs = wait_until(observed, timeout=timeout, what=f"a scheduling verdict for {ns}/{ds}",
                           describe=lambda: ds_state(env, ns, ds), retry_on=(client.ApiException,),
                           terminal=lambda: signals.observe(
                               env.core, ns, selector=ds_selector(env, ns, ds),
                               allow=lambda s: s.code == "unschedulable" and "free ports" in s.message))
    for p in pods:
        sched = scheduled(p)
        ev[p.metadata.name] = {"phase": p.status.phase, "PodScheduled": sched and f"{sched.status}/{sched.reason}"}
        if p.status.phase != "Pending" or not sched or sched.status != "False" or sched.reason != "Unschedulable":
            failures.append(("scheduled", f"{p.metadata.name}: phase {p.status.phase}, PodScheduled "
                                          f"{sched and (sched.status, sched.reason)}"))
    ev["event"] = evs[0].message[:200] if evs else None
    if not evs:
        failures.append(("no_failed_scheduling", f"no FailedScheduling event containing {needle!r}"))
    return verdict("C7", failures, ev, "Pending, Unschedulable, FailedScheduling: no free ports", t0)


def check_c7_kubelet(env: Env, ns: str, pod: str, timeout: float = 60) -> Verdict:
    """A pod bound by spec.nodeName (no scheduler) to a node whose port is taken: kubelet rejects it."""
    t0, failures, ev = time.monotonic(), [], {}

    def settled():
        p = env.core.read_namespaced_pod(pod, ns)
        return p if p.status.phase in ("Failed", "Running", "Succeeded") else None

    p = wait_until(settled, timeout=timeout, what=f"the kubelet's verdict on {ns}/{pod}",
                   describe=lambda: kube.describe_pods(env.core, ns), retry_on=(client.ApiException,),
                   terminal=lambda: signals.observe(
                       env.core, ns, names=[pod],
                       allow=lambda s: s.code == "pod_failed" and s.message.startswith("NodePorts")))
    ev.update(phase=p.status.phase, reason=p.status.reason, message=(p.status.message or "")[:200])
    if p.status.phase != "Failed" or p.status.reason != "NodePorts":
        failures.append(("not_rejected", f"phase {p.status.phase} reason {p.status.reason}, not Failed/NodePorts"))
    return verdict("C7", failures, ev, "kubelet rejected the pod: Failed, reason NodePorts", t0)


# the vendor's DaemonSet again, as "second-exporter": on 20000 (the claim), on a free port (control)
observer("c7", "C7")(lambda world: check_c7_scheduler(world.env, world.scenario("c7"), "second-exporter"))
observer("c7-control", "C7")(lambda world: check_c7_scheduler(world.env, world.scenario("c7-control"),
                                                              "second-exporter"))


@observer("c7-kubelet", "C7")
def _c7_kubelet(world):
    # made only after the second DaemonSet's verdict: once the kubelet rejects this pod, the scheduler
    # forgets that 20000 is taken on its node (scenarios.py)
    world.await_observation("c7")
    ns = world.scenario("c7-kubelet")   # the vendor's pod bound to the first worker, on 20000
    return check_c7_kubelet(world.env, ns, "pinned")


observer("c7-kubelet-control", "C7")(   # bound to the last worker, on a free port
    lambda world: check_c7_kubelet(world.env, world.scenario("c7-kubelet-control"), "pinned"))
