"""The wheel: the suite, its fixtures and the plugin are inside it, with the pytest11 entry point
and the console script; the installed CLI refuses bad input in one line."""
from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
IGNORE = shutil.ignore_patterns(".git", "ci-out", "build", "dist", "*.egg-info", "__pycache__", ".pytest*")


def build_wheel(dest: Path) -> Path:
    """Build from a copy of the working tree (pip would leave build/ and egg-info in the checkout)."""
    src = dest / "src"
    shutil.copytree(ROOT, src, ignore=IGNORE)
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                        "-w", str(dest / "dist"), str(src)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    return next((dest / "dist").glob("hostnet_conformance-*.whl"))


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    return build_wheel(tmp_path_factory.mktemp("wheel"))


def test_the_wheel_holds_the_suite_its_fixtures_and_the_plugin(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    suites = {p.name for p in (ROOT / "suites").glob("test_*.py")}
    assert suites and {f"hostnet_conformance/suites/{n}" for n in suites} <= names
    manifests = {p.name for p in (ROOT / "fixtures" / "manifests").glob("*.yaml")}
    assert {f"hostnet_conformance/fixtures/manifests/{n}" for n in manifests} <= names
    assert {"hostnet_conformance/fixtures/kind/cluster.yaml", "hostnet_conformance/plugin/__init__.py",
            "hostnet_conformance/cli.py"} <= names
    # every module of the package, in every subpackage (a subpackage left out of pyproject.toml's
    # list installs a plugin that cannot import)
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "hostnet_conformance").rglob("*.py")}
    assert modules - names == set()
    ep = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(ep).decode()
    assert "[pytest11]\nhostnet_conformance.plugin = hostnet_conformance.plugin" in text
    assert "[console_scripts]\nhostnet-conformance = hostnet_conformance.cli:main" in text


def test_the_cli_runs_the_packaged_suite_and_refuses_bad_input_in_one_line(tmp_path):
    r = subprocess.run([sys.executable, "-m", "hostnet_conformance.cli", "--kubeconfig", str(tmp_path / "none"),
                        "--context", "x", "--host-port-base", "80"], capture_output=True, text=True, cwd=tmp_path,
                       timeout=120)
    assert r.returncode == 4, r.stdout + r.stderr
    lines = [ln for ln in (r.stdout + r.stderr).splitlines() if ln.strip()]
    assert len(lines) == 1 and "--host-port-base" in lines[0], lines
    r = subprocess.run([sys.executable, "-m", "hostnet_conformance.cli", "--collect-only", "-q"],
                       capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert "test_claims.py::test_c1_pod_ip_equals_node_ip" in r.stdout
    assert not (tmp_path / ".pytest_cache").exists()
