import re
from pathlib import Path

import pytest

from hostnet_conformance.verdict import CLAIMS, UnknownClaim, Verdict, claim

pytest_plugins = ["pytester"]


def test_registry_has_the_fifteen_claims_in_order_then_the_extra_ones():
    assert [c for c in CLAIMS if not CLAIMS[c].extra] == [f"C{i}" for i in range(1, 16)]
    assert [c for c in CLAIMS if CLAIMS[c].extra] == ["X1", "X2"] and list(CLAIMS)[-2:] == ["X1", "X2"]
    for cid, c in CLAIMS.items():
        assert c.id == cid and c.title and c.sentence


def test_the_readme_claims_table_is_the_registry():
    """One source for the claims' words: the README's table says exactly what CLAIMS says."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    table = [m.groups() for m in re.finditer(r"^\| ([CX]\d+) \| (.*?) \| (.*) \|$", readme, re.M)]
    assert table == [(c.id, c.sentence, c.proven_by) for c in CLAIMS.values()]


def test_the_docs_table_of_what_each_claim_needs_is_the_registry():
    """docs/verdicts.md's host features, shared DaemonSets and ports per claim are what CLAIMS says
    (regenerate with `python3 -c "from hostnet_conformance.verdict import needs_table; print(*needs_table(), sep=chr(10))"`)."""
    doc = (Path(__file__).resolve().parent.parent / "docs" / "verdicts.md").read_text()
    from hostnet_conformance.verdict import needs_table
    assert "\n".join(needs_table()) in doc


def test_markers_come_from_the_registry(pytester):
    pytester.makeconftest('pytest_plugins = ["hostnet_conformance.plugin"]')
    out = pytester.runpytest("--markers").stdout.str()
    for c in CLAIMS.values():
        assert f"@pytest.mark.{c.id}: claim {c.id}, {c.sentence}" in out
    assert "@pytest.mark.negative_control:" in out


def test_only_the_networkpolicy_claims_have_a_precondition():
    assert {c.id: c.precondition for c in CLAIMS.values() if c.precondition} == {
        "C10": "networkpolicy", "X2": "networkpolicy"
    }


def test_lookup_is_case_insensitive():
    assert claim("c7") is CLAIMS["C7"]


@pytest.mark.parametrize("bad", ["C16", "C0", "x", ""])
def test_unknown_claim_lists_valid_ids(bad):
    with pytest.raises(UnknownClaim, match="valid ids: C1, C2, .*C15") as e:
        claim(bad)
    assert isinstance(e.value, ValueError) and "\n" not in str(e.value)


def test_verdict_to_dict_and_default_evidence_is_not_shared():
    v = Verdict("C1", True, "podIP == hostIP", {"nodes": 2}, 1.5)
    assert v.to_dict() == {"claim": "C1", "passed": True, "reason": "podIP == hostIP",
                           "evidence": {"nodes": 2}, "duration_s": 1.5, "codes": [], "modes": []}
    failed = Verdict("C8", False, "container is not in CrashLoopBackOff", codes=["not_crashlooping"])
    assert failed.to_dict()["codes"] == ["not_crashlooping"]
    a, b = Verdict("C2", False, "r"), Verdict("C3", False, "r")
    a.evidence["k"] = 1
    a.codes.append("x")
    assert b.evidence == {} and b.codes == []
