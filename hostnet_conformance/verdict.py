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

from .manifests import HOST_NETWORK as NET, HOST_PATH as PATH, HOST_PID as PID, HOST_PORT as PORT


@dataclass(frozen=True)
class ClaimTest:
    """A test of the claim itself: suites/test_claims.py makes it from this, and it records the
    Verdict of its observation (registered by the claim's module, hostnet_conformance/claims/)."""
    name: str                        # the test's function name
    observation: str                 # the key of the observation it records
    doc: str                         # what it proves, in the page's words
    markers: tuple[str, ...] = ()    # markers besides the claim's id


@dataclass(frozen=True)
class Control:
    """A negative control: a wrong setup, and the one failure its check must report for it."""
    test: str                      # the control test's function name (suites/test_claims.py makes it)
    setup: str                     # the wrong setup, in words
    code: str                      # the failure code the setup provokes
    modes: tuple[str, ...] = ()    # how that failure may have come about (a GET's mode); () any
    part: str | None = None        # for a test judging two verdicts (C6): which one
    observation: str = ""          # the observation it records; "" for "<claim>-control"


@dataclass(frozen=True)
class Claim:
    id: str
    title: str  # a few words, for terminal tables and test names
    sentence: str  # the page's claim, as the claims table states it
    proven_by: str  # the signals that prove it (the README's "proven by" column)
    precondition: str | None = None  # a cluster capability the claim needs, if any
    tests: tuple[ClaimTest, ...] = ()   # every one must PASS for the claim to PASS
    controls: tuple[Control, ...] = ()
    # the shared DaemonSets its tests observe (world.variants): a run deploys only the selected claims'
    variants: tuple[str, ...] = ()
    # the host ports its own scenarios take besides 20000, one key each (ports.PortAllocator)
    ports: tuple[str, ...] = ()
    # the host features its tests need admitted, and what only its controls add: a claim needing a
    # refused feature is NOT APPLICABLE (admission.needs)
    features: frozenset[str] = frozenset({NET})
    control_features: frozenset[str] = frozenset()
    # a pitfall vendor pages leave out (../shared/docs/vendor-pages.md §3), not the seed page's: its
    # tests run with --extra (or --claims naming it), and reports list it only when it ran
    extra: bool = False

    @property
    def claim_tests(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.tests)

    def control_observation(self, ctl: Control) -> str:
        return ctl.observation or f"{self.id.lower()}-control"


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


