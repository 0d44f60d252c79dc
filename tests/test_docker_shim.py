"""The capability shim stays off the host's default runtime (issue 19, part 5).

Run for real in bash, with fakes on PATH (docker, dockerd, systemctl, pgrep, kind): no Docker, kind or
network is touched. scripts/kind-docker adds --runtime=hnc-runc to kind's node containers only;
scripts/kind-wrapper puts it on kind's PATH only when it is installed; scripts/ensure-docker.sh merges
only the runtimes key of daemon.json, never sets default-runtime, and leaves a running daemon's
earlier default-runtime as it is, with one line saying how to undo it."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"
FULL_CAPS = "000001ffffffffff"   # more bits than any kernel has: the bounding set is full
REDUCED_CAPS = "0"               # no capability at all: the shim is needed


def executable(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o755)
    return path


def bin_dir(tmp_path: Path) -> Path:
    """bash, env and the coreutils the scripts use, without the machine's docker or kind."""
    d = tmp_path / "bin"
    d.mkdir(exist_ok=True)
    for tool in ("bash", "env", "cat", "awk", "timeout", "cmp", "install", "python3", "readlink", "id", "setsid",
                 "dirname", "mkdir", "printf", "touch"):
        found = shutil.which(tool)
        assert found, tool
        if not (d / tool).exists():
            (d / tool).symlink_to(found)
    return d


# ---------------------------------------------------------------- scripts/kind-docker

def docker_via_wrapper(tmp_path: Path, *args: str) -> list[str]:
    wrapped = tmp_path / "libexec" / "hnc" / "kind-docker"
    if not (wrapped / "docker").exists():
        wrapped.mkdir(parents=True)
        shutil.copy(SCRIPTS / "kind-docker", wrapped / "docker")
    executable(tmp_path / "real" / "docker", '#!/bin/sh\nfor a in "$@"; do echo "$a"; done\necho "PATH=$PATH"\n')
    r = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=30,
                       env={"PATH": f"{wrapped}:{tmp_path / 'real'}:{bin_dir(tmp_path)}"})
    assert r.returncode == 0, r.stderr
    *argv, path = r.stdout.splitlines()
    assert str(wrapped) not in path, "the real docker runs with the wrapper's directory still on PATH"
    return argv


@pytest.mark.parametrize("label", [["--label", "io.x-k8s.kind.cluster=hnc"], ["--label=io.x-k8s.kind.cluster=hnc"],
                                   ["-l", "io.x-k8s.kind.cluster=hnc"]])
@pytest.mark.parametrize("command", [["run"], ["create"], ["container", "run"]])
def test_kind_node_container_gets_the_shim_runtime(tmp_path, command, label):
    rest = ["--detach", "--name", "hnc-control-plane", *label, "--privileged", "kindest/node:v1", "--flag"]
    assert docker_via_wrapper(tmp_path, *command, *rest) == [*command, "--runtime=hnc-runc", *rest]


@pytest.mark.parametrize("argv", [
    ["run", "-d", "--privileged", "--label", "app=other", "busybox", "sleep", "1"],   # not kind's
    ["run", "--label", "io.x-k8s.kind.cluster=hnc", "--runtime", "runc", "img"],     # names its runtime
    ["run", "--runtime=runc", "--label=io.x-k8s.kind.cluster=hnc", "img"],
    ["exec", "--privileged", "hnc-control-plane", "true"],                            # not run/create
    ["ps", "-a", "--filter", "label=io.x-k8s.kind.cluster=hnc"],
    ["inspect", "--format", "{{.State.Running}}", "hnc-control-plane"],
    [],
])
def test_other_docker_calls_pass_unchanged(tmp_path, argv):
    assert docker_via_wrapper(tmp_path, *argv) == argv


def test_wrapper_without_a_real_docker_says_so(tmp_path):
    wrapped = executable(tmp_path / "w" / "docker", (SCRIPTS / "kind-docker").read_text())
    r = subprocess.run([str(wrapped), "ps"], capture_output=True, text=True, timeout=30,
                       env={"PATH": f"{wrapped.parent}:{bin_dir(tmp_path)}"})
    assert r.returncode == 127 and "no docker on PATH besides this wrapper" in r.stderr


# ---------------------------------------------------------------- scripts/kind-wrapper

