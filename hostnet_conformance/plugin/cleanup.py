"""--cleanup removes the suite-labelled namespaces of runs that are over, never a live run's (and,
with kind, the clusters of runs killed before their teardown) and exits; SIGTERM ends a run the way
Ctrl-C does, so its teardown still removes what it made."""
from __future__ import annotations

import signal
from datetime import datetime, timezone

import pytest

from hostnet_conformance import cluster as targets
from hostnet_conformance import kube
from hostnet_conformance.verdict import CallTimeout

from .state import suite_requested
from .target import existing_target


def pytest_configure(config):
    if suite_requested(config):
        # Ctrl-C already ends pytest through KeyboardInterrupt (teardown runs); make SIGTERM do the same.
        signal.signal(signal.SIGTERM, signal.default_int_handler)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session):
    if session.config.getoption("cleanup"):
        cleanup_and_exit(session.config)


def cleanup_and_exit(config):
    try:
        c = existing_target(config)
        if c is None:
            name = config.option.cluster_name
            kind_bin = targets.find_binary("kind", config.getoption("kind_bin"))
            # kind clusters of runs killed before their teardown (never a kept one, nor a live run's)
            orphans = targets.delete_orphaned_kind_clusters(kind_bin)
            if orphans:
                print(f"hostnet-conformance: deleted {len(orphans)} kind clusters left by killed runs: "
                      f"{' '.join(orphans)}")
            if name not in targets.kind_clusters(kind_bin):
                pytest.exit(f"hostnet-conformance: no kind cluster {name}; no namespace to clean", returncode=0)
            kc = targets.default_workdir(name) / "kubeconfig"
            kc.parent.mkdir(parents=True, exist_ok=True)
            targets.export_kubeconfig(kind_bin, name, kc)
            c = targets.existing_cluster(str(kc), None)
        gone, live = kube.delete_finished_runs(c.core)
    except (targets.TargetError, CallTimeout) as e:
        pytest.exit(f"hostnet-conformance: {e}", returncode=3)
    if live:
        now = datetime.now(timezone.utc)
        print(f"hostnet-conformance: kept the namespaces of {len(live)} live runs: "
              f"{'; '.join(r.describe(now) for r in live)}")
    pytest.exit(f"hostnet-conformance: removed {len(gone)} namespaces: {' '.join(gone) or '-'}", returncode=0)
