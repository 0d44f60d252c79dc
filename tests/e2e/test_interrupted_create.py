"""SIGTERM while the suite makes its kind cluster leaves no cluster behind: stopped in the middle of
`kind create cluster` (the node containers exist, kind has not finished), and stopped after kind
has finished while the run waits for the nodes to be Ready. After SIGKILL, which nothing can
handle, the next --cleanup deletes the cluster. Real kind, real Docker, the offline node image; a
cluster of its own beside the kept one, deleted again whatever happens."""
from __future__ import annotations

import signal
import subprocess
import sys

import pytest
from kubernetes import client, config

from hostnet_conformance.cluster import KIND_NODE_LABELS, default_workdir
from hostnet_conformance.waiting import wait_until

from .conftest import ROOT

NAME = "hnc-e2e-term"


def kind_nodes(name: str) -> list[str]:
    return subprocess.run(["kind", "get", "nodes", "--name", name], capture_output=True, text=True,
                          timeout=60).stdout.split()


def node_containers(name: str) -> list[str]:
    """Every container of the cluster, running or not (what kind's own delete looks for)."""
    return subprocess.run(["docker", "ps", "-a", "-q", "--filter", f"label=io.x-k8s.kind.cluster={name}"],
                          capture_output=True, text=True, timeout=60).stdout.split()


KUBECONFIG = default_workdir(NAME) / "kubeconfig"   # where the run's kind create writes it, last


def start_run(tmp_path, **output) -> subprocess.Popen:
    """A suite run (-m C1) that creates the kind cluster NAME, which must not exist yet."""
    assert not node_containers(NAME), f"a cluster {NAME} exists before the test"
    KUBECONFIG.unlink(missing_ok=True)
    return subprocess.Popen([sys.executable, "-m", "pytest", str(ROOT / "suites"), "-p", "no:cacheprovider", "-q",
                             "--cluster-name", NAME, "-m", "C1"], cwd=tmp_path, **output)


def wait_for_kind_create_to_finish() -> None:
    wait_until(lambda: kubeconfig_written(KUBECONFIG), timeout=300, what="kind create to finish",
               describe=lambda: f"containers: {node_containers(NAME)}; no kubeconfig at {KUBECONFIG}")


@pytest.mark.parametrize("moment", ["kind create running", "nodes becoming Ready"])
def test_sigterm_while_the_cluster_is_made_leaves_no_cluster(e2e_cluster, tmp_path, moment):
    p = start_run(tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        if moment == "kind create running":
            # kind has made the node containers and is still setting them up
            wait_until(lambda: node_containers(NAME) and not kubeconfig_written(KUBECONFIG), timeout=180,
                       what="kind to start the node containers", describe=lambda: f"containers: {node_containers(NAME)}")
        else:   # kind create has returned; the run now waits for Ready nodes
            wait_for_kind_create_to_finish()
        p.send_signal(signal.SIGTERM)
        out, _ = p.communicate(timeout=180)
        assert p.returncode != 0, out[-2000:]
        assert not node_containers(NAME), f"left behind: {node_containers(NAME)}\n{out[-2000:]}"
        assert not kind_nodes(NAME)
    finally:
        if p.poll() is None:
            p.kill()
        subprocess.run(["kind", "delete", "cluster", "--name", NAME], capture_output=True, timeout=300)


def kubeconfig_written(path) -> bool:
    try:
        return "server:" in path.read_text()
    except OSError:
        return False


def test_the_cluster_of_a_killed_run_is_labelled_and_deleted_by_cleanup(e2e_cluster, tmp_path):
    """SIGKILL leaves no chance to clean up: the cluster stays, its nodes say whose it is, and the next
    --cleanup deletes it (and not the kept cluster the other tests use)."""
    p = start_run(tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_kind_create_to_finish()
        p.kill()
        p.wait(timeout=60)
        assert node_containers(NAME), "a SIGKILLed run cannot delete its cluster; nothing to test"
        nodes = client.CoreV1Api(config.new_client_from_config(str(KUBECONFIG))).list_node().items
        assert nodes and all(n.metadata.labels.get(k) == v for n in nodes for k, v in KIND_NODE_LABELS.items()), \
            [n.metadata.labels for n in nodes]
        r = subprocess.run([sys.executable, "-m", "pytest", str(ROOT / "suites"), "-p", "no:cacheprovider",
                            "--cleanup", "--cluster-name", "hnc-e2e-absent"], cwd=tmp_path, capture_output=True,
                           text=True, timeout=300)
        assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
        assert f"kind clusters left by killed runs: {NAME}" in r.stdout, r.stdout[-2000:]
        assert not node_containers(NAME), f"left behind: {node_containers(NAME)}"
        assert node_containers(e2e_cluster["name"]), "--cleanup deleted the kept cluster"
    finally:
        if p.poll() is None:
            p.kill()
        subprocess.run(["kind", "delete", "cluster", "--name", NAME], capture_output=True, timeout=300)
