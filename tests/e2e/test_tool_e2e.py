"""The tool against a real cluster, used as if it were any cluster: existing-cluster mode with the
kind shortcuts disabled, the report files against what the cluster shows, a forced failure's
diagnostics, SIGINT mid-claim, SIGTERM to an xdist run, and --cleanup."""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

import yaml

from hostnet_conformance import kube
from hostnet_conformance.waiting import wait_until

from .conftest import ROOT

SELECT_MANAGED = f"{kube.LABEL_MANAGED}={kube.MANAGED_VALUE}"


def suite_cmd(c, *args):
    return [sys.executable, "-m", "pytest", str(ROOT / "suites"), "-p", "no:cacheprovider", "-q",
            "--kubeconfig", str(c["kubeconfig"]), "--context", c["context"], *args]


def run(cmd, env=None, cwd=None, timeout=600):
    return subprocess.run(cmd, env={**os.environ, **(env or {})}, cwd=cwd, capture_output=True, text=True,
                          timeout=timeout)


def run_ids(core) -> set[str]:
    return {ns.metadata.labels.get(kube.LABEL_RUN) for ns in core.list_namespace(label_selector=SELECT_MANAGED).items}


def test_existing_cluster_mode_writes_reports_that_match_the_cluster(e2e_cluster, no_kind_path, tmp_path):
    c, out = e2e_cluster, tmp_path / "report"
    r = run(suite_cmd(c, "-m", "C1 or C13", "--report-dir", str(out), "--junitxml", str(out / "junit.xml")),
            env={"PATH": no_kind_path["PATH"]}, cwd=tmp_path)
    assert r.returncode == 0, r.stdout[-3000:]
    assert not no_kind_path["marker"].exists(), "kind was called in existing-cluster mode"
    data = json.loads((out / "report.json").read_text())
    assert data["schema_version"] == 2
    claims = {x["id"]: x for x in data["claims"]}
    assert claims["C1"]["verdict"] == "PASS" and claims["C13"]["verdict"] == "PASS"
    assert claims["C2"]["verdict"] == "NOT RUN"
    # the evidence is what the cluster shows: every worker's InternalIP as the pod IP
    nodes = {n.metadata.name: kube.node_internal_ip(n) for n in c["core"].list_node().items}
    c1 = next(t for t in claims["C1"]["tests"] if t["kind"] == "claim")["verdict"]["evidence"]
    assert c1 and all(c1[node]["podIP"] == nodes[node] for node in c1), c1
    assert data["capabilities"]["target"] == f"context {c['context']}"
    assert data["capabilities"]["nodes"] == len(nodes)
    md = (out / "report.md").read_text()
    assert "| C1 |" in md and "| C13 |" in md and "PASS" in md
    assert (out / "junit.xml").exists()
    assert "hostnet-conformance verdicts" in r.stdout


def test_forced_failure_leaves_diagnostics(e2e_cluster, tmp_path):
    """The vendor's DaemonSet with the wrong dnsPolicy (a manifest override) makes C3 fail for real."""
    c, out, mdir = e2e_cluster, tmp_path / "report", tmp_path / "manifests"
    shutil.copytree(ROOT / "fixtures" / "manifests", mdir)
    ds = yaml.safe_load((mdir / "node-exporter-daemonset.yaml").read_text())
    ds["spec"]["template"]["spec"]["dnsPolicy"] = "ClusterFirst"
    (mdir / "node-exporter-daemonset.yaml").write_text(yaml.safe_dump(ds))
    r = run(suite_cmd(c, "-m", "C3 and not negative_control", "--report-dir", str(out)),
            env={"HNC_MANIFEST_DIR": str(mdir)}, cwd=tmp_path)
    assert r.returncode == 1, r.stdout[-3000:]
    data = json.loads((out / "report.json").read_text())
    assert {x["id"]: x["verdict"] for x in data["claims"]}["C3"] == "FAIL"
    files = list((out / "diagnostics").glob("*.txt"))
    assert len(files) == 1, files
    text = files[0].read_text()
    for needle in ("===== namespace", "--- events", "--- log", "conditions:", "===== nodes", "listening TCP ports"):
        assert needle in text, f"{needle!r} missing from diagnostics"
    assert "hostnet-conformance diagnostics" in r.stdout


