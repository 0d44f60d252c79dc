"""Terminal signals: what the cluster says that settles a wait before its deadline.

A wait on a pod or a DaemonSet ends as soon as one of these appears, quoting the cluster:
  image_pull        ErrImagePull / ImagePullBackOff / InvalidImageName / ErrImageNeverPull
  container_config  CreateContainerConfigError / CreateContainerError / RunContainerError (the
                    runtime's failure to start the container: terminal once the kubelet's retry
                    failed too; a first failure can be a race with the pod's sandbox, seen:
                    "namespace path: lstat /proc/0/ns/ipc", and the kubelet's retry starts it)
  crash_loop        CrashLoopBackOff, with the line of the previous log that explains it
  container_exited  a container of a restartPolicy=Never pod exited non-zero
  pod_failed        the pod's phase is Failed (e.g. the kubelet's NodePorts admission)
  unschedulable     PodScheduled=False/Unschedulable, with the scheduler's message
  failed_create     a controller's FailedCreate event (admission denials quote the policy)
  image_pull_event  a kubelet 'Failed to pull image' event (before the status shows it)

The functions take the API's own JSON (dicts, as `kubectl get -o json` prints them, or a live
object through ApiClient.sanitize_for_serialization), so the decisions are unit-tested on
recorded objects. A claim that waits FOR one of these signals passes `allow`, so the signal
it expects is never mistaken for an error.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

IMAGE_PULL = {"ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull"}
CONTAINER_CONFIG = {"CreateContainerConfigError", "CreateContainerError", "RunContainerError"}
EXPLAINS = re.compile(r"error|fatal|fail|panic|denied|refused|in use|not found|no such", re.I)


@dataclass(frozen=True)
class Signal:
    code: str
    message: str              # the cluster's own words
    pod: str | None = None
    node: str | None = None
    container: str | None = None

    def __str__(self) -> str:
        where = " ".join(x for x in (
            f"pod {self.pod}" if self.pod else "",
            f"container {self.container}" if self.container else "",
            f"on node {self.node}" if self.node else "") if x)
        return f"{where}: {self.code}: {self.message}" if where else f"{self.code}: {self.message}"


def explaining_line(log: str) -> str:
    """The log line that explains a crash: the last one that reads like an error, else the last line."""
    lines = [ln.strip() for ln in (log or "").splitlines() if ln.strip()]
    for ln in reversed(lines):
        if EXPLAINS.search(ln):
            return ln[:300]
    return lines[-1][:300] if lines else ""


def _why(terminated: dict, log_of: Callable[[str], str] | None, container: str) -> str:
    """Why a container ended: its termination message, else the line of its log that explains it."""
    why = (terminated.get("message") or "").strip()
    if not why and log_of is not None:
        try:
            why = explaining_line(log_of(container))
        except Exception:  # noqa: BLE001 - a missing log never hides the crash itself
            why = ""
    return why


def _statuses(pod: dict) -> list[dict]:
    st = pod.get("status") or {}
    return list(st.get("initContainerStatuses") or []) + list(st.get("containerStatuses") or [])


def pod_signals(pod: dict, log_of: Callable[[str], str] | None = None, past: bool = False) -> list[Signal]:
    """Every terminal signal one pod shows. `log_of(container)` returns the container's previous
    log (only asked for crash loops). With `past`, a non-zero exit before the last restart counts
    even when the restarted container reports ready: a container with no readiness probe is ready
    for the instant between its restart and its next crash, and a pod caught in that instant must
    still name its cause once its DaemonSet is known to be broken."""
    meta, spec, st = pod.get("metadata") or {}, pod.get("spec") or {}, pod.get("status") or {}
    name, node = meta.get("name"), spec.get("nodeName")
    out: list[Signal] = []
    if meta.get("deletionTimestamp"):
        return out   # a pod on its way out (a rollout, a deletion): its exits are expected
    for cs in _statuses(pod):
        waiting = (cs.get("state") or {}).get("waiting") or {}
        reason, msg = waiting.get("reason"), (waiting.get("message") or "").strip()
        c = cs.get("name")
        if reason in IMAGE_PULL:
            out.append(Signal("image_pull", f"{reason}: {msg or cs.get('image')}", name, node, c))
        elif reason in CONTAINER_CONFIG and not (reason == "RunContainerError" and not cs.get("restartCount")):
            out.append(Signal("container_config", f"{reason}: {msg}", name, node, c))
        elif reason == "CrashLoopBackOff":
            term = (cs.get("lastState") or {}).get("terminated") or {}
            why = _why(term, log_of, c)
            code = term.get("exitCode")
            out.append(Signal("crash_loop", f"CrashLoopBackOff (exit code {code}): {why or term.get('reason') or ''}"
                              .rstrip(": "), name, node, c))
        # A container that exited non-zero (now, or before its restart) and is not running ready:
        # the crash loop to come, caught before the kubelet's back-off names it.
        terminated = ((cs.get("state") or {}).get("terminated")
                      or ((cs.get("lastState") or {}).get("terminated") if past or not cs.get("ready") else None) or {})
        if terminated and terminated.get("exitCode") and not any(s.container == c for s in out):
            why = _why(terminated, log_of, c)
            out.append(Signal("container_exited", f"exit code {terminated.get('exitCode')}"
                              + (f": {why}" if why else ""), name, node, c))
    if st.get("phase") == "Failed" and not out:
        out.append(Signal("pod_failed", f"{st.get('reason') or 'Failed'}: {(st.get('message') or '').strip()}"
                          .rstrip(": "), name, node))
    for cond in st.get("conditions") or []:
        if cond.get("type") == "PodScheduled" and cond.get("status") == "False" and cond.get("reason") == "Unschedulable":
            out.append(Signal("unschedulable", (cond.get("message") or "Unschedulable").strip(), name, node))
    return out


def _event_time(e: dict) -> datetime | None:
    for key in ("lastTimestamp", "eventTime", "firstTimestamp"):
        v = e.get(key)
        if v:
            try:
                return datetime.fromisoformat(str(v).replace("Z", "+00:00"))
            except ValueError:
                continue
    md = e.get("metadata") or {}
    v = md.get("creationTimestamp")
    return datetime.fromisoformat(str(v).replace("Z", "+00:00")) if v else None


def event_signals(events: Iterable[dict], since: datetime | None = None) -> list[Signal]:
    """Terminal signals in a namespace's events (newer than `since`, when given)."""
    out = []
    for e in events:
        if since is not None:
            t = _event_time(e)
            if t is not None and t < since:
                continue
        reason, msg = e.get("reason"), " ".join((e.get("message") or "").split())
        obj = e.get("involvedObject") or {}
        if reason == "FailedCreate":
            out.append(Signal("failed_create", msg, None, None)
                       if obj.get("kind") != "Pod" else Signal("failed_create", msg, obj.get("name")))
        elif reason == "Failed" and obj.get("kind") == "Pod" and "Failed to pull image" in msg:
            out.append(Signal("image_pull_event", msg, obj.get("name")))
    return out


