"""Judges on recorded observations (tests/data/observations/): what the exporter and the node
showed, and the verdict each gives. No cluster."""
from pathlib import Path

import pytest

from hostnet_conformance import checks
from hostnet_conformance.verdict import ClusterError

DATA = Path(__file__).parent / "data" / "observations"
UNAME = 'node_uname_info{domainname="(none)",machine="x86_64",nodename="hnc-dev-worker",release="6.1.0"} 1'


def recorded(name: str) -> tuple[str, str]:
    text = "\n".join(ln for ln in (DATA / name).read_text().splitlines() if not ln.startswith("#"))
    exporter, node = text.split("\n---\n")
    return exporter + "\n", node + "\n"


def test_c12_passes_on_the_node_view():
    failures, ev, ok = checks.judge_c12("hnc-dev-worker", "hnc-dev-worker", *recorded("c12-vendor.txt"), UNAME)
    assert failures == []
    assert ev["pid1"] == ev["node_pid1"] == {"pid": 1, "comm": "systemd", "start": 1319475}
    assert "PID 1 is the node's systemd" in ok and ev["processes_visible"] == 43


def test_c12_control_without_host_pid_fails_on_pid1_only():
    failures, _, _ = checks.judge_c12("hnc-dev-worker", "hnc-dev-worker", *recorded("c12-no-hostpid.txt"), UNAME)
    assert [f[0] for f in failures] == ["pid1_not_node_init"]
    assert "'node_exporter'" in failures[0][1] and "'systemd'" in failures[0][1]


def test_c12_mounts_of_the_pods_own_proc_and_sys_fail():
    exporter, node = recorded("c12-vendor.txt")
    own = exporter.replace("kube-bridge 0a:58:0a:f4:01:01\n", "").replace("eth0 02:42:ac:12:00:03", "eth0 6a:aa:bb:cc:dd:ee")
    failures, _, _ = checks.judge_c12("hnc-dev-worker", "hnc-dev-worker", own, node, UNAME)
    assert [f[0] for f in failures] == ["sys_mount_not_node"] and "MAC of ['eth0'] differs" in failures[0][1]
    sections = exporter.split("@@\n")
    sections[1] = "cat: can't open '/host/proc/1/stat': No such file or directory\n"
    failures, _, _ = checks.judge_c12("hnc-dev-worker", "hnc-dev-worker", "@@\n".join(sections), node, UNAME)
    assert [f[0] for f in failures] == ["proc_mount_not_node"]


def test_c12_uname_must_name_the_nodes_hostname():
    failures, _, _ = checks.judge_c12("w1", "ip-10-0-0-1", *recorded("c12-vendor.txt"), UNAME)
    assert [f[0] for f in failures] == ["uname_wrong_node"]


def test_c12_a_node_probe_that_read_nothing_is_error_not_fail():
    exporter, _ = recorded("c12-vendor.txt")
    with pytest.raises(ClusterError, match="could not read the node's /proc/1/stat"):
        checks.judge_c12("hnc-dev-worker", "hnc-dev-worker", exporter, "", UNAME)


def test_c8_a_log_the_kubelet_cannot_retrieve_is_asked_again_then_error():
    """Seen in CI: the previous container's log came back as the kubelet's own words."""
    from types import SimpleNamespace

    from hostnet_conformance.waiting import WaitTimeout
    answers = ["unable to retrieve container logs for containerd://5e41944214b0", "listen tcp :10250: bind: address already in use\n"]
    env = SimpleNamespace(core=SimpleNamespace(read_namespaced_pod_log=lambda *a, **kw: answers.pop(0) if len(answers) > 1 else answers[0]))
    assert "bind: address already in use" in checks._previous_log(env, "ns", "pinned", timeout=5)
    stuck = SimpleNamespace(core=SimpleNamespace(read_namespaced_pod_log=lambda *a, **kw: "unable to retrieve container logs for containerd://x"))
    with pytest.raises(WaitTimeout, match="unable to retrieve container logs"):
        checks._previous_log(stuck, "ns", "pinned", timeout=1)


def test_a_wait_that_ran_out_reports_the_clusters_words_never_an_empty_state():
    from hostnet_conformance.plugin.verdicts import last_seen
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
