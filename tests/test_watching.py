"""The run's watch (watching.py): a list, then the watch's events, kept as the API server sends
them; a bookmark and a 410 Gone handled as a controller's informer does; the pods the run made
counted by UID; and a wait that wakes at the watch's first change instead of its interval."""
from __future__ import annotations

import threading
import time

from kubernetes import client

from hostnet_conformance import kube, waiting, watching


def pod(name: str, uid: str, version: str, ns: str = "hnc-x-c8", phase: str = "Pending") -> client.V1Pod:
    return client.V1Pod(metadata=client.V1ObjectMeta(name=name, namespace=ns, uid=uid, resource_version=version,
                                                     labels={"app": "node-exporter"}),
                        status=client.V1PodStatus(phase=phase))


class PodList:
    def __init__(self, items, version):
        self.items, self.metadata = items, client.V1ListMeta(resource_version=version)


def informer_with(monkeypatch, lists: list, streams: list, changes: list):
    """An Informer whose list answers `lists` in turn and whose watches yield `streams` in turn
    (an exception in a stream is raised there); it stops once both are used up."""
    stop = threading.Event()

    def list_fn(**kw):
        return lists.pop(0)

    class FakeWatch:
        def stream(self, fn, **kw):
            assert kw["resource_version"] and kw["timeout_seconds"] == watching.WINDOW_S
            events = streams.pop(0)
            if not streams:
                stop.set()
            for e in events:
                if isinstance(e, BaseException):
                    raise e
                yield e

        def stop(self):
            pass

    monkeypatch.setattr(watching.watch, "Watch", FakeWatch)
    inf = watching.Informer(list_fn, "hostnet-conformance/run=x", lambda: changes.append(1), "pods")
    return inf, stop


def test_list_then_events_keep_the_servers_objects_and_count_every_pod(monkeypatch):
    changes: list = []
    lists = [PodList([pod("a", "u1", "10")], "10")]
    streams = [[{"type": "ADDED", "object": pod("b", "u2", "11")},
                {"type": "MODIFIED", "object": pod("a", "u1", "12", phase="Running")},
                {"type": "BOOKMARK", "object": {"metadata": {"resourceVersion": "13"}},
                 "raw_object": {"metadata": {"resourceVersion": "13"}}},
                {"type": "DELETED", "object": pod("b", "u2", "14")}]]
    inf, stop = informer_with(monkeypatch, lists, streams, changes)
    inf.run(stop)
    assert inf.synced.is_set() and not inf.last_error and inf.restarts == 0
    assert inf.get("hnc-x-c8", "a").status.phase == "Running" and inf.get("hnc-x-c8", "b") is None
    assert inf.uids == {"u1", "u2"}   # the deleted pod was made by the run too
    assert [p.metadata.name for p in inf.list("hnc-x-c8", {"app": "node-exporter"})] == ["a"]
    assert inf.list("hnc-x-c8", {"app": "other"}) == [] and inf.list("elsewhere") == []
    assert len(changes) == 4   # the list and three events (not the bookmark)


def test_gone_lists_again_and_another_error_is_kept_for_the_report(monkeypatch):
    changes: list = []
    lists = [PodList([pod("a", "u1", "10")], "10"), PodList([pod("c", "u3", "30")], "30"),
             PodList([pod("c", "u3", "31")], "31")]
    streams = [[client.ApiException(status=410, reason="Gone")],
               [client.ApiException(status=500, reason="Internal Server Error")],
               [{"type": "ADDED", "object": pod("d", "u4", "32")}]]
    inf, stop = informer_with(monkeypatch, lists, streams, changes)
    monkeypatch.setattr(stop, "wait", lambda s: False)   # no pause after an error here
    inf.run(stop)
    assert inf.restarts == 2 and inf.last_error.startswith("HTTP 500")
    assert inf.get("hnc-x-c8", "a") is None and inf.get("hnc-x-c8", "d") is not None   # listed afresh
    assert inf.uids == {"u1", "u3", "u4"}


def test_a_broken_stream_falls_back_to_the_api_until_listed_again(monkeypatch):
    lists = [PodList([], "1"), PodList([], "2")]
    streams = [[ValueError("connection reset")], []]
    inf, stop = informer_with(monkeypatch, lists, streams, [])
    seen = []
    monkeypatch.setattr(stop, "wait", lambda s: seen.append(inf.synced.is_set()))
    inf.run(stop)
    assert seen == [False] and inf.synced.is_set() and inf.last_error == "connection reset"


def test_an_identity_without_watch_is_said_once_and_the_waits_read_the_api(monkeypatch):
    """deploy/runner.yaml grants list and watch (cluster.OPTIONAL_ACCESS); an identity without them
    gets one 403, and the watch stops asking: the waits read the API (watching.current() is None)."""
    lists = [PodList([], "1")]
    streams = [[client.ApiException(status=403, reason="Forbidden")], []]
    inf, stop = informer_with(monkeypatch, lists, streams, [])
    inf.run(stop)
    assert inf.last_error.startswith("HTTP 403") and not inf.synced.is_set() and len(streams) == 1
    never = watching.RunWatch(client.ApiClient(), "x")
    never.pods.last_error = "HTTP 403 pods is forbidden"
    assert never.stats()["pods_created"] == "not counted: the run's pods were not watched (HTTP 403 pods is forbidden)"


def test_stats_give_the_pods_made_and_say_a_watch_that_broke():
    w = watching.RunWatch(client.ApiClient(), "x")
    w.pods.listed = True
    w.pods.uids.update({"u1", "u2"})
    assert w.stats() == {"pods_created": 2}
    w.daemonsets.last_error, w.daemonsets.restarts = "HTTP 403 forbidden", 3
    assert w.stats()["daemonsets_watch"] == {"restarts": 3, "last_error": "HTTP 403 forbidden"}


def test_a_wait_wakes_at_the_watchs_change_not_at_its_interval():
    w = watching.RunWatch(client.ApiClient(), "x")
    flag = threading.Event()

    def later():
        time.sleep(0.5)
        flag.set()
        w._bump()
    threading.Thread(target=later, daemon=True).start()
    t0 = time.monotonic()
    assert waiting.wait_until(flag.is_set, timeout=20, interval=10, what="the flag", describe=lambda: "",
                              changes=w)
    assert time.monotonic() - t0 < 3   # not the 10 s interval


def test_the_runs_daemonsets_label_their_pods_for_the_watch_without_touching_the_selector():
    ds = {"kind": "DaemonSet", "metadata": {"name": "x"},
          "spec": {"selector": {"matchLabels": {"app": "e"}}, "template": {"metadata": {"labels": {"app": "e"}}}}}
    out = kube.owned(ds, "r1")
    assert out["spec"]["template"]["metadata"]["labels"] == {"app": "e", kube.LABEL_MANAGED: kube.MANAGED_VALUE,
                                                             kube.LABEL_RUN: "r1"}
    assert out["spec"]["selector"] == {"matchLabels": {"app": "e"}}
    bare = kube.owned({"kind": "Pod", "metadata": {}, "spec": {"containers": []}}, "r1")
    assert bare["spec"] == {"containers": []} and bare["metadata"]["labels"][kube.LABEL_RUN] == "r1"
