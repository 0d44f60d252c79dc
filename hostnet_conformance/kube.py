"""Thin helpers over the official client: the suite's API client (a deadline on every request),
the suite's labelled namespaces, creating objects from manifest dicts, pod exec, events. Every
object the suite creates carries LABEL_MANAGED; nothing is created once the run is ending."""
from __future__ import annotations

import gc
import json
import os
import re
import socket
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import urlparse

import urllib3
from kubernetes import client
from kubernetes import config as kube_config
from kubernetes.stream import stream, ws_client
from websocket import WebSocketTimeoutException

from .verdict import CallTimeout, ClusterError
from .waiting import STOPPING, Stopped, each, request_timeout, start_thread  # noqa: F401

_default_bound = request_timeout   # (a parameter below has its name)


LABEL_MANAGED = "app.kubernetes.io/managed-by"
MANAGED_VALUE = "hostnet-conformance"
LABEL_RUN = "hostnet-conformance/run"
PSA_ENFORCE = "pod-security.kubernetes.io/enforce"
# Whose a namespace is, and whether that run is alive (--cleanup removes only a finished run's):
OWNER = "hostnet-conformance/owner"           # "<host>/<pid>" of the process that made it
HEARTBEAT = "hostnet-conformance/heartbeat"   # UTC time; the live run refreshes it every HEARTBEAT_EVERY s
HEARTBEAT_EVERY = 30.0
STALE_AFTER = 600.0   # a run whose newest heartbeat (or, without one, creation) is older than this is over


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


def timed_out(e: BaseException | None) -> bool:
    """Whether an error of the client's transport (urllib3, websocket) is, or wraps, a timeout."""
    seen = 0
    while e is not None and seen < 8:
        seen += 1
        if isinstance(e, (TimeoutError, urllib3.exceptions.TimeoutError, WebSocketTimeoutException)):
            return True
        if isinstance(e, urllib3.exceptions.MaxRetryError):
            e = e.reason
        elif isinstance(e, urllib3.exceptions.ProtocolError):   # a TLS handshake that timed out
            e = next((a for a in e.args if isinstance(a, BaseException)), None)
        else:
            e = e.__cause__ or e.__context__
    return False


class _Retry(urllib3.util.Retry):
    """urllib3's default retries (3), except after a timeout: retried, one request would last a
    multiple of its deadline. A refused or dropped connection is still retried (it costs nothing)."""

    def increment(self, method=None, url=None, response=None, error=None, _pool=None, _stacktrace=None):
        if error is not None and timed_out(error):
            raise error
        return super().increment(method, url, response, error, _pool, _stacktrace)


# every request this process sent to the API server, by method (ApiClient.call_api): the report's
# api_requests, the cost of a run on a cluster (scripts/benchmark.py's scale rows)
_REQUESTS: dict[str, int] = {}
_REQUESTS_LOCK = threading.Lock()


def request_count() -> dict[str, int]:
    """The API requests sent so far, by method, with their "total"."""
    with _REQUESTS_LOCK:
        counts = dict(sorted(_REQUESTS.items()))
    return {**counts, "total": sum(counts.values())}


class ApiClient(client.ApiClient):
    """The official client with a default deadline on every request: a call that names no
    `_request_timeout` gets `request_timeout` (default: waiting.request_timeout(), --request-timeout), its body
    read included. One that runs out raises CallTimeout `timed out after N s: GET /api/v1/...` (ERROR
    for the claim, never FAIL). A timeout is not retried, so no request outlasts its deadline."""

    def __init__(self, configuration=None, request_timeout: float | None = None):
        configuration = configuration or client.Configuration.get_default_copy()
        if configuration.retries is None:   # read when the connection pool is made (below)
            configuration.retries = _Retry(3)
        super().__init__(configuration)
        self.request_timeout = request_timeout or _default_bound()

    def call_api(self, method, url, header_params=None, body=None, post_params=None, _request_timeout=None):
        bound = _request_timeout or self.request_timeout
        with _REQUESTS_LOCK:
            _REQUESTS[method] = _REQUESTS.get(method, 0) + 1
        try:
            response = super().call_api(method, url, header_params, body, post_params, _request_timeout=bound)
            if "watch=true" not in (urlparse(url).query or "").lower():   # a watch is read as it streams
                response.read()   # under the same deadline; kept for the caller
            return response
        except Exception as e:
            if timed_out(e):
                seconds = max(bound) if isinstance(bound, tuple) else bound
                raise CallTimeout(seconds, f"{method} {urlparse(url).path}") from None
            raise


