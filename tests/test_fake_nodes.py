"""scripts/fake_nodes.py without a cluster: the Node objects it makes, the kubeconfig and command line
kwok gets (loopback only, no port of its own), its one-line refusals of bad input, and that `remove`
stops only the kwok it started."""
import importlib.util
import ipaddress
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from kubernetes import client

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("fake_nodes", ROOT / "scripts" / "fake_nodes.py")
fake_nodes = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fake_nodes)

from hostnet_conformance import sampling  # noqa: E402
from hostnet_conformance.waiting import wait_until  # noqa: E402


def kubeconfig(server="https://127.0.0.1:41234", **cluster) -> dict:
    return {"apiVersion": "v1", "kind": "Config", "current-context": "kind-other",
            "clusters": [{"name": "kind-hnc-kwok", "cluster": {"server": server, "certificate-authority": "ca.crt",
                                                               **cluster}},
                         {"name": "kind-other", "cluster": {"server": "https://127.0.0.1:5000"}}],
            "users": [{"name": "kind-hnc-kwok", "user": {"client-certificate-data": "Y2VydA==",
                                                         "client-key": "/abs/key.pem"}},
                      {"name": "kind-other", "user": {"token": "t"}}],
            "contexts": [{"name": "kind-hnc-kwok", "context": {"cluster": "kind-hnc-kwok", "user": "kind-hnc-kwok"}},
                         {"name": "kind-other", "context": {"cluster": "kind-other", "user": "kind-other"}}]}


def test_a_fake_node_is_kwoks_ours_linux_amd64_untainted_in_a_zone():
    n = fake_nodes.node_manifest(4)
    assert n["metadata"]["name"] == "hnc-fake-4"
    labels = n["metadata"]["labels"]
    assert labels["type"] == "kwok" and labels["hostnet-conformance/fake-node"] == "true"
    assert labels["kubernetes.io/os"] == "linux" and labels["kubernetes.io/arch"] == "amd64"
    assert labels["kubernetes.io/hostname"] == "hnc-fake-4"
    assert n["metadata"]["annotations"] == {"kwok.x-k8s.io/node": "fake"}
    assert not n["spec"].get("taints"), "a taint would keep DaemonSets off the fake nodes"
    client.V1Node.model_validate(n)   # what create_node checks before it sends anything


def test_the_suite_knows_a_fake_node_as_simulated():
    m = fake_nodes.node_manifest(0)["metadata"]
    assert sampling.simulated(SimpleNamespace(metadata=SimpleNamespace(labels=m["labels"], annotations=None)))
    assert fake_nodes.FAKE_LABEL == sampling.SIMULATED_LABEL and fake_nodes.KWOK_ANNOTATION == sampling.KWOK_ANNOTATION


def test_the_nodes_are_spread_evenly_over_three_zones():
    zones = [fake_nodes.node_manifest(i)["metadata"]["labels"]["topology.kubernetes.io/zone"] for i in range(300)]
    assert sorted(set(zones)) == sorted(fake_nodes.ZONES) and len(fake_nodes.ZONES) == 3
    assert {z: zones.count(z) for z in set(zones)} == {z: 100 for z in fake_nodes.ZONES}


def test_every_fake_node_has_its_own_loopback_address():
    ips = [fake_nodes.node_manifest(i)["status"]["addresses"][0]["address"] for i in range(fake_nodes.MAX_COUNT)]
    assert len(set(ips)) == len(ips)
    assert all(ipaddress.ip_address(ip).is_loopback for ip in ips)
    assert fake_nodes.node_manifest(0)["status"]["addresses"] == [
        {"type": "InternalIP", "address": "127.100.0.1"}, {"type": "Hostname", "address": "hnc-fake-0"}]


def test_only_a_node_with_our_label_and_kwoks_annotation_is_ours():
    def node(labels, annotations):
        return SimpleNamespace(metadata=SimpleNamespace(labels=labels, annotations=annotations))
    m = fake_nodes.node_manifest(1)["metadata"]
    assert fake_nodes.ours(node(m["labels"], m["annotations"]))
    assert not fake_nodes.ours(node(m["labels"], None)), "a real node someone labelled is never deleted"
    assert not fake_nodes.ours(node(None, m["annotations"]))


@pytest.mark.parametrize("server,local", [
    ("https://127.0.0.1:41234", True), ("https://localhost:6443", True), ("https://[::1]:6443", True),
    ("https://127.5.6.7", True), ("https://172.18.0.2:6443", False), ("https://[fd00::2]:6443", False),
    ("https://api.example.com:6443", False), ("", False)])
def test_only_an_api_server_on_loopback_is_accepted(server, local):
    assert fake_nodes.on_loopback(server) is local


def test_kwok_gets_the_context_alone_made_current_with_absolute_paths():
    out = fake_nodes.kwok_kubeconfig(kubeconfig(), "kind-hnc-kwok", Path("/home/u/.kube"))
    assert out["current-context"] == "kind-hnc-kwok"
    assert [c["name"] for c in out["contexts"]] == ["kind-hnc-kwok"]
    assert [c["name"] for c in out["clusters"]] == ["kind-hnc-kwok"]
    assert out["clusters"][0]["cluster"]["certificate-authority"] == "/home/u/.kube/ca.crt"
    assert out["users"] == [{"name": "kind-hnc-kwok", "user": {"client-certificate-data": "Y2VydA==",
                                                                 "client-key": "/abs/key.pem"}}]


