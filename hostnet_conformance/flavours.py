"""Cluster flavours (fixtures/flavours.yaml): their expected verdict tables, and the comparison of
a run's report.json with one. scripts/flavours.py applies the flavours to kind clusters."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .resources import FIXTURES
from .verdict import ERROR, FAIL, NOT_APPLICABLE, PASS

FILE = FIXTURES / "flavours.yaml"
CLAIMS = [f"C{i}" for i in range(1, 16)]
OUTCOMES = (PASS, FAIL, NOT_APPLICABLE, ERROR)


@dataclass
class Flavour:
    name: str
    letter: str
    title: str
    cluster: str                       # "kept" or "own"
    expect: dict                       # claim -> outcome, every claim
    reasons: dict = field(default_factory=dict)
    facts: dict = field(default_factory=dict)
    suite_args: list = field(default_factory=list)
    kubelet: dict = field(default_factory=dict)
    max_wall_s: float | None = None
    capabilities_contain: dict = field(default_factory=dict)
    # own clusters that scripts/flavours.py makes itself (then the suite reuses them): changes to the
    # suite's kind config, and the set-up that runs between `kind create cluster` and the suite
    # networking: {...}, workers: N, kubeadm_patches / worker_patches: [kubeadm patch]
    kind: dict = field(default_factory=dict)
    setup: str | None = None
    # kept only: a file under fixtures/flavours/ holding a ValidatingAdmissionPolicy and its binding,
    # created before the suite runs and deleted after it
    policy: str | None = None


SETUPS = ("cloud-node-init", "kindnetd", "dual-stack-cni", "ipv6-cni", "non-kind-defaults")


def load(path: Path = FILE) -> dict[str, Flavour]:
    raw = yaml.safe_load(path.read_text()) or {}
    out = {}
    for name, f in raw.items():
        expect = {c: PASS for c in CLAIMS}
        for c, v in (f.get("expect") or {}).items():
            if c not in expect or v not in OUTCOMES:
                raise ValueError(f"flavour {name}: {c}: {v!r} is not a claim and one of {', '.join(OUTCOMES)}")
            expect[c] = v
        if f.get("cluster") not in ("kept", "own"):
            raise ValueError(f"flavour {name}: cluster must be 'kept' or 'own'")
        if f.get("setup") not in (None, *SETUPS):
            raise ValueError(f"flavour {name}: setup must be one of {', '.join(SETUPS)}")
        if (f.get("kind") or f.get("setup")) and f.get("cluster") != "own":
            raise ValueError(f"flavour {name}: kind changes and a set-up need a cluster of its own")
        if f.get("policy") and (f.get("cluster") != "kept" or not (FIXTURES / "flavours" / str(f["policy"])).is_file()):
            raise ValueError(f"flavour {name}: policy must name a file under fixtures/flavours/ of a kept flavour")
        unknown = set(f.get("kind") or {}) - {"networking", "workers", "kubeadm_patches", "worker_patches",
                                               "pod_security_default"}
        if unknown:
            raise ValueError(f"flavour {name}: kind: unknown key(s) {', '.join(sorted(unknown))}")
        workers = (f.get("kind") or {}).get("workers", 2)
        if not isinstance(workers, int) or isinstance(workers, bool) or not 0 <= workers <= 8:
            raise ValueError(f"flavour {name}: kind: workers must be a whole number from 0 to 8, not {workers!r}")
        out[name] = Flavour(name=name, letter=str(f["letter"]), title=f["title"], cluster=f["cluster"],
                            expect=expect, reasons=dict(f.get("reasons") or {}), facts=dict(f.get("facts") or {}),
                            suite_args=[str(a) for a in f.get("suite_args") or []],
                            kubelet=dict(f.get("kubelet") or {}), max_wall_s=f.get("max_wall_s"),
                            capabilities_contain=dict(f.get("capabilities_contain") or {}),
                            kind=dict(f.get("kind") or {}), setup=f.get("setup"), policy=f.get("policy"))
    return out


def compare(flavour: Flavour, report: dict, wall_s: float | None = None) -> list[str]:
    """Every way the run's report.json differs from the flavour's table (empty: it matches)."""
    seen = {c["id"]: c for c in report.get("claims", [])}
    problems = []
    for claim, want in flavour.expect.items():
        got = seen.get(claim)
        if got is None:
            problems.append(f"{claim}: expected {want}, the report has no verdict")
            continue
        if got["verdict"] != want:
            problems.append(f"{claim}: expected {want}, got {got['verdict']}: {got.get('reason') or ''}".rstrip(": "))
        needle = flavour.reasons.get(claim)
        if needle and needle not in (got.get("reason") or "") + " " + (got.get("summary") or ""):
            problems.append(f"{claim}: the reason lacks {needle!r}: {got.get('reason') or got.get('summary') or '-'}")
    # the suite's other tests (the cluster's own health, e.g. Services without endpoints) must pass
    # too: pytest exits non-zero only for them or for a FAIL or ERROR the table does not expect
    rc = report.get("_pytest_exit")
    if rc not in (None, 0) and not set(flavour.expect.values()) & {FAIL, ERROR}:
        problems.append(f"pytest exited {rc}: {report.get('_pytest_last_line') or ''}".rstrip(": "))
    caps = report.get("capabilities") or {}
    for key, want in flavour.facts.items():
        if caps.get(key) != want:
            problems.append(f"fact {key}: expected {want!r}, report.json has {caps.get(key)!r}")
    for key, needle in flavour.capabilities_contain.items():
        if needle not in json.dumps(caps.get(key)):
            problems.append(f"capability {key} lacks {needle!r}: {json.dumps(caps.get(key))[:300]}")
    if flavour.max_wall_s is not None and wall_s is not None and wall_s > flavour.max_wall_s:
        problems.append(f"the run took {wall_s:.0f}s, more than the flavour's {flavour.max_wall_s:.0f}s")
    return problems


def made(flavour: Flavour) -> bool:
    """Whether scripts/flavours.py makes the flavour's cluster itself (kind changes or a set-up)."""
    return flavour.cluster == "own" and bool(flavour.kind or flavour.setup)