def api_client_from_kubeconfig(path: str, context: str | None) -> ApiClient:
    """kubernetes.config.new_client_from_config, with the suite's ApiClient."""
    cfg = type.__call__(client.Configuration)
    kube_config.load_kube_config(config_file=path, context=context, client_configuration=cfg)
    return ApiClient(cfg)


class _BoundedWebSocket(ws_client.WebSocket):
    """The client's exec websocket connects without any timeout (its socket blocks for ever on a
    server that accepts and never answers): this one connects, and reads, within the request timeout."""

    def connect(self, url, **options):
        options.setdefault("timeout", request_timeout())
        return super().connect(url, **options)


ws_client.WebSocket = _BoundedWebSocket   # kubernetes.stream's create_websocket makes every exec's socket


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
    if STOPPING.is_set():
        raise Stopped(f"the run is ending: namespace {name} not created")
    core.create_namespace({"apiVersion": "v1", "kind": "Namespace",
                           "metadata": {"name": name, "labels": labels, "annotations": owner_annotations()}})
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


def utc_stamp(t: datetime | None = None) -> str:
    return (t or datetime.now(timezone.utc)).strftime("%Y-%m-%dT%H:%M:%SZ")


def owner_annotations() -> dict:
    """A new namespace's: this process (host and pid) made it, alive now."""
    return {OWNER: f"{socket.gethostname()}/{os.getpid()}", HEARTBEAT: utc_stamp()}


def run_selector(run_id: str | None = None) -> str:
    """The suite's namespaces (of one run, or of every run): only labelled ones."""
    return f"{LABEL_MANAGED}={MANAGED_VALUE}" + (f",{LABEL_RUN}={run_id}" if run_id else "")


def heartbeat(core: client.CoreV1Api, run_id: str) -> int:
    """Say the run is alive on each of its namespaces (one PATCH each, 10 s bound); how many."""
    body = {"metadata": {"annotations": {HEARTBEAT: utc_stamp()}}}
    names = [ns.metadata.name for ns in core.list_namespace(label_selector=run_selector(run_id)).items
             if ns.metadata.deletion_timestamp is None]
    for name in names:
        try:
            core.patch_namespace(name, body, _request_timeout=10)
        except client.ApiException as e:
            if e.status != 404:
                raise
    return len(names)


def start_heartbeat(core: client.CoreV1Api, run_id: str, every: float = HEARTBEAT_EVERY) -> threading.Thread:
    """Refresh the run's heartbeat every `every` s in a daemon thread, until the run is ending."""
    def beat():
        while not STOPPING.wait(every):
            try:
                heartbeat(core, run_id)
            except Exception:  # noqa: BLE001 - the next beat tries again; --cleanup allows 20 missed beats
                pass
    return start_thread(beat, name="hnc-heartbeat")


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:   # someone else's process: alive
        return True
    return True


@dataclass
class RunNamespaces:
    """The namespaces of one run, as --cleanup judges them."""
    run_id: str
    names: list = field(default_factory=list)
    owners: set = field(default_factory=set)      # {(host, pid)} from OWNER (none: an older version's)
    newest: datetime | None = None                # newest heartbeat, or creation without one

    def age(self, now: datetime) -> float:
        return (now - self.newest).total_seconds() if self.newest else float("inf")

    def over(self, now: datetime, host: str, alive=pid_alive, max_age: float = STALE_AFTER) -> bool:
        """Whether the run is over: its newest heartbeat is older than `max_age`, or every process
        that made its namespaces ran on this host and is gone."""
        if self.age(now) > max_age:
            return True
        return bool(self.owners) and all(h == host and not alive(pid) for h, pid in self.owners)

    def describe(self, now: datetime) -> str:
        who = ", ".join(f"{h}/{p}" for h, p in sorted(self.owners)) or "no owner"
        return f"{self.run_id} ({who}, heartbeat {self.age(now):.0f} s ago, {len(self.names)} namespaces)"


