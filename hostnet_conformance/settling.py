"""Waiting for the run's shared DaemonSets to settle, all at once: each becomes steadily ready, or
settles as its control expects (SETTLE_WITH), or is judged broken with each node's cause in the
cluster's words, so a broken deployment costs only the claims that stand on it."""
from __future__ import annotations

import time

from kubernetes import client

from . import kube, signals, timeline
from . import watching
from .environment import Env, Steady, daemonset_ready, ds_selector, ds_signal, pods_of, read_daemonset
from .waiting import WaitTimeout, wait_until


def _free_ports_unschedulable(s: signals.Signal) -> bool:
    return s.code == "unschedulable" and "free ports" in s.message


# shared variants that settle with some pods held by an expected signal, not all ready
SETTLE_WITH = {"port-held": _free_ports_unschedulable}


def _ds_pod_signals(env: Env, ns: str, name: str, ready_since: dict | None = None,
                    steady: float = 3.0) -> tuple[list, list]:
    """(signals of the DaemonSet's pods, its pods that show no signal and are not steadily ready).
    Asked once the DaemonSet is known to be broken, so a crash before the last restart counts. A
    container without a readiness probe is ready from its start to its crash, so a ready pod counts
    as healthy only once this poll has seen it ready for `steady` s (`ready_since` keeps the times)."""
    found, quiet = [], []
    now = time.monotonic()
    for p in env.core.list_namespaced_pod(ns, label_selector=ds_selector(env, ns, name)).items:
        sigs = signals.live_pod_signals(env.core, ns, p, past=True)
        ready = kube.is_ready(p)
        found += sigs
        if sigs:
            continue
        if ready and ready_since is not None:
            ready = now - ready_since.setdefault(p.metadata.uid, now) >= steady
        if not ready:
            quiet.append(p)
    return found, quiet


def broken_cause(env: Env, ns: str, name: str, first: signals.Signal, settle: float = 20) -> str:
    """Every node's cause for a broken DaemonSet, e.g. 'node w1: crash_loop: ... address already in
    use; node w2: ...'. Pods that are not ready yet get up to `settle` s to show their own signal
    (a crash on one node usually comes within seconds of the same crash on the next)."""
    ready_since: dict = {}

    def all_explained():
        found, quiet = _ds_pod_signals(env, ns, name, ready_since)
        return None if quiet else (found, quiet)

    try:
        found, quiet = wait_until(all_explained, timeout=settle, interval=1.0,
                                  what=f"every pod of {ns}/{name} to show its cause", describe=lambda: "",
                                  retry_on=(client.ApiException,))
    except WaitTimeout:
        found, quiet = _ds_pod_signals(env, ns, name)
    parts = {}
    for node, sigs in signals.by_node(found or [first]).items():
        best = max(sigs, key=lambda s: len(s.message))   # the one that explains most (it quotes the log)
        parts[node] = f"{best.code}: {best.message}"
    for p in quiet:
        parts.setdefault(p.spec.node_name or "-", f"not ready: phase {p.status.phase}")
    return "; ".join(f"node {node}: {why}" if node != "-" else why for node, why in sorted(parts.items()))


def _settled_with(env: Env, ns: str, name: str, allow) -> bool:
    """Every pod the controller wants exists and is ready or shows only signals `allow` expects."""
    ds = read_daemonset(env, ns, name)
    if ds is None or ds.status is None:
        return False
    if (ds.status.observed_generation or 0) < ds.metadata.generation or not ds.status.desired_number_scheduled:
        return False
    pods = pods_of(env, ns, ds)
    if len(pods) < ds.status.desired_number_scheduled:
        return False
    for p in pods:
        if kube.is_ready(p):
            continue
        sigs = signals.live_pod_signals(env.core, ns, p)
        if not sigs or not all(allow(s) for s in sigs):
            return False
    return True


TERMINAL_EVERY = 2.0   # await_daemonsets: a pending DaemonSet's pods and events read at most this often


def await_daemonsets(env: Env, daemonsets: dict, timeout: float = 180) -> dict:
    """Wait for every shared DaemonSet at once. One that shows a terminal signal (CrashLoopBackOff,
    an image pull error, FailedCreate...) is settled as broken at once, with each node's cause, and
    the others are still awaited: a broken deployment costs only the claims that stand on it."""
    pending, broken = dict(daemonsets), {}
    # ready (or settled as expected) on every poll for environment.STEADY_S: not the instant before a crash
    steady = {variant: Steady(lambda ns=ns, name=name, allow=SETTLE_WITH.get(variant):
                              daemonset_ready(env, ns, name) or (allow and _settled_with(env, ns, name, allow)))
              for variant, (ns, name) in daemonsets.items()}

    t0 = time.monotonic()
    asked: dict = {}   # variant -> when its pods and events were last read for a terminal signal

    def settled():
        for variant, (ns, name) in list(pending.items()):
            allow = SETTLE_WITH.get(variant)
            if steady[variant]():
                pending.pop(variant)
                timeline.record(f"shared DaemonSet {variant} ready", t0, time.monotonic())
                continue
            now = time.monotonic()   # readiness comes from the watch at each change; signals, at most
            if now - asked.get(variant, float("-inf")) < TERMINAL_EVERY:   # every TERMINAL_EVERY s
                continue
            asked[variant] = now
            sig = ds_signal(env, ns, name, allow)
            if sig:
                broken[variant] = broken_cause(env, ns, name, sig)
                pending.pop(variant)
        return not pending

    try:
        wait_until(settled, timeout=timeout, interval=1.0, what="the shared DaemonSets to be ready",
                   describe=lambda: ", ".join(pending), retry_on=(client.ApiException,),
                   changes=watching.current())
    except WaitTimeout:
        for variant, (ns, name) in pending.items():
            broken[variant] = f"not ready after {timeout:.0f}s: " + " | ".join(
                kube.describe_pods(env.core, ns).splitlines()[:3])
    env.cluster.facts["broken_shared_deployments"] = broken or "none"
    return broken
