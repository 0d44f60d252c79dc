"""The offline toolchain's step cache (scripts/offline/lib.sh), run for real in bash.

A step that fails in its middle must never be stamped as built, whatever its last command
returns; a step that succeeds is stamped and skipped next time; a step past its deadline ends
with a message that says so. No Docker, Go or network needed: the steps are small shell functions."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

LIB = Path(__file__).resolve().parent.parent / "scripts" / "offline" / "lib.sh"


def run_step(cache: Path, body: str) -> subprocess.CompletedProcess:
    script = f"""
source {LIB}
{body}
"""
    return subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60,
                          env={"HNC_CACHE": str(cache), "PATH": "/usr/bin:/bin:/usr/local/bin"})


def test_step_failing_in_its_middle_is_not_stamped(tmp_path):
    marker = tmp_path / "after-the-failure"
    r = run_step(tmp_path, f"""
half() {{ echo building; false; echo "reached after the failure" > {marker}; }}
cached half key1 half
echo "not reached" """)
    assert r.returncode == 1, r
    assert "offline: step half failed: exit 1" in r.stderr
    assert "not reached" not in r.stdout
    assert not marker.exists(), "the step went on after a failing command"
    assert not (tmp_path / "stamps" / "half").exists(), "a failed step was stamped as built"
    assert (tmp_path / "logs" / "half.log").read_text().startswith("building")


def test_failing_command_inside_a_function_inside_the_step_stops_it(tmp_path):
    # The pattern the build scripts use: cached -> build() -> helper() -> a failing tool.
    r = run_step(tmp_path, """
helper() { ls /nonexistent-hnc-path; echo "helper went on"; }
build() { helper; echo "build went on"; }
cached nested key1 build""")
    assert r.returncode == 1
    log = (tmp_path / "logs" / "nested.log").read_text()
    assert "went on" not in log
    assert not (tmp_path / "stamps" / "nested").exists()


def test_successful_step_is_stamped_and_then_skipped(tmp_path):
    counter = tmp_path / "runs"
    body = f"""
step() {{ echo x >> {counter}; }}
cached ok key1 step"""
    assert run_step(tmp_path, body).returncode == 0
    assert (tmp_path / "stamps" / "ok").read_text().strip() == "key1"
    second = run_step(tmp_path, body)
    assert second.returncode == 0 and "up to date (key1)" in second.stderr
    assert counter.read_text().count("x") == 1
    # a new key rebuilds
    assert run_step(tmp_path, body.replace("key1", "key2")).returncode == 0
    assert counter.read_text().count("x") == 2


def test_failed_rebuild_removes_the_old_stamp(tmp_path):
    assert run_step(tmp_path, "s() { true; }; cached s key1 s").returncode == 0
    r = run_step(tmp_path, "s() { false; true; }; cached s key2 s")
    assert r.returncode == 1
    assert not (tmp_path / "stamps" / "s").exists()


def test_bounded_command_past_its_deadline_says_timed_out(tmp_path):
    r = run_step(tmp_path, "s() { bounded 1 tail -f /dev/null; }; cached slow key1 s")
    assert r.returncode == 1
    assert "offline: step slow failed: exit 124: timed out" in r.stderr
    assert not (tmp_path / "stamps" / "slow").exists()


def inputs_hash(lib_dir: Path, cache: Path, path: str) -> str:
    r = subprocess.run(["bash", "-c", f"source {lib_dir}/lib.sh; inputs_hash"], capture_output=True, text=True,
                       env={"HNC_CACHE": str(cache), "PATH": path}, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


@pytest.mark.parametrize("changed", ["versions.env", "lib.sh", "go"])
def test_cache_key_covers_versions_lib_and_go(tmp_path, changed):
    """inputs_hash reads versions.env, lib.sh and the Go version: change any and the key changes."""
    copy = tmp_path / "offline"
    copy.mkdir()
    for name in ("lib.sh", "versions.env"):
        (copy / name).write_text((LIB.parent / name).read_text())
    fake = tmp_path / "fakego"
    fake.mkdir()
    go = fake / "go"
    go.write_text("#!/bin/sh\necho go1.0.0-hnc-test\n")
    go.chmod(0o755)
    path = f"{fake}:/usr/bin:/bin"
    before = inputs_hash(copy, tmp_path / "c", path)
    assert len(before) == 16
    assert inputs_hash(copy, tmp_path / "c", path) == before, "the key is not stable"
    if changed == "go":
        go.write_text("#!/bin/sh\necho go1.0.1-hnc-test\n")
    else:
        with (copy / changed).open("a") as f:
            f.write("\n# changed\n")
    assert inputs_hash(copy, tmp_path / "c", path) != before
