"""One module per claim: cN.py observes the cluster for claim CN and judges what it saw. The claim's
spec (its sentence, tests, controls, variants, ports and host features) is verdict.CLAIMS["CN"];
suites/test_claims.py makes the tests from the spec, and each test records the Verdict of the
observation its spec names, which the claim's module registers (scenarios.observer)."""
from __future__ import annotations

import importlib

from ..verdict import CLAIMS


def load_all() -> None:
    """Import every claim's module, registering its observations."""
    for claim_id in CLAIMS:
        importlib.import_module(f"{__name__}.{claim_id.lower()}")