def runs_of(namespaces: list) -> dict[str, RunNamespaces]:
    """The suite's namespaces (client objects) grouped by run."""
    runs: dict[str, RunNamespaces] = {}
    for ns in namespaces:
        meta = ns.metadata
        run_id = (meta.labels or {}).get(LABEL_RUN, "-")
        run = runs.setdefault(run_id, RunNamespaces(run_id))
        run.names.append(meta.name)
        notes = meta.annotations or {}
        host, _, pid = notes.get(OWNER, "").rpartition("/")
        if host and pid.isdigit():
            run.owners.add((host, int(pid)))
        when = _parse_stamp(notes.get(HEARTBEAT)) or meta.creation_timestamp
        if when is not None and (run.newest is None or when > run.newest):
            run.newest = when
    return runs


def _parse_stamp(text: str | None) -> datetime | None:
    try:
        t = datetime.fromisoformat(text) if text else None
    except ValueError:
        return None
    return t.replace(tzinfo=timezone.utc) if t and t.tzinfo is None else t


def delete_finished_runs(core: client.CoreV1Api, max_age: float = STALE_AFTER, alive=pid_alive,
                         now: datetime | None = None) -> tuple[list[str], list[RunNamespaces]]:
    """--cleanup: delete the namespaces of every run that is over (RunNamespaces.over), never a live
    run's. Returns (the namespaces deleted, the live runs kept)."""
    now, host = now or datetime.now(timezone.utc), socket.gethostname()
    runs = runs_of(core.list_namespace(label_selector=run_selector()).items)
    kept = [r for r in runs.values() if not r.over(now, host, alive, max_age)]
    gone = [n for r in runs.values() if r not in kept for n in r.names]
    _delete(core, gone)
    return gone, kept


def pods_of_run(core: client.CoreV1Api, run_id: str) -> int:
    """How many pods the run's namespaces hold now (before they are deleted): the pods it made."""
    names = [ns.metadata.name for ns in core.list_namespace(label_selector=run_selector(run_id)).items]
    return sum(len(core.list_namespaced_pod(n).items) for n in names)


def delete_namespaces(core: client.CoreV1Api, run_id: str, pods_on=None) -> list[str]:
    """Delete the namespaces of one run (labelled ones only); their names. `pods_on`: see _delete."""
    names = [ns.metadata.name for ns in core.list_namespace(label_selector=run_selector(run_id)).items]
    _delete(core, names, pods_on)
    return names


def namespaces_left(core: client.CoreV1Api, run_id: str) -> list[str]:
    """The run's namespaces that exist and are not being deleted."""
    return [ns.metadata.name for ns in core.list_namespace(label_selector=run_selector(run_id)).items
            if ns.metadata.deletion_timestamp is None]


def _delete(core: client.CoreV1Api, names: list[str], pods_on=None) -> None:
    """Each namespace, then its pods at once. `pods_on(namespace)` (default: every pod) gives the
    field selectors of the pods to delete at once, [] for none: the others go with their namespace.
    The teardown (plugin/target.close) passes the nodes that hold the run's pods by its watch, and on
    a cluster with simulated nodes only the real ones: the API server deletes a collection one pod
    after another, and at 300 simulated nodes the vendor's DaemonSet's 302 pods took most of a 33 s
    teardown. A simulated node holds no host port."""
    def delete(name):
        try:
            core.delete_namespace(name, grace_period_seconds=0, propagation_policy="Background")
            # then its pods, now, with a second's grace (graceful: each pod object stays until its
            # kubelet has stopped it, so the next run sees a host port held until it is free). The
            # namespace controller would get to them later; a terminating namespace admits no new
            # pod, so no controller replaces them. The answer (every pod deleted) is not read.
            for selector in (pods_on(name) if pods_on is not None else [""]):
                core.delete_collection_namespaced_pod(name, grace_period_seconds=1, field_selector=selector,
                                                      _preload_content=False)
        except client.ApiException as e:
            if e.status not in (404, 409):   # gone, or already terminating
                raise
    each(delete, {n: n for n in names})


