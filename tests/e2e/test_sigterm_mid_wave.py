"""SIGTERM in the middle of the wave (issue 19, part 4): a whole-suite run on the kept cluster is
stopped once the first claim scenarios' namespaces exist, while the wave, the shared DaemonSets and
the observations are still being made; 30 s after the signal no namespace of that run exists, and
none appears afterwards (teardown stops the run's threads before it deletes, so no late thread
makes one). Runs against HNC_E2E_KIND_CLUSTER; skipped without it."""
from __future__ import annotations

import signal
import subprocess
import time

from hostnet_conformance import kube
from hostnet_conformance.scenarios import SCENARIOS
from hostnet_conformance.waiting import wait_until

from .test_tool_e2e import SELECT_MANAGED, run_ids, suite_cmd

GONE_WITHIN = 30.0   # seconds after SIGTERM
# the wave makes these first (Scenario.first), then the rest of the wave and the shared DaemonSets
FIRST = tuple(f"-{s.key}" for s in SCENARIOS.values() if s.first)


def namespaces_of(core, runs: set[str]) -> list[str]:
    return sorted(ns.metadata.name for ns in core.list_namespace(label_selector=SELECT_MANAGED).items
                  if ns.metadata.labels.get(kube.LABEL_RUN) in runs)


def test_sigterm_mid_wave_leaves_no_namespace_30s_later(e2e_cluster, tmp_path):
    core = e2e_cluster["core"]
    before = run_ids(core)   # earlier runs' namespaces may still be terminating
    p = subprocess.Popen(suite_cmd(e2e_cluster), cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, start_new_session=True)
    try:
        def first_claim_namespaces():
            new = run_ids(core) - before
            names = namespaces_of(core, new)
            return new if any(n.endswith(FIRST) for n in names) else None

        run = wait_until(first_claim_namespaces, timeout=240, interval=0.2,
                         what=f"the new run's first claim namespaces (*{' or *'.join(FIRST)})",
                         describe=lambda: f"runs with namespaces: {run_ids(core)}")
        made = namespaces_of(core, run)
        p.send_signal(signal.SIGTERM)   # the suite's process only, as a terminal's `kill` does
        signalled = time.monotonic()
        wait_until(lambda: not namespaces_of(core, run), timeout=GONE_WITHIN, interval=0.5,
                   what=f"every namespace of run {' '.join(run)} to be gone {GONE_WITHIN:.0f} s after SIGTERM",
                   describe=lambda: f"made before the signal: {' '.join(made)}; still there: "
                                    f"{' '.join(namespaces_of(core, run))}")
        assert time.monotonic() - signalled <= GONE_WITHIN + 5
        out, _ = p.communicate(timeout=120)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(timeout=30)
    assert p.returncode != 0, out[-3000:]
    assert not namespaces_of(core, run), f"a namespace of the stopped run appeared after teardown\n{out[-3000:]}"