@pytest.mark.parametrize("installed", [True, False])
def test_kind_wrapper_puts_the_docker_wrapper_first_only_when_installed(tmp_path, installed):
    cache = tmp_path / "cache"
    executable(cache / "gobin" / "kind", '#!/bin/sh\necho "PATH=$PATH"\necho "ARGS=$*"\n')
    kind = cache / "bin" / "kind"
    kind.parent.mkdir(parents=True)
    shutil.copy(SCRIPTS / "kind-wrapper", kind)
    link = tmp_path / "usr-local-bin" / "kind"   # as bootstrap.sh links it
    link.parent.mkdir()
    link.symlink_to(kind)
    wrapped = tmp_path / "libexec" / "hnc" / "kind-docker"
    if installed:
        executable(wrapped / "docker", "#!/bin/sh\n")
    base = f"{link.parent}:{bin_dir(tmp_path)}"
    r = subprocess.run(["kind", "create", "cluster", "--name", "x"], capture_output=True, text=True, timeout=30,
                       env={"PATH": base, "HNC_KIND_DOCKER_DIR": str(wrapped)})
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [f"PATH={wrapped}:{base}" if installed else f"PATH={base}",
                                     "ARGS=create cluster --name x"]


# ---------------------------------------------------------------- scripts/ensure-docker.sh

FAKE_DOCKER = """#!/bin/sh
echo "$*" >> "$FAKE/docker.calls"
case "$1" in
  info) [ -e "$FAKE/up" ] || { echo "Cannot connect to the Docker daemon" >&2; exit 1; }
        [ "$2" = --format ] && cat "$FAKE/runtimes"; exit 0 ;;
  pull) echo "pull must never be called" >&2; exit 99 ;;
esac
exit 0
"""


def ensure_docker(tmp_path: Path, *, running: bool, caps: str, conf: dict | None,
                  runtimes: str = '{"runc":{"path":"runc"}}'):
    fake = tmp_path / "fake"
    executable(fake / "docker", FAKE_DOCKER)
    executable(fake / "dockerd", '#!/bin/sh\necho "$*" > "$FAKE/dockerd.args"\ntouch "$FAKE/up"\n')
    executable(fake / "systemctl", "#!/bin/sh\nexit 1\n")   # no systemd: the script starts dockerd itself
    executable(fake / "pgrep", "#!/bin/sh\nexit 1\n")       # the machine's own dockerd is not ours to see
    (fake / "runtimes").write_text(runtimes + "\n")
    if running:
        (fake / "up").touch()
    daemon_json = tmp_path / "etc-docker" / "daemon.json"
    if conf is not None:
        daemon_json.parent.mkdir(exist_ok=True)
        daemon_json.write_text(json.dumps(conf))
    libexec = tmp_path / "libexec"
    r = subprocess.run(["bash", str(SCRIPTS / "ensure-docker.sh")], capture_output=True, text=True, timeout=120,
                       env={"PATH": f"{fake}:{bin_dir(tmp_path)}", "FAKE": str(fake), "HNC_CAPBND": caps,
                            "HNC_DOCKER_DAEMON_JSON": str(daemon_json), "HNC_LIBEXEC": str(libexec),
                            "HNC_DOCKERD_LOG": str(tmp_path / "dockerd.log")})
    after = json.loads(daemon_json.read_text()) if daemon_json.exists() else None
    return r, after, libexec, fake


def test_started_daemon_gets_the_runtime_merged_never_as_default(tmp_path):
    conf = {"log-level": "warn", "runtimes": {"other": {"path": "/usr/bin/other"}}, "data-root": "/srv/docker"}
    r, after, libexec, fake = ensure_docker(tmp_path, running=False, caps=REDUCED_CAPS, conf=conf)
    assert r.returncode == 0, r.stderr
    assert after == {**conf, "runtimes": {"other": {"path": "/usr/bin/other"},
                                          "hnc-runc": {"path": str(libexec / "hnc-runc")}}}
    assert "default-runtime" not in after
    assert (fake / "dockerd.args").exists(), "dockerd was not started"
    assert (libexec / "hnc-runc").read_bytes() == (SCRIPTS / "hnc-runc").read_bytes()
    assert (libexec / "hnc" / "kind-docker" / "docker").read_bytes() == (SCRIPTS / "kind-docker").read_bytes()
    installing = [ln for ln in r.stderr.splitlines() if "installing the capability shim" in ln]
    assert len(installing) == 1 and "never the default runtime" in installing[0]
    backup = Path(str(tmp_path / "etc-docker" / "daemon.json") + ".hnc-backup")
    assert json.loads(backup.read_text()) == conf
    # idempotent: a second start changes nothing and says nothing about installing
    (fake / "up").unlink()
    again, after2, _, _ = ensure_docker(tmp_path, running=False, caps=REDUCED_CAPS, conf=after)
    assert again.returncode == 0 and after2 == after and "installing" not in again.stderr


