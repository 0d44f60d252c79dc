"""The suite as a platform team installs it: the wheel, in a fresh virtual environment outside the
checkout, run by its console script against the kept cluster in existing-cluster mode, gives the
checkout's verdicts. Dependencies come from a wheelhouse kept in the cache (filled from the package
index the first time, then installed with --no-index)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from test_packaging import build_wheel  # tests/ is on sys.path (rootdir-based import of the e2e package)

ROOT = Path(__file__).resolve().parents[2]
WHEELHOUSE = Path(os.environ.get("HNC_CACHE", "/var/cache/hostnet-conformance")) / "wheelhouse"


def verdicts(report_dir: Path) -> dict[str, str]:
    return {c["id"]: c["verdict"] for c in json.loads((report_dir / "report.json").read_text())["claims"]}


def test_the_installed_wheel_gives_the_checkouts_verdicts(e2e_cluster, no_kind_path, tmp_path):
    c = e2e_cluster
    wheel = build_wheel(tmp_path / "build")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    offline = subprocess.run([*pip, "--no-index", "--find-links", str(WHEELHOUSE), str(wheel)],
                             capture_output=True, text=True, timeout=600)
    if offline.returncode != 0:   # first time on this machine: fill the wheelhouse, then install from it
        WHEELHOUSE.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check", "-d",
                        str(WHEELHOUSE), str(wheel)], check=True, timeout=900)
        subprocess.run([*pip, "--no-index", "--find-links", str(WHEELHOUSE), str(wheel)], check=True, timeout=600)
    where = subprocess.run([str(venv / "bin" / "python"), "-c", "import hostnet_conformance as h; print(h.__file__)"],
                           capture_output=True, text=True, cwd=tmp_path, check=True).stdout
    assert where.startswith(str(venv)), where

    target = ["--kubeconfig", str(c["kubeconfig"]), "--context", c["context"], "-q"]
    env = {**os.environ, "PATH": f"{venv / 'bin'}:{no_kind_path['PATH']}"}
    env.pop("HNC_MANIFEST_DIR", None)
    installed = subprocess.run([str(venv / "bin" / "hostnet-conformance"), *target, "--report-dir",
                                str(tmp_path / "installed")], capture_output=True, text=True, cwd=tmp_path,
                               env=env, timeout=900)
    assert installed.returncode == 0, installed.stdout[-3000:]
    assert not no_kind_path["marker"].exists(), "kind was called in existing-cluster mode"
    assert (tmp_path / "installed" / "report.html").exists()
    checkout = subprocess.run([sys.executable, "-m", "pytest", "suites", "-p", "no:cacheprovider", *target,
                               "--report-dir", str(tmp_path / "checkout")], capture_output=True, text=True,
                              cwd=ROOT, timeout=900)
    assert checkout.returncode == 0, checkout.stdout[-3000:]
    assert verdicts(tmp_path / "installed") == verdicts(tmp_path / "checkout")
    assert set(verdicts(tmp_path / "installed").values()) == {"PASS"}
