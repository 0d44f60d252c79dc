"""Thin helpers over the official client: the suite's labelled namespaces, creating objects
from manifest dicts, pod exec, events. Every object the suite creates carries LABEL_MANAGED."""
from __future__ import annotations

import gc
import json
import re
import threading
import uuid
from dataclasses import dataclass

from kubernetes import client
from kubernetes.stream import stream

from .waiting import each

LABEL_MANAGED = "app.kubernetes.io/managed-by"
MANAGED_VALUE = "hostnet-conformance"
LABEL_RUN = "hostnet-conformance/run"
PSA_ENFORCE = "pod-security.kubernetes.io/enforce"


def preload_api() -> threading.Thread:
    """Import the client's API classes in a daemon thread. The client imports each lazily, and
    CoreV1Api alone costs about 1.4 s of model classes on this machine; this way that happens while
    the run waits on kind, docker and the API server, not after."""
    def load():
        for name in ("CoreV1Api", "AppsV1Api", "NetworkingV1Api", "DiscoveryV1Api", "AuthorizationV1Api",
                     "VersionApi"):
            getattr(client, name)
        gc.freeze()   # the client's thousands of classes: no collection scans them again, nor does exit
    t = threading.Thread(target=load, daemon=True, name="hnc-preload-api")
    t.start()
    return t


def new_run_id() -> str:
    return uuid.uuid4().hex[:8]


def ns_name(run_id: str, purpose: str) -> str:
    name = re.sub(r"[^a-z0-9-]+", "-", f"hnc-{run_id}-{purpose}".lower()).strip("-")
    return name[:63].rstrip("-")


def create_namespace(core: client.CoreV1Api, run_id: str, purpose: str, psa: str | None = "privileged") -> str:
    """A fresh namespace owned by this run. psa=None leaves Pod Security to the cluster default."""
    labels = {LABEL_MANAGED: MANAGED_VALUE, LABEL_RUN: run_id}
    if psa:
        for mode in ("enforce", "warn", "audit"):
            labels[f"pod-security.kubernetes.io/{mode}"] = psa
    name = ns_name(run_id, purpose)
    core.create_namespace({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}})
    return name


def same_image(node_name: str, ref: str) -> bool:
    """A node lists `busybox:1.36.1` under its fully qualified name (default registry and the
    `library/` prefix added); match on the tail so no registry host needs naming here."""
    ref = ref.split("@")[0]
    if "/" not in ref:  # an official image: only its library/ form
        return node_name == ref or node_name.endswith("/library/" + ref)
    return node_name == ref or node_name.endswith("/" + ref)


def image_on_node(node, ref: str) -> bool:
    """Whether the node's status lists the image (the kubelet lists up to nodeStatusMaxImages)."""
    return any(same_image(name, ref) for img in (node.status.images or []) for name in (img.names or []))


def first_line(e: BaseException) -> str:
    """An exception in one line: its message's first line, or its class name when it has none."""
    return str(e).splitlines()[0] if str(e) else type(e).__name__


def delete_namespaces(core: client.CoreV1Api, run_id: str | None = None) -> list[str]:
    """Delete the suite's namespaces (of one run, or of every run). Only labelled ones."""
    selector = f"{LABEL_MANAGED}={MANAGED_VALUE}" + (f",{LABEL_RUN}={run_id}" if run_id else "")
    names = [ns.metadata.name for ns in core.list_namespace(label_selector=selector).items]

    def delete(name):
        try:
            core.delete_namespace(name, grace_period_seconds=0, propagation_policy="Background")
            # then its pods, now, with a second's grace (graceful: each pod object stays until its
            # kubelet has stopped it, so the next run sees a host port held until it is free). The
            # namespace controller would get to them later; a terminating namespace admits no new
            # pod, so no controller replaces them.
            core.delete_collection_namespaced_pod(name, grace_period_seconds=1)
        except client.ApiException as e:
            if e.status != 404:
                raise
    each(delete, {n: n for n in names})
    return names


def owned(obj: dict, run_id: str) -> dict:
    meta = obj.setdefault("metadata", {})
    meta.setdefault("labels", {}).update({LABEL_MANAGED: MANAGED_VALUE, LABEL_RUN: run_id})
    return obj


