"""A broken or partial cluster yields verdicts, not an abort, and fast (issue: trustworthy verdicts).
Each test breaks one thing on the kept cluster, runs the suite as a user would, and restores the
cluster afterwards, also when the test fails:

- a node process holds the vendor's port 20000 on every worker (a hostNetwork pod that declares no
  port, so the scheduler cannot know): the claims that stand on the vendor DaemonSet are ERROR,
  naming each node and quoting `address already in use`, well within 60 s;
- CoreDNS scaled to zero: C3 is FAIL with a DNS reason, the claims that do not need DNS PASS;
- the node-exporter image cannot be pulled (imagePullPolicy Never, an absent image, so no registry
  is ever asked): no negative control passes;
- one worker's kubelet stopped, with --max-wait 20: the waits run out, every claim is ERROR with
  the cluster's last words (never FAIL), within 60 s.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import time

import pytest
import yaml
from kubernetes import client, config

from hostnet_conformance import kube
from hostnet_conformance.waiting import wait_until

from .conftest import ROOT
from .test_tool_e2e import run, suite_cmd

HOLDER_NS = "hnc-e2e-port-holder"


def apis(c):
    api = config.new_client_from_config(str(c["kubeconfig"]), context=c["context"])
    return client.CoreV1Api(api), client.AppsV1Api(api)


def verdicts(out) -> dict:
    data = json.loads((out / "report.json").read_text())
    return {x["id"]: x for x in data["claims"]}, data


@pytest.fixture
def port_held(e2e_cluster):
    """A hostNetwork DaemonSet that listens on 20000 on every worker and declares no port."""
    core, apps = apis(e2e_cluster)
    core.create_namespace({"metadata": {"name": HOLDER_NS, "labels": {
        kube.PSA_ENFORCE: "privileged", "app.kubernetes.io/part-of": "hostnet-conformance-e2e"}}})
    ds = {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "holder"},
          "spec": {"selector": {"matchLabels": {"app": "holder"}},
                   "template": {"metadata": {"labels": {"app": "holder"}},
                                "spec": {"hostNetwork": True, "terminationGracePeriodSeconds": 0,
                                         "containers": [{"name": "holder", "image": "busybox:1.36.1",
                                                         "imagePullPolicy": "IfNotPresent",
                                                         "command": ["httpd", "-f", "-p", "20000"]}]}}}}
    try:
        apps.create_namespaced_daemon_set(HOLDER_NS, ds)

        def holding():
            st = apps.read_namespaced_daemon_set("holder", HOLDER_NS).status
            return st.desired_number_scheduled and st.number_ready == st.desired_number_scheduled
        wait_until(holding, timeout=90, what="the port holder on every worker",
                   describe=lambda: kube.describe_pods(core, HOLDER_NS), retry_on=(client.ApiException,))
        nodes = sorted({p.spec.node_name for p in core.list_namespaced_pod(HOLDER_NS).items})
        yield nodes
    finally:
        core.delete_namespace(HOLDER_NS, grace_period_seconds=0)
        wait_until(lambda: HOLDER_NS not in {n.metadata.name for n in core.list_namespace().items}, timeout=120,
                   what=f"{HOLDER_NS} deleted", describe=lambda: "still terminating")


def test_port_held_on_the_nodes_is_reported_per_node_within_60s(e2e_cluster, port_held, tmp_path):
    out = tmp_path / "report"
    t0 = time.monotonic()
    r = run(suite_cmd(e2e_cluster, "-m", "C1 or C2 or C3", "--report-dir", str(out)), cwd=tmp_path)
    wall = time.monotonic() - t0
    assert r.returncode == 1, r.stdout[-3000:]
    claims, data = verdicts(out)
    settled = data["capabilities"]["timing_shared_deployments_s"]
    print(f"port-held scenario: shared deployments settled in {settled}s, whole run {wall:.0f}s")
    assert settled < 60, f"the shared deployments took {settled}s to settle"
    held = data["capabilities"]["vendor_port_20000"]   # found before anything was deployed
    assert held.startswith("in use before the suite deployed anything: listening on"), held
    assert all(node in held for node in port_held), held
    for cid in ("C1", "C2", "C3"):
        c = claims[cid]
        assert c["verdict"] in ("FAIL", "ERROR"), c
        assert "address already in use" in c["reason"], c["reason"]
        for node in port_held:
            assert f"node {node}" in c["reason"], (node, c["reason"])
        assert ".py:" not in c["reason"] and "WaitTimeout" not in c["reason"], c["reason"]
    assert "address already in use" in r.stdout


@pytest.fixture
def coredns_down(e2e_cluster):
    core, apps = apis(e2e_cluster)
    deps = apps.list_namespaced_deployment("kube-system", label_selector="k8s-app=kube-dns").items
    assert deps, "no CoreDNS Deployment to scale"
    before = {d.metadata.name: d.spec.replicas for d in deps}
    try:
        for name in before:
            apps.patch_namespaced_deployment_scale(name, "kube-system", {"spec": {"replicas": 0}})
        wait_until(lambda: not core.list_namespaced_pod("kube-system", label_selector="k8s-app=kube-dns").items,
                   timeout=90, what="CoreDNS pods gone", describe=lambda: "still terminating",
                   retry_on=(client.ApiException,))
        yield
    finally:
        for name, replicas in before.items():
            apps.patch_namespaced_deployment_scale(name, "kube-system", {"spec": {"replicas": replicas}})

        def back():
            return all((apps.read_namespaced_deployment(n, "kube-system").status.available_replicas or 0) >= r
                       for n, r in before.items())
        wait_until(back, timeout=120, what="CoreDNS available again", describe=lambda: "not yet",
                   retry_on=(client.ApiException,))


def test_coredns_down_fails_c3_and_judges_the_rest(e2e_cluster, coredns_down, tmp_path):
    out = tmp_path / "report"
    t0 = time.monotonic()
    r = run(suite_cmd(e2e_cluster, "-m", "C1 or C3 or C13", "--report-dir", str(out)), cwd=tmp_path)
    wall = time.monotonic() - t0
    print(f"CoreDNS-down scenario: whole run {wall:.0f}s")
    assert r.returncode == 1, r.stdout[-3000:]
    claims, data = verdicts(out)
    assert claims["C3"]["verdict"] == "FAIL", claims["C3"]
    assert "cluster DNS has no ready endpoints" in claims["C3"]["reason"], claims["C3"]["reason"]
    assert claims["C1"]["verdict"] == "PASS", claims["C1"]
    assert claims["C13"]["verdict"] == "PASS", claims["C13"]
    assert "scaled to 0" in str(data["capabilities"]["cluster_dns"])


def test_no_negative_control_passes_when_the_image_cannot_be_pulled(e2e_cluster, tmp_path):
    """imagePullPolicy Never with an image no node has: ErrImageNeverPull, without asking any registry.
    C9's pod control observes admission only (the API server's answer, no container runs) and C11's
    control runs on the probe image, so those two are judged as usual."""
    out, mdir = tmp_path / "report", tmp_path / "manifests"
    shutil.copytree(ROOT / "fixtures" / "manifests", mdir)
    ds = yaml.safe_load((mdir / "node-exporter-daemonset.yaml").read_text())
    ds["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] = "Never"
    (mdir / "node-exporter-daemonset.yaml").write_text(yaml.safe_dump(ds))
    r = run(suite_cmd(e2e_cluster, "-m", "negative_control", "--report-dir", str(out),
                      "--node-exporter-image", "hnc.local/absent-exporter:0"),
            env={"HNC_MANIFEST_DIR": str(mdir)}, cwd=tmp_path)
    assert r.returncode == 1, r.stdout[-3000:]
    claims, _ = verdicts(out)
    controls = [t for c in claims.values() for t in c["tests"] if t["kind"] == "negative_control"]
    assert len(controls) >= 15, [t["nodeid"] for t in controls]
    independent = ("test_c9_control_privileged_namespace_admits_pod", "test_c11_control_from_normal_pod")
    for t in controls:
        if t["nodeid"].endswith(independent):
            continue
        assert t["status"] != "PASS", t
        assert t["status"] == "ERROR", t
        assert "ErrImageNeverPull" in (t["error"] or ""), t


@pytest.fixture
def kubelet_stopped(e2e_cluster):
    """The kubelet of the last worker stopped: pods bound there stay Pending and nothing says why,
    so a wait on them can only run out. Started again afterwards, also when the test fails."""
    core = e2e_cluster["core"]
    workers = sorted(n.metadata.name for n in core.list_node().items
                     if "node-role.kubernetes.io/control-plane" not in (n.metadata.labels or {}))
    node = workers[-1]   # a kind node's container has the node's name
    # earlier runs' pods leave first: with the kubelet stopped, those on that node could never go
    wait_until(lambda: not core.list_namespace(label_selector=kube.run_selector()).items, timeout=180,
               what="earlier runs' namespaces to be gone",
               describe=lambda: ", ".join(n.metadata.name for n in core.list_namespace(
                   label_selector=kube.run_selector()).items), retry_on=(client.ApiException,))
    subprocess.run(["docker", "exec", node, "systemctl", "stop", "kubelet"], check=True, capture_output=True,
                   timeout=60)
    try:
        yield node
    finally:
        subprocess.run(["docker", "exec", node, "systemctl", "start", "kubelet"], check=True, capture_output=True,
                       timeout=60)

        def ready():
            n = core.read_node(node)
            return any(c.type == "Ready" and c.status == "True" for c in n.status.conditions or [])
        wait_until(ready, timeout=120, what=f"node {node} Ready again", describe=lambda: "not Ready",
                   retry_on=(client.ApiException,))


def test_a_wait_that_runs_out_is_error_with_the_clusters_words_never_fail(e2e_cluster, kubelet_stopped, tmp_path):
    """With one kubelet stopped, the suite's pods there never start and no signal says so: the waits
    run out (--max-wait 20). Every claim is ERROR (or PASS), none FAIL, each reason names what it
    waited for and what the cluster last showed, and the whole run gives its verdicts within 60 s."""
    out = tmp_path / "report"
    t0 = time.monotonic()
    r = run(suite_cmd(e2e_cluster, "-m", "C1 or C7 or C15", "--max-wait", "20", "--report-dir", str(out)),
            cwd=tmp_path)
    wall = time.monotonic() - t0
    claims, _ = verdicts(out)
    print(f"kubelet stopped on {kubelet_stopped}: run {wall:.0f}s; "
          + "; ".join(f"{k} {v['verdict']}: {v['reason'][:200]}" for k, v in claims.items() if k in ("C1", "C7", "C15")))
    assert r.returncode != 0, r.stdout[-2000:]
    judged = {k: v for k, v in claims.items() if k in ("C1", "C7", "C15")}
    assert not [k for k, v in judged.items() if v["verdict"] == "FAIL"], judged
    errors = [v for v in judged.values() if v["verdict"] == "ERROR"]
    assert errors, judged
    for v in errors:
        assert "timed out after 20s waiting for" in v["reason"] and "last seen:" in v["reason"], v["reason"]
        assert kubelet_stopped in v["reason"], v["reason"]   # the pod on the silent node, in the cluster's words
    assert wall < 60, f"the run took {wall:.0f}s"
