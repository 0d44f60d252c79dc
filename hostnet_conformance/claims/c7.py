"""C7: port conflict. Spec: verdict.CLAIMS["C7"].

Observed, two kinds of thing ("kind" in the facts). The scheduler's verdict: a second DaemonSet's
pods and the namespace's events, as the API serves them, once every pod has settled (Running, or
a PodScheduled condition written) and either a FailedScheduling event "didn't have free ports" came
or a pod runs; any other Unschedulable reason ends the wait as ERROR. The kubelet's verdict: a pod
bound by spec.nodeName (no scheduler), once it is Failed, Running or Succeeded.

Judged: every pod of the second DaemonSet is Pending with PodScheduled False/Unschedulable and a
FailedScheduling event says no free ports; the bound pod is Failed with reason NodePorts."""
from __future__ import annotations

from kubernetes import client

from .. import kube, signals
from ..environment import Env, ds_pods, ds_selector, ds_state
from ..scenarios import observer
from ..waiting import wait_until
from .base import run, scheduled, serialize

NO_FREE_PORTS = "didn't have free ports for the requested pod ports"


def observe_scheduler(env: Env, ns: str, ds: str, timeout: float = 60) -> dict:
    def settled(p) -> bool:
        # the event can arrive before the pod's condition is written: wait for the condition itself
        if p.status.phase == "Running":
            return True
        return scheduled(p) is not None

    def observed():
        pods = ds_pods(env, ns, ds)
        if not pods or not all(settled(p) for p in pods):
            return None
        evs = kube.events(env.core, ns)
        no_free_ports = [e for e in evs if e.reason == "FailedScheduling" and NO_FREE_PORTS in (e.message or "")]
        running = [p for p in pods if p.status.phase == "Running"]
        return (pods, evs) if no_free_ports or running else None

    # the one Unschedulable reason this claim waits for; any other settles the wait as ERROR, and so
    # does a wait that runs out (WaitTimeout, with the pods' last state)
    pods, evs = wait_until(observed, timeout=timeout, what=f"a scheduling verdict for {ns}/{ds}",
                           describe=lambda: ds_state(env, ns, ds), retry_on=(client.ApiException,),
                           terminal=lambda: signals.observe(
                               env.core, ns, selector=ds_selector(env, ns, ds),
                               allow=lambda s: s.code == "unschedulable" and "free ports" in s.message))
    return {"kind": "scheduler", "pods": serialize(pods), "events": serialize(evs)}


def observe_kubelet(env: Env, ns: str, pod: str, timeout: float = 60) -> dict:
    def settled():
        p = env.core.read_namespaced_pod(pod, ns)
        return p if p.status.phase in ("Failed", "Running", "Succeeded") else None

    p = wait_until(settled, timeout=timeout, what=f"the kubelet's verdict on {ns}/{pod}",
                   describe=lambda: kube.describe_pods(env.core, ns), retry_on=(client.ApiException,),
                   terminal=lambda: signals.observe(
                       env.core, ns, names=[pod],
                       allow=lambda s: s.code == "pod_failed" and s.message.startswith("NodePorts")))
    return {"kind": "kubelet", "pod": serialize(p)}


def _pod_scheduled(p: dict) -> dict | None:
    return next((c for c in (p.get("status") or {}).get("conditions") or [] if c["type"] == "PodScheduled"), None)


def judge_scheduler(facts: dict) -> tuple[list, dict, str]:
    failures, ev = [], {}
    for p in facts["pods"]:
        name, phase, sched = p["metadata"]["name"], (p.get("status") or {}).get("phase"), _pod_scheduled(p)
        status, reason = (sched.get("status"), sched.get("reason")) if sched else (None, None)
        ev[name] = {"phase": phase, "PodScheduled": sched and f"{status}/{reason}"}
        if phase != "Pending" or not sched or status != "False" or reason != "Unschedulable":
            failures.append(("scheduled", f"{name}: phase {phase}, PodScheduled {sched and (status, reason)}"))
    evs = [e for e in facts["events"]
           if e.get("reason") == "FailedScheduling" and NO_FREE_PORTS in (e.get("message") or "")]
    ev["event"] = evs[0]["message"][:200] if evs else None
    if not evs:
        failures.append(("no_failed_scheduling", f"no FailedScheduling event containing {NO_FREE_PORTS!r}"))
    return failures, ev, "Pending, Unschedulable, FailedScheduling: no free ports"


def judge_kubelet(facts: dict) -> tuple[list, dict, str]:
    failures, st = [], facts["pod"].get("status") or {}
    ev = {"phase": st.get("phase"), "reason": st.get("reason"), "message": (st.get("message") or "")[:200]}
    if st.get("phase") != "Failed" or st.get("reason") != "NodePorts":
        failures.append(("not_rejected", f"phase {st.get('phase')} reason {st.get('reason')}, not Failed/NodePorts"))
    return failures, ev, "kubelet rejected the pod: Failed, reason NodePorts"


def judge(facts: dict) -> tuple[list, dict, str]:
    return (judge_kubelet if facts["kind"] == "kubelet" else judge_scheduler)(facts)


# the vendor's DaemonSet again, as "second-exporter": on 20000 (the claim), on a free port (control)
observer("c7", "C7")(lambda world: run("c7", "C7", judge, observe_scheduler, world.env, world.scenario("c7"),
                                       "second-exporter"))
observer("c7-control", "C7")(lambda world: run("c7-control", "C7", judge, observe_scheduler, world.env,
                                               world.scenario("c7-control"), "second-exporter"))


@observer("c7-kubelet", "C7")
def _c7_kubelet(world):
    # made only after the second DaemonSet's verdict: once the kubelet rejects this pod, the scheduler
    # forgets that 20000 is taken on its node (scenarios.py)
    world.await_observation("c7")
    ns = world.scenario("c7-kubelet")   # the vendor's pod bound to the first worker, on 20000
    return run("c7-kubelet", "C7", judge, observe_kubelet, world.env, ns, "pinned")


observer("c7-kubelet-control", "C7")(   # bound to the first worker, on a free port: C8's control pod
    lambda world: run("c7-kubelet-control", "C7", judge, observe_kubelet, world.env,
                      world.scenario("c8-control"), "pinned"))
