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
class Control:
    """A negative control: a wrong setup, and the one failure its check must report for it."""
    test: str                      # the control test's function name in suites/
    setup: str                     # the wrong setup, in words
    code: str                      # the failure code the setup provokes
    modes: tuple[str, ...] = ()    # how that failure may have come about (a GET's mode); () any
    part: str | None = None        # for a test judging two verdicts (C6): which one


@dataclass(frozen=True)
class Claim:
    id: str
    title: str  # a few words, for terminal tables and test names
    sentence: str  # the page's claim, as the claims table states it
    proven_by: str  # the signals that prove it (the README's "proven by" column)
    precondition: str | None = None  # a cluster capability the claim needs, if any
    claim_tests: tuple[str, ...] = ()   # every one must PASS for the claim to PASS
    controls: tuple[Control, ...] = ()


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
    modes: list[str] = field(default_factory=list)   # per failure, how it came about ("" when no mode)

    @property
    def outcome(self) -> str:
        return PASS if self.passed else FAIL

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def expect_failure(v: Verdict, code: str, what: str, modes: tuple[str, ...] = ()) -> Verdict:
    """A negative control's verdict: the check must have failed with `code`, the failure the
    control provokes, and (with `modes`) in one of those modes. Passing on the wrong setup is a
    FAIL of the claim's check (AssertionError); failing for any other reason (a timeout, a pull
    error, another code, the right code reached another way) is inconclusive (ERROR)."""
    if v.passed:
        raise AssertionError(f"negative control passed a wrong setup ({what}): {v.reason}")
    if code not in v.codes:
        raise ControlInconclusive(f"negative control ({what}) failed for another reason than {code!r}: "
                                  f"{', '.join(v.codes) or 'no code'}: {v.reason}")
    if modes:
        seen = [m for c, m in zip(v.codes, v.modes or [""] * len(v.codes)) if c == code]
        if not any(m in modes for m in seen):
            raise ControlInconclusive(f"negative control ({what}) failed with {code!r}, but {'/'.join(seen) or 'no mode'}"
                                      f", not {'/'.join(modes)}: {v.reason}")
    return v


def control(test: str, part: str | None = None) -> Control:
    """The registered control of this test (and part)."""
    for c in CLAIMS.values():
        for ctl in c.controls:
            if ctl.test == test and ctl.part == part:
                return ctl
    raise KeyError(f"no control {test!r}{f' part {part!r}' if part else ''} in verdict.CLAIMS")


def expect_control(v: Verdict, test: str, part: str | None = None) -> Verdict:
    """expect_failure with the code, setup and modes the registry gives this control."""
    ctl = control(test, part)
    return expect_failure(v, ctl.code, ctl.setup, ctl.modes)


class UnknownClaim(ValueError):
    """A claim id that is not in CLAIMS."""