def kind_config(base: dict, flavour: Flavour) -> dict:
    """The suite's kind config (cluster.render_kind_config, made with `workers` workers) with the
    flavour's changes: `networking` merged in, the cluster-wide `kubeadm_patches` added (kubeadm's
    ClusterConfiguration, KubeletConfiguration, ...), and each worker given the `worker_patches`
    (kubeadm config patches, `{i}` = the worker's number from 1)."""
    cfg = json.loads(json.dumps(base))
    cfg.setdefault("networking", {}).update(flavour.kind.get("networking") or {})
    if flavour.kind.get("kubeadm_patches"):
        cfg["kubeadmConfigPatches"] = [*cfg.get("kubeadmConfigPatches", []), *flavour.kind["kubeadm_patches"]]
    i = 0
    for node in cfg.get("nodes") or []:
        if node.get("role") == "worker":
            i += 1
            patches = [p.replace("{i}", str(i)) for p in flavour.kind.get("worker_patches") or []]
            if patches:
                node["kubeadmConfigPatches"] = [*node.get("kubeadmConfigPatches", []), *patches]
    return cfg


_ROW = re.compile(r"^\|\s*(C\d+)\s*\|\s*([A-Z ]+?)\s*\|")


def tables_in_doc(text: str) -> dict[str, dict]:
    """The expected tables in docs/flavours.md: under each `### <letter>. <name>` heading, the rows
    `| C1 | PASS | ...`."""
    out, current = {}, None
    for line in text.splitlines():
        m = re.match(r"^###\s+\S+\.\s+`?([a-z0-9-]+)`?", line)
        if m:
            current = out.setdefault(m.group(1), {})
            continue
        row = _ROW.match(line)
        if current is not None and row:
            current[row.group(1)] = row.group(2)
    return out
