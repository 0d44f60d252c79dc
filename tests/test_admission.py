"""Which admission gate refused a host-network pod, decided on recorded API server answers
(tests/data/admission; README.md there says where each came from)."""
from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from hostnet_conformance import admission as adm
from hostnet_conformance import manifests as m
from hostnet_conformance.verdict import CLAIMS, NotApplicable

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


def _c9_judged(name: str):
    """C9's judge on the Pod part's facts with the API server's recorded answer to creating the
    vendor's Pod (the one these answers were recorded for)."""
    from hostnet_conformance.claims import base, c9

    code, message = answer(name)
    facts = {"kind": "pod", "namespace": "ns", "namespace_enforce_label": None,
             "pod_sent": c9.host_features(vendor_pod()), "status": code, "message": message}
    return base.judged({"claim": "C9", "key": "c9-pod", "facts": facts}, c9.judge)


@pytest.mark.parametrize("name,level", [("pod-security-baseline", "baseline"), ("pod-security-restricted", "restricted")])
def test_c9_passes_on_either_pod_security_level_in_its_own_words(name, level):
    v = _c9_judged(name)
    assert v.passed, v.reason
    assert v.evidence["level"] == level and v.evidence["gate"] == f"PodSecurity {level}:latest"
    assert v.reason == f"HTTP 403 violates PodSecurity {level}: host namespaces, hostPath, hostPort"


def test_c9_names_another_gate_that_refused_instead_of_pod_security():
    v = _c9_judged("validating-admission-policy")
    assert v.codes == ["other_gate"]
    assert "refused by ValidatingAdmissionPolicy 'hnc-flavour-no-host-network'" in v.reason


# ---------------------------------------------------------------- per-feature admission
# tests/data/admission/by-feature: the dry runs of discover_admission (the vendor's Pod, then one Pod
# per host feature) answered with flavour j's ValidatingAdmissionPolicy (OpenShift's hostnetwork-v2
# SCC: hostNetwork and host ports allowed, hostPID and hostPath refused) applied; `null` is admitted.


BY_FEATURE = DATA / "by-feature"
SCC_VAP = "ValidatingAdmissionPolicy 'hnc-flavour-scc-hostnetwork-v2' (binding 'hnc-flavour-scc-hostnetwork-v2')"


def recorded_gate(name: str) -> adm.Gate | None:
    """The gate of a recorded answer (None: the dry run was admitted)."""
    body = json.loads((BY_FEATURE / f"{name}.json").read_text())
    return None if body is None else adm.classify(body["code"], adm.message_of(json.dumps(body)))


def scc_admission(variant: adm.Gate | None = None) -> adm.Admission:
    return adm.Admission(recorded_gate("scc-vendor"),
                         {f: recorded_gate(f"scc-{f.lower()}") for f in m.HOST_FEATURES}, variant)


def vendor_pod() -> dict:
    return m.pod_from_daemonset(m.load("node-exporter-daemonset"), "admission-dry-run")


def test_each_feature_pod_has_that_host_feature_only():
    pods = m.host_feature_pods(vendor_pod())
    spec = {f: m.pod_spec(p) for f, p in pods.items()}
    assert list(pods) == list(m.HOST_FEATURES)
    assert [p["metadata"]["name"] for p in pods.values()] == [
        "admission-dry-run-hostnetwork", "admission-dry-run-hostpid", "admission-dry-run-hostpath",
        "admission-dry-run-hostport"]
    # a host-network pod's containerPorts are host ports: the hostNetwork pod declares none
    assert spec["hostNetwork"]["hostNetwork"] and "ports" not in spec["hostNetwork"]["containers"][0]
    assert [f for f, s in spec.items() if s.get("hostNetwork")] == ["hostNetwork"]
    assert [f for f, s in spec.items() if s.get("hostPID")] == ["hostPID"]
    assert [f for f, s in spec.items() if s.get("volumes")] == ["hostPath"]
    assert [f for f, s in spec.items() if any(p.get("hostPort") for p in s["containers"][0].get("ports", []))] \
        == ["hostPort"]
    assert spec["hostPort"]["containers"][0]["ports"] == [
        {"containerPort": 20000, "protocol": "TCP", "hostPort": 20000}]


def test_without_hostpid_and_hostpath_the_exporter_reads_its_own_proc_and_sys():
    ds = m.load("node-exporter-daemonset")
    before = json.dumps(ds)
    out = m.pod_spec(m.without_host_features(ds, {"hostPID", "hostPath"}))
    assert json.dumps(ds) == before                      # the input is not changed
    c = out["containers"][0]
    assert "hostPID" not in out and "volumes" not in out and "volumeMounts" not in c
    assert c["args"] == ["--web.listen-address=0.0.0.0:20000"]   # --path.procfs/--path.sysfs named the mounts
    assert out["hostNetwork"] is True and out["dnsPolicy"] == "ClusterFirstWithHostNet"
    assert c["ports"] == [{"containerPort": 20000, "protocol": "TCP"}] and c["resources"]["limits"]["cpu"] == "200m"


