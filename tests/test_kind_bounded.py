"""pytest-kind runs kind without a deadline of its own: call_bounded gives each call one, kills the
hung kind process and says so in one line; Ctrl-C or SIGTERM mid-create stops kind and deletes
what it made."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time

import pytest
import yaml
from pytest_kind import KindCluster

from hostnet_conformance import cluster as targets
from hostnet_conformance.cluster import TargetError, call_bounded


@pytest.fixture
def fake_kind(tmp_path):
    """A `kind` that lists no cluster and hangs on create (as a wedged Docker daemon makes it)."""
    kind = tmp_path / "kind"
    kind.write_text('#!/bin/bash\ncase "$1" in get) exit 0;; create) exec -a "$0" sleep 300;; esac\nexit 0\n')
    kind.chmod(0o755)
    return kind


def test_a_hung_kind_create_is_stopped_at_the_deadline(fake_kind, tmp_path):
    kc = KindCluster("hnc-hung", kubeconfig=tmp_path / "kc", kind_path=fake_kind, kubectl_path=fake_kind)
    t0 = time.monotonic()
    with pytest.raises(TargetError, match=r"^timed out after 2 s: kind create cluster hnc-hung \(stopped\)$"):
        call_bounded(kc.create, 2, "kind create cluster hnc-hung", fake_kind)
    assert time.monotonic() - t0 < 15
    left = subprocess.run(["pgrep", "-f", f"{fake_kind} create"], capture_output=True, text=True).stdout.split()
    assert not left, f"kind still running: {left}"


def test_a_call_within_its_deadline_returns_its_value_or_raises_its_error():
    assert call_bounded(lambda: 42, 5, "x", "kind") == 42
    with pytest.raises(subprocess.CalledProcessError):
        call_bounded(lambda: subprocess.run(["false"], check=True), 5, "x", "kind")


@pytest.fixture
def sigterm_interrupts():
    """SIGTERM raises KeyboardInterrupt, as the plugin makes it do for a suite run."""
    old = signal.signal(signal.SIGTERM, signal.default_int_handler)
    yield
    signal.signal(signal.SIGTERM, old)


def test_sigterm_mid_create_stops_kind_and_deletes_the_unfinished_cluster(fake_kind, tmp_path, monkeypatch,
                                                                          sigterm_interrupts):
    calls = tmp_path / "calls"
    fake_kind.write_text(f'#!/bin/bash\necho "$@" >> {calls}\n'
                         'case "$1" in get) exit 0;; create) exec -a "$0" sleep 300;; esac\nexit 0\n')
    monkeypatch.setattr(targets, "docker_available", lambda: None)
    monkeypatch.setenv("HNC_STATE_DIR", str(tmp_path / "state"))
    threading.Timer(1.5, os.kill, (os.getpid(), signal.SIGTERM)).start()
    t0 = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        targets.kind_cluster("hnc-term", image=None, kind_bin=fake_kind, kubectl_bin=fake_kind,
                             workdir=targets.default_workdir("hnc-term"))
    assert time.monotonic() - t0 < 15
    left = subprocess.run(["pgrep", "-f", f"{fake_kind} create"], capture_output=True, text=True).stdout.split()
    assert not left, f"kind create still running: {left}"
    assert "delete cluster --name hnc-term" in calls.read_text().splitlines()
    assert targets.read_owner("hnc-term") is None, "the deleted cluster is still marked as the suite's"


def dead_pid() -> int:
    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid


@pytest.mark.parametrize("owner, expected", [
    (None, False),                                   # not made by the suite (or made before owner.json)
    ({"cluster": "x", "keep": True, "pid": -1}, False),   # --keep-cluster: the user's to keep
    ({"cluster": "x", "keep": False, "pid": os.getpid()}, False),   # its run is still going
    ({"cluster": "x", "keep": False}, False),        # no pid: not ours to judge
    ({"cluster": "x", "keep": False, "pid": "dead"}, True),
])
def test_only_an_unkept_cluster_of_a_run_that_is_gone_is_orphaned(owner, expected):
    if owner and owner.get("pid") == "dead":
        owner = {**owner, "pid": dead_pid()}
    assert targets.orphaned(owner) is expected


def test_cleanup_deletes_only_orphaned_kind_clusters(tmp_path, monkeypatch):
    monkeypatch.setenv("HNC_STATE_DIR", str(tmp_path / "state"))
    calls = tmp_path / "calls"
    kind = tmp_path / "kind"
    kind.write_text(f'#!/bin/bash\necho "$@" >> {calls}\n'
                    'case "$1" in get) printf "hnc-killed\\nhnc-kept\\nhnc-live\\nsomeone-elses\\n";; esac\nexit 0\n')
    kind.chmod(0o755)
    for name, keep, pid in (("hnc-killed", False, dead_pid()), ("hnc-kept", True, dead_pid()),
                            ("hnc-live", False, os.getpid())):
        targets.mark_owned(name, keep)
        owner = targets.read_owner(name)
        (targets.default_workdir(name) / targets.OWNER_FILE).write_text(json.dumps({**owner, "pid": pid}))
    assert targets.delete_orphaned_kind_clusters(kind) == ["hnc-killed"]
    deletes = [line for line in calls.read_text().splitlines() if line.startswith("delete")]
    assert deletes == ["delete cluster --name hnc-killed"]
    assert targets.read_owner("hnc-killed") is None and targets.read_owner("hnc-kept") is not None


def test_the_kind_config_labels_every_node_as_the_suites(tmp_path):
    cfg = yaml.safe_load(targets.render_kind_config(tmp_path, 2).read_text())
    assert [n.get("labels") for n in cfg["nodes"]] == [targets.KIND_NODE_LABELS] * 3
    assert not any(k.split("/")[0].endswith(("kubernetes.io", "k8s.io")) for k in targets.KIND_NODE_LABELS)
