"""Checks of the GitHub Actions workflow (.github/workflows/conformance.yml): actionlint (syntax,
expressions, job references, action inputs), then the project's own rules, which no linter knows
(digest-pinned node images of three consecutive minors, timeouts, artifacts, no registry host).

Needs no network, Docker or cluster; actionlint is built once by scripts/install-actionlint.sh."""
from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

WORKFLOW = Path(__file__).resolve().parent.parent / ".github" / "workflows" / "conformance.yml"
NODE_IMAGE = re.compile(r"^kindest/node:v1\.(?P<minor>\d+)\.(?P<patch>\d+)@sha256:[0-9a-f]{64}$")
USES_PINNED = re.compile(r"^[\w.-]+/[\w./-]+@v\d")
# An image reference whose first path component looks like a host ("name.tld/..." or "host:port/...").
# Written as a shape, not a list: the project names no registry host anywhere.
HOSTED_IMAGE = re.compile(r"\b[a-z0-9-]+(?:\.[a-z0-9-]+)+(?::\d+)?/[a-z0-9._/-]+:[\w.-]+")


def actionlint() -> str:
    found = os.environ.get("HNC_ACTIONLINT") or shutil.which("actionlint") or next(iter(sorted(glob.glob(
        os.path.join(os.environ.get("HNC_CACHE", "/var/cache/hostnet-conformance"), "tools", "actionlint-*",
                     "actionlint")))), None)
    if not found:
        pytest.skip("actionlint is not built: run scripts/install-actionlint.sh (scripts/selftest.sh does)")
    return found


def lint(*files: Path) -> subprocess.CompletedProcess:
    return subprocess.run([actionlint(), "-no-color", "-oneline", *map(str, files)], capture_output=True, text=True,
                          cwd=WORKFLOW.parents[2], timeout=120)


def test_actionlint_passes():
    r = lint(WORKFLOW)
    assert r.returncode == 0, r.stdout + r.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path):
    """Guard the guard: a job that needs a job that does not exist, and an unknown expression."""
    broken = tmp_path / ".github" / "workflows" / "broken.yml"
    broken.parent.mkdir(parents=True)
    broken.write_text(WORKFLOW.read_text().replace("needs: selftest", "needs: self-test")
                      .replace("${{ matrix.k8s }}", "${{ matrix.kubernetes }}"))
    r = lint(broken)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "self-test" in r.stdout and "kubernetes" in r.stdout, r.stdout


@pytest.fixture(scope="module")
def text() -> str:
    return WORKFLOW.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def wf(text) -> dict:
    data = yaml.safe_load(text)
    assert isinstance(data, dict)
    return data


def _triggers(wf: dict) -> dict:
    # YAML 1.1 (PyYAML) reads the bare key `on` as the boolean True.
    on = wf.get("on", wf.get(True))
    assert on is not None, "workflow has no `on:` triggers"
    if isinstance(on, str):
        on = {on: None}
    elif isinstance(on, list):
        on = dict.fromkeys(on)
    return on


def _steps(wf: dict):
    for job_id, job in wf["jobs"].items():
        for step in job.get("steps", []):
            yield job_id, step


def _uses(step: dict, action: str) -> bool:
    return str(step.get("uses", "")).split("@")[0] == action


def test_triggers(wf):
    on = _triggers(wf)
    for trigger in ("push", "pull_request", "workflow_dispatch"):
        assert trigger in on, f"missing trigger {trigger}"
    assert "main" in (on["push"] or {}).get("branches", []), "push should be limited to main"


def test_concurrency_cancels_in_progress(wf):
    conc = wf.get("concurrency")
    assert isinstance(conc, dict) and conc.get("group")
    assert "github.ref" in conc["group"]
    assert conc.get("cancel-in-progress") is True


def test_permissions_read_only(wf):
    assert wf.get("permissions") == {"contents": "read"}


