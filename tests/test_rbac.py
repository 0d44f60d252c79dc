"""deploy/runner.yaml's ClusterRole grants exactly what the suite checks before it starts
(cluster.NEEDED_ACCESS) plus what it uses when granted (cluster.OPTIONAL_ACCESS), and the
runner's Job and Sonobuoy plugin keep to the results contract."""
from __future__ import annotations

from pathlib import Path

import yaml

from hostnet_conformance.cluster import NEEDED_ACCESS, OPTIONAL_ACCESS

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"


def docs(name: str) -> dict[str, dict]:
    return {d["kind"]: d for d in yaml.safe_load_all((DEPLOY / name).read_text()) if d}


def granted(role: dict) -> set[tuple[str, str, str, str]]:
    out = set()
    for rule in role["rules"]:
        for group in rule.get("apiGroups", []):
            for res in rule["resources"]:
                resource, _, sub = res.partition("/")
                out |= {(verb, resource, group, sub) for verb in rule["verbs"]}
    return out


def test_the_cluster_role_grants_exactly_what_the_suite_uses():
    role = docs("runner.yaml")["ClusterRole"]
    self_review = ("create", "selfsubjectaccessreviews", "authorization.k8s.io", "")   # how the gate checks
    assert granted(role) == set(NEEDED_ACCESS) | set(OPTIONAL_ACCESS) | {self_review}
    assert [r for r in role["rules"] if "nonResourceURLs" in r] == [{"nonResourceURLs": ["/version"], "verbs": ["get"]}]
    assert not any("*" in r.get("verbs", []) + r.get("resources", []) for r in role["rules"])


def test_every_rule_says_why():
    text = (DEPLOY / "runner.yaml").read_text()
    rules = text[text.index("rules:"):text.index("---", text.index("rules:"))].splitlines()
    for i, line in enumerate(rules):
        if line.strip().startswith("- apiGroups") or line.strip().startswith("- nonResourceURLs"):
            assert rules[i - 1].strip().startswith("#"), f"rule without a comment: {line.strip()}"


def test_the_job_keeps_the_results_contract():
    d = docs("runner.yaml")
    job = d["Job"]["spec"]
    pod = job["template"]["spec"]
    c = pod["containers"][0]
    assert job["backoffLimit"] == 0 and pod["restartPolicy"] == "Never"
    assert pod["serviceAccountName"] == d["ServiceAccount"]["metadata"]["name"]
    assert {"mountPath": "/tmp/sonobuoy/results", "name": "results"} in c["volumeMounts"]
    assert c["securityContext"]["allowPrivilegeEscalation"] is False and pod["securityContext"]["runAsNonRoot"]
    binding = d["ClusterRoleBinding"]
    assert binding["roleRef"]["name"] == d["ClusterRole"]["metadata"]["name"]
    assert binding["subjects"][0]["namespace"] == d["Namespace"]["metadata"]["name"]
    # the runner's namespace is not one the suite's --cleanup would remove
    assert "app.kubernetes.io/managed-by" not in d["Namespace"]["metadata"]["labels"]


def test_the_sonobuoy_plugin_runs_the_same_container():
    plugin = yaml.safe_load((DEPLOY / "sonobuoy-plugin.yaml").read_text())
    job = docs("runner.yaml")["Job"]["spec"]["template"]["spec"]["containers"][0]
    assert plugin["sonobuoy-config"]["driver"] == "Job"
    assert plugin["spec"]["image"] == job["image"]
    assert {"mountPath": "/tmp/sonobuoy/results", "name": "results"} in plugin["spec"]["volumeMounts"]
