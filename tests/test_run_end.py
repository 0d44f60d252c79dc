"""Nothing outlives the run (issue 19, part 4): once teardown starts nothing is created, teardown
stops and joins the run's threads before it deletes the run's namespaces and lists them again, and
--cleanup removes only the namespaces of runs that are over (a stale heartbeat, or an owner process
on this host that is gone), never a live run's. A fake CoreV1Api records the calls."""
from __future__ import annotations

import os
import re
import socket
import subprocess
import threading
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from hostnet_conformance import kube, scenarios, waiting
from hostnet_conformance.world import World

HOST = socket.gethostname()


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@pytest.fixture(autouse=True)
def fresh_run():
    waiting.begin_run()
    yield
    waiting.begin_run()   # the next test's run is not stopping


def namespace(name, run_id, owner=None, heartbeat=None, created=None, deleting=False):
    notes = {}
    if owner:
        notes[kube.OWNER] = owner
    if heartbeat:
        notes[kube.HEARTBEAT] = kube.utc_stamp(heartbeat)
    return SimpleNamespace(metadata=SimpleNamespace(
        name=name, labels={kube.LABEL_MANAGED: kube.MANAGED_VALUE, kube.LABEL_RUN: run_id}, annotations=notes,
        creation_timestamp=created or utcnow(), deletion_timestamp=utcnow() if deleting else None))


class FakeCore:
    """The CoreV1Api calls the suite makes on namespaces, recorded in order."""

    def __init__(self, namespaces=(), on_delete=None):
        self.namespaces = {ns.metadata.name: ns for ns in namespaces}
        self.calls: list[tuple[str, str]] = []
        self.on_delete = on_delete
        self.lock = threading.Lock()

    def create_namespace(self, body):
        meta = body["metadata"]
        with self.lock:
            self.calls.append(("create", meta["name"]))
            ns = namespace(meta["name"], meta["labels"][kube.LABEL_RUN])
            ns.metadata.annotations = dict(meta.get("annotations") or {})
            self.namespaces[meta["name"]] = ns

    def list_namespace(self, label_selector=""):
        wanted = dict(kv.split("=", 1) for kv in label_selector.split(",") if kv)
        with self.lock:
            self.calls.append(("list", label_selector))
            items = [ns for ns in self.namespaces.values()
                     if all(ns.metadata.labels.get(k) == v for k, v in wanted.items())]
        return SimpleNamespace(items=items)

    def list_namespaced_pod(self, namespace, **_):   # the run's pods, counted before its namespaces go
        return SimpleNamespace(items=[])

    def delete_namespace(self, name, **_):
        with self.lock:
            self.calls.append(("delete", name))
            self.namespaces[name].metadata.deletion_timestamp = utcnow()
        if self.on_delete:
            self.on_delete(self, name)

    def delete_collection_namespaced_pod(self, name, **_):
        self.calls.append(("delete pods", name))

    def patch_namespace(self, name, body, **_):
        with self.lock:
            self.calls.append(("patch", name))
            self.namespaces[name].metadata.annotations.update(body["metadata"]["annotations"])


def world_on(core, run_id="run1") -> World:
    return World(env=SimpleNamespace(core=core, run_id=run_id), ports=None)


def teardown(core, run_id="run1"):
    from hostnet_conformance.plugin.target import close
    close(SimpleNamespace(getoption=lambda name: False), SimpleNamespace(kind_name=None, created_by_run=False,
                                                                         core=core, facts={}), run_id)


def test_a_namespace_says_whose_it_is():
    core = FakeCore()
    kube.create_namespace(core, "run1", "c1")
    notes = core.namespaces["hnc-run1-c1"].metadata.annotations
    assert notes[kube.OWNER] == f"{HOST}/{os.getpid()}"
    assert abs((datetime.fromisoformat(notes[kube.HEARTBEAT]) - utcnow()).total_seconds()) < 60


def test_nothing_is_created_once_teardown_has_started():
    core = FakeCore()
    w = world_on(core)
    w.ns("before")
    assert waiting.stop_run(1) == []
    with pytest.raises(waiting.Stopped, match="the run is ending: namespace hnc-run1-late not created"):
        w.ns("late")
    with pytest.raises(waiting.Stopped, match="the run is ending: Pod p in hnc-run1-before not created"):
        kube.create(None, "hnc-run1-before", {"kind": "Pod", "metadata": {"name": "p"}}, "run1")
    with pytest.raises(waiting.Stopped, match="the run is ending: scenario c8 not made"):
        w.make_scenario(scenarios.SCENARIOS["c8"])
    assert [c for c in core.calls if c[0] == "create"] == [("create", "hnc-run1-before")]


