"""Judges on recorded observations (tests/data/observations/): what the exporter and the node
showed, and the verdict each gives. No cluster."""
from pathlib import Path

import pytest

from hostnet_conformance.claims import c2, c8, c10, c11, c12
from hostnet_conformance.verdict import ClusterError

DATA = Path(__file__).parent / "data" / "observations"
UNAME = 'node_uname_info{domainname="(none)",machine="x86_64",nodename="hnc-dev-worker",release="6.1.0"} 1'


def recorded(name: str) -> tuple[str, str]:
    text = "\n".join(ln for ln in (DATA / name).read_text().splitlines() if not ln.startswith("#"))
    exporter, node = text.split("\n---\n")
    return exporter + "\n", node + "\n"


def test_c12_passes_on_the_node_view():
    failures, ev, ok = c12.judge_c12("hnc-dev-worker", "hnc-dev-worker", *recorded("c12-vendor.txt"), UNAME)
    assert failures == []
    assert ev["pid1"] == ev["node_pid1"] == {"pid": 1, "comm": "systemd", "start": 1319475}
    assert "PID 1 is the node's systemd" in ok and ev["processes_visible"] == 43


def test_c12_control_without_host_pid_fails_on_pid1_only():
    failures, _, _ = c12.judge_c12("hnc-dev-worker", "hnc-dev-worker", *recorded("c12-no-hostpid.txt"), UNAME)
    assert [f[0] for f in failures] == ["pid1_not_node_init"]
    assert "'node_exporter'" in failures[0][1] and "'systemd'" in failures[0][1]


def test_c12_mounts_of_the_pods_own_proc_and_sys_fail():
    exporter, node = recorded("c12-vendor.txt")
    own = exporter.replace("kube-bridge 0a:58:0a:f4:01:01\n", "").replace("eth0 02:42:ac:12:00:03", "eth0 6a:aa:bb:cc:dd:ee")
    failures, _, _ = c12.judge_c12("hnc-dev-worker", "hnc-dev-worker", own, node, UNAME)
    assert [f[0] for f in failures] == ["sys_mount_not_node"] and "MAC of ['eth0'] differs" in failures[0][1]
    sections = exporter.split("@@\n")
    sections[1] = "cat: can't open '/host/proc/1/stat': No such file or directory\n"
    failures, _, _ = c12.judge_c12("hnc-dev-worker", "hnc-dev-worker", "@@\n".join(sections), node, UNAME)
    assert [f[0] for f in failures] == ["proc_mount_not_node"]


def test_c12_uname_must_name_the_nodes_hostname():
    failures, _, _ = c12.judge_c12("w1", "ip-10-0-0-1", *recorded("c12-vendor.txt"), UNAME)
    assert [f[0] for f in failures] == ["uname_wrong_node"]


def test_c12_a_node_probe_that_read_nothing_is_error_not_fail():
    exporter, _ = recorded("c12-vendor.txt")
    with pytest.raises(ClusterError, match="could not read the node's /proc/1/stat"):
        c12.judge_c12("hnc-dev-worker", "hnc-dev-worker", exporter, "", UNAME)


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


# ---------------------------------------------------------------- C2, C10, C11: GETs and their modes

from types import SimpleNamespace as NS  # noqa: E402

from hostnet_conformance import probes  # noqa: E402
from hostnet_conformance.verdict import ControlInconclusive, expect_control  # noqa: E402

METRICS = "# HELP node_exporter_build_info\nnode_exporter_build_info{version=\"1.8.2\"} 1\n"
REFUSED = "wget: can't connect to remote host (172.18.0.2): Connection refused"
POD = NS(metadata=NS(name="node-exporter-abcde"), spec=NS(node_name="w1"), status=NS(pod_ip="172.18.0.2"))


@pytest.fixture
def run_c2(monkeypatch):
    """check_c2 on one node, w1, with the GETs' answers set per case (rc, stdout, stderr)."""
    answers = {}
    monkeypatch.setattr(c2, "node_ips", lambda env: {"w1": "172.18.0.2"})
    monkeypatch.setattr(c2, "ds_pods", lambda env, ns, ds: [POD])
    monkeypatch.setattr(c2, "_node_proxy_metrics", lambda env, node, port: "not asked")
    monkeypatch.setattr(probes, "http_get_from_host", lambda url: {"ok": False, "status": None, "body": ""})
    monkeypatch.setattr(probes, "http_get", lambda core, probe, url: probes.answer(*answers["loopback"]))
    monkeypatch.setattr(probes, "http_get_many", lambda core, probe, urls: {"w1": probes.answer(*answers["pod"])})
    return lambda pod, loopback: (answers.update(pod=pod, loopback=loopback),
                                  c2.check_c2(NS(core=None), "ns", "ds", 20000, {"w1": None}, None))[1]


def test_c2_pass_fail_control_and_error(run_c2):
    assert run_c2((0, METRICS, ""), (0, METRICS, "")).passed
    # the claim observed false: nothing answers on the node's port from a pod within 3 s
    v = run_c2((143, "", ""), (0, METRICS, ""))
    assert (v.codes, v.modes) == (["no_metrics_from_pod"], ["timeout"])
    # the control (a pod-network exporter): the node's loopback refuses
    ctl = run_c2((1, "", REFUSED), (1, "", REFUSED))
    assert expect_control(ctl, "test_c2_control_without_host_network") is ctl
    # the same code reached by a timeout proves nothing about the control
    with pytest.raises(ControlInconclusive, match="but timeout, not refused"):
        expect_control(run_c2((1, "", REFUSED), (143, "", "")), "test_c2_control_without_host_network")
    # an exec that delivered no exit status observed nothing: ERROR
    with pytest.raises(ClusterError, match="the exec into the suite's probe failed"):
        run_c2((-1, "", ""), (0, METRICS, ""))