def create(api: client.ApiClient, ns: str, obj: dict, run_id: str):
    """Create a Pod, Service, DaemonSet or NetworkPolicy from a manifest dict, labelled as the run's."""
    obj = owned(obj, run_id)
    kind = obj["kind"]
    if kind == "Pod":
        return client.CoreV1Api(api).create_namespaced_pod(ns, obj)
    if kind == "Service":
        return client.CoreV1Api(api).create_namespaced_service(ns, obj)
    if kind == "DaemonSet":
        return client.AppsV1Api(api).create_namespaced_daemon_set(ns, obj)
    if kind == "NetworkPolicy":
        return client.NetworkingV1Api(api).create_namespaced_network_policy(ns, obj)
    raise ValueError(f"unsupported kind {kind}")


def api_message(e: client.ApiException) -> str:
    """The human message of an API error (the body is a JSON Status whose quotes are escaped)."""
    try:
        return json.loads(e.body or "{}").get("message") or (e.body or "")
    except ValueError:
        return e.body or ""


@dataclass
class ExecResult:
    rc: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.rc == 0


def exec_in(core: client.CoreV1Api, ns: str, pod: str, command: list[str], container: str | None = None,
            timeout: float = 30) -> ExecResult:
    """Run a command in a container and return its exit code and output. The client's stream()
    swaps its ApiClient's call_api for the duration of the call, so each exec gets an ApiClient of
    its own: other threads (the run's concurrent observations) keep using the shared one."""
    kwargs = {"container": container} if container else {}
    own = client.CoreV1Api(client.ApiClient(core.api_client.configuration))
    ws = stream(own.connect_get_namespaced_pod_exec, pod, ns, command=command, stderr=True, stdin=False,
                stdout=True, tty=False, _preload_content=False, **kwargs)
    try:
        ws.run_forever(timeout=timeout)
        out, err = ws.read_stdout(), ws.read_stderr()
        rc = ws.returncode
    finally:
        ws.close()
    return ExecResult(rc if rc is not None else -1, out or "", err or "")


def events(core: client.CoreV1Api, ns: str, involved: str | None = None) -> list:
    evs = core.list_namespaced_event(ns).items
    if involved:
        evs = [e for e in evs if e.involved_object and e.involved_object.name.startswith(involved)]
    return sorted(evs, key=lambda e: e.last_timestamp or e.event_time or e.metadata.creation_timestamp)


def is_ready(obj) -> bool:
    """A pod's or a node's Ready condition is True (client model objects)."""
    return any(c.type == "Ready" and c.status == "True" for c in (obj.status.conditions or []))


def is_linux(node) -> bool:
    """A node without the kubernetes.io/os label counts as Linux (the kubelet sets it everywhere)."""
    return (node.metadata.labels or {}).get("kubernetes.io/os", "linux") == "linux"


def node_internal_ip(node) -> str | None:
    for a in node.status.addresses or []:
        if a.type == "InternalIP":
            return a.address
    return None


def describe_pods(core: client.CoreV1Api, ns: str, selector: str | None = None, log_tail: int = 5) -> str:
    """Phase, conditions, container states, recent events and log tails: what a timeout reports."""
    lines = []
    pods = core.list_namespaced_pod(ns, label_selector=selector).items if selector else core.list_namespaced_pod(ns).items
    for p in pods:
        conds = ", ".join(f"{c.type}={c.status}{'(' + c.reason + ')' if c.reason else ''}" for c in (p.status.conditions or []))
        lines.append(f"pod {p.metadata.name} on {p.spec.node_name}: phase={p.status.phase} reason={p.status.reason} [{conds}]")
        for cs in p.status.container_statuses or []:
            st = cs.state
            state = ("running" if st.running else f"waiting({st.waiting.reason})" if st.waiting
                     else f"terminated(exit={st.terminated.exit_code},{st.terminated.reason})" if st.terminated else "?")
            lines.append(f"  container {cs.name}: {state} restarts={cs.restart_count}")
            try:
                tail = core.read_namespaced_pod_log(p.metadata.name, ns, container=cs.name, tail_lines=log_tail)
                lines += [f"    log: {ln}" for ln in tail.splitlines()[-log_tail:]]
            except client.ApiException:
                pass
    for e in events(core, ns)[-8:]:
        lines.append(f"event {e.type} {e.reason} {e.involved_object.kind}/{e.involved_object.name}: {(e.message or '').strip()[:200]}")
    return "\n".join(lines) or f"no pods in {ns}"
