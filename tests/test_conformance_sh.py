"""scripts/conformance.sh decides online or offline without asking a registry (issue 19, part 5).

HNC_ONLINE=1, HNC_OFFLINE=1, or a local image named by HNC_NODE_IMAGE decide; with none of them the
run is offline, with one line saying HNC_ONLINE=1 uses registries. No `docker pull` is ever a probe.
The script runs for real in bash in a copy of scripts/, with fakes for Docker, the set-up scripts and
pytest: nothing is installed, built or pulled."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"
DEFAULT_LINE = "conformance: offline (the default; no registry is asked)"

FAKE_DOCKER = """#!/bin/sh
echo "docker $*" >> "$FAKE/calls"
if [ "$1 $2" = "image inspect" ]; then grep -qxF "$3" "$FAKE/images"; exit; fi
exit 99   # pull, or anything else the decision must not ask
"""
FAKE_PYTEST = """#!/bin/sh
echo "pytest $* HNC_OFFLINE=${HNC_OFFLINE:-} HNC_NODE_IMAGE=${HNC_NODE_IMAGE:-}" >> "$FAKE/calls"
"""
RECORD = '#!/bin/sh\necho "$(basename "$0")" >> "$FAKE/calls"\n'
BOOTSTRAP = RECORD + 'echo "HNC_NODE_IMAGE=hnc.local/kind-node:built" > "$HNC_CACHE/offline.env"\n'


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o755)


def conformance(tmp_path: Path, env: dict, images: tuple[str, ...] = ()) -> tuple[subprocess.CompletedProcess, list]:
    root, fake, cache = tmp_path / "root", tmp_path / "fake", tmp_path / "cache"
    for name in ("conformance.sh", "lib-host.sh"):
        write(root / "scripts" / name, (SCRIPTS / name).read_text())
    write(root / "scripts" / "install-python-deps.sh", RECORD)
    write(root / "scripts" / "ensure-docker.sh", RECORD)
    write(root / "scripts" / "offline" / "bootstrap.sh", BOOTSTRAP)
    write(fake / "docker", FAKE_DOCKER)
    write(fake / "python3", FAKE_PYTEST)
    (fake / "images").write_text("".join(i + "\n" for i in images))
    cache.mkdir()
    path = f"{fake}:{Path(shutil.which('bash')).parent}:/usr/bin:/bin"
    r = subprocess.run(["bash", str(root / "scripts" / "conformance.sh"), "-m", "C1"], capture_output=True,
                       text=True, timeout=60, env={"PATH": path, "FAKE": str(fake), "HNC_CACHE": str(cache), **env})
    calls = (fake / "calls").read_text().splitlines() if (fake / "calls").exists() else []
    assert not [c for c in calls if c.startswith("docker pull")], "a pull was used as a probe"
    return r, calls


def test_default_is_offline_with_one_line(tmp_path):
    r, calls = conformance(tmp_path, {})
    assert r.returncode == 0, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith(DEFAULT_LINE)]
    assert len(lines) == 1 and "HNC_ONLINE=1 uses registries" in lines[0]
    assert calls == ["install-python-deps.sh", "ensure-docker.sh", "bootstrap.sh",
                     "pytest -m pytest suites -m C1 HNC_OFFLINE=1 HNC_NODE_IMAGE=hnc.local/kind-node:built"]


def test_online_asks_nothing_and_builds_nothing(tmp_path):
    r, calls = conformance(tmp_path, {"HNC_ONLINE": "1"})
    assert r.returncode == 0 and DEFAULT_LINE not in r.stderr
    assert calls == ["install-python-deps.sh", "ensure-docker.sh", "pytest -m pytest suites -m C1 HNC_OFFLINE= HNC_NODE_IMAGE="]


def test_offline_builds_without_the_default_line(tmp_path):
    r, calls = conformance(tmp_path, {"HNC_OFFLINE": "1"})
    assert r.returncode == 0 and r.stderr == ""
    assert "bootstrap.sh" in calls and calls[-1].endswith("HNC_OFFLINE=1 HNC_NODE_IMAGE=hnc.local/kind-node:built")


@pytest.mark.parametrize("offline", ["", "1"])
def test_a_present_node_image_means_offline_with_the_callers_images(tmp_path, offline):
    r, calls = conformance(tmp_path, {"HNC_NODE_IMAGE": "hnc.local/kind-node:mine", "HNC_OFFLINE": offline},
                           images=("hnc.local/kind-node:mine",))
    assert r.returncode == 0 and r.stderr == ""
    assert calls == ["install-python-deps.sh", "ensure-docker.sh", "docker image inspect hnc.local/kind-node:mine",
                     "pytest -m pytest suites -m C1 HNC_OFFLINE=1 HNC_NODE_IMAGE=hnc.local/kind-node:mine"]


def test_an_absent_node_image_is_named_and_nothing_runs(tmp_path):
    r, calls = conformance(tmp_path, {"HNC_NODE_IMAGE": "hnc.local/kind-node:gone"})
    assert r.returncode == 2
    assert "HNC_NODE_IMAGE=hnc.local/kind-node:gone is not in the local Docker daemon" in r.stderr
    assert "bootstrap.sh" not in calls and not [c for c in calls if c.startswith("pytest")]


def test_online_and_offline_together_is_bad_usage(tmp_path):
    r, calls = conformance(tmp_path, {"HNC_ONLINE": "1", "HNC_OFFLINE": "1"})
    assert r.returncode == 2 and "contradict" in r.stderr and calls == []