def test_without_host_ports_a_host_network_pod_declares_no_port_and_a_pod_network_pod_keeps_its_own():
    ds = m.load("node-exporter-daemonset")
    assert "ports" not in m.pod_spec(m.without_host_features(ds, {"hostPort"}))["containers"][0]
    pod = m.host_feature_pods(vendor_pod())["hostPort"]
    assert m.pod_spec(m.without_host_features(pod, {"hostPort"}))["containers"][0]["ports"] == [
        {"containerPort": 20000, "protocol": "TCP"}]
    with pytest.raises(ValueError, match="unknown host feature"):
        m.without_host_features(ds, {"hostIPC"})


def test_recorded_scc_like_gate_refuses_hostpid_and_hostpath_and_the_claims_are_judged_without_them():
    a = scc_admission()
    assert a.blocked is None
    assert list(a.refused) == ["hostPID", "hostPath"]
    assert a.refused["hostPID"].kind == adm.VAP and a.refused["hostPID"].who == SCC_VAP
    assert a.by_feature_words()["hostNetwork"] == "admitted" and a.by_feature_words()["hostPort"] == "admitted"
    assert a.by_feature_words()["hostPath"].startswith(SCC_VAP + ": ")
    assert "hostPath volumes are not allowed" in a.by_feature_words()["hostPath"]
    assert a.judged_on() == \
        f"the vendor's DaemonSet without hostPID, hostPath (hostPID and hostPath refused by {SCC_VAP})"


def test_a_gate_on_host_network_itself_blocks_every_claim_as_before():
    g = adm.classify(*answer("validating-admission-policy"))
    a = adm.Admission(g, {"hostNetwork": g, "hostPID": None, "hostPath": None, "hostPort": None})
    assert a.blocked == g
    assert a.judged_on().startswith("none: host-network pods are refused even in a namespace labelled privileged "
                                    "by ValidatingAdmissionPolicy 'hnc-flavour-no-host-network'")


def test_a_vendor_pod_refused_for_no_single_feature_blocks_and_one_admitted_drops_nothing():
    vendor = recorded_gate("scc-vendor")
    admitted_alone = {f: None for f in m.HOST_FEATURES}
    assert adm.Admission(vendor, admitted_alone).blocked == vendor   # a combination, or another part of the Pod
    # the vendor's Pod admitted: a feature refused alone is no reason to drop it
    a = adm.Admission(None, {**admitted_alone, "hostPID": recorded_gate("scc-hostpid")})
    assert a.blocked is None and a.refused == {} and a.judged_on() == "the vendor's DaemonSet as written"
    # the variant without the refused features refused too: nothing left to judge
    assert scc_admission(variant=vendor).blocked == vendor


def test_the_claims_needing_a_refused_feature_are_not_applicable_naming_the_gate_and_the_feature():
    refused = scc_admission().refused
    c12 = adm.not_applicable("C12", refused)
    assert c12.startswith(f"needs hostPID, which {SCC_VAP} refuses even in a namespace labelled privileged: "
                          "hostPID is not allowed (hostnet-conformance flavour emulating OpenShift's hostnetwork-v2 "
                          "SCC); "
                          f"needs hostPath, which {SCC_VAP} refuses")
    assert c12.endswith("(to run this claim: exempt the suite's namespaces (label app.kubernetes.io/managed-by="
                        "hostnet-conformance) from the binding named above of ValidatingAdmissionPolicy "
                        "'hnc-flavour-scc-hostnetwork-v2')")
    c4 = adm.not_applicable("C4", refused)
    assert c4.startswith(f"needs hostPath, which {SCC_VAP}") and "hostPID" not in c4
    assert [c for c in CLAIMS if adm.not_applicable(c, refused)] == ["C4", "C12"]
    assert [c for c in CLAIMS if adm.not_applicable(c, refused, control=True)] == ["C4", "C12"]


def test_a_refused_host_port_costs_the_port_claims_and_c15s_control_only():
    refused = {"hostPort": adm.Gate(adm.WEBHOOK, '"no-host-ports"', 'admission webhook "no-host-ports" denied the '
                                                                     'request: hostPort is not allowed')}
    assert [c for c in CLAIMS if adm.not_applicable(c, refused)] == ["C5", "C7"]
    assert adm.not_applicable("C15", refused) is None
    assert adm.not_applicable("C15", refused, control=True).startswith(
        'needs hostPort, which admission webhook "no-host-ports" refuses even in a namespace labelled privileged: '
        "hostPort is not allowed")


def test_every_claim_says_which_host_features_it_needs():
    assert set(CLAIMS) <= set(adm.CLAIM_FEATURES)
    for key, features in adm.CLAIM_FEATURES.items():
        claim, _, rest = key.partition(" ")
        assert claim in CLAIMS and rest in ("", "control"), key
        assert features and features <= set(m.HOST_FEATURES), key
        assert "hostNetwork" in features, key   # every claim is about a host-network pod


