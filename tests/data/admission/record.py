#!/usr/bin/env python3
"""Record the live admission answers of tests/data/admission from a kind cluster:
    python3 tests/data/admission/record.py --cluster-name hnc-dev"""
import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]

from kubernetes import client  # noqa: E402

import flavours as fl  # noqa: E402  (scripts/flavours.py)
from hostnet_conformance import kube, manifests  # noqa: E402


def dry_run(core, ns: str) -> dict:
    pod = manifests.pod_from_daemonset(manifests.load("node-exporter-daemonset"), "admission-dry-run")
    try:
        core.create_namespaced_pod(ns, pod, dry_run="All")
    except client.ApiException as e:
        return json.loads(e.body)
    raise SystemExit(f"the dry run in {ns} was admitted")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cluster-name", required=True)
    a = ap.parse_args()
    kept = fl.Kept(a.cluster_name, Path("/tmp"))
    ns = "hnc-record-admission"
    kept.core.create_namespace({"metadata": {"name": ns, "labels": {kube.PSA_ENFORCE: "baseline"}}})
    try:
        (HERE / "pod-security-baseline.json").write_text(json.dumps(dry_run(kept.core, ns), indent=1) + "\n")
        kept.core.patch_namespace(ns, {"metadata": {"labels": {kube.PSA_ENFORCE: "restricted"}}})
        (HERE / "pod-security-restricted.json").write_text(json.dumps(dry_run(kept.core, ns), indent=1) + "\n")
        kept.apply_vap()
        try:
            (HERE / "validating-admission-policy.json").write_text(
                json.dumps(dry_run(kept.core, kept._probe_ns()), indent=1) + "\n")
        finally:
            kept.undo_vap()
        kept.apply_webhook(Path("/tmp"))
        try:
            (HERE / "webhook.json").write_text(json.dumps(dry_run(kept.core, kept._probe_ns()), indent=1) + "\n")
        finally:
            kept.undo_webhook()
    finally:
        kept.core.delete_namespace(ns)


if __name__ == "__main__":
    main()