C = Control
# The claims registry: the markers, the README's claims table (tests/test_verdict.py checks it), the
# claim tests a PASS needs, each control's expected failure, and every report take their words from here.
CLAIMS: dict[str, Claim] = {c.id: c for c in (
    Claim("C1", "pod IP is the node IP",
          "the pod shares the node's network namespace",
          "podIPs == hostIPs ⊆ node InternalIPs, as sets (dual-stack)",
          claim_tests=("test_c1_pod_ip_equals_node_ip",),
          controls=(C("test_c1_control_without_host_network", "a DaemonSet without hostNetwork",
                      "pod_ip_not_node_ip"),)),
    Claim("C2", "metrics on the host port",
          "metrics are served on the host port",
          "GET nodeIP:20000/metrics from a pod, the node's loopback and the test host",
          claim_tests=("test_c2_metrics_on_host_port",),
          # nothing listens on the node's loopback port when the exporter is in its own network namespace
          controls=(C("test_c2_control_without_host_network",
                      "a pod-network DaemonSet, metrics sought on the node's loopback",
                      "no_metrics_on_loopback", ("refused",)),)),
    Claim("C3", "cluster DNS kept",
          "ClusterFirstWithHostNet keeps cluster DNS",
          "resolv.conf (kube-dns IP, search list, ndots:5), lookup of kubernetes.default",
          claim_tests=("test_c3_cluster_first_with_host_net_keeps_cluster_dns",),
          controls=(C("test_c3_control_cluster_first", "dnsPolicy ClusterFirst on a host-network pod",
                      "nameserver_not_cluster_dns"),)),
    Claim("C4", "ClusterFirst falls back to node DNS",
          "ClusterFirst + hostNetwork falls back to node DNS, silently",
          "pod resolv.conf == the node's file; the node's nameserver answers NXDOMAIN for the cluster name; no event",
          claim_tests=("test_c4_cluster_first_falls_back_to_node_dns",),
          controls=(C("test_c4_control_cluster_first_with_host_net",
                      "dnsPolicy ClusterFirstWithHostNet, which keeps cluster DNS", "cluster_dns_in_pod"),)),
    Claim("C5", "containerPort must match",
          "containerPort must match the app's port",
          "metrics answer on the real port only; the scheduler reserves the declared one",
          claim_tests=("test_c5_container_port_must_match",),
          # observed on the cluster: the metrics answer on the declared port (not only the spec saying so)
          controls=(C("test_c5_control_matching_ports", "a containerPort that matches the listen port",
                      "declared_port_answers"),)),
    Claim("C6", "hostNetwork fixed at creation",
          "host network mode only at creation",
          "Pod patch gets 422; a DaemonSet template change rolls out new pods without hostNetwork",
          claim_tests=("test_c6_host_network_only_at_creation",),
          # the DaemonSet part: the controller's own status says it keeps the old pods (never a timeout)
          controls=(C("test_c6_control_mutable_field_and_noop_template",
                      "a patch of a mutable Pod field (activeDeadlineSeconds)", "patch_accepted", part="pod"),
                    C("test_c6_control_mutable_field_and_noop_template",
                      "a template change on a DaemonSet with updateStrategy OnDelete", "no_rollout",
                      ("controller_kept",), part="daemonset"))),
    Claim("C7", "port conflict keeps pod Pending",
          "port conflict keeps the pod Pending",
          "Unschedulable + FailedScheduling \"didn't have free ports\"; kubelet rejects a nodeName pod (NodePorts)",
          claim_tests=("test_c7_port_conflict_keeps_pod_pending",
                       "test_c7_pod_bound_by_node_name_is_rejected_by_kubelet"),
          controls=(C("test_c7_control_free_port_schedules", "a second DaemonSet on a free host port", "scheduled"),
                    C("test_c7_control_pod_bound_to_free_port_runs", "a pod bound by nodeName to a free host port",
                      "not_rejected"))),
    Claim("C8", "port in use fails the pod",
          "port in use on the node makes the pod fail",
          "exit 1, \"bind: address already in use\", CrashLoopBackOff; reserved ports really bound per node",
          claim_tests=("test_c8_port_held_by_node_process_crashes",),
          controls=(C("test_c8_control_free_port_runs", "a pod on a port no node process holds",
                      "not_crashlooping"),)),
    Claim("C9", "Pod Security needs privileged",
          "strict Pod Security blocks host networking until the namespace is labelled privileged",
          "403 with the violations; DaemonSet FailedCreate, then running after labelling",
          claim_tests=("test_c9_strict_pod_security_rejects_host_network_pod",
                       "test_c9_label_namespace_privileged_unblocks_daemonset"),
          controls=(C("test_c9_control_privileged_namespace_admits_pod",
                      "a host-network Pod in a privileged namespace", "admitted"),)),
    Claim("C10", "NetworkPolicy bypassed",
          "host-network pods bypass NetworkPolicy",
          "default-deny blocks a normal pod (enforcement is proven first), nodeIP:port still answers",
          "networkpolicy",
          claim_tests=("test_c10_host_network_bypasses_network_policy",),
          # the policy drops (no answer within the bound) or rejects; an exec error proves nothing
          controls=(C("test_c10_control_pod_network_is_blocked", "a pod-network DaemonSet behind default-deny ingress",
                      "host_network_blocked", ("timeout", "refused", "unreachable")),)),
    Claim("C11", "node services reachable",
          "a compromised pod reaches node-local services",
          "the kubelet's healthz (address and port from its configz; 127.0.0.1:10248 by default) answers from the "
          "pod; a normal pod's GET of nodeIP:healthzPort is refused or unanswered",
          claim_tests=("test_c11_pod_reaches_node_local_services",),
          # the normal pod's own loopback: nothing listens there
          controls=(C("test_c11_control_from_normal_pod", "a normal pod-network pod seeking the kubelet on loopback",
                      "healthz_unreachable", ("refused",)),)),
    Claim("C12", "hostPID exposes node state",
          "hostPID and /proc, /sys expose the node",
          "PID 1 is the node's init (comm and start time as the node's /proc shows them); /host/proc and "
          "/host/sys show the node's; node_uname_info names the node",
          claim_tests=("test_c12_host_pid_and_proc_sys_expose_node",),
          controls=(C("test_c12_control_without_host_pid", "a DaemonSet without hostPID", "pid1_not_node_init"),)),
    Claim("C13", "requests/limits as written",
          "requests/limits as written",
          "64Mi/100m, 128Mi/200m on the running pod and in its cgroup; QoS Burstable",
          claim_tests=("test_c13_requests_and_limits_as_written",),
          # observed on the cluster: the API server classes the running pod Guaranteed (status.qosClass)
          controls=(C("test_c13_control_guaranteed_variant", "a Guaranteed variant (requests == limits = 128Mi/200m)",
                      "qos_differs"),)),
    Claim("C14", "hostname is the node's",
          "the pod's hostname is the node's",
          "`hostname` == the node's Hostname address (spec.nodeName without --hostname-override)",
          claim_tests=("test_c14_hostname_is_node_name",),
          controls=(C("test_c14_control_without_host_network", "a DaemonSet without hostNetwork",
                      "hostname_differs"),)),
    Claim("C15", "one pod per node",
          "one pod per node",
          "desired == current == ready == the nodes the DaemonSet controller selects (taints vs. tolerations, its "
          "own added tolerations, selectors, affinity; Linux nodes only on mixed clusters), one ready pod on each",
          claim_tests=("test_c15_one_pod_per_schedulable_node",),
          controls=(C("test_c15_control_port_held_on_one_node",
                      "a DaemonSet whose port a pod already holds on one node", "counts_differ"),)),
)}


def claim(claim_id: str) -> Claim:
    """The claim with this id ('C7' or 'c7')."""
    key = claim_id.strip().upper()
    if key not in CLAIMS:
        raise UnknownClaim(f"unknown claim {claim_id!r}; valid ids: {', '.join(CLAIMS)}")
    return CLAIMS[key]
