"""Vendor pages as profiles (hostnet_conformance/profiles.py): the shipped files load, detection on
recorded signals picks the page's profile and says why, and a profile holds observed verdicts to
what its page says without ever turning "could not see" into a verdict."""
from __future__ import annotations

import datetime as dt

import pytest

from hostnet_conformance import profiles, report
from hostnet_conformance.results import Result
from hostnet_conformance.verdict import CLAIMS

KIND = profiles.Signals(api_groups={"apps", "networking.k8s.io", "admissionregistration.k8s.io"},
                        node_labels={"kubernetes.io/os", "kubernetes.io/os=linux"},
                        node_os_images={"Debian GNU/Linux 12 (bookworm)"}, server_version="v1.34.0")


def signals(**extra) -> profiles.Signals:
    s = profiles.Signals(**{k: set(v) for k, v in vars(KIND).items() if isinstance(v, set)},
                         server_version=KIND.server_version)
    for k, v in extra.items():
        setattr(s, k, getattr(s, k) | set(v) if isinstance(v, (set, list)) else v)
    return s


def test_every_shipped_profile_loads_with_its_page_and_all_claims():
    names = profiles.available()
    assert {"base", "gke-autopilot", "openshift-4", "talos", "k3s", "cilium-host-firewall",
            "calico-host-endpoints"} <= set(names)
    for n in names:
        p = profiles.load(n)
        assert p.url.startswith("https://") and p.retrieved <= dt.date(2026, 12, 4)
        if p.kind == "vendor":
            assert set(p.claims) == {c for c in CLAIMS if not CLAIMS[c].extra}, n   # base's 15, claim by claim
            assert p.chain[-1] == "base"


@pytest.mark.parametrize("extra, chosen, why", [
    ({}, "base", "no vendor profile matched"),
    ({"api_groups": ["security.openshift.io", "config.openshift.io"]}, "openshift-4",
     "api_group=security.openshift.io, api_group=config.openshift.io"),
    ({"validating_webhooks": ["warden-validating.common-webhooks.networking.gke.io"]}, "gke-autopilot",
     "validating_webhook=warden-validating.common-webhooks.networking.gke.io"),
    ({"node_os_images": ["Talos (v1.12.0)"]}, "talos", "node_os_image_contains=Talos"),
    ({"server_version": "v1.34.1+k3s1"}, "k3s", "server_version_contains=+k3s"),
])
def test_detection_picks_the_page_and_names_the_signals(extra, chosen, why):
    c = profiles.choose(signals(**extra))
    assert c.profile.name == chosen and not c.overlays
    assert why in c.in_words(dt.date(2026, 12, 4)), c.in_words()


def test_overlays_are_detected_on_their_own_and_override_a_claim():
    c = profiles.choose(signals(api_groups=["security.openshift.io"],
                                crds=["ciliumclusterwidenetworkpolicies.cilium.io"]))
    assert c.profile.name == "openshift-4" and [o.name for o in c.overlays] == ["cilium-host-firewall"]
    exp, by = profiles.expectation(c, "C10")
    assert (exp.expect, by) == ("either", "cilium-host-firewall")
    assert profiles.expectation(c, "C9")[1] == "openshift-4"
    d = c.to_dict(dt.date(2026, 12, 4))
    assert d["overlays"][0]["name"] == "cilium-host-firewall" and d["signals"]["openshift-4"]


def test_given_profile_wins_and_stale_pages_are_flagged():
    c = profiles.choose(signals(), given="talos")
    assert c.how == "--profile talos"
    assert "STALE: talos" in c.in_words(dt.date(2028, 1, 1)) and "STALE" not in c.in_words(dt.date(2026, 12, 4))


def _write(tmp_path, text, name="mine.yaml"):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


SRC = "source: {url: https://example.org/page, retrieved: 2026-11-01}\n"


