"""Which admission gate answered a create, read from the API server's own denial.

Host networking can be refused by several gates, and a platform team needs to know which one to
exempt the suite from:
- Pod Security admission: `violates PodSecurity "baseline:latest": host namespaces (...)`;
- a ValidatingAdmissionPolicy: `ValidatingAdmissionPolicy 'name' with binding 'b' denied request: ...`;
- a validating webhook (Kyverno, Gatekeeper, GKE Autopilot's): `admission webhook "name" denied the request: ...`;
- OpenShift SecurityContextConstraints: `unable to validate against any security context constraint: [...]`.

A gate may refuse only some host features of the vendor's Pod (OpenShift's hostnetwork-v2 SCC allows
hostNetwork and host ports, and refuses hostPID and hostPath). Discovery dry-runs the vendor's Pod and
one Pod per feature (manifests.host_feature_pods); `Admission` decides from those answers which
features are refused, CLAIM_FEATURES says which claims need which, and the others are judged on the
vendor's DaemonSet without the refused features.

The decisions work on the HTTP status and the Status message, so they are unit-tested on recorded
denials; `dry_run_pod` is the one live call (a server-side dry run creates nothing)."""
from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field

from .manifests import HOST_FEATURES, HOST_NETWORK
from .verdict import CLAIMS

POD_SECURITY, VAP, WEBHOOK, SCC, OTHER = ("PodSecurity", "ValidatingAdmissionPolicy", "admission webhook",
                                          "SecurityContextConstraints", "other")

_PSA = re.compile(r'violates PodSecurity "(?P<name>[a-z]+:[^"]+)"')
_VAP = re.compile(r"ValidatingAdmissionPolicy '(?P<name>[^']+)' with binding '(?P<binding>[^']+)' denied request")
_WEBHOOK = re.compile(r'admission webhook "(?P<name>[^"]+)" denied the request')
_RBAC = re.compile(r'(User|ServiceAccount) "[^"]*" cannot [a-z]+ resource')   # not admission: authorization
_SCC = "unable to validate against any security context constraint"
# what precedes a gate's own words in the API server's message, most specific first
_LEAD_INS = [re.compile(x) for x in (_PSA.pattern + ": ", "denied request: ", "denied the request: ",
                                     _SCC + ": ", "is forbidden: ")]


@dataclass(frozen=True)
class Gate:
    kind: str          # one of POD_SECURITY, VAP, WEBHOOK, SCC, OTHER
    name: str          # the policy, binding or webhook that answered ("baseline:latest" for Pod Security)
    message: str       # the API server's message, as it gave it

    @property
    def who(self) -> str:
        """The gate, named: `ValidatingAdmissionPolicy 'p' (binding 'b')`."""
        return {POD_SECURITY: f'Pod Security "{self.name}"', VAP: f"ValidatingAdmissionPolicy {self.name}",
                WEBHOOK: f"admission webhook {self.name}", SCC: "OpenShift SecurityContextConstraints"}.get(
                    self.kind, "an admission gate")

    @property
    def said(self) -> str:
        """The gate's own words, without the API server's lead-in that names the object and the gate."""
        for lead in _LEAD_INS:
            m = lead.search(self.message)
            if m:
                return self.message[m.end():]
        return self.message

    def __str__(self) -> str:
        if self.kind == WEBHOOK and self.message.startswith("admission webhook "):
            return self.message   # the API server's words already name the webhook
        return f"{self.who}: {self.message}"

    @property
    def level(self) -> str | None:
        """The Pod Security level that denied (baseline or restricted), else None."""
        return self.name.split(":")[0] if self.kind == POD_SECURITY else None

    def to_dict(self) -> dict:
        return asdict(self)

    def remedy(self) -> str:
        """What the suite's own namespaces need for host-network pods to be admitted."""
        return {
            POD_SECURITY: "the suite labels its namespaces pod-security.kubernetes.io/enforce=privileged; "
                          "this gate still refused one so labelled (an exemption or a policy override)",
            VAP: f"exempt the suite's namespaces (label app.kubernetes.io/managed-by=hostnet-conformance) "
                 f"from the binding named above of ValidatingAdmissionPolicy {self.name.split(' ')[0]}",
            WEBHOOK: f"exempt the suite's namespaces (label app.kubernetes.io/managed-by=hostnet-conformance) "
                     f"in the webhook {self.name}'s policy or namespaceSelector",
            SCC: "grant the suite's service accounts the privileged SCC (hostnetwork and hostnetwork-v2 allow "
                 "host networking and host ports, not hostPID or hostPath)",
        }.get(self.kind, "allow host-network pods in the suite's namespaces")


