"""C8: port in use on the node. Spec: verdict.CLAIMS["C8"].

Observed: a pod bound to a node, on a port a node process holds (the claim: the kubelet's port,
scenarios.c8) or on a free one (the control), as the API serves it once the wait decided
("settled"): "crash_loop" (CrashLoopBackOff after a run that ended) or "running" (the exporter said
it listens and ran on for a while, or ran long enough for an image that never says so). Then the
ended container's log, if one ended; the port of its node's kubelet and where that came from; and
for the claim, the ports bound on each node (evidence only).

Judged: the container is in CrashLoopBackOff, its last run exited 1, and its log says
'bind: address already in use'."""
from __future__ import annotations

import time

from kubernetes import client

from .. import kube, probes, signals
from ..environment import Env, kubelet_of
from ..scenarios import observer
from ..waiting import wait_until
from .base import run, serialize

UNRETRIEVABLE = "unable to retrieve container logs"
BIND_ERROR = "bind: address already in use"


def _previous_log(env: Env, ns: str, pod: str, timeout: float = 20) -> str:
    """The ended container's log. The kubelet can answer for a while with its own words instead
    (seen in CI: 'unable to retrieve container logs for containerd://<id>'): that is no log, so
    ask again until the deadline, then ERROR quoting it (WaitTimeout), never 'the log lacks ...'."""
    last: list = []

    def read():
        try:
            text = env.core.read_namespaced_pod_log(pod, ns, previous=True, tail_lines=20)
        except client.ApiException as e:
            last.append(f"HTTP {e.status}: {kube.api_message(e)}")
            return None
        if text.startswith(UNRETRIEVABLE):
            last.append(text.strip())
            return None
        return (text,)   # an empty log is an answer too

    return wait_until(read, timeout=timeout, what=f"the log of the ended container of {ns}/{pod}",
                      describe=lambda: last[-1] if last else "no answer")[0]


def observe(env: Env, ns: str, pod: str, node_probes: dict | None = None, timeout: float = 120,
            stable_after: float = 2, silent_stable_after: float = 30) -> dict:
    def listening() -> bool:
        try:
            return "Listening on" in env.core.read_namespaced_pod_log(pod, ns, tail_lines=50)
        except client.ApiException:
            return False

    def settled():
        p = env.core.read_namespaced_pod(pod, ns)
        cs = (p.status.container_statuses or [None])[0]
        if cs is None:
            return None
        if cs.state.running and cs.restart_count == 0 and cs.state.running.started_at:
            # no crash coming once the exporter said it listens (node_exporter logs "Listening on"
            # after binding; before 1.0 just before, so a bind error would follow within ms) and ran
            # on for `stable_after` s, or after `silent_stable_after` s for an image that never says
            # so. A time alone is not enough: a starved node can take seconds to reach the bind.
            up = time.time() - cs.state.running.started_at.timestamp()
            return ("running", p) if up >= silent_stable_after or (up >= stable_after and listening()) else None
        waiting = cs.state.waiting and cs.state.waiting.reason == "CrashLoopBackOff"
        return ("crash_loop", p) if waiting and cs.last_state.terminated else None

    how, p = wait_until(settled, timeout=timeout, what=f"{ns}/{pod} to crash-loop",
                        describe=lambda: kube.describe_pods(env.core, ns), retry_on=(client.ApiException,),
                        terminal=lambda: signals.observe(env.core, ns, names=[pod], allow=lambda s: s.code in (
                            "crash_loop", "container_exited")))
    ended = p.status.container_statuses[0].last_state.terminated
    k = kubelet_of(env, p.spec.node_name)
    facts = {"settled": how, "pod": serialize(p),
             # a container that never ended left no previous log
             "previous_log": _previous_log(env, ns, pod) if ended else None,
             # a kubelet port from its defaults is a guess: the evidence says so beside a FAIL
             "kubelet": {"port": k.port, "source": k.source}}
    if node_probes is not None:
        facts["listening_ports"] = {node: sorted(probes.listening_ports(env.core, pr))
                                    for node, pr in node_probes.items()}
    return facts


def judge(facts: dict) -> tuple[list, dict, str]:
    failures = []
    cs = ((facts["pod"].get("status") or {}).get("containerStatuses") or [{}])[0]
    waiting, term = (cs.get("state") or {}).get("waiting"), (cs.get("lastState") or {}).get("terminated")
    log = facts["previous_log"] or ""
    crash_looping = bool(waiting) and waiting.get("reason") == "CrashLoopBackOff"
    ev = {"state": waiting.get("reason") if waiting else "running",
          "last_exit_code": term.get("exitCode") if term else None, "restarts": cs.get("restartCount"),
          "log_tail": [ln for ln in log.splitlines() if "address already in use" in ln][:1] or log.splitlines()[-1:]}
    if not crash_looping:
        failures.append(("not_crashlooping", "container is not in CrashLoopBackOff"))
    if not term or term.get("exitCode") != 1:
        failures.append(("wrong_exit_code", f"last exit code {term and term.get('exitCode')}, not 1"))
    if BIND_ERROR not in log:
        failures.append(("no_bind_error", f"previous log lacks '{BIND_ERROR}'"))
    if "kubelet" in facts:
        ev.update(kubelet_port=facts["kubelet"]["port"], kubelet_facts=facts["kubelet"]["source"])
    if "listening_ports" in facts:
        ev["reserved_ports_bound"] = {node: probes.reserved_ports_report(set(ports))
                                      for node, ports in facts["listening_ports"].items()}
    on = f"on the kubelet's port {facts['kubelet']['port']}: " if "kubelet" in facts else ""
    return failures, ev, f"{on}exit 1, '{BIND_ERROR}', CrashLoopBackOff"


# the vendor's pod bound to the first worker, on the kubelet's port (the claim); on a free port (control)
observer("c8", "C8")(lambda world: run("c8", "C8", judge, observe, world.env, world.scenario("c8"), "pinned",
                                       world.node_probes))
observer("c8-control", "C8")(lambda world: run("c8-control", "C8", judge, observe, world.env,
                                               world.scenario("c8-control"), "pinned"))