def test_started_daemon_loses_only_our_own_earlier_default_runtime(tmp_path):
    conf = {"default-runtime": "hnc-runc", "runtimes": {"hnc-runc": {"path": "/usr/local/libexec/hnc-runc"}},
            "debug": True}
    r, after, libexec, _ = ensure_docker(tmp_path, running=False, caps=REDUCED_CAPS, conf=conf)
    assert r.returncode == 0, r.stderr
    assert after == {"runtimes": {"hnc-runc": {"path": str(libexec / "hnc-runc")}}, "debug": True}
    assert sum('removed "default-runtime": "hnc-runc"' in ln for ln in r.stderr.splitlines()) == 1


def test_someone_elses_default_runtime_is_kept(tmp_path):
    conf = {"default-runtime": "crun", "runtimes": {"crun": {"path": "/usr/bin/crun"}}}
    r, after, _, _ = ensure_docker(tmp_path, running=False, caps=REDUCED_CAPS, conf=conf)
    assert r.returncode == 0, r.stderr
    assert after["default-runtime"] == "crun" and set(after["runtimes"]) == {"crun", "hnc-runc"}


def test_full_capability_set_installs_nothing(tmp_path):
    conf = {"log-level": "warn"}
    r, after, libexec, fake = ensure_docker(tmp_path, running=False, caps=FULL_CAPS, conf=conf)
    assert r.returncode == 0, r.stderr
    assert after == conf and not libexec.exists() and (fake / "dockerd.args").exists()


def test_running_daemon_keeps_an_earlier_default_runtime_and_says_how_to_undo(tmp_path):
    conf = {"default-runtime": "hnc-runc", "runtimes": {"hnc-runc": {"path": "/usr/local/libexec/hnc-runc"}}}
    r, after, libexec, fake = ensure_docker(tmp_path, running=True, caps=REDUCED_CAPS, conf=conf,
                                            runtimes='{"hnc-runc":{"path":"/usr/local/libexec/hnc-runc"},"runc":{}}')
    assert r.returncode == 0, r.stderr
    assert after == conf, "a running daemon's daemon.json was changed"
    lines = [ln for ln in r.stderr.splitlines() if "default runtime of every container" in ln]
    assert len(lines) == 1, r.stderr
    assert 'remove "default-runtime": "hnc-runc"' in lines[0] and "restart dockerd" in lines[0]
    assert not (fake / "dockerd.args").exists()
    # the daemon has the runtime: kind's docker wrapper is installed for it
    assert (libexec / "hnc" / "kind-docker" / "docker").exists()


def test_running_daemon_without_the_runtime_is_left_alone(tmp_path):
    r, after, libexec, fake = ensure_docker(tmp_path, running=True, caps=REDUCED_CAPS, conf=None)
    assert r.returncode == 0, r.stderr
    assert after is None and not libexec.exists()
    assert "has no hnc-runc runtime" in r.stderr
    assert [c for c in (fake / "docker.calls").read_text().splitlines() if not c.startswith("info")] == []


def test_running_daemon_on_a_full_capability_set_says_nothing(tmp_path):
    r, after, libexec, _ = ensure_docker(tmp_path, running=True, caps=FULL_CAPS, conf={"a": 1})
    assert (r.returncode, r.stderr, after, libexec.exists()) == (0, "", {"a": 1}, False)


def test_scripts_never_write_default_runtime():
    text = (SCRIPTS / "ensure-docker.sh").read_text()
    assert '["default-runtime"] =' not in text and "setdefault(\"default-runtime\"" not in text
    assert os.access(SCRIPTS / "kind-docker", os.X_OK) and os.access(SCRIPTS / "kind-wrapper", os.X_OK)