def test_c10_the_control_needs_the_policy_to_drop_or_refuse(monkeypatch):
    web = NS(status=NS(pod_ip="10.244.1.9"))
    env = NS(core=NS(read_namespaced_pod=lambda name, ns: web),
             cluster=NS(net=NS(list_namespaced_network_policy=lambda ns: NS(items=[NS(metadata=NS(name="deny"))]))))
    monkeypatch.setattr(c10, "ds_pods", lambda env, ns, ds: [NS(spec=NS(node_name="w1"), status=NS(pod_ip="10.244.1.3"))])
    got = {}
    monkeypatch.setattr(probes, "http_get_many", lambda core, probe, urls: {k: probes.answer(*got[k]) for k in urls})
    got.update(web=(143, "", ""), w1=(0, METRICS, ""))
    assert c10.check_c10(env, "ns", "ds", 20001, "web", None).passed
    got.update(w1=(1, "", "wget: can't connect to remote host (10.244.1.3): Connection refused"))
    v = c10.check_c10(env, "ns", "ds", 20001, "web", None)
    assert expect_control(v, "test_c10_control_pod_network_is_blocked") is v and v.modes == ["refused"]
    got.update(w1=(-1, "", ""))
    with pytest.raises(ClusterError):
        c10.check_c10(env, "ns", "ds", 20001, "web", None)
    # the normal pod answering despite the policy: the premise fails, whatever the exporter did
    got.update(web=(0, "ok", ""), w1=(0, METRICS, ""))
    assert c10.check_c10(env, "ns", "ds", 20001, "web", None).codes == ["policy_not_enforced"]


def test_c11_normal_pod_asks_the_nodes_address_and_an_answer_there_is_not_applicable(monkeypatch):
    from hostnet_conformance import facts
    from hostnet_conformance.verdict import NotApplicable
    monkeypatch.setattr(c11, "kubelet_of", lambda env, node: facts.Kubelet(source="configz"))
    pod = NS(metadata=NS(name="node-exporter-abcde", namespace="ns"),
             spec=NS(node_name="w1", host_network=True, containers=[NS(name="node-exporter")]),
             status=NS(host_ip="172.18.0.2"))
    got, asked = {}, []

    def http_get(core, probe, url):   # the vendor's pod GETs its loopback; the normal pod (None) the node
        if probe is None:
            asked.append(url)
        return probes.answer(*got["normal" if probe is None else "pod"])
    monkeypatch.setattr(probes, "http_get", http_get)
    got.update(pod=(0, "ok", ""), normal=(1, "", REFUSED))
    v = c11.check_c11(NS(core=None), pod, None)
    assert v.passed and asked == ["http://172.18.0.2:10248/healthz"]   # the node's address, not 127.0.0.1
    assert v.evidence["from_normal_pod"]["mode"] == "refused"
    got.update(pod=(1, "", "wget: can't connect to remote host (127.0.0.1): Connection refused"))
    ctl = c11.check_c11(NS(core=None), pod, None)
    assert expect_control(ctl, "test_c11_control_from_normal_pod") is ctl
    got.update(normal=(0, "ok", ""))
    with pytest.raises(NotApplicable, match="a normal pod reaches the kubelet's healthz at http://172.18.0.2:10248"):
        c11.check_c11(NS(core=None), pod, None)
    got.update(pod=(-1, "", ""), normal=(1, "", REFUSED))
    with pytest.raises(ClusterError):
        c11.check_c11(NS(core=None), pod, None)


def test_c12_an_exec_error_on_the_metrics_get_is_error_not_a_wrong_uname(monkeypatch):
    exporter, node = recorded("c12-vendor.txt")
    pod = NS(metadata=NS(name="node-exporter-abcde", namespace="ns"),
             spec=NS(node_name="hnc-dev-worker", host_network=True, containers=[NS(name="node-exporter")]))
    monkeypatch.setattr(c12, "ds_pods", lambda env, ns, ds: [pod])
    monkeypatch.setattr(c12, "node_json", lambda env, n: {"status": {"addresses": [
        {"type": "Hostname", "address": "hnc-dev-worker"}]}})
    monkeypatch.setattr(c12, "exec_pod", lambda env, p, *cmd: NS(rc=0, stdout=exporter, stderr=""))
    node_probe = NS(run=lambda core, *cmd: NS(rc=0, stdout=node, stderr=""))
    metrics = {}
    monkeypatch.setattr(probes, "http_get", lambda core, probe, url: probes.answer(*metrics["answer"]))
    metrics["answer"] = (0, UNAME + "\n", "")
    assert c12.check_c12(NS(core=None), "ns", "ds", 20000, {"hnc-dev-worker": node_probe}).passed
    metrics["answer"] = (-1, "", "")
    with pytest.raises(ClusterError, match="C12: GET :20000/metrics"):
        c12.check_c12(NS(core=None), "ns", "ds", 20000, {"hnc-dev-worker": node_probe})