def message_of(body: str | bytes | None) -> str:
    """The Status message of an API error body (JSON), else the body's text."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    try:
        return (json.loads(body or "").get("message") or "").strip() or (body or "")
    except (ValueError, AttributeError):
        return body or ""


def classify(status: int | None, message: str) -> Gate | None:
    """The gate that denied, from an HTTP status and the API server's message; None if this is not
    an admission denial (a quota, a validation error, a server error)."""
    m = _PSA.search(message)
    if m:
        return Gate(POD_SECURITY, m.group("name"), message)
    m = _VAP.search(message)
    if m:
        return Gate(VAP, f"'{m.group('name')}' (binding '{m.group('binding')}')", message)
    m = _WEBHOOK.search(message)
    if m:
        return Gate(WEBHOOK, f'"{m.group("name")}"', message)
    if _SCC in message:
        return Gate(SCC, "SecurityContextConstraints", message)
    if (status == 403 and "is forbidden" in message and "exceeded quota" not in message
            and not _RBAC.search(message)):
        return Gate(OTHER, "", message)
    return None


def dry_run_pod(core, ns: str, pod: dict) -> Gate | None:
    """Server-side dry run of creating `pod` in `ns`: None when it would be admitted, else the gate
    that refused it. Other API errors (quota, RBAC on pods) are raised as they are."""
    from kubernetes import client
    try:
        core.create_namespaced_pod(ns, pod, dry_run="All")
        return None
    except client.ApiException as e:
        gate = classify(e.status, message_of(e.body))
        if gate is None:
            raise
        return gate


# The host features each claim's tests need admitted (a claim needing a refused one is NOT
# APPLICABLE), and what only its negative control adds: from the claims registry (verdict.CLAIMS,
# where each says why). The node probes mount the node's / by hostPath (world.build) only where
# hostPath is admitted.
CLAIM_FEATURES: dict[str, set[str]] = {
    **{c.id: set(c.features) for c in CLAIMS.values()},
    **{f"{c.id} control": set(c.features | c.control_features) for c in CLAIMS.values() if c.control_features}}

def needs(claim: str, control: bool = False) -> set[str]:
    """The host features a claim's tests need (its negative control's too, with `control`)."""
    return set(CLAIM_FEATURES.get(claim, set())) | (CLAIM_FEATURES.get(f"{claim} control", set()) if control else set())


@dataclass(frozen=True)
class Admission:
    """The dry runs' answers in a namespace labelled privileged (None: admitted)."""
    vendor: Gate | None                                  # the vendor's Pod as written
    by_feature: dict = field(default_factory=dict)       # feature -> Gate | None: a Pod with only that feature
    variant: Gate | None = None                          # the vendor's Pod without the refused features

    @property
    def refused(self) -> dict[str, Gate]:
        """The features the vendor's Pod must do without, each with the gate refusing it alone. None
        when the vendor's Pod is admitted: a feature refused alone is then no reason to drop it."""
        if self.vendor is None:
            return {}
        return {f: g for f in HOST_FEATURES if (g := self.by_feature.get(f)) is not None}

    @property
    def blocked(self) -> Gate | None:
        """The gate that leaves no host-network pod to judge: hostNetwork refused alone; or the
        vendor's Pod refused for no feature refused alone (a combination, or something else of
        the Pod); or the Pod without the refused features refused too."""
        if self.vendor is None:
            return None
        if self.by_feature.get(HOST_NETWORK) is not None:
            return self.by_feature[HOST_NETWORK]
        return self.variant if self.refused else self.vendor

    def by_feature_words(self) -> dict[str, str]:
        """{feature: "admitted" or the gate's words} (report.json's capabilities)."""
        return {f: "admitted" if self.by_feature[f] is None else str(self.by_feature[f])
                for f in HOST_FEATURES if f in self.by_feature}

    def judged_on(self) -> str:
        """Which variant of the vendor's DaemonSet the claims are judged on, naming the gates."""
        if self.blocked is not None:
            return f"none: host-network pods are refused even in a namespace labelled privileged by {self.blocked.who}"
        if not self.refused:
            return "the vendor's DaemonSet as written"
        return f"the vendor's DaemonSet without {', '.join(self.refused)} (" + "; ".join(
            f"{' and '.join(fs)} refused by {who}" for who, fs in _by_gate(self.refused).items()) + ")"


def _by_gate(refused: dict[str, Gate]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for f, g in refused.items():
        out.setdefault(g.who, []).append(f)
    return out


def not_applicable(claim: str, refused: dict[str, Gate], control: bool = False) -> str | None:
    """Why a claim (its negative control, with `control`) cannot be judged here: each feature it
    needs that a gate refuses, with the gate and its words; None when it can be judged."""
    hit = [f for f in HOST_FEATURES if f in needs(claim, control) and f in refused]
    if not hit:
        return None
    why = "; ".join(f"needs {f}, which {refused[f].who} refuses even in a namespace labelled privileged: "
                    f"{refused[f].said}" for f in hit)
    remedies = dict.fromkeys(refused[f].remedy() for f in hit)
    return f"{why} (to run this claim: {'; '.join(remedies)})"