def list_json(fn, *args, **kwargs) -> list[dict]:
    """A list call's items as the API server sent them: JSON, never decoded into the client's models
    (at 300 simulated nodes, decoding the vendor's 302 pods and encoding them again for the judge
    took seconds of the run's CPU, again in each claim), without managedFields (claims/base.serialize)."""
    items = json.loads(fn(*args, _preload_content=False, **kwargs).data).get("items") or []
    for item in items:
        (item.get("metadata") or {}).pop("managedFields", None)
    return items


def owned(obj: dict, run_id: str) -> dict:
    """The object labelled as the run's; a DaemonSet's pod template too, so the run's watch
    (watching.py) sees its pods (the selector is untouched: the labels are only added to the pods)."""
    meta = obj.setdefault("metadata", {})
    meta.setdefault("labels", {}).update({LABEL_MANAGED: MANAGED_VALUE, LABEL_RUN: run_id})
    if obj.get("kind") == "DaemonSet":
        template = obj.setdefault("spec", {}).setdefault("template", {}).setdefault("metadata", {})
        template.setdefault("labels", {}).update({LABEL_MANAGED: MANAGED_VALUE, LABEL_RUN: run_id})
    return obj


def create(api: client.ApiClient, ns: str, obj: dict, run_id: str):
    """Create a Pod, Service, DaemonSet or NetworkPolicy from a manifest dict, labelled as the run's."""
    obj = owned(obj, run_id)
    kind = obj["kind"]
    if STOPPING.is_set():
        raise Stopped(f"the run is ending: {kind} {obj['metadata'].get('name', '')} in {ns} not created")
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
    own = client.CoreV1Api(ApiClient(core.api_client.configuration))
    try:
        ws = stream(own.connect_get_namespaced_pod_exec, pod, ns, command=command, stderr=True, stdin=False,
                    stdout=True, tty=False, _preload_content=False, **kwargs)
        try:
            ws.run_forever(timeout=timeout)
            # what run_forever buffered; never wait for more (a command still running at its
            # timeout would keep a read waiting)
            out, err = ws.read_stdout(timeout=0), ws.read_stderr(timeout=0)
            rc = None if ws.is_open() else exec_status(ws.read_channel(ws_client.ERROR_CHANNEL, timeout=0),
                                                       f"exec {' '.join(command)[:80]} in {ns}/{pod}")
        finally:
            ws.close()
    except Exception as e:
        if timed_out(e):   # the connection (bounded by _BoundedWebSocket) heard nothing
            raise CallTimeout(request_timeout(), f"exec {' '.join(command)[:80]} in {ns}/{pod}") from None
        raise
    return ExecResult(rc if rc is not None else -1, out or "", err or "")


class ExecFailed(ClusterError):
    """The command never ran: the API server or the kubelet refused the exec (the pod is gone, its
    node's kubelet cannot be reached, ...). Its words are quoted; the claim is ERROR, never FAIL."""


def exec_status(text: str, what: str) -> int:
    """The exit status an exec's error channel reports (a metav1.Status): 0 for Success, the
    ExitCode cause of NonZeroExitCode. Anything else means the command never ran: ExecFailed,
    quoting it (seen: `unable to upgrade connection: pod does not exist`, which the client's own
    returncode turns into `invalid literal for int()`)."""
    try:
        status = json.loads(text) if text.strip() else {}
    except ValueError:
        status = None
    if isinstance(status, dict) and status.get("status") == "Success":
        return 0
    if isinstance(status, dict) and status.get("reason") == "NonZeroExitCode":
        for cause in (status.get("details") or {}).get("causes") or []:
            if cause.get("reason") == "ExitCode" and str(cause.get("message", "")).lstrip("-").isdigit():
                return int(cause["message"])
    said = (status.get("message") if isinstance(status, dict) else None) or text.strip() or "no status"
    raise ExecFailed(f"{what}: {first_line(said)[:300]}")


def events(core: client.CoreV1Api, ns: str, involved: str | None = None) -> list:
    evs = core.list_namespaced_event(ns).items
    if involved:
        evs = [e for e in evs if e.involved_object and e.involved_object.name.startswith(involved)]
    return sorted(evs, key=lambda e: e.last_timestamp or e.event_time or e.metadata.creation_timestamp)