def test_every_job_has_timeout(wf):
    assert wf["jobs"], "no jobs"
    for job_id, job in wf["jobs"].items():
        t = job.get("timeout-minutes")
        assert isinstance(t, int) and 0 < t <= 360, f"job {job_id} lacks a sane timeout-minutes"


def test_conformance_needs_selftest(wf):
    assert set(wf["jobs"]) >= {"selftest", "conformance"}
    needs = wf["jobs"]["conformance"].get("needs")
    assert needs == "selftest" or (isinstance(needs, list) and "selftest" in needs)


def test_matrix_pins_three_consecutive_minors_by_digest(wf):
    strategy = wf["jobs"]["conformance"]["strategy"]
    assert strategy.get("fail-fast") is False
    matrix = strategy["matrix"]
    entries = list(matrix.get("include", []))
    images = [e["node_image"] for e in entries if "node_image" in e]
    images += list(matrix.get("node_image", []))
    assert len(images) == 3, images
    assert len(set(images)) == 3, images
    minors = []
    for image in images:
        m = NODE_IMAGE.match(image)
        assert m, f"not a digest-pinned kindest/node image: {image}"
        minors.append(int(m["minor"]))
    assert len(set(minors)) == 3, f"minors not distinct: {minors}"
    lo = min(minors)
    assert sorted(minors) == [lo, lo + 1, lo + 2], f"minors not consecutive: {minors}"
    # The readable job-name key agrees with the image it names.
    for e in entries:
        assert str(e.get("k8s")) == f"1.{NODE_IMAGE.match(e['node_image'])['minor']}", e


def test_setup_python_caches_pip(wf):
    found = 0
    for job_id, step in _steps(wf):
        if _uses(step, "actions/setup-python"):
            found += 1
            assert step.get("with", {}).get("cache") == "pip", f"{job_id}: setup-python without pip cache"
    assert found >= 2, "expected setup-python in both jobs"


def test_artifacts_uploaded_even_on_failure(wf):
    uploads = [s for _, s in _steps(wf) if _uses(s, "actions/upload-artifact")]
    assert uploads, "no upload-artifact step"
    assert any(re.search(r"\b(always|failure)\(\)", str(s.get("if", ""))) for s in uploads)
    for s in uploads:
        assert s.get("with", {}).get("path"), "upload-artifact without a path"


def test_kind_logs_exported_on_failure(wf):
    steps = [s for _, s in _steps(wf) if "kind export logs" in str(s.get("run", ""))]
    assert steps, "no `kind export logs` step"
    assert any("failure()" in str(s.get("if", "")) for s in steps)


def test_cluster_deleted_always(wf):
    steps = [s for _, s in _steps(wf) if "kind delete cluster" in str(s.get("run", ""))]
    assert any("always()" in str(s.get("if", "")) for s in steps)


def test_kind_version_matches_images(wf):
    runs = " ".join(str(s.get("run", "")) for _, s in _steps(wf))
    assert "sigs.k8s.io/kind@v0.31.0" in runs


def test_uses_pinned_to_version_tag(wf):
    uses = [(job_id, s["uses"]) for job_id, s in _steps(wf) if "uses" in s]
    assert uses
    for job_id, ref in uses:
        assert USES_PINNED.match(ref), f"{job_id}: {ref} is not pinned to a version tag (@vN)"


def test_images_name_no_registry_host(text):
    hits = sorted({m.group(0) for m in HOSTED_IMAGE.finditer(text)})
    assert not hits, f"image references with a registry host in the workflow: {hits}"


def test_hosted_image_pattern_sanity():
    # Guard the guard: a host-qualified reference is caught, plain image names are not.
    assert HOSTED_IMAGE.search("example.com/team/image:v1")
    assert HOSTED_IMAGE.search("registry.example:5000/a/b:tag")
    assert not HOSTED_IMAGE.search("kindest/node:v1.35.0@sha256:" + "0" * 64)
    assert not HOSTED_IMAGE.search("prom/node-exporter:v1.8.2")
