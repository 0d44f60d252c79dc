"""Which admission gate refused a host-network pod, decided on recorded API server answers
(tests/data/admission; README.md there says where each came from)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from hostnet_conformance import admission as adm

DATA = Path(__file__).resolve().parent / "data" / "admission"


def answer(name: str) -> tuple[int, str]:
    d = json.loads((DATA / f"{name}.json").read_text())
    return d["code"], adm.message_of(json.dumps(d))


def test_pod_security_names_its_level():
    g = adm.classify(*answer("pod-security-baseline"))
    assert g.kind == adm.POD_SECURITY and g.name == "baseline:latest" and g.level == "baseline"
    assert "host namespaces" in g.message


def test_validating_admission_policy_names_policy_and_binding():
    g = adm.classify(*answer("validating-admission-policy"))
    assert g.kind == adm.VAP and g.level is None
    assert g.name == "'hnc-flavour-no-host-network' (binding 'hnc-flavour-no-host-network')"
    assert "hostNetwork is not allowed" in str(g) and "hnc-flavour-no-host-network" in g.remedy()


def test_webhook_names_the_webhook():
    # recorded from the offline kind cluster with flavour i (webhook-denies-host-network) applied
    g = adm.classify(*answer("webhook"))
    assert g.kind == adm.WEBHOOK and g.name == '"deny-host-network.hnc-flavour.local"'
    # the API server's words already name the webhook: said once, not twice
    assert str(g) == g.message
    assert str(g).startswith('admission webhook "deny-host-network.hnc-flavour.local" denied the request: '
                             'hostNetwork is not allowed')
    assert "deny-host-network.hnc-flavour.local" in g.remedy()


def test_a_gatekeeper_style_webhook_message_names_its_webhook():
    status = {"kind": "Status", "status": "Failure", "reason": "Forbidden", "code": 403,
              "message": 'admission webhook "validation.gatekeeper.sh" denied the request: [psp-host-network-ports] '
                         'The specified hostNetwork and hostPort are not allowed'}
    g = adm.classify(403, adm.message_of(json.dumps(status)))
    assert g.kind == adm.WEBHOOK and g.name == '"validation.gatekeeper.sh"'


def test_openshift_scc():
    g = adm.classify(*answer("scc"))
    assert g.kind == adm.SCC and "Host network is not allowed" in g.message and "SCC" in g.remedy()


@pytest.mark.parametrize("name", ["rbac-forbidden", "quota-exceeded"])
def test_authorization_and_quota_are_not_admission_gates(name):
    assert adm.classify(*answer(name)) is None


def test_message_of_a_body_that_is_not_json():
    assert adm.message_of(b"upstream connect error") == "upstream connect error"


def test_restricted_level_is_read_from_its_own_message():
    g = adm.classify(*answer("pod-security-restricted"))
    assert g.kind == adm.POD_SECURITY and g.level == "restricted"


def _c9_on(monkeypatch, name: str):
    """check_c9_pod_rejected with the API server's recorded answer to the create."""
    from types import SimpleNamespace

    from hostnet_conformance import checks

    code, _ = answer(name)

    def refuse(env, ns, obj):
        raise _api_exception(code, (DATA / f"{name}.json").read_text())
    monkeypatch.setattr(checks, "deploy", refuse)
    core = SimpleNamespace(read_namespace=lambda ns: SimpleNamespace(metadata=SimpleNamespace(labels={})))
    return checks.check_c9_pod_rejected(SimpleNamespace(core=core), "ns", {})


def _api_exception(status: int, body: str):
    from kubernetes import client
    e = client.ApiException(status=status, reason="Forbidden")
    e.body = body
    return e


@pytest.mark.parametrize("name,level", [("pod-security-baseline", "baseline"), ("pod-security-restricted", "restricted")])
def test_c9_passes_on_either_pod_security_level_in_its_own_words(monkeypatch, name, level):
    v = _c9_on(monkeypatch, name)
    assert v.passed, v.reason
    assert v.evidence["level"] == level and v.evidence["gate"] == f"PodSecurity {level}:latest"


def test_c9_names_another_gate_that_refused_instead_of_pod_security(monkeypatch):
    v = _c9_on(monkeypatch, "validating-admission-policy")
    assert v.codes == ["other_gate"]
    assert "refused by ValidatingAdmissionPolicy 'hnc-flavour-no-host-network'" in v.reason
