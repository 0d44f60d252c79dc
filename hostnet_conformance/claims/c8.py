"""C8: port in use on the node. Its spec is verdict.CLAIMS["C8"]; this module observes the cluster and judges."""
from __future__ import annotations

import time

from kubernetes import client

from .. import kube, probes, signals
from ..environment import Env
from ..scenarios import observer
from ..verdict import Verdict
from ..waiting import wait_until
from .base import verdict

def check_c8(env: Env, ns: str, pod: str, timeout: float = 120, stable_after: float = 2,
             silent_stable_after: float = 30) -> Verdict:
    """A container whose port a node process holds exits 1 with 'bind: address already in use',
    then CrashLoopBackOff."""
    t0, failures, ev = time.monotonic(), [], {}

    def listening() -> bool:
        try:
            return "Listening on" in env.core.read_namespaced_pod_log(pod, ns, tail_lines=50)
        except client.ApiException:
            return False

    def crashed():
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
            return p if up >= silent_stable_after or (up >= stable_after and listening()) else None
        waiting = cs.state.waiting and cs.state.waiting.reason == "CrashLoopBackOff"
        return p if waiting and cs.last_state.terminated else None

    p = wait_until(crashed, timeout=timeout, what=f"{ns}/{pod} to crash-loop",
                   describe=lambda: kube.describe_pods(env.core, ns), retry_on=(client.ApiException,),
                   terminal=lambda: signals.observe(env.core, ns, names=[pod], allow=lambda s: s.code in (
                       "crash_loop", "container_exited")))
    cs = p.status.container_statuses[0]
    term = cs.last_state.terminated
    log = _previous_log(env, ns, pod) if term else ""   # a container that never ended left no previous log
    ev.update(state=cs.state.waiting.reason if cs.state.waiting else "running",
              last_exit_code=term.exit_code if term else None, restarts=cs.restart_count,
              log_tail=[ln for ln in log.splitlines() if "address already in use" in ln][:1] or log.splitlines()[-1:])
    if not (cs.state.waiting and cs.state.waiting.reason == "CrashLoopBackOff"):
        failures.append(("not_crashlooping", "container is not in CrashLoopBackOff"))
    if not term or term.exit_code != 1:
        failures.append(("wrong_exit_code", f"last exit code {term and term.exit_code}, not 1"))
    if "bind: address already in use" not in log:
        failures.append(("no_bind_error", "previous log lacks 'bind: address already in use'"))
    return verdict("C8", failures, ev, "exit 1, 'bind: address already in use', CrashLoopBackOff", t0)


def reserved_ports(env: Env, node_probes: dict) -> dict:
    return {node: probes.reserved_ports_report(probes.listening_ports(env.core, pr)) for node, pr in node_probes.items()}


UNRETRIEVABLE = "unable to retrieve container logs"


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


@observer("c8", "C8")
def _held_by_the_kubelet(world):
    ns = world.scenario("c8")   # the vendor's pod bound to the first worker, on the kubelet's port
    v = check_c8(world.env, ns, "pinned")
    v.evidence["reserved_ports_bound"] = reserved_ports(world.env, world.node_probes)
    return v


observer("c8-control", "C8")(lambda world: check_c8(world.env, world.scenario("c8-control"), "pinned"))