@pytest.mark.parametrize("doc,context,message", [
    (kubeconfig(server="https://172.18.0.2:6443"), "kind-hnc-kwok", "https://172.18.0.2:6443 is not on loopback"),
    (kubeconfig(**{"proxy-url": "http://127.0.0.1:3128"}), "kind-hnc-kwok", "goes through a proxy"),
    (kubeconfig(), "kind-missing", "the kubeconfig has no context 'kind-missing'"),
    ({}, "kind-hnc-kwok", "the kubeconfig has no context"),
])
def test_a_context_kwok_must_not_use_is_refused_in_one_line(doc, context, message):
    with pytest.raises(fake_nodes.BadInput, match=message) as e:
        fake_nodes.kwok_kubeconfig(doc, context, Path("/"))
    assert "\n" not in str(e.value)


def test_kwoks_command_line_opens_no_port_and_manages_only_annotated_nodes():
    cmd = fake_nodes.kwok_command(Path("/c/kwok"), Path("/s/kwok.kubeconfig"), Path("/c/stages.yaml"))
    assert cmd[:5] == ["/c/kwok", "--kubeconfig", "/s/kwok.kubeconfig", "--config", "/c/stages.yaml"]
    assert "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake" in cmd
    assert not any(a.startswith(("--server-address", "--node-port", "--manage-all-nodes")) for a in cmd)
    cidr = next(a for a in cmd if a.startswith("--cidr=")).split("=", 1)[1]
    assert ipaddress.ip_network(cidr).is_loopback
    # leases, or the node lifecycle controller marks the fake nodes' pods NotReady
    assert "--node-lease-duration-seconds=40" in cmd


@pytest.mark.parametrize("argv,message", [
    ([], "the following arguments are required: command"),
    (["grow"], "argument command: invalid choice: 'grow'"),
    (["add", "--kubeconfig", "k", "--context", "c"], "the following arguments are required: --count"),
    (["add", "--kubeconfig", "k", "--context", "c", "--count", "0"], "must be a whole number from 1 to 5000, not '0'"),
    (["add", "--kubeconfig", "k", "--context", "c", "--count", "5001"], "not '5001'"),
    (["add", "--kubeconfig", "k", "--context", "c", "--count", "ten"], "not 'ten'"),
    (["remove", "--context", "c"], "the following arguments are required: --kubeconfig"),
])
def test_bad_arguments_exit_2_with_one_line(argv, message, capsys):
    with pytest.raises(SystemExit) as e:
        fake_nodes.main(argv)
    err = capsys.readouterr().err
    assert e.value.code == 2
    assert err.startswith("fake_nodes.py: ") and message in err and err.count("\n") == 1


def test_a_kubeconfig_it_cannot_use_exits_2_before_anything_starts(tmp_path, capsys):
    kc = tmp_path / "kubeconfig"
    kc.write_text(yaml.safe_dump(kubeconfig(server="https://10.1.2.3:6443")))
    state = tmp_path / "state"
    common = ["--kubeconfig", str(kc), "--state-dir", str(state)]
    assert fake_nodes.main(["add", *common, "--context", "kind-hnc-kwok", "--count", "3"]) == 2
    assert "is not on loopback" in capsys.readouterr().err
    assert not (state / "kwok.pid").exists()
    assert fake_nodes.main(["add", *common, "--context", "nope", "--count", "3"]) == 2
    assert capsys.readouterr().err == "fake_nodes.py: the kubeconfig has no context 'nope'\n"
    assert fake_nodes.main(["add", "--kubeconfig", str(tmp_path / "missing"), "--context", "c", "--count", "3"]) == 2
    assert "cannot read the kubeconfig" in capsys.readouterr().err
    kc.write_text(yaml.safe_dump(kubeconfig(**{"certificate-authority": str(tmp_path / "no-ca.crt")})))
    assert fake_nodes.main(["add", *common, "--context", "kind-hnc-kwok", "--count", "3"]) == 2
    assert "cannot use context kind-hnc-kwok" in capsys.readouterr().err
    usable = {"apiVersion": "v1", "kind": "Config",
              "clusters": [{"name": "k", "cluster": {"server": "https://127.0.0.1:1", "insecure-skip-tls-verify": True}}],
              "users": [{"name": "k", "user": {"token": "t"}}],
              "contexts": [{"name": "kind-hnc-kwok", "context": {"cluster": "k", "user": "k"}}]}
    kc.write_text(yaml.safe_dump(usable))
    assert fake_nodes.main(["add", *common, "--context", "kind-hnc-kwok", "--count", "3",
                            "--kwok", str(tmp_path / "no-kwok")]) == 2
    assert "build-kwok.sh" in capsys.readouterr().err


def test_remove_stops_only_the_kwok_its_state_dir_started(tmp_path):
    state = fake_nodes.State(SimpleNamespace(state_dir=str(tmp_path), context="c"))
    state.pid_file.write_text(f"{subprocess.os.getpid()}\n")   # a pid that is not its kwok: left alone
    assert state.running() is None
    assert fake_nodes.stop_kwok(state) == "no kwok of this context was running" and not state.pid_file.exists()
    # a stand-in with kwok's tell-tale argument (its kubeconfig's path); SIGTERM ends it
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", str(state.kubeconfig)])
    try:
        state.pid_file.write_text(f"{proc.pid}\n")
        # /proc/<pid>/cmdline may read empty for a moment after the exec
        wait_until(lambda: state.running() == proc.pid, timeout=10, what="the stand-in's command line",
                   describe=lambda: str(state.running()))
        assert fake_nodes.stop_kwok(state) == f"kwok (pid {proc.pid}) stopped"
        assert proc.wait(10) == -15 and not state.pid_file.exists()
    finally:
        proc.kill()
        proc.wait()