def is_ready(obj) -> bool:
    """A pod's or a node's Ready condition is True (client model objects)."""
    return any(c.type == "Ready" and c.status == "True" for c in (obj.status.conditions or []))


def finished_job_pod(pod) -> bool:
    """A pod a Job ran to completion: k3s and RKE2 install their add-ons with helm-install Jobs,
    whose pods stay in kube-system as Succeeded."""
    return pod.status.phase == "Succeeded" and any(
        o.kind == "Job" and (o.api_version or "").startswith("batch/") for o in pod.metadata.owner_references or [])


def not_running(pods: list) -> list[str]:
    """'name=Phase' of each pod that is neither Running nor a Job's finished pod: Pending, Failed,
    Unknown, or Succeeded without a Job (nothing was meant to end there)."""
    return [f"{p.metadata.name}={p.status.phase}" for p in pods
            if p.status.phase != "Running" and not finished_job_pod(p)]


def is_linux(node) -> bool:
    """A node without the kubernetes.io/os label counts as Linux (the kubelet sets it everywhere)."""
    return (node.metadata.labels or {}).get("kubernetes.io/os", "linux") == "linux"


def node_internal_ip(node) -> str | None:
    for a in node.status.addresses or []:
        if a.type == "InternalIP":
            return a.address
    return None


def _silent_node(core: client.CoreV1Api, node: str) -> str:
    """For a pod bound to a node whose kubelet has said nothing of it: what the node reports."""
    try:
        n = core.read_node(node)
    except client.ApiException as e:
        return f"; its node {node}: HTTP {e.status} {e.reason}"
    ready = next((c for c in n.status.conditions or [] if c.type == "Ready"), None)
    if ready is None:
        return f"; its node {node} reports no Ready condition"
    return (f"; no kubelet has reported this pod: its node {node} is Ready={ready.status}"
            f"{' (' + ready.reason + ')' if ready.reason else ''}")


def describe_pods(core: client.CoreV1Api, ns: str, selector: str | None = None, log_tail: int = 5,
                  name: str | None = None) -> str:
    """Phase, conditions, container states, recent events and log tails: what a timeout reports
    (with `name`, of that pod and its events only)."""
    lines = []
    pods = core.list_namespaced_pod(ns, label_selector=selector).items if selector else core.list_namespaced_pod(ns).items
    pods = [p for p in pods if name is None or p.metadata.name == name]
    for p in pods:
        # every condition with its reason and message: the cluster's own words on why a pod waits
        conds = ", ".join(f"{c.type}={c.status}" + (f"({': '.join(x for x in (c.reason, ' '.join((c.message or '').split())[:200]) if x)})"
                                                     if c.reason or c.message else "")
                          for c in (p.status.conditions or []))
        where = f"on {p.spec.node_name}" if p.spec.node_name else "not scheduled"
        lines.append(f"pod {p.metadata.name} {where}: phase={p.status.phase}"
                     + (f" reason={p.status.reason}" if p.status.reason else "") + f" [{conds}]"
                     + (_silent_node(core, p.spec.node_name) if p.spec.node_name and not p.status.conditions else ""))
        for cs in p.status.container_statuses or []:
            st = cs.state
            waiting = st.waiting and ": ".join(x for x in (st.waiting.reason, " ".join((st.waiting.message or "").split())[:200]) if x)
            state = ("running" if st.running else f"waiting({waiting})" if st.waiting
                     else f"terminated(exit={st.terminated.exit_code},{st.terminated.reason})" if st.terminated else "?")
            lines.append(f"  container {cs.name}: {state} restarts={cs.restart_count}")
            try:
                tail = core.read_namespaced_pod_log(p.metadata.name, ns, container=cs.name, tail_lines=log_tail)
                lines += [f"    log: {ln}" for ln in tail.splitlines()[-log_tail:]]
            except client.ApiException:
                pass
    for e in (events(core, ns) if name is None else [e for e in events(core, ns) if e.involved_object.name == name])[-8:]:
        lines.append(f"event {e.type} {e.reason} {e.involved_object.kind}/{e.involved_object.name}: {(e.message or '').strip()[:200]}")
    return "\n".join(lines) or f"no pods in {ns}"