def test_teardown_stops_the_observations_then_deletes_and_lists_again(monkeypatch):
    """An observation still waiting when teardown starts ends at its next attempt and makes nothing;
    one that is not waiting (here: woken by the deletion itself) is refused its namespace."""
    from hostnet_conformance.plugin import target

    monkeypatch.setattr(target, "JOIN_BOUND", 0.5)
    woken = threading.Event()
    core = FakeCore(on_delete=lambda core, name: woken.set())
    w = world_on(core)
    w.ns("shared")

    def waits_then_creates(world):
        waiting.wait_until(lambda: False, timeout=60, interval=0.05, what="a pod", describe=lambda: "")
        return world.ns("after-the-wait")

    def woken_by_the_delete_then_creates(world):
        woken.wait(10)
        return world.ns("late")

    waiting_obs = scenarios.in_background(waits_then_creates, w, name="observe waiting")
    late_obs = scenarios.in_background(woken_by_the_delete_then_creates, w, name="observe late")
    teardown(core)
    assert isinstance(waiting_obs.exception(5), waiting.Stopped)
    assert isinstance(late_obs.exception(5), waiting.Stopped)
    assert [c for c in core.calls if c[0] == "create"] == [("create", "hnc-run1-shared")]
    first_list = core.calls.index(("list", kube.run_selector("run1")))
    assert ("delete", "hnc-run1-shared") in core.calls[first_list:]
    assert core.calls[-1] == ("list", kube.run_selector("run1")), "the namespaces are listed again at the end"


def test_teardown_reports_and_deletes_a_namespace_that_appeared_meanwhile(capsys):
    """A create that passed the stop check just before the stop lands after the first delete: the
    second listing finds it."""
    def racing_create(core, name):
        if name == "hnc-run1-shared":
            core.namespaces["hnc-run1-racing"] = namespace("hnc-run1-racing", "run1")
    core = FakeCore([namespace("hnc-run1-shared", "run1")], on_delete=racing_create)
    teardown(core)
    assert "1 namespaces of run run1 appeared during teardown, deleting them too: hnc-run1-racing" in \
        capsys.readouterr().out
    assert ("delete", "hnc-run1-racing") in core.calls


def test_the_heartbeat_refreshes_the_runs_namespaces_until_the_run_stops():
    old = utcnow() - timedelta(minutes=5)
    core = FakeCore([namespace("hnc-run1-a", "run1", f"{HOST}/1", old),
                     namespace("hnc-run2-a", "run2", f"{HOST}/1", old)])
    assert kube.heartbeat(core, "run1") == 1
    notes = core.namespaces["hnc-run1-a"].metadata.annotations
    assert datetime.fromisoformat(notes[kube.HEARTBEAT]) > old
    assert ("patch", "hnc-run2-a") not in core.calls   # another run's
    beats = kube.start_heartbeat(core, "run1", every=0.02)
    assert waiting.wait_until(lambda: core.calls.count(("patch", "hnc-run1-a")) >= 3, timeout=5, interval=0.02,
                              what="three beats", describe=lambda: str(core.calls))
    waiting.stop_run(5)
    assert not beats.is_alive()


def dead_pid() -> int:
    p = subprocess.Popen(["true"])
    p.wait(timeout=30)
    return p.pid


def recorded_runs() -> list:
    gone, fresh, stale = dead_pid(), utcnow() - timedelta(seconds=20), utcnow() - timedelta(minutes=11)
    return [
        namespace("hnc-live1-a", "live1", f"{HOST}/{os.getpid()}", fresh),      # this very process: alive
        namespace("hnc-live1-b", "live1", f"{HOST}/{os.getpid()}", fresh),
        namespace("hnc-dead1-a", "dead1", f"{HOST}/{gone}", fresh),             # killed a moment ago
        namespace("hnc-dead1-b", "dead1", f"{HOST}/{gone}", fresh, deleting=True),
        namespace("hnc-remote1-a", "remote1", "elsewhere/1", fresh),            # another host's, beating
        namespace("hnc-stale1-a", "stale1", "elsewhere/1", stale),              # no beat for 11 min
        namespace("hnc-old1-a", "old1", created=utcnow() - timedelta(hours=2)),      # an older version's, old
        namespace("hnc-new1-a", "new1", created=fresh),                         # an older version's, new
    ]


def test_cleanup_removes_only_the_namespaces_of_runs_that_are_over():
    core = FakeCore(recorded_runs())
    gone, kept = kube.delete_finished_runs(core)
    assert sorted(gone) == ["hnc-dead1-a", "hnc-dead1-b", "hnc-old1-a", "hnc-stale1-a"]
    assert sorted(r.run_id for r in kept) == ["live1", "new1", "remote1"]
    deleted = {name for call, name in core.calls if call == "delete"}
    assert deleted == {"hnc-dead1-a", "hnc-dead1-b", "hnc-old1-a", "hnc-stale1-a"}


