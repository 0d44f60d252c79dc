"""The run's own pods and DaemonSets, watched instead of polled.

One list-then-watch per kind over every namespace, by the run's label (kube.LABEL_RUN: the suite
labels each object it creates, and its DaemonSets' pod templates), the way a controller's informer
does. The long waits (the shared DaemonSets' settling, a DaemonSet or a pod becoming ready) read
these copies, which cost no request, and wake at each change instead of asking the API server
every half second. What a claim judges is never read here: its observation reads the API itself.

The watch also counts the pods the run made (every pod UID it saw), which the report's capabilities
give beside the API requests (kube.request_count).

A copy is used only once its first list has answered (synced); until then, and after a watch
error, readers fall back to the API. Each watch ends at the run's stop (waiting.STOPPING) within
one server-side watch window (WINDOW_S)."""
from __future__ import annotations

import threading
from collections.abc import Callable

from kubernetes import client, watch

from . import kube
from .waiting import STOPPING, request_timeout

WINDOW_S = 15   # each watch request's server-side timeout: a stopped run's watch ends within it


class Informer:
    """The objects of one kind that carry a label selector, in every namespace: a list, then a
    watch from its resourceVersion; again from a fresh list after the server says 410 Gone."""

    def __init__(self, list_fn: Callable, selector: str, on_change: Callable[[], None], name: str):
        self.list_fn, self.selector, self.on_change, self.name = list_fn, selector, on_change, name
        self.objects: dict[tuple[str, str], object] = {}   # (namespace, name) -> the object
        self.uids: set[str] = set()                          # every UID seen, deleted ones too
        self.synced = threading.Event()
        self.lock = threading.Lock()
        self.last_error = ""
        self.restarts = 0
        self.listed = False   # a list has answered once: the UIDs count the run's pods

    def _key(self, obj) -> tuple[str, str]:
        return obj.metadata.namespace, obj.metadata.name

    def _list(self) -> str:
        got = self.list_fn(label_selector=self.selector)
        with self.lock:
            self.objects = {self._key(o): o for o in got.items}
            self.uids.update(o.metadata.uid for o in got.items)
            self.listed = True
        self.synced.set()
        self.on_change()
        return got.metadata.resource_version

    def run(self, stopping: threading.Event) -> None:
        version = None
        while not stopping.is_set():
            try:
                if version is None:
                    version = self._list()
                w = watch.Watch()
                for event in w.stream(self.list_fn, label_selector=self.selector, resource_version=version,
                                      timeout_seconds=WINDOW_S, allow_watch_bookmarks=True,
                                      _request_timeout=(request_timeout(), WINDOW_S + request_timeout())):
                    if event["type"] == "BOOKMARK":   # its object stays a dict: only its version
                        raw = event.get("raw_object") or {}
                        version = (raw.get("metadata") or {}).get("resourceVersion") or version
                        continue
                    obj = event["object"]
                    version = obj.metadata.resource_version or version
                    with self.lock:
                        if event["type"] == "DELETED":
                            self.objects.pop(self._key(obj), None)
                        else:
                            self.objects[self._key(obj)] = obj
                        self.uids.add(obj.metadata.uid)
                    self.on_change()
                    if stopping.is_set():
                        w.stop()
            except client.ApiException as e:
                if e.status in (401, 403):   # not allowed (an identity without list/watch): for good
                    self.last_error = f"HTTP {e.status} {kube.api_message(e) or e.reason}"
                    self.synced.clear()
                    return
                if e.status != 410:   # Gone: the version is too old, list again; anything else: say so
                    self.last_error = f"HTTP {e.status} {kube.api_message(e) or e.reason}"
                    stopping.wait(1.0)
                version = None
                self.restarts += 1
            except Exception as e:  # noqa: BLE001 - a broken watch falls back to reads of the API
                self.last_error = kube.first_line(e)
                self.synced.clear()   # readers ask the API until a fresh list has answered
                version = None
                self.restarts += 1
                stopping.wait(1.0)

    def get(self, ns: str, name: str):
        with self.lock:
            return self.objects.get((ns, name))

    def list(self, ns: str, labels: dict[str, str] | None = None) -> list:
        with self.lock:
            objs = [o for (n, _), o in self.objects.items() if n == ns]
        if labels:
            objs = [o for o in objs if all((o.metadata.labels or {}).get(k) == v for k, v in labels.items())]
        return sorted(objs, key=lambda o: o.metadata.name)


class RunWatch:
    """The run's pods and DaemonSets (Informer each), and a change counter the waits sleep on."""

    def __init__(self, api: client.ApiClient, run_id: str):
        selector = f"{kube.LABEL_RUN}={run_id}"
        core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
        self.changed = threading.Condition()
        self.generation = 0
        self.pods = Informer(core.list_pod_for_all_namespaces, selector, self._bump, "pods")
        self.daemonsets = Informer(apps.list_daemon_set_for_all_namespaces, selector, self._bump, "daemonsets")

    def _bump(self) -> None:
        with self.changed:
            self.generation += 1
            self.changed.notify_all()

    def start(self, stopping: threading.Event = STOPPING) -> RunWatch:
        # daemon threads of their own, not the run's (waiting.start_thread): a watch blocks in a read
        # for up to WINDOW_S, and the teardown must not wait for it
        for inf in (self.pods, self.daemonsets):
            threading.Thread(target=inf.run, args=(stopping,), daemon=True, name=f"hnc-watch-{inf.name}").start()
        return self

    def wait_change(self, generation: int, timeout: float) -> int:
        """Block until the generation passes `generation` or `timeout` s pass; the generation now."""
        with self.changed:
            self.changed.wait_for(lambda: self.generation != generation, timeout=max(0.0, timeout))
            return self.generation

    def stats(self) -> dict:
        """For the report: the pods the run made (each UID the watch saw) and each watch's health."""
        out: dict = {"pods_created": len(self.pods.uids) if self.pods.listed
                      else f"not counted: the run's pods were not watched ({self.pods.last_error or 'no list answered'})"}
        for inf in (self.pods, self.daemonsets):
            if inf.restarts or inf.last_error:
                out[f"{inf.name}_watch"] = {"restarts": inf.restarts, "last_error": inf.last_error or None}
        return out


_CURRENT: list = [None]   # the run's RunWatch in this process (start), None before


def start(api: client.ApiClient, run_id: str) -> RunWatch:
    """Watch the run's pods and DaemonSets from now on (one RunWatch per process and run)."""
    _CURRENT[0] = RunWatch(api, run_id).start()
    return _CURRENT[0]


def current() -> RunWatch | None:
    """The run's watch once both its lists have answered, else None: read the API instead."""
    w = _CURRENT[0]
    return w if w is not None and w.pods.synced.is_set() and w.daemonsets.synced.is_set() else None


def stats() -> dict:
    """The run's watch's stats() for the report; empty when the run watched nothing."""
    return _CURRENT[0].stats() if _CURRENT[0] is not None else {}
