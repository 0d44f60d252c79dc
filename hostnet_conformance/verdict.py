"""Claims registry, verdicts and the four outcomes.

A claim is one sentence of the vendor's page (docs: shared/docs/claims.md); a verdict is a
check's answer for it, with the evidence it observed, so reports show *why* and not only
pass/fail. A failed check names each failure with a typed code (`not_crashlooping`,
`scheduled`, ...), so a negative control can demand the failure it provokes and nothing else.

Outcomes (docs/verdicts.md):
  PASS            the claim's signal was observed
  FAIL            the signal was observed to be false; the reason quotes what was seen
  NOT APPLICABLE  a stated precondition does not hold on this cluster (raise NotApplicable)
  ERROR           the cluster could not be observed; the reason quotes the cluster (raise ClusterError)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Claim:
    id: str
    title: str  # a few words, for terminal tables and test names
    sentence: str  # the page's claim, as the claims table states it
    proven_by: str  # the signals that prove it (the README's "proven by" column)
    precondition: str | None = None  # a cluster capability the claim needs, if any


PASS, FAIL, NOT_APPLICABLE, ERROR = "PASS", "FAIL", "NOT APPLICABLE", "ERROR"
OUTCOMES = (PASS, FAIL, NOT_APPLICABLE, ERROR)


class NotApplicable(Exception):
    """A precondition of the claim does not hold on this cluster; the message says which."""


class ClusterError(Exception):
    """The cluster could not be observed (image pull, admission denial of the suite's own workload,
    RBAC, quota, API error, a terminal signal of a workload the claim stands on). The message
    quotes the cluster's own words."""

    code = "cluster_error"


class CallTimeout(ClusterError):
    """A call to the cluster (an API request, an exec, a background observation, a command) ran out
    of its bound: `timed out after N s: <what>`. The cluster was not observed, so ERROR, never FAIL."""

    code = "timed_out"

    def __init__(self, seconds: float, what: str) -> None:
        self.seconds, self.what = seconds, what
        super().__init__(f"timed out after {seconds:.0f} s: {what}")


class ControlInconclusive(ClusterError):
    """A negative control's check failed, but not with the failure the control provokes: the
    control proves nothing (it is reported as ERROR, never as a passed control)."""

    code = "control_inconclusive"


@dataclass
class Verdict:
    claim: str
    passed: bool
    reason: str
    evidence: dict[str, Any] = field(default_factory=dict)
    duration_s: float = 0.0
    codes: list[str] = field(default_factory=list)   # one typed code per failure, in order

    @property
    def outcome(self) -> str:
        return PASS if self.passed else FAIL

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def expect_failure(v: Verdict, code: str, what: str) -> Verdict:
    """A negative control's verdict: the check must have failed with `code`, the failure the
    control provokes. Passing on the wrong setup is a FAIL of the claim's check (AssertionError);
    failing for any other reason (a timeout, a pull error, another code) is inconclusive (ERROR)."""
    if v.passed:
        raise AssertionError(f"negative control passed a wrong setup ({what}): {v.reason}")
    if code not in v.codes:
        raise ControlInconclusive(f"negative control ({what}) failed for another reason than {code!r}: "
                                  f"{', '.join(v.codes) or 'no code'}: {v.reason}")
    return v


class UnknownClaim(ValueError):
    """A claim id that is not in CLAIMS."""


def _claims(*rows: tuple[str, str, str, str, str | None]) -> dict[str, Claim]:
    return {id_: Claim(id_, title, sentence, proven_by, pre) for id_, title, sentence, proven_by, pre in rows}


# The claims registry: the markers, the README's claims table (tests/test_verdict.py checks it) and
# every report take their words from here.
CLAIMS: dict[str, Claim] = _claims(
    ("C1", "pod IP is the node IP",
     "the pod shares the node's network namespace",
     "podIPs == hostIPs ⊆ node InternalIPs, as sets (dual-stack)",
     None),
    ("C2", "metrics on the host port",
     "metrics are served on the host port",
     "GET nodeIP:20000/metrics from a pod, the node's loopback and the test host",
     None),
    ("C3", "cluster DNS kept",
     "ClusterFirstWithHostNet keeps cluster DNS",
     "resolv.conf (kube-dns IP, search list, ndots:5), lookup of kubernetes.default",
     None),
    ("C4", "ClusterFirst falls back to node DNS",
     "ClusterFirst + hostNetwork falls back to node DNS, silently",
     "pod resolv.conf == the node's file; the name does not resolve; no event",
     None),
    ("C5", "containerPort must match",
     "containerPort must match the app's port",
     "metrics answer on the real port only; the scheduler reserves the declared one",
     None),
    ("C6", "hostNetwork fixed at creation",
     "host network mode only at creation",
     "Pod patch gets 422; a DaemonSet template change rolls out new pods",
     None),
    ("C7", "port conflict keeps pod Pending",
     "port conflict keeps the pod Pending",
     "Unschedulable + FailedScheduling \"didn't have free ports\"; kubelet rejects a nodeName pod (NodePorts)",
     None),
    ("C8", "port in use fails the pod",
     "port in use on the node makes the pod fail",
     "exit 1, \"bind: address already in use\", CrashLoopBackOff; reserved ports really bound per node",
     None),
    ("C9", "Pod Security needs privileged",
     "strict Pod Security blocks host networking until the namespace is labelled privileged",
     "403 with the violations; DaemonSet FailedCreate, then running after labelling",
     None),
    ("C10", "NetworkPolicy bypassed",
     "host-network pods bypass NetworkPolicy",
     "default-deny blocks a normal pod (enforcement is proven first), nodeIP:port still answers",
     "networkpolicy"),
    ("C11", "node services reachable",
     "a compromised pod reaches node-local services",
     "the kubelet's healthz (address and port from its configz; 127.0.0.1:10248 by default) answers from the pod, not from a normal pod",
     None),
    ("C12", "hostPID exposes node state",
     "hostPID and /proc, /sys expose the node",
     "kubelet visible, PID 1 is the node's init, node_uname_info names the node",
     None),
    ("C13", "requests/limits as written",
     "requests/limits as written",
     "64Mi/100m, 128Mi/200m on the running pod and in its cgroup; QoS Burstable",
     None),
    ("C14", "hostname is the node's",
     "the pod's hostname is the node's",
     "`hostname` == the node's Hostname address (spec.nodeName without --hostname-override)",
     None),
    ("C15", "one pod per node",
     "one pod per node",
     "desired == current == ready == the nodes the DaemonSet controller selects (taints vs. tolerations, its own added tolerations, selectors, affinity; Linux nodes only on mixed clusters), one ready pod on each",
     None),
)


def claim(claim_id: str) -> Claim:
    """The claim with this id ('C7' or 'c7')."""
    key = claim_id.strip().upper()
    if key not in CLAIMS:
        raise UnknownClaim(f"unknown claim {claim_id!r}; valid ids: {', '.join(CLAIMS)}")
    return CLAIMS[key]