def test_a_run_of_several_processes_is_live_while_one_of_them_is(monkeypatch):
    fresh = utcnow() - timedelta(seconds=5)
    run = kube.runs_of([namespace("a", "x", f"{HOST}/{dead_pid()}", fresh),
                        namespace("b", "x", f"{HOST}/{os.getpid()}", fresh)])["x"]
    assert not run.over(utcnow(), HOST)
    assert run.over(utcnow(), HOST, alive=lambda pid: False)
    assert run.over(utcnow() + timedelta(seconds=kube.STALE_AFTER + 10), HOST)


def test_cleanup_option_names_the_live_runs_it_kept_in_one_line(monkeypatch, capsys):
    from hostnet_conformance.plugin import cleanup

    core = FakeCore(recorded_runs())
    monkeypatch.setattr(cleanup, "existing_target", lambda config: SimpleNamespace(core=core))
    with pytest.raises(pytest.exit.Exception) as e:
        cleanup.cleanup_and_exit(SimpleNamespace())
    assert e.value.returncode == 0
    assert str(e.value.msg).startswith("hostnet-conformance: removed 4 namespaces: ")
    out = capsys.readouterr().out.splitlines()
    kept = [ln for ln in out if ln.startswith("hostnet-conformance: kept")]
    assert len(kept) == 1, out
    assert kept[0].startswith("hostnet-conformance: kept the namespaces of 3 live runs: ")
    assert re.search(rf"live1 \({HOST}/{os.getpid()}, heartbeat \d+ s ago, 2 namespaces\)", kept[0]), kept[0]


def test_with_simulated_nodes_pods_are_deleted_at_once_on_the_real_nodes_only():
    """The API server deletes a collection one pod at a time: at 300 simulated nodes the vendor's 302
    pods took most of a 33 s teardown. A simulated node holds no host port, so its pods go with their
    namespace; on the real nodes they are deleted at once, as on any cluster."""
    from kubernetes import client as k8s

    from hostnet_conformance import sampling
    from hostnet_conformance.plugin.target import close

    class Core(FakeCore):
        selectors: list = []

        def delete_collection_namespaced_pod(self, name, field_selector="", **_):
            self.selectors.append((name, field_selector))

        def list_node(self):
            real = k8s.V1Node(metadata=k8s.V1ObjectMeta(name="w1", labels={}))
            fake = k8s.V1Node(metadata=k8s.V1ObjectMeta(name="hnc-fake-0", labels={sampling.SIMULATED_LABEL: "true"}))
            return SimpleNamespace(items=[real, fake])

    core = Core()
    kube.create_namespace(core, "run1", "vendor")
    for facts, want in (({"simulated_nodes": 1}, [("hnc-run1-vendor", "spec.nodeName=w1")]),
                        ({}, [("hnc-run1-vendor", "")])):
        core.selectors.clear()
        core.namespaces["hnc-run1-vendor"].metadata.deletion_timestamp = None
        close(SimpleNamespace(getoption=lambda name: False),
              SimpleNamespace(kind_name=None, created_by_run=False, core=core, facts=facts), "run1")
        assert core.selectors == want


def test_with_the_runs_watch_pods_are_deleted_only_where_it_saw_them(monkeypatch):
    """The watch knows where the run's pods are: a namespace without one costs no request, and with
    simulated nodes only the real nodes that hold one get a delete."""
    from kubernetes import client as k8s

    from hostnet_conformance import sampling, watching
    from hostnet_conformance.plugin.target import pods_to_delete

    watched = watching.RunWatch(k8s.ApiClient(), "run1")
    for ns, name, node in (("a", "p1", "w1"), ("a", "p2", "hnc-fake-0"), ("b", "p3", None)):
        watched.pods.objects[(ns, name)] = k8s.V1Pod(metadata=k8s.V1ObjectMeta(name=name, namespace=ns),
                                                      spec=k8s.V1PodSpec(containers=[], node_name=node))
    monkeypatch.setattr(watching, "current", lambda: watched)
    nodes = [k8s.V1Node(metadata=k8s.V1ObjectMeta(name="w1", labels={})),
             k8s.V1Node(metadata=k8s.V1ObjectMeta(name="w2", labels={})),
             k8s.V1Node(metadata=k8s.V1ObjectMeta(name="hnc-fake-0", labels={sampling.SIMULATED_LABEL: "true"}))]
    core = SimpleNamespace(list_node=lambda: SimpleNamespace(items=nodes))
    plain = pods_to_delete(SimpleNamespace(core=core, facts={}))
    assert (plain("a"), plain("b"), plain("c")) == ([""], [""], [])
    simulated = pods_to_delete(SimpleNamespace(core=core, facts={"simulated_nodes": 1}))
    assert (simulated("a"), simulated("b"), simulated("c")) == (["spec.nodeName=w1"], [], [])
