"""Which admission gate answered a create, read from the API server's own denial.

Host networking can be refused by several gates, and a platform team needs to know which one to
exempt the suite from:
- Pod Security admission: `violates PodSecurity "baseline:latest": host namespaces (...)`;
- a ValidatingAdmissionPolicy: `ValidatingAdmissionPolicy 'name' with binding 'b' denied request: ...`;
- a validating webhook (Kyverno, Gatekeeper, GKE Autopilot's): `admission webhook "name" denied the request: ...`;
- OpenShift SecurityContextConstraints: `unable to validate against any security context constraint: [...]`.

The decisions work on the HTTP status and the Status message, so they are unit-tested on recorded
denials; `dry_run_pod` is the one live call (a server-side dry run creates nothing)."""
from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass

POD_SECURITY, VAP, WEBHOOK, SCC, OTHER = ("PodSecurity", "ValidatingAdmissionPolicy", "admission webhook",
                                          "SecurityContextConstraints", "other")

_PSA = re.compile(r'violates PodSecurity "(?P<name>[a-z]+:[^"]+)"')
_VAP = re.compile(r"ValidatingAdmissionPolicy '(?P<name>[^']+)' with binding '(?P<binding>[^']+)' denied request")
_WEBHOOK = re.compile(r'admission webhook "(?P<name>[^"]+)" denied the request')
_RBAC = re.compile(r'(User|ServiceAccount) "[^"]*" cannot [a-z]+ resource')   # not admission: authorization
_SCC = "unable to validate against any security context constraint"


@dataclass(frozen=True)
class Gate:
    kind: str          # one of POD_SECURITY, VAP, WEBHOOK, SCC, OTHER
    name: str          # the policy, binding or webhook that answered ("baseline:latest" for Pod Security)
    message: str       # the API server's message, as it gave it

    def __str__(self) -> str:
        what = {POD_SECURITY: f'Pod Security "{self.name}"', VAP: f"ValidatingAdmissionPolicy {self.name}",
                WEBHOOK: f"admission webhook {self.name}", SCC: "OpenShift SecurityContextConstraints"}.get(
                    self.kind, "an admission gate")
        if self.kind == WEBHOOK and self.message.startswith("admission webhook "):
            return self.message   # the API server's words already name the webhook
        return f"{what}: {self.message}"

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
            SCC: "grant the suite's service accounts the privileged (or hostnetwork) SCC",
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