def first(signals: Iterable[Signal], allow: Callable[[Signal], bool] | None = None) -> Signal | None:
    """The first signal that is not allowed (expected by the claim), or None."""
    for s in signals:
        if allow is None or not allow(s):
            return s
    return None


def by_node(signals: Iterable[Signal]) -> dict[str, list[Signal]]:
    out: dict[str, list[Signal]] = {}
    for s in signals:
        out.setdefault(s.node or "-", []).append(s)
    return out


class TerminalSignal(Exception):
    """A wait ended early on a terminal signal. Raised by waiting.wait_until(terminal=...);
    the plugin (plugin/verdicts.py) reports it as ERROR (the cluster could not be observed) with the signal's words."""

    code = "terminal_signal"

    def __init__(self, what: str, signal: Signal) -> None:
        self.what, self.signal = what, signal
        super().__init__(f"{what}: {signal}")


def log_reader(core, ns: str, pod) -> Callable[[str], str]:
    """log_of(container) for a live pod: the crashed instance's log (the previous one once the
    container restarted, else the current one)."""
    from kubernetes import client

    def read(container: str) -> str:
        cs = next((c for c in (pod.status.container_statuses or []) + (pod.status.init_container_statuses or [])
                   if c.name == container), None)
        previous = bool(cs and cs.restart_count and not (cs.state and cs.state.terminated))
        try:
            return core.read_namespaced_pod_log(pod.metadata.name, ns, container=container, previous=previous,
                                                tail_lines=30)
        except client.ApiException:
            return core.read_namespaced_pod_log(pod.metadata.name, ns, container=container,
                                                previous=not previous, tail_lines=30)
    return read


def live_pod_signals(core, ns: str, pod, past: bool = False) -> list[Signal]:
    """pod_signals of a live pod object, its crashed container's log read on demand."""
    from kubernetes import client

    return pod_signals(client.ApiClient().sanitize_for_serialization(pod), log_reader(core, ns, pod), past=past)


def observe(core, ns: str, *, selector: str | None = None, names: Iterable[str] | None = None,
            allow: Callable[[Signal], bool] | None = None, since: datetime | None = None,
            pods: list | None = None) -> Signal | None:
    """The first unexpected terminal signal among the pods (by label selector or names) and the
    events of namespace `ns` on a live cluster, or None. `pods`: those pods, already read (the
    run's watch's copies: watching.py), instead of a list of them."""
    from kubernetes import client  # live adapter only; the decisions above need no client

    api = client.ApiClient()
    wanted = set(names) if names is not None else None
    if pods is None:
        pods = core.list_namespaced_pod(ns, label_selector=selector or "").items
    pods = [p for p in pods if wanted is None or p.metadata.name in wanted]

    found = [s for p in pods for s in live_pod_signals(core, ns, p)]
    events = [api.sanitize_for_serialization(e) for e in core.list_namespaced_event(ns).items]
    if wanted is not None:
        events = [e for e in events if (e.get("involvedObject") or {}).get("kind") != "Pod"
                  or (e.get("involvedObject") or {}).get("name") in wanted]
    found += event_signals(events, since)
    return first(found, allow)
