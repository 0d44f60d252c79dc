"""The run's shared state. Module-global because pytest_runtest_logreport gets no config; each
pytest run in the process (pytester's in-process runs too) gets its own (STATE, push, pop)."""
from __future__ import annotations

import json
import os
from collections.abc import MutableMapping
from datetime import datetime, timezone
from pathlib import Path

import pytest

from hostnet_conformance.verdict import Verdict

VERDICTS = pytest.StashKey[Verdict]()
NS_BEFORE = pytest.StashKey[set]()
SHARED_STATE = "HNC_SHARED_STATE"


class _Current(MutableMapping):
    """The state of the innermost pytest run of this process (pytester runs pytest inside pytest):
    push() at its pytest_configure, pop() at its pytest_unconfigure."""

    def __init__(self):
        self.stack: list[dict] = [self.fresh()]

    @staticmethod
    def fresh() -> dict:
        return {"results": [], "started": datetime.now(timezone.utc), "capabilities": {}}

    def __getitem__(self, key):
        return self.stack[-1][key]

    def __setitem__(self, key, value):
        self.stack[-1][key] = value

    def __delitem__(self, key):
        del self.stack[-1][key]

    def __iter__(self):
        return iter(self.stack[-1])

    def __len__(self):
        return len(self.stack[-1])


STATE = _Current()


def push() -> None:
    STATE.stack.append(STATE.fresh())


def pop() -> None:
    if len(STATE.stack) > 1:
        STATE.stack.pop()


def claim_of(item) -> str | None:
    """The claim a test is of: its claim marker (C1..C15, or an extra claim's X1, X2...)."""
    for m in item.iter_markers():
        if m.name[:1] in ("C", "X") and m.name[1:].isdigit():
            return m.name
    return None


def xdist_worker(config) -> bool:
    return hasattr(config, "workerinput")


def xdist_controller(config) -> bool:
    return (not xdist_worker(config) and bool(getattr(config.option, "numprocesses", None))
            and getattr(config.option, "dist", "no") != "no")


def shared_state() -> dict | None:
    """In a pytest-xdist worker: the cluster and deployments the controller set up, once for all workers."""
    path = os.environ.get(SHARED_STATE)
    return json.loads(Path(path).read_text()) if path else None


def fail_setup(msg: str):
    """Stop the whole run with one line (exit 3): the target itself is unusable."""
    pytest.exit(f"hostnet-conformance: {msg}", returncode=3)


def suite_requested(config) -> bool:
    """Whether this pytest run collects the conformance suite (the plugin is installed for every
    pytest in the environment; its signal handler and preloading are for the suite's runs only)."""
    from hostnet_conformance.resources import suites_dir
    suites = suites_dir()
    for arg in config.args:
        p = Path(str(arg).split("::")[0])
        p = (p if p.is_absolute() else Path(config.invocation_params.dir) / p).resolve()
        if p == suites or suites in p.parents or p in suites.parents:
            return True
        # the suite of another checkout or install than the plugin's own (e.g. a checkout's suites/
        # run with the plugin of an installed wheel)
        if any(is_suite_dir(d) for d in (p, *p.parents, p / "suites")):
            return True
    return False


def is_suite_dir(d: Path) -> bool:
    """Whether `d` holds the conformance suite's test modules (its own, not a file of the plugin's)."""
    return d.name == "suites" and all((d / m).is_file() for m in SUITE_MODULES)


SUITE_MODULES = ("test_claims.py", "test_cluster.py")
