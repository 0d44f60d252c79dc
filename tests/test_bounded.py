"""Every external command of scripts/ has a deadline (issue 19, part 3), and one that runs out says, in
one line, `timed out after N s: <what>`: scripts/lib-host.sh (bounded, quiet) for the shell scripts,
scripts/bounded.py for flavours.py, benchmark.py and soak.py. Real processes, no Docker or cluster."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"
sys.path.insert(0, str(SCRIPTS))
import bounded  # noqa: E402  (scripts/bounded.py)

HANG = "exec tail -f /dev/null"   # ends on SIGTERM, as most commands do


def shell(body: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", f"set -euo pipefail; source {SCRIPTS}/lib-host.sh; {body}"],
                          capture_output=True, text=True, timeout=60)


def test_shell_bounded_says_timed_out_and_returns_124():
    t0 = time.monotonic()
    r = shell("rc=0; bounded 1 tail -f /dev/null || rc=$?; echo \"rc=$rc last=$BOUNDED_LAST\"")
    assert time.monotonic() - t0 < 20
    assert r.stderr == "timed out after 1 s: tail -f /dev/null\n"
    assert r.stdout == "rc=124 last=timed out after 1 s: tail -f /dev/null\n"


def test_shell_bounded_ends_the_script_under_errexit():
    r = shell(f"bounded 1 sh -c '{HANG}'; echo not reached")
    assert r.returncode == 124 and "not reached" not in r.stdout
    assert r.stderr.splitlines() == [f"timed out after 1 s: sh -c {HANG}"]


def test_shell_bounded_passes_status_and_output_through():
    r = shell("rc=0; bounded 30 sh -c 'echo out; echo err >&2; exit 3' || rc=$?; echo \"rc=$rc last=[$BOUNDED_LAST]\"")
    assert (r.stdout, r.stderr) == ("out\nrc=3 last=[]\n", "err\n")


def test_quiet_drops_the_commands_stderr_but_not_the_timed_out_line():
    r = shell(f"rc=0; quiet bounded 1 sh -c 'echo noise >&2; {HANG}' || rc=$?; echo rc=$rc;"
              " quiet bounded 30 sh -c 'echo noise >&2; exit 5' || echo rc=$?")
    assert r.stdout == "rc=124\nrc=5\n"
    assert r.stderr == f"timed out after 1 s: sh -c echo noise >&2; {HANG}\n"


@pytest.fixture
def quick_kill(monkeypatch):
    monkeypatch.setattr(bounded, "KILL_AFTER", 1.0)


def test_python_run_stops_the_command_and_says_so(quick_kill):
    t0 = time.monotonic()
    with pytest.raises(bounded.TimedOut, match=r"^timed out after 0\.5 s: the hung tool$"):
        bounded.run(["sh", "-c", "trap '' TERM; " + HANG], 0.5, "the hung tool", capture_output=True)
    assert time.monotonic() - t0 < 10, "SIGKILL did not follow the ignored SIGTERM"


def test_python_run_returns_like_subprocess_run():
    r = bounded.run(["sh", "-c", "cat; echo err >&2; exit 4"], 30, input="in", capture_output=True, text=True)
    assert (r.returncode, r.stdout, r.stderr) == (4, "in", "err\n")


def test_python_deadline_for_a_child_waited_with_wait4(quick_kill):
    p = subprocess.Popen(["tail", "-f", "/dev/null"])
    with pytest.raises(bounded.TimedOut, match=r"^timed out after 0\.5 s: tail$"):
        with bounded.deadline(p.pid, 0.5, "tail"):
            os.wait4(p.pid, 0)
    p = subprocess.Popen(["true"])
    with bounded.deadline(p.pid, 30, "true"):
        assert os.waitstatus_to_exitcode(os.wait4(p.pid, 0)[1]) == 0


def test_flavours_sh_turns_a_timeout_into_one_line(quick_kill):
    import flavours  # scripts/flavours.py
    with pytest.raises(flavours.FlavourError, match=r"^timed out after 0\.5 s: sh -c exec tail -f /dev/null$"):
        flavours.sh("sh", "-c", "exec tail -f /dev/null", timeout=0.5)


def test_no_unbounded_subprocess_in_the_python_tools():
    for name in ("flavours.py", "benchmark.py", "soak.py"):
        text = (SCRIPTS / name).read_text()
        assert "subprocess.run(" not in text, f"{name}: subprocess.run without a deadline"
