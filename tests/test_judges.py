"""Judges on recorded observations (tests/data/observations/): what the exporter and the node
showed, and the verdict each gives. No cluster."""
from pathlib import Path

import pytest

from hostnet_conformance.claims import c2, c8

DATA = Path(__file__).parent / "data" / "observations"


def test_c8_a_log_the_kubelet_cannot_retrieve_is_asked_again_then_error():
    """Seen in CI: the previous container's log came back as the kubelet's own words."""
    from types import SimpleNamespace

    from hostnet_conformance.waiting import WaitTimeout
    answers = ["unable to retrieve container logs for containerd://5e41944214b0", "listen tcp :10250: bind: address already in use\n"]
    env = SimpleNamespace(core=SimpleNamespace(read_namespaced_pod_log=lambda *a, **kw: answers.pop(0) if len(answers) > 1 else answers[0]))
    assert "bind: address already in use" in c8._previous_log(env, "ns", "pinned", timeout=5)
    stuck = SimpleNamespace(core=SimpleNamespace(read_namespaced_pod_log=lambda *a, **kw: "unable to retrieve container logs for containerd://x"))
    with pytest.raises(WaitTimeout, match="unable to retrieve container logs"):
        c8._previous_log(stuck, "ns", "pinned", timeout=1)


def test_c8_evidence_names_the_kubelets_port_and_where_it_came_from():
    """A kubelet port from the defaults is a guess (configz and the node's file unread): beside a
    FAIL, the evidence says so."""
    import json

    from hostnet_conformance.claims import base
    moved = json.loads((DATA / "c8" / "pass-kubelet-port-moved.json").read_text())["observation"]
    v = base.judged(moved, c8.judge)
    assert v.passed and (v.evidence["kubelet_port"], v.evidence["kubelet_facts"]) == (10350, "configz")
    guessed = json.loads((DATA / "c8" / "fail-kubelet-port-guessed-from-defaults.json").read_text())["observation"]
    v = base.judged(guessed, c8.judge)
    assert not v.passed and v.evidence["kubelet_port"] == 10250
    assert v.evidence["kubelet_facts"].startswith("defaults: configz unreadable")
    older = json.loads((DATA / "c8" / "pass-kubelet-port-bind-error.json").read_text())["observation"]
    assert "kubelet_port" not in base.judged(older, c8.judge).evidence   # recorded before the port was read


def test_a_wait_that_ran_out_reports_the_clusters_words_never_an_empty_state():
    from hostnet_conformance.waiting import last_seen
    state = ("daemonset node-exporter: desired=2 current=2 ready=0 updated=2\n"
             "pod node-exporter-j4fbb not scheduled: phase=Pending [PodScheduled=False(Unschedulable: 0/3 nodes are "
             "available: 1 node(s) had untolerated taint, 2 node(s) didn't have free ports for the requested pod ports.)]\n"
             "event Normal SuccessfulCreate DaemonSet/node-exporter: Created pod: node-exporter-j4fbb\n"
             "event Warning FailedScheduling Pod/node-exporter-j4fbb: 0/3 nodes are available: 2 node(s) didn't have "
             "free ports for the requested pod ports.\n")
    seen = last_seen(state)
    assert seen.startswith("daemonset node-exporter: desired=2 current=2 ready=0")
    assert "PodScheduled=False(Unschedulable: 0/3 nodes are available" in seen and "event Warning FailedScheduling" in seen
    assert last_seen("") == "nothing: the wait read no state"


def test_max_wait_bounds_every_wait_and_says_so():
    """--max-wait: a wait asked for 600 s ends after the user's bound, as ERROR (WaitTimeout)."""
    import time

    from hostnet_conformance import waiting
    waiting.set_max_wait(0.5)
    try:
        t0 = time.monotonic()
        with pytest.raises(waiting.WaitTimeout, match="timed out after 0s waiting for nothing"):
            waiting.wait_until(lambda: None, timeout=600, what="nothing", describe=lambda: "still nothing")
        assert time.monotonic() - t0 < 5
    finally:
        waiting.set_max_wait(None)


# ---------------------------------------------------------------- C2: a control decided by a GET's mode

from hostnet_conformance.verdict import ControlInconclusive, expect_control  # noqa: E402


def test_c2_control_decides_only_when_the_nodes_loopback_refuses():
    """The recorded control (a pod-network exporter): the node's loopback refuses. The same code
    reached by a timeout proves nothing about the control."""
    import json

    from hostnet_conformance.claims import base
    obs = json.loads((DATA / "c2" / "control-without-host-network.json").read_text())["observation"]
    ctl = base.judged(obs, c2.judge)
    assert expect_control(ctl, "test_c2_control_without_host_network") is ctl
    obs["facts"]["nodes"]["hnc-dev-worker2"]["from_node_loopback"].update(mode="timeout", error="timed out")
    with pytest.raises(ControlInconclusive, match="but timeout, not refused"):
        expect_control(base.judged(obs, c2.judge), "test_c2_control_without_host_network")