C, T = Control, ClaimTest
# The claims registry: the markers, the tests (suites/test_claims.py), the README's claims table
# (tests/test_verdict.py checks it), the claim tests a PASS needs, each control's expected failure,
# the shared DaemonSets and host ports a run makes, the host features each claim needs, and every
# report take their words from here. Each claim's observe and judge are hostnet_conformance/claims/cN.py.
CLAIMS: dict[str, Claim] = {c.id: c for c in (
    Claim("C1", "pod IP is the node IP",
          "the pod shares the node's network namespace",
          "podIPs == hostIPs ⊆ node InternalIPs, as sets (dual-stack)",
          tests=(T("test_c1_pod_ip_equals_node_ip", "c1",
                   '"The pod shares the node\'s network namespace": podIP == hostIP == the node\'s InternalIP.'),),
          controls=(C("test_c1_control_without_host_network", "a DaemonSet without hostNetwork",
                      "pod_ip_not_node_ip"),),
          # podIPs and hostIPs of the vendor's pods: the network namespace is all it reads
          variants=("vendor", "no-hostnet")),
    Claim("C2", "metrics on the host port",
          "metrics are served on the host port",
          "GET nodeIP:20000/metrics from a pod, the node's loopback and the test host",
          tests=(T("test_c2_metrics_on_host_port", "c2",
                   '"Metrics are served on the host port": GET <nodeIP>:20000/metrics, and localhost:20000 on the '
                   'node.'),),
          # nothing listens on the node's loopback port when the exporter is in its own network namespace
          controls=(C("test_c2_control_without_host_network",
                      "a pod-network DaemonSet, metrics sought on the node's loopback",
                      "no_metrics_on_loopback", ("refused",)),),
          # the exporter binds the node's port through hostNetwork whether the port is declared or not
          variants=("vendor", "no-hostnet")),
    Claim("C3", "cluster DNS kept",
          "ClusterFirstWithHostNet keeps cluster DNS",
          "resolv.conf (kube-dns IP, search list, ndots:5), lookup of kubernetes.default",
          tests=(T("test_c3_cluster_first_with_host_net_keeps_cluster_dns", "c3",
                   '"dnsPolicy: ClusterFirstWithHostNet" keeps cluster DNS for a host-network pod.'),),
          controls=(C("test_c3_control_cluster_first", "dnsPolicy ClusterFirst on a host-network pod",
                      "nameserver_not_cluster_dns"),),
          variants=("vendor", "clusterfirst")),
    Claim("C4", "ClusterFirst falls back to node DNS",
          "ClusterFirst + hostNetwork falls back to node DNS, silently",
          "pod resolv.conf == the node's file; the node's nameserver answers NXDOMAIN for the cluster name; no event",
          tests=(T("test_c4_cluster_first_falls_back_to_node_dns", "c4",
                   '"With ClusterFirst, a host-network pod uses the node\'s DNS", silently: no event.'),),
          controls=(C("test_c4_control_cluster_first_with_host_net",
                      "dnsPolicy ClusterFirstWithHostNet, which keeps cluster DNS", "cluster_dns_in_pod"),),
          variants=("vendor", "clusterfirst"),
          # the node's file is read by the node probe under the node's / mounted by hostPath
          features=frozenset({NET, PATH})),
    Claim("C5", "containerPort must match",
          "containerPort must match the app's port",
          "metrics answer on the real port only; the scheduler reserves the declared one",
          tests=(T("test_c5_container_port_must_match", "c5",
                   '"containerPort must match the port the application listens on": a mismatch answers on the real '
                   'port only, while the scheduler reserves the declared one.'),),
          # observed on the cluster: the metrics answer on the declared port (not only the spec saying so)
          controls=(C("test_c5_control_matching_ports", "a containerPort that matches the listen port",
                      "declared_port_answers"),),
          ports=("c5-declared", "c5-listening", "c5-matching"),
          # the declared containerPort is a hostPort, shown reserved by a pod asking for it staying Pending
          features=frozenset({NET, PORT})),
    Claim("C6", "hostNetwork fixed at creation",
          "host network mode only at creation",
          "Pod patch gets 422; a DaemonSet template change rolls out new pods without hostNetwork",
          tests=(T("test_c6_host_network_only_at_creation", "c6",
                   '"Host network mode can only be set when the pod is created": a Pod patch is refused (422), '
                   'while a DaemonSet template change is accepted and replaces the pods.'),),
          # the DaemonSet part: the controller's own status says it keeps the old pods (never a timeout)
          controls=(C("test_c6_control_mutable_field_and_noop_template",
                      "a patch of a mutable Pod field (activeDeadlineSeconds)", "patch_accepted", part="pod"),
                    C("test_c6_control_mutable_field_and_noop_template",
                      "a template change on a DaemonSet with updateStrategy OnDelete", "no_rollout",
                      ("controller_kept",), part="daemonset")),
          # the rolling DaemonSet's, the bare Pod's and the OnDelete one's: one each, as they may share a node
          ports=("c6", "c6-bare", "c6-ondelete")),
    Claim("C7", "port conflict keeps pod Pending",
          "port conflict keeps the pod Pending",
          "Unschedulable + FailedScheduling \"didn't have free ports\"; kubelet rejects a nodeName pod (NodePorts)",
          tests=(T("test_c7_port_conflict_keeps_pod_pending", "c7",
                   '"If another workload uses the port, the pod stays Pending": a second DaemonSet on 20000.'),
                 T("test_c7_pod_bound_by_node_name_is_rejected_by_kubelet", "c7-kubelet",
                   "Without the scheduler (spec.nodeName), the kubelet itself refuses the conflicting port: "
                   "NodePorts.")),
          controls=(C("test_c7_control_free_port_schedules", "a second DaemonSet on a free host port", "scheduled"),
                    C("test_c7_control_pod_bound_to_free_port_runs", "a pod bound by nodeName to a free host port",
                      "not_rejected", observation="c7-kubelet-control")),
          # the vendor's pods hold 20000; both the scheduler and the kubelet count declared host ports
          variants=("vendor",), ports=("c7-free",), features=frozenset({NET, PORT})),
    Claim("C8", "port in use fails the pod",
          "port in use on the node makes the pod fail",
          "exit 1, \"bind: address already in use\", CrashLoopBackOff; reserved ports really bound per node",
          tests=(T("test_c8_port_held_by_node_process_crashes", "c8",
                   '"If a process on the node already uses the port, the pod fails": listening on the kubelet\'s '
                   'port.'),),
          controls=(C("test_c8_control_free_port_runs", "a pod on a port no node process holds",
                      "not_crashlooping"),),
          # the bind fails in the node's network namespace; no admission step counts the declared port
          ports=("c8-free",)),
    Claim("C9", "Pod Security needs privileged",
          "strict Pod Security blocks host networking until the namespace is labelled privileged",
          "403 with the violations; DaemonSet FailedCreate, then running after labelling",
          tests=(T("test_c9_strict_pod_security_rejects_host_network_pod", "c9-pod",
                   '"Clusters with strict security policies block host networking": the Pod gets HTTP 403.',
                   ("denial_only",)),
                 T("test_c9_label_namespace_privileged_unblocks_daemonset", "c9-ds",
                   '"Label the namespace pod-security.kubernetes.io/enforce=privileged": FailedCreate until then, '
                   'pods after.')),
          controls=(C("test_c9_control_privileged_namespace_admits_pod",
                      "a host-network Pod in a privileged namespace", "admitted",
                      observation="c9-pod-control"),),
          ports=("c9-pod", "c9-ds"),
          # hostNetwork only: the Pod part expects Pod Security's words for the host features of the Pod
          # it sends (the vendor's without what a gate refuses: no hostPID or hostPath violation to
          # expect when those are refused, no hostPort one when host ports are, since a host-network Pod
          # then declares no ports), and the DaemonSet part runs that Pod once labelled privileged
          features=frozenset({NET})),
    Claim("C10", "NetworkPolicy bypassed",
          "host-network pods bypass NetworkPolicy",
          "default-deny blocks a normal pod (enforcement is proven first), nodeIP:port still answers",
          "networkpolicy",
          tests=(T("test_c10_host_network_bypasses_network_policy", "c10",
                   '"Host-network pods bypass NetworkPolicy": default-deny blocks a normal pod, nodeIP:port still '
                   'answers.'),),
          # the policy drops (no answer within the bound) or rejects; an exec error proves nothing
          controls=(C("test_c10_control_pod_network_is_blocked", "a pod-network DaemonSet behind default-deny ingress",
                      "host_network_blocked", ("timeout", "refused", "unreachable")),),
          ports=("c10", "c10-no-hostnet")),
    Claim("C11", "node services reachable",
          "a compromised pod reaches node-local services",
          "the kubelet's healthz (address and port from its configz; 127.0.0.1:10248 by default) answers from the "
          "pod; a normal pod's GET of nodeIP:healthzPort is refused or unanswered",
          tests=(T("test_c11_pod_reaches_node_local_services", "c11",
                   '"A compromised pod reaches the node\'s network services": the kubelet\'s loopback healthz.'),),
          # the normal pod's own loopback: nothing listens there
          controls=(C("test_c11_control_from_normal_pod", "a normal pod-network pod seeking the kubelet on loopback",
                      "healthz_unreachable", ("refused",)),),
          variants=("vendor",)),
    Claim("C12", "hostPID exposes node state",
          "hostPID and /proc, /sys expose the node",
          "PID 1 is the node's init (comm and start time as the node's /proc shows them); /host/proc and "
          "/host/sys show the node's; node_uname_info names the node",
          tests=(T("test_c12_host_pid_and_proc_sys_expose_node", "c12",
                   '"hostPID and the /proc, /sys mounts give the exporter the node\'s view": the node\'s PID 1, the '
                   'node\'s /proc and /sys through the mounts, node_uname_info.'),),
          controls=(C("test_c12_control_without_host_pid", "a DaemonSet without hostPID", "pid1_not_node_init"),),
          variants=("vendor", "no-hostpid"),
          # the node's processes through hostPID, its /proc and /sys through the exporter's hostPath
          # mounts, and the node probe's /host to compare with
          features=frozenset({NET, PID, PATH})),
    Claim("C13", "requests/limits as written",
          "requests/limits as written",
          "64Mi/100m, 128Mi/200m on the running pod and in its cgroup; QoS Burstable",
          tests=(T("test_c13_requests_and_limits_as_written", "c13",
                   '"requests 64Mi/100m, limits 128Mi/200m": carried by the running pod, Burstable QoS.'),),
          # observed on the cluster: the API server classes the running pod Guaranteed (status.qosClass)
          controls=(C("test_c13_control_guaranteed_variant", "a Guaranteed variant (requests == limits = 128Mi/200m)",
                      "qos_differs"),),
          variants=("vendor", "guaranteed")),
    Claim("C14", "hostname is the node's",
          "the pod's hostname is the node's",
          "`hostname` == the node's Hostname address (spec.nodeName without --hostname-override)",
          tests=(T("test_c14_hostname_is_node_name", "c14",
                   '"The pod\'s hostname is the node\'s": `hostname` in the container == the node\'s Hostname '
                   'address.'),),
          controls=(C("test_c14_control_without_host_network", "a DaemonSet without hostNetwork",
                      "hostname_differs"),),
          variants=("vendor", "no-hostnet")),
    Claim("C15", "one pod per node",
          "one pod per node",
          "desired == current == ready == the nodes the DaemonSet controller selects (taints vs. tolerations, its "
          "own added tolerations, selectors, affinity; Linux nodes only on mixed clusters), one ready pod on each",
          tests=(T("test_c15_one_pod_per_schedulable_node", "c15",
                   '"The DaemonSet places one pod on each node": on each node the DaemonSet controller\'s own rules '
                   'select (its taints against the pod\'s tolerations and the controller\'s, selectors, '
                   'affinity).'),),
          controls=(C("test_c15_control_port_held_on_one_node",
                      "a DaemonSet whose port a pod already holds on one node", "counts_differ"),),
          variants=("vendor", "port-held"),
          # a pod holding the variant's declared port on one node keeps that node's pod Pending
          control_features=frozenset({PORT})),
    # --- extra claims (--extra): pitfalls vendor pages leave out (vendor-pages.md §3, P4 and P2) ---
    Claim("X1", "a NodePort takes the host port",
          "a NodePort Service on a port a host-network pod listens on takes nodeIP:port away from that pod",
          "the host-network pod listens on N (LISTEN in the node's /proc/net/tcp), yet GET nodeIP:N from a pod "
          "answers with the Service's backend; N is the node port the API server allotted, in the cluster's "
          "own NodePort range",
          tests=(T("test_x1_nodeport_takes_the_host_port", "x1",
                   "A NodePort Service on the port a host-network pod listens on answers at nodeIP:port in the "
                   "pod's place: kube-proxy's rule answers first (kubernetes/kubernetes#100643)."),),
          controls=(C("test_x1_control_without_a_service", "the same host-network pod on a port no Service holds",
                      "host_pod_answered"),),
          ports=("x1-control",), extra=True),
    Claim("X2", "NetworkPolicy filters host-network clients",
          "a NetworkPolicy on a normal pod filters traffic from host-network pods on other nodes",
          "a host-network pod on another node reaches the normal pod before the policy and not after it (an "
          "ingress policy that admits only labelled pods); NetworkPolicy's enforcement proven first, by a "
          "pod-network client blocked by the same policy",
          precondition="networkpolicy",
          tests=(T("test_x2_policy_filters_host_network_clients", "x2",
                   "A NetworkPolicy on a normal pod filters traffic from host-network pods on other nodes: they "
                   "arrive with their node's address, which a podSelector never admits (cilium/cilium#10405)."),),
          controls=(C("test_x2_control_policy_admits_all", "the same client to a pod whose policy admits all "
                      "ingress", "host_network_client_answered"),),
          extra=True),
)}