def test_gate_words_without_the_api_servers_lead_in():
    assert adm.classify(*answer("validating-admission-policy")).said == \
        "hostNetwork is not allowed outside kube-system (hostnet-conformance flavour emulating GKE Autopilot)"
    assert adm.classify(*answer("webhook")).said.startswith("hostNetwork is not allowed")
    assert adm.classify(*answer("scc")).said.startswith('[provider "anyuid": Forbidden')
    assert adm.classify(*answer("pod-security-baseline")).said.startswith("host namespaces (hostNetwork=true")


# ---------------------------------------------------------------- the world on those answers

def _world(facts: dict | None = None):
    from hostnet_conformance.ports import PortAllocator
    from hostnet_conformance.world import PORT_KEYS, World
    cluster = SimpleNamespace(facts=dict(facts or {}))
    env = SimpleNamespace(cluster=cluster, run_id="r1", exporter_image="exporter:1", probe_image="probe:1")
    return World(env=env, ports=PortAllocator(20100, PORT_KEYS), workers=["w1", "w2"])


def _discovered(monkeypatch):
    """discover_admission with the API server's recorded answers to each dry run, chosen by what the
    Pod asks for as the flavour's policy decides (hostPID first, then hostPath volumes)."""
    from kubernetes import client

    from hostnet_conformance import world as world_mod
    from hostnet_conformance.discovery import discover_admission

    def create_namespaced_pod(ns, pod, dry_run=None):
        assert dry_run == "All"
        spec = pod["spec"]
        name = "scc-hostpid" if spec.get("hostPID") else "scc-hostpath" if spec.get("volumes") else None
        if ns.endswith("default") and spec.get("hostNetwork"):
            name = "../pod-security-baseline"
        if name:
            e = client.ApiException(status=422, reason="Invalid")
            e.body = (BY_FEATURE / f"{name}.json").read_text()
            raise e
    w = _world()
    w.env.core = SimpleNamespace(create_namespaced_pod=create_namespaced_pod)
    monkeypatch.setattr(world_mod.World, "ns", lambda self, purpose, psa="privileged": f"hnc-r1-{purpose}")
    facts = discover_admission(w)
    w.env.cluster.facts.update(facts)
    return w, facts


def test_discovery_records_each_features_answer_and_the_variant_judged(monkeypatch):
    w, facts = _discovered(monkeypatch)
    assert w.blocked is None and facts["pod_security_default"] == "baseline"
    assert {f: v == "admitted" for f, v in facts["admission_by_feature"].items()} == {
        "hostNetwork": True, "hostPID": False, "hostPath": False, "hostPort": True}
    assert facts["judged_on_variant"] == \
        f"the vendor's DaemonSet without hostPID, hostPath (hostPID and hostPath refused by {SCC_VAP})"
    assert json.loads(json.dumps(facts)) == facts   # report.json's capabilities, and xdist's state


def test_the_shared_daemonsets_and_the_pods_made_from_them_do_without_the_refused_features(monkeypatch):
    from hostnet_conformance import world as world_mod
    w, _ = _discovered(monkeypatch)
    assert "--path.procfs=/host/proc" in m.pod_spec(w.vendor_ds(as_written=True))["containers"][0]["args"]
    made = world_mod.variants(w)
    assert sorted(made) == ["clusterfirst", "guaranteed", "no-hostnet", "port-held", "vendor"]   # no-hostpid: C12's
    for name, ds in made.items():
        spec = m.pod_spec(ds)
        assert "hostPID" not in spec and "volumes" not in spec, name
        assert not any(a.startswith("--path.") for a in spec["containers"][0]["args"]), name
    assert m.pod_spec(made["vendor"])["hostNetwork"] and m.declared_port(made["vendor"]) == 20000
    with pytest.raises(NotApplicable, match=r"^needs hostPID, which ValidatingAdmissionPolicy"):
        world_mod.require_features(w, "C12")
    world_mod.require_features(w, "C15", control=True)   # judged: nothing raised
    world_mod.require_host_network(w)


def test_nothing_refused_keeps_the_vendors_daemonset_as_written():
    from hostnet_conformance import world as world_mod
    w = _world({"host_features_refused": {}})
    assert w.vendor_ds() == w.vendor_ds(as_written=True)
    assert sorted(world_mod.variants(w)) == ["clusterfirst", "guaranteed", "no-hostnet", "no-hostpid", "port-held",
                                              "vendor"]


def test_the_wave_makes_no_scenario_of_a_claim_a_gate_makes_not_applicable(monkeypatch):
    """hostPID and hostPath refused (flavour j): every scenario's claim is still judged. hostPort
    refused as well: C5's and C7's scenarios (they need host ports) are not made."""
    from hostnet_conformance import admission, scenarios, world as world_mod
    w, _ = _discovered(monkeypatch)
    chosen = scenarios.selected(None, after_vendor=False) + scenarios.selected(None, after_vendor=True)
    assert world_mod._judged_here(w, chosen) == chosen
    gate = {"kind": admission.VAP, "name": "no-host-ports", "message": "host ports are refused"}
    w.env.cluster.facts["host_features_refused"] = {**w.env.cluster.facts["host_features_refused"], "hostPort": gate}
    kept = {sc.claim for sc in world_mod._judged_here(w, chosen)}
    assert {sc.claim for sc in chosen} - kept == {"C5", "C7"}