@pytest.mark.parametrize("text, words", [
    ("profile: x\n" + SRC + "colour: red\n", "unknown key(s) colour"),
    ("profile: x\nsource: {url: http://example.org}\n", "needs source: {url: https://..., retrieved"),
    ("profile: x\n" + SRC + "claims: {C99: {expect: pass}}\n", "names no known claim (C99)"),
    ("profile: x\n" + SRC + "claims: {C1: {expect: maybe}}\n", "expect 'maybe' is not one of"),
    ("profile: x\n" + SRC + "claims: {C1: {expect: fail}}\n", "expect: fail needs codes"),
    ("profile: x\n" + SRC + "detect: {any: [{colour: red}]}\n", "detect rule"),
    ("profile: x\n" + SRC + "claims: [", "not YAML"),
])
def test_a_bad_profile_is_one_line_naming_the_file(tmp_path, text, words):
    path = _write(tmp_path, text)
    with pytest.raises(profiles.ProfileError) as e:
        profiles.load(path)
    assert "\n" not in str(e.value) and path in str(e.value) and words in str(e.value), str(e.value)


def test_extends_cycles_and_unknown_names_are_refused(tmp_path):
    _write(tmp_path, "profile: a\nextends: " + str(tmp_path / "b.yaml") + "\n" + SRC, "a.yaml")
    _write(tmp_path, "profile: b\nextends: " + str(tmp_path / "a.yaml") + "\n" + SRC, "b.yaml")
    with pytest.raises(profiles.ProfileError, match="extends itself through a -> b -> a"):
        profiles.load(str(tmp_path / "a.yaml"))
    with pytest.raises(profiles.ProfileError, match="no profile 'eks'; shipped: base"):
        profiles.load("eks")


def _test(claim, status, codes=(), kind="claim", name=None):
    test = name or CLAIMS[claim].claim_tests[0]
    return Result(claim, f"suites/test_claims.py::{test}", kind, "passed" if status == "PASS" else "failed",
                  {"reason": f"observed {status}", "codes": list(codes), "evidence": {}}, None, 0.1,
                  None if status == "PASS" else f"observed {status}", status)


def _page(tmp_path, claims_yaml: str) -> profiles.Choice:
    path = _write(tmp_path, "profile: page\nextends: base\n" + SRC + claims_yaml, "page.yaml")
    return profiles.Choice(profiles.load(path), (), "--profile", {})


def test_the_pages_opposite_observed_with_its_code_is_a_pass(tmp_path):
    choice = _page(tmp_path, "claims: {C9: {expect: fail, codes: [other_gate], statement: Warden refuses}}\n")
    s = report.summarize_claim("C9", [_test("C9", "FAIL", ["other_gate"])], profile=choice)
    assert (s.verdict, s.observed) == ("PASS", "FAIL") and s.reason.startswith("as page's page says: Warden refuses")
    s = report.summarize_claim("C9", [_test("C9", "FAIL", ["admitted"])], profile=choice)
    assert s.verdict == "FAIL" and "page expects other_gate; observed admitted" in s.reason
    tests = [_test("C9", "PASS", name=n) for n in CLAIMS["C9"].claim_tests]
    s = report.summarize_claim("C9", tests, profile=choice)
    assert s.verdict == "FAIL" and "observed the opposite" in s.reason


def test_a_profile_never_turns_an_error_into_a_verdict(tmp_path):
    choice = _page(tmp_path, "claims: {C9: {expect: fail, codes: [other_gate]}, C10: {expect: either, statement: s}}\n")
    s = report.summarize_claim("C9", [_test("C9", "ERROR")], profile=choice)
    assert s.verdict == "ERROR" and s.observed is None
    s = report.summarize_claim("C10", [_test("C10", "FAIL", ["host_network_blocked"])], profile=choice)
    assert s.verdict == "FAIL" and "page's page leaves it to the cluster: s" in s.reason
    base = profiles.Choice(profiles.load("base"), (), "detected", {})
    assert report.summarize_claim("C1", [_test("C1", "FAIL", ["x"])], profile=base).verdict == "FAIL"


def test_every_code_a_shipped_profile_expects_is_one_its_claim_can_give():
    """`expect: fail` codes name failures the claim's judge reports (a code no judge gives would make
    the page's statement impossible to observe)."""
    from pathlib import Path
    claims_dir = Path(profiles.__file__).parent / "claims"
    for n in profiles.available():
        for claim, exp in profiles.load(n).claims.items():
            src = (claims_dir / f"{claim.lower()}.py").read_text()
            for code in exp.codes:
                assert f'"{code}"' in src, f"profile {n}: {claim} expects {code!r}, which claims/{claim.lower()}.py never gives"
