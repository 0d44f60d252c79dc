"""The flavour tables: fixtures/flavours.yaml is well-formed, docs/flavours.md shows the same
tables, and the comparison names every difference (on a recorded report.json)."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from hostnet_conformance import flavours

ROOT = Path(__file__).resolve().parent.parent
REPORT = json.loads((Path(__file__).resolve().parent / "data" / "flavours" / "report-vap.json").read_text())


def test_every_flavour_lists_every_claim_with_a_known_outcome():
    for f in flavours.load().values():
        assert list(f.expect) == flavours.CLAIMS
        assert set(f.expect.values()) <= set(flavours.OUTCOMES)


def test_docs_show_the_same_tables():
    docs = flavours.tables_in_doc((ROOT / "docs" / "flavours.md").read_text())
    for name, f in flavours.load().items():
        assert docs.get(name) == f.expect, f"docs/flavours.md's table for {name} differs from fixtures/flavours.yaml"


def test_a_recorded_run_matches_its_flavour():
    f = flavours.load()["vap-forbids-host-network"]
    assert flavours.compare(f, REPORT, wall_s=30) == []


def test_a_different_verdict_a_missing_reason_and_a_slow_run_are_named():
    f = flavours.load()["vap-forbids-host-network"]
    r = copy.deepcopy(REPORT)
    c1 = next(c for c in r["claims"] if c["id"] == "C1")
    c1["verdict"], c1["reason"] = "ERROR", "the shared 'vendor' DaemonSet did not become ready"
    problems = flavours.compare(f, r, wall_s=200)
    assert any(p.startswith("C1: expected NOT APPLICABLE, got ERROR") for p in problems)
    assert any(p.startswith("C1: the reason lacks") for p in problems)
    assert any("more than the flavour's 60s" in p for p in problems)


def test_a_bad_table_is_refused(tmp_path):
    bad = tmp_path / "f.yaml"
    bad.write_text("x: {letter: z, title: t, cluster: kept, expect: {C1: MAYBE}}\n")
    with pytest.raises(ValueError, match="C1"):
        flavours.load(bad)