# the shared DaemonSets (world.variants) in the order a run makes their ports, and the host ports
# that are the run's, not a claim's (the probes' HTTP server)
VARIANTS = ("vendor", "clusterfirst", "no-hostnet", "no-hostpid", "guaranteed", "port-held")
RUN_PORTS = ("probe-http",)


def variant_claims() -> dict[str, set[str]]:
    """Which claims observe each shared DaemonSet."""
    return {v: {c.id for c in CLAIMS.values() if v in c.variants} for v in VARIANTS}


def needs_table() -> list[str]:
    """docs/verdicts.md's table of what each claim needs, as the registry says it (markdown rows)."""
    rows = ["| claim | host features it needs admitted | and for its controls | shared DaemonSets it observes "
            "| host ports of its own |", "|---|---|---|---|---|"]
    for c in CLAIMS.values():
        extra = sorted(c.control_features - c.features)
        rows.append(f"| {c.id} | {', '.join(sorted(c.features))} | {', '.join(extra) or '-'} | "
                    f"{', '.join(c.variants) or '-'} | {len(c.ports) or '-'} |")
    return rows


def port_keys() -> list[str]:
    """Every host port the suite takes besides the vendor's 20000, one key each."""
    return [v for v in VARIANTS if v != "vendor"] + [k for c in CLAIMS.values() for k in c.ports] + list(RUN_PORTS)

def claim(claim_id: str) -> Claim:
    """The claim with this id ('C7' or 'c7')."""
    key = claim_id.strip().upper()
    if key not in CLAIMS:
        raise UnknownClaim(f"unknown claim {claim_id!r}; valid ids: {', '.join(CLAIMS)}")
    return CLAIMS[key]
