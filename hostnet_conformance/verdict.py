"""Claims registry and verdicts.

A claim is one sentence of the vendor's page (docs: shared/docs/claims.md); a verdict is a
check's answer for it, with the evidence it observed, so reports show *why* and not only
pass/fail.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Claim:
    id: str
    title: str  # a few words, for terminal tables and test names
    sentence: str  # the page's claim, as the claims table states it
    precondition: str | None = None  # a cluster capability the claim needs, if any


@dataclass
class Verdict:
    claim: str
    passed: bool
    reason: str
    evidence: dict[str, Any] = field(default_factory=dict)
    duration_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class UnknownClaim(ValueError):
    """A claim id that is not in CLAIMS."""


def _claims(*rows: tuple[str, str, str, str | None]) -> dict[str, Claim]:
    return {id_: Claim(id_, title, sentence, pre) for id_, title, sentence, pre in rows}


CLAIMS: dict[str, Claim] = _claims(
    ("C1", "pod IP is the node IP", "the pod shares the node's network namespace", None),
    ("C2", "metrics on the host port", "metrics are served on the host port", None),
    ("C3", "cluster DNS kept", "ClusterFirstWithHostNet keeps cluster DNS", None),
    ("C4", "ClusterFirst falls back to node DNS",
     "ClusterFirst + hostNetwork falls back to node DNS", None),
    ("C5", "containerPort must match", "containerPort must match the application's port", None),
    ("C6", "hostNetwork fixed at creation", "host network mode only at creation", None),
    ("C7", "port conflict keeps pod Pending",
     "port conflict with another workload -> pod stays Pending", None),
    ("C8", "port in use fails the pod", "port already in use on the node -> pod fails", None),
    ("C9", "Pod Security needs privileged",
     "strict Pod Security blocks host networking; label the namespace privileged", None),
    ("C10", "NetworkPolicy bypassed", "host-network pods bypass NetworkPolicy", "networkpolicy"),
    ("C11", "node services reachable",
     "a compromised pod reaches the node's network services", None),
    ("C12", "hostPID exposes node state",
     "hostPID and the /proc,/sys mounts expose node state", None),
    ("C13", "requests/limits as written", "requests/limits as written", None),
    ("C14", "hostname is the node's", "the pod's hostname is the node's", None),
    ("C15", "one pod per node", "the DaemonSet places one pod per node", None),
)


def claim(claim_id: str) -> Claim:
    """The claim with this id ('C7' or 'c7')."""
    key = claim_id.strip().upper()
    if key not in CLAIMS:
        raise UnknownClaim(f"unknown claim {claim_id!r}; valid ids: {', '.join(CLAIMS)}")
    return CLAIMS[key]