def interrupted_run_leaves_nothing(c, tmp_path, args, suffix, interrupt):
    """Start a suite run, `interrupt` it once a namespace of its own ending in `suffix` holds a pod
    (mid-claim), and require that every namespace of that run is then deleted."""
    core = c["core"]
    before = run_ids(core)
    # A shell starts background jobs with SIGINT ignored, and Python then keeps it ignored; restore the
    # default so the child behaves like a suite run in a terminal, whatever started this test.
    p = subprocess.Popen(suite_cmd(c, *args), cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, start_new_session=True,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        # earlier runs' namespaces may still be Terminating, so only a new run id counts
        def pod_of_new_run():
            for ns in core.list_namespace(label_selector=SELECT_MANAGED).items:
                if ns.metadata.labels.get(kube.LABEL_RUN) not in before and ns.metadata.name.endswith(suffix) \
                        and ns.metadata.deletion_timestamp is None:
                    return core.list_namespaced_pod(ns.metadata.name).items
            return None

        wait_until(pod_of_new_run, timeout=180, what=f"a pod in the new run's *{suffix} namespace",
                   describe=lambda: f"runs with namespaces: {run_ids(core)}")
        interrupt(p)
        out, _ = p.communicate(timeout=180)
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
    assert p.returncode != 0, out[-2000:]
    new = run_ids(core) - before

    def gone():
        return not [ns.metadata.name for ns in core.list_namespace(label_selector=SELECT_MANAGED).items
                    if ns.metadata.labels.get(kube.LABEL_RUN) in new]

    wait_until(gone, timeout=120, what="every namespace of the interrupted run to be gone",
               describe=lambda: f"runs left: {run_ids(core) - before}")


def test_sigint_mid_claim_leaves_nothing(e2e_cluster, tmp_path):
    interrupted_run_leaves_nothing(e2e_cluster, tmp_path, ["-m", "C8"], "-c8", lambda p: p.send_signal(signal.SIGINT))


def test_sigterm_to_an_xdist_run_and_its_workers_leaves_nothing(e2e_cluster, tmp_path):
    """What a CI runner's cancel does: SIGTERM to the whole process group, the pytest-xdist controller
    and its workers at once, while a worker is mid-claim."""
    interrupted_run_leaves_nothing(e2e_cluster, tmp_path, ["-n", "2"], "-c10",
                                   lambda p: os.killpg(p.pid, signal.SIGTERM))


def test_cleanup_removes_only_labelled_leftovers_of_finished_runs(e2e_cluster, tmp_path):
    """A leftover of a run whose process is gone goes; a live run's namespace (this test's own
    process owns it, its heartbeat is fresh) and an unlabelled one stay."""
    c, core = e2e_cluster, e2e_cluster["core"]
    stamp = str(int(time.time()))
    ours = kube.create_namespace(core, f"old{stamp}", "leftover")
    gone = subprocess.Popen(["true"])
    gone.wait(timeout=30)   # the leftover's run: a process of this host that has ended
    core.patch_namespace(ours, {"metadata": {"annotations": {kube.OWNER: f"{socket.gethostname()}/{gone.pid}"}}})
    live = kube.create_namespace(core, f"live{stamp}", "running")
    theirs = f"not-ours-{stamp}"
    core.create_namespace({"metadata": {"name": theirs}})
    try:
        r = run(suite_cmd(c, "--cleanup"), cwd=tmp_path)
        assert r.returncode == 0, r.stdout[-2000:]
        assert ours in r.stdout + r.stderr
        ns = core.read_namespace(ours)
        assert ns.metadata.deletion_timestamp is not None, "the labelled leftover was not deleted"
        assert core.read_namespace(live).metadata.deletion_timestamp is None, "a live run's namespace was deleted"
        assert f"live{stamp} (" in r.stdout, "the live run kept is not named"
        assert core.read_namespace(theirs).metadata.deletion_timestamp is None, "an unlabelled namespace was touched"
    finally:
        core.delete_namespace(theirs)
        core.delete_namespace(live)


def test_a_one_node_sample_judges_one_worker_by_exec_and_counts_every_worker(e2e_cluster, tmp_path):
    """--nodes 1 on the CI cluster (two workers): the per-node checks run on one worker, named with why
    it was picked; C15 still counts both workers (the vendor's DaemonSet runs on every node)."""
    c, out = e2e_cluster, tmp_path / "report"
    r = run(suite_cmd(c, "--nodes", "1", "-m", "C1 or C2 or C12 or C15", "--report-dir", str(out)), cwd=tmp_path)
    assert r.returncode == 0, r.stdout[-3000:]
    data = json.loads((out / "report.json").read_text())
    workers = sorted(n.metadata.name for n in c["core"].list_node().items
                     if not any(t.effect == "NoSchedule" for t in n.spec.taints or []))
    assert len(workers) == 2, workers
    sample = data["capabilities"]["node_sample"]
    assert sample.startswith(f"1 of 2 schedulable Linux nodes (--nodes 1): {workers[0]} (first by name"), sample
    claims = {x["id"]: x for x in data["claims"]}
    assert {k: claims[k]["verdict"] for k in ("C1", "C2", "C12", "C15")} == dict.fromkeys(("C1", "C2", "C12", "C15"), "PASS")
    ev = {k: next(t for t in claims[k]["tests"] if t["kind"] == "claim")["verdict"]["evidence"] for k in claims
          if claims[k]["verdict"] == "PASS"}
    assert sorted(set(ev["C2"]) - {"node_sample"}) == [workers[0]]   # GET through the sampled node's probe only
    assert ev["C12"]["node"] == workers[0]                    # exec on the sampled node
    assert all(e["node_sample"] == [workers[0]] for e in ev.values())   # every claim names the sample
    assert ev["C15"]["expected_nodes"] == workers and ev["C15"]["ready_on"] == workers   # every worker counted
    assert sorted(set(ev["C1"]) - {"node_sample"}) == workers        # the API's facts of every pod
