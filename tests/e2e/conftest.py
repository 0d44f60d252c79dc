"""End-to-end tests of the tool itself against a real, kept kind cluster named by
HNC_E2E_KIND_CLUSTER (.ci/run sets it). Without it they are skipped."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from kubernetes import client, config

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def e2e_cluster(tmp_path_factory):
    name = os.environ.get("HNC_E2E_KIND_CLUSTER")
    if not name:
        pytest.skip("set HNC_E2E_KIND_CLUSTER to a kept kind cluster (with the suite's images loaded)")
    kc = tmp_path_factory.mktemp("e2e") / "kubeconfig"
    subprocess.run(["kind", "export", "kubeconfig", "--name", name, "--kubeconfig", str(kc)], check=True,
                   capture_output=True)
    api = config.new_client_from_config(str(kc), context=f"kind-{name}")
    return {"name": name, "kubeconfig": kc, "context": f"kind-{name}", "core": client.CoreV1Api(api)}


@pytest.fixture
def no_kind_path(tmp_path):
    """A PATH whose `kind` only records that it was called: existing-cluster mode must never call it."""
    d = tmp_path / "bin"
    d.mkdir()
    marker = tmp_path / "kind-was-called"
    (d / "kind").write_text(f"#!/bin/sh\necho \"$@\" >> {marker}\nexit 1\n")
    (d / "kind").chmod(0o755)
    return {"PATH": f"{d}:{os.environ['PATH']}", "marker": marker}
