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


def test_a_made_cluster_gets_the_flavours_kind_changes_on_the_suites_config(tmp_path):
    from hostnet_conformance.cluster import render_kind_config
    import yaml
    known = flavours.load()
    assert flavours.made(known["hostname-override"]) and not flavours.made(known["restricted-default"])
    assert not flavours.made(known["healthz-any-address"])
    base = yaml.safe_load(render_kind_config(tmp_path, 2).read_text())
    cfg = flavours.kind_config(base, known["hostname-override"])
    workers = [n for n in cfg["nodes"] if n["role"] == "worker"]
    assert ["node-1.hnc-flavour.internal" in workers[0]["kubeadmConfigPatches"][0],
            "node-2.hnc-flavour.internal" in workers[1]["kubeadmConfigPatches"][0]] == [True, True]
    assert "kubeadmConfigPatches" in cfg["nodes"][0]          # the control plane keeps the suite's own
    assert cfg["networking"]["kubeProxyMode"] == "nftables"   # the suite's networking stays
    b = flavours.kind_config(base, known["kindnetd-privileged-default"])
    assert b["networking"] == {"kubeProxyMode": "nftables", "disableDefaultCNI": True}
    assert base["networking"] == {"kubeProxyMode": "nftables"}   # the base is not changed


def test_one_node_and_cluster_wide_kubeadm_patches(tmp_path):
    from hostnet_conformance.cluster import render_kind_config
    import yaml
    known = flavours.load()
    one = known["single-node"]
    base = yaml.safe_load(render_kind_config(tmp_path, one.kind["workers"]).read_text())
    assert [n["role"] for n in flavours.kind_config(base, one)["nodes"]] == ["control-plane"]
    m = known["non-kind-defaults"]
    base = yaml.safe_load(render_kind_config(tmp_path, 2).read_text())
    cfg = flavours.kind_config(base, m)
    patches = [yaml.safe_load(p) for p in cfg["kubeadmConfigPatches"]]
    assert {"kind": "ClusterConfiguration", "networking": {"dnsDomain": "hnc-cluster.internal"}} in patches
    assert {"kind": "KubeletConfiguration", "port": 10350} in patches
    assert "kubeadmConfigPatches" not in base                         # the base is not changed
    assert len(cfg["nodes"][0]["kubeadmConfigPatches"]) == 1           # the control plane keeps the suite's own
    for bad in ("-1", "nine", "true", "9"):
        f = tmp_path / "f.yaml"
        f.write_text(f"x: {{letter: z, title: t, cluster: own, kind: {{workers: {bad}}}, expect: {{}}}}\n")
        with pytest.raises(ValueError, match="workers must be a whole number"):
            flavours.load(f)


def test_kind_changes_and_set_ups_are_refused_on_kept_clusters_and_unknown_keys(tmp_path):
    bad = tmp_path / "f.yaml"
    bad.write_text("x: {letter: z, title: t, cluster: kept, setup: kindnetd, expect: {}}\n")
    with pytest.raises(ValueError, match="own"):
        flavours.load(bad)
    bad.write_text("x: {letter: z, title: t, cluster: own, setup: magic, expect: {}}\n")
    with pytest.raises(ValueError, match="setup must be"):
        flavours.load(bad)
    bad.write_text("x: {letter: z, title: t, cluster: own, kind: {nodes: []}, expect: {}}\n")
    with pytest.raises(ValueError, match="unknown key"):
        flavours.load(bad)


def test_a_failing_test_beside_the_claims_is_a_difference():
    f = flavours.load()["vap-forbids-host-network"]
    r = dict(REPORT, _pytest_exit=1, _pytest_last_line="1 failed, 41 passed in 50.0s")
    assert flavours.compare(f, r, wall_s=30) == ["pytest exited 1: 1 failed, 41 passed in 50.0s"]
    assert flavours.compare(f, dict(REPORT, _pytest_exit=0), wall_s=30) == []


def test_a_policy_flavour_names_its_policy_and_binding_and_leaves_kube_system_alone():
    import yaml
    raw = yaml.safe_load(flavours.FILE.read_text())
    with_policy = {name: f["policy"] for name, f in raw.items() if f.get("policy")}
    assert "scc-hostnetwork-v2" in with_policy
    for name, file in with_policy.items():
        assert raw[name]["cluster"] == "kept", name
        policy, binding = yaml.safe_load_all((ROOT / "fixtures" / "flavours" / file).read_text())
        assert [policy["kind"], binding["kind"]] == ["ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"]
        assert binding["spec"]["policyName"] == policy["metadata"]["name"]
        assert binding["spec"]["matchResources"]["namespaceSelector"]["matchExpressions"] == [
            {"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": ["kube-system"]}]
        for obj in (policy, binding):   # what scripts/flavours.py may delete: its own only
            assert obj["metadata"]["labels"]["app.kubernetes.io/part-of"] == "hostnet-conformance-flavours"


def test_the_scc_like_flavours_table_is_what_the_claims_feature_needs_give():
    """Flavour j refuses hostPID and hostPath: exactly the claims that need one are NOT APPLICABLE
    (admission.CLAIM_FEATURES), and their reasons name the policy and the feature."""
    from hostnet_conformance import admission
    f = flavours.load()["scc-hostnetwork-v2"]
    gate = admission.Gate(admission.VAP, f"'hnc-flavour-scc-hostnetwork-v2' (binding 'hnc-flavour-scc-hostnetwork-v2')",
                          "... denied request: not allowed")
    refused = {"hostPID": gate, "hostPath": gate}
    assert f.expect == {c: "NOT APPLICABLE" if admission.not_applicable(c, refused) else "PASS"
                        for c in flavours.CLAIMS}
    for claim, needle in f.reasons.items():
        assert needle in admission.not_applicable(claim, refused), claim
