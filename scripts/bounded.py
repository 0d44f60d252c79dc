"""Subprocesses with a deadline, for the tools in scripts/ (flavours.py, benchmark.py, soak.py).

Past its deadline a command gets SIGTERM (the suite tears down on it: its clusters and namespaces
go), then SIGKILL 30 s later, and TimedOut says in one line `timed out after N s: <what>`: the
contract of scripts/lib-host.sh's bounded, for Python."""
from __future__ import annotations

import os
import signal
import subprocess
import threading
from contextlib import contextmanager

KILL_AFTER = 30.0


class TimedOut(Exception):
    """A command ran past its deadline (and was stopped)."""

    def __init__(self, timeout: float, what: str):
        super().__init__(f"timed out after {timeout:g} s: {what}")


def describe(cmd) -> str:
    return " ".join(str(c) for c in cmd[:4])


def run(cmd, timeout: float, what: str | None = None, input: str | None = None,
        **popen) -> subprocess.CompletedProcess:
    """subprocess.run(cmd, input=input, **popen) under a deadline; capture_output=True is understood."""
    if popen.pop("capture_output", False):
        popen.update(stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if input is not None:
        popen["stdin"] = subprocess.PIPE
    with subprocess.Popen(cmd, **popen) as proc:
        try:
            out, err = proc.communicate(input, timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.terminate()
            try:
                proc.wait(KILL_AFTER)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            # its output is dropped: a child of the command may hold the pipes open for ever
            raise TimedOut(timeout, what or describe(cmd)) from None
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@contextmanager
def deadline(pid: int, timeout: float, what: str):
    """For a child the caller waits for itself (os.wait4, for its rusage): SIGTERM to `pid` at the
    deadline, SIGKILL 30 s later; TimedOut when the block ends after the deadline passed. The caller
    must have reaped the child before the block ends (the timers are stopped there)."""
    fired = threading.Event()

    def send(sig):
        if sig == signal.SIGTERM:
            fired.set()
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass

    timers = [threading.Timer(timeout, send, (signal.SIGTERM,)),
              threading.Timer(timeout + KILL_AFTER, send, (signal.SIGKILL,))]
    for t in timers:
        t.daemon = True
        t.start()
    try:
        yield
    finally:
        for t in timers:
            t.cancel()
    if fired.is_set():
        raise TimedOut(timeout, what)
