import pytest

from hostnet_conformance.verdict import CLAIMS, UnknownClaim, Verdict, claim


def test_registry_has_the_fifteen_claims_in_order():
    assert list(CLAIMS) == [f"C{i}" for i in range(1, 16)]
    for cid, c in CLAIMS.items():
        assert c.id == cid and c.title and c.sentence


def test_claim_sentences_quote_the_claims_table():
    assert claim("C1").sentence == "the pod shares the node's network namespace"
    assert claim("C7").sentence == "port conflict with another workload -> pod stays Pending"


def test_only_c10_has_a_precondition():
    assert {c.id: c.precondition for c in CLAIMS.values() if c.precondition} == {
        "C10": "networkpolicy"
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
                           "evidence": {"nodes": 2}, "duration_s": 1.5, "codes": []}
    failed = Verdict("C8", False, "container is not in CrashLoopBackOff", codes=["not_crashlooping"])
    assert failed.to_dict()["codes"] == ["not_crashlooping"]
    a, b = Verdict("C2", False, "r"), Verdict("C3", False, "r")
    a.evidence["k"] = 1
    a.codes.append("x")
    assert b.evidence == {} and b.codes == []
