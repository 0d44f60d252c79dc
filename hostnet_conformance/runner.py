"""The in-cluster runner, the entry point of the runner image (deploy/runner.yaml, and
deploy/sonobuoy-plugin.yaml for Sonobuoy users): runs the packaged suite as the pod's
ServiceAccount (--in-cluster), writes JUnit and the reports under the results directory, packs
them into results.tar.gz and then writes the `done` file naming it (Sonobuoy's plugin contract).

With HNC_WAIT_FOR_COLLECTION=SECONDS (deploy/runner.yaml sets it) the pod then stays up, for at
most that long, until scripts/in-cluster.sh has copied the results out and created `collected`.
Extra arguments are pytest's and the suite's options (e.g. -m C1)."""
from __future__ import annotations

import os
import sys
import tarfile
from pathlib import Path

from . import cli
from .waiting import WaitTimeout, wait_until

RESULTS = Path(os.environ.get("HNC_RESULTS_DIR", "/tmp/sonobuoy/results"))


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    RESULTS.mkdir(parents=True, exist_ok=True)
    report, junit = RESULTS / "report", RESULTS / "junit.xml"
    rc = cli.main(["--in-cluster", "--report-dir", str(report), "--junitxml", str(junit), "-p", "no:cacheprovider",
                   *args])
    (RESULTS / "exit-code").write_text(f"{rc}\n")
    tarball = RESULTS / "results.tar.gz"
    with tarfile.open(tarball, "w:gz") as t:
        for p in (junit, report, RESULTS / "exit-code"):
            if p.exists():
                t.add(p, arcname=p.name)
    (RESULTS / "done").write_text(str(tarball))   # last: Sonobuoy's worker reads the results once it exists
    print(f"hostnet-conformance runner: exit code {rc}; results in {tarball}", flush=True)
    wait = float(os.environ.get("HNC_WAIT_FOR_COLLECTION", "0") or 0)
    if wait > 0:
        try:
            # after the run: its teardown has set waiting.STOPPING, which must not end this wait
            wait_until(lambda: (RESULTS / "collected").exists(), timeout=wait, what="the results to be collected",
                       describe=lambda: f"no {RESULTS / 'collected'} yet", stoppable=False)
        except WaitTimeout:
            print(f"hostnet-conformance runner: nobody collected the results within {wait:.0f}s", flush=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())
