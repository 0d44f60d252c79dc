"""pytest-kind runs kind without a deadline of its own: call_bounded gives each call one, kills the
hung kind process and says so in one line; Ctrl-C or SIGTERM mid-create stops kind and deletes
what it made."""
from __future__ import annotations

import os
import signal
import subprocess
import threading
import time

import pytest
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
    with pytest.raises(TargetError, match=r"^kind create cluster hnc-hung did not finish within 2s \(stopped\)$"):
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
    threading.Timer(1.5, os.kill, (os.getpid(), signal.SIGTERM)).start()
    t0 = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        targets.kind_cluster("hnc-term", image=None, kind_bin=fake_kind, kubectl_bin=fake_kind,
                             workdir=tmp_path / "work")
    assert time.monotonic() - t0 < 15
    left = subprocess.run(["pgrep", "-f", f"{fake_kind} create"], capture_output=True, text=True).stdout.split()
    assert not left, f"kind create still running: {left}"
    assert "delete cluster --name hnc-term" in calls.read_text().splitlines()
