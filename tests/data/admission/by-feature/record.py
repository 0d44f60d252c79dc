#!/usr/bin/env python3
"""Record the answers of tests/data/admission/by-feature from a kind cluster: the vendor's Pod and
one Pod per host feature (manifests.host_feature_pods), dry-run in a namespace labelled privileged
with flavour j's ValidatingAdmissionPolicy (fixtures/flavours/scc-hostnetwork-v2.yaml) applied, and
the flavour undone afterwards:
    python3 tests/data/admission/by-feature/record.py --cluster-name hnc-dev"""
import argparse
import json
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[3]
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]

from kubernetes import client  # noqa: E402

import flavours as fl  # noqa: E402  (scripts/flavours.py)
from hostnet_conformance import kube, manifests  # noqa: E402
from hostnet_conformance.waiting import wait_until  # noqa: E402

POLICY = ROOT / "fixtures" / "flavours" / "scc-hostnetwork-v2.yaml"


def answer(core, ns: str, pod: dict) -> dict | None:
    try:
        core.create_namespaced_pod(ns, pod, dry_run="All")
    except client.ApiException as e:
        return json.loads(e.body)
    return None


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cluster-name", required=True)
    a = ap.parse_args()
    kept = fl.Kept(a.cluster_name, Path("/tmp"))
    reg = client.AdmissionregistrationV1Api(kept.api)
    policy, binding = yaml.safe_load_all(POLICY.read_text())
    ns = "hnc-record-by-feature"
    kept.core.create_namespace({"metadata": {"name": ns, "labels": {kube.PSA_ENFORCE: "privileged"}}})
    vendor = manifests.pod_from_daemonset(manifests.load("node-exporter-daemonset"), "admission-dry-run")
    pods = {"vendor": vendor, **manifests.host_feature_pods(vendor)}
    try:
        reg.create_validating_admission_policy(policy)
        reg.create_validating_admission_policy_binding(binding)
        wait_until(lambda: answer(kept.core, ns, pods["hostPID"]), timeout=60,
                   what=f"{policy['metadata']['name']} to take effect", describe=lambda: "hostPID still admitted")
        for name, pod in pods.items():
            got = answer(kept.core, ns, pod)
            (HERE / f"scc-{name.lower()}.json").write_text(json.dumps(got, indent=1) + "\n")
    finally:
        fl.delete_if_present(reg.delete_validating_admission_policy_binding, binding["metadata"]["name"])
        fl.delete_if_present(reg.delete_validating_admission_policy, policy["metadata"]["name"])
        kept.core.delete_namespace(ns)


if __name__ == "__main__":
    main()
