"""Bad input ends with one clear line and a non-zero exit, never a traceback, and leaves nothing
behind. Each case is a real `pytest suites ...` subprocess with the suite's own options."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NAME = "hnc-bad-input"   # a cluster name no case may ever create


def run_suite(tmp_path: Path, *args: str, env: dict | None = None) -> tuple[int, str]:
    e = {**os.environ, **(env or {})}
    e.pop("HNC_NODE_IMAGE", None)
    r = subprocess.run([sys.executable, "-m", "pytest", str(ROOT / "suites"), "-p", "no:cacheprovider",
                        "--cluster-name", NAME, *args], cwd=tmp_path, env=e, capture_output=True, text=True,
                       timeout=120)
    return r.returncode, r.stdout + r.stderr


def kind_clusters() -> list[str]:
    kind = shutil.which("kind")
    if not kind:
        return []
    return subprocess.run([kind, "get", "clusters"], capture_output=True, text=True).stdout.split()


def docker_running() -> bool:
    return bool(shutil.which("docker")) and subprocess.run(["docker", "info"], capture_output=True).returncode == 0


@pytest.fixture
def kubeconfig(tmp_path) -> Path:
    """A well-formed kubeconfig whose only server is a closed port on loopback."""
    p = tmp_path / "kubeconfig"
    p.write_text("""apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: x}}]
contexts: [{name: ctx, context: {cluster: c, user: u}}]
current-context: ctx
""")
    return p


def broken_manifests(tmp_path: Path) -> Path:
    d = tmp_path / "manifests"
    shutil.copytree(ROOT / "fixtures" / "manifests", d)
    (d / "node-exporter-daemonset.yaml").write_text("apiVersion: apps/v1\nkind: DaemonSet\nspec: [unclosed\n")
    return d


CASES = {
    # id: (args, env, expected phrase)
    "port-not-a-number": (["--host-port-base", "abc"], {}, "is not a port number"),
    "max-wait-not-seconds": (["--max-wait", "soon"], {}, "--max-wait: 'soon' is not a number of seconds"),
    "port-out-of-range": (["--host-port-base", "70000"], {}, "--host-port-base"),
    "port-in-nodeport-range": (["--host-port-base", "30001"], {}, "--host-port-base"),
    "unknown-claim": (["--claims", "C1,C99"], {}, "C99"),
    "invalid-cluster-name": (["--cluster-name", "Bad_Name!"], {}, "--cluster-name"),
    "kubeconfig-without-context": (["--kubeconfig", "KUBECONFIG"], {}, "needs an explicit --context"),
    "unreadable-kubeconfig": (["--kubeconfig", "/nonexistent/kubeconfig", "--context", "ctx"], {},
                              "does not exist or is not readable"),
    "unknown-context": (["--kubeconfig", "KUBECONFIG", "--context", "nope"], {}, "context 'nope' not in"),
    "unreachable-api-server": (["--kubeconfig", "KUBECONFIG", "--context", "ctx"], {}, "is unreachable"),
    "report-dir-not-writable": (["--report-dir", "/proc/hnc-report"], {}, "--report-dir"),
    "malformed-manifest-override": ([], {"HNC_MANIFEST_DIR": "BROKEN"}, "manifest"),
    "kind-missing": (["--kind-bin", "/nonexistent/kind"], {}, "kind not found"),
    "kubectl-missing": (["--kind-kubectl-bin", "/nonexistent/kubectl"], {}, "kubectl not found"),
    "docker-not-running": ([], {"DOCKER_HOST": "unix:///nonexistent/docker.sock"}, "Docker is not running"),
    "offline-image-missing": (["--kind-image", "hnc.local/does-not-exist:v0"], {"HNC_OFFLINE": "1"},
                              "is not present locally"),
}
NEEDS_DOCKER_AND_KIND = {"kind-missing", "kubectl-missing", "offline-image-missing"}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_one_clear_line(case, tmp_path, kubeconfig):
    if case in NEEDS_DOCKER_AND_KIND and not (docker_running() and shutil.which("kind")):
        pytest.skip("needs a running Docker and kind on PATH")
    args, env, phrase = CASES[case]
    args = [str(kubeconfig) if a == "KUBECONFIG" else a for a in args]
    env = {k: str(broken_manifests(tmp_path)) if v == "BROKEN" else v for k, v in env.items()}
    before = kind_clusters()
    rc, out = run_suite(tmp_path, *args, env=env)
    assert rc != 0, out
    assert "Traceback" not in out, out
    lines = [ln for ln in out.splitlines() if phrase in ln]
    assert lines, f"no line mentions {phrase!r}:\n{out}"
    assert len(lines[0]) < 400, lines[0]
    assert NAME not in kind_clusters() or NAME in before, "a cluster was left behind"
