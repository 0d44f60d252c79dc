#!/usr/bin/env python3
"""Run the suite on cluster flavours and compare each run's verdicts with the flavour's table.

A flavour (fixtures/flavours.yaml, docs/flavours.md) emulates on the offline kind cluster one way
real clusters differ from kind. `kept` flavours are applied to an existing kind cluster and undone
afterwards, also after a failure, Ctrl-C or SIGTERM; `own` flavours get a kind cluster of their own,
which the suite creates and deletes, or, when the flavour changes kind's config or needs a set-up
(b kindnetd, f --hostname-override, g dual-stack), which this script makes, sets up, lets the suite
reuse and deletes.

    scripts/flavours.py --cluster-name hnc-ci                 # every flavour
    scripts/flavours.py --cluster-name hnc-ci --flavour vap-forbids-host-network
    scripts/flavours.py --list

Exit status: 0 every flavour printed its table, 1 a verdict differed, 2 bad input or a flavour
could not be applied (one line on stderr)."""
from __future__ import annotations

import argparse
import base64
import json
import os
import signal
import socketserver
import ssl
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kubernetes import client, config  # noqa: E402

from hostnet_conformance import admission, flavours, kube, manifests, probes  # noqa: E402
from hostnet_conformance.cluster import render_kind_config  # noqa: E402
from hostnet_conformance import facts as cluster_facts  # noqa: E402
from hostnet_conformance.waiting import WaitTimeout, wait_until  # noqa: E402
from bounded import TimedOut, run  # noqa: E402  (scripts/bounded.py)

PART_OF = "hostnet-conformance-flavours"
SUITE_TIMEOUT = float(os.environ.get("HNC_FLAVOUR_SUITE_TIMEOUT", 1800))   # one suite run, cluster creation included
VAP_NAME = "hnc-flavour-no-host-network"
KUBELET_CONFIG = "/var/lib/kubelet/config.yaml"
# kubelet settings a flavour may change -> the Kubelet fact that shows it (through configz)
KUBELET_KEYS = {"healthzBindAddress": "healthz_bind", "healthzPort": "healthz_port", "clusterDNS": "cluster_dns"}
NODELOCAL_IP = "169.254.20.10"     # the address NodeLocal DNSCache uses
NODELOCAL_NS = "hnc-flavour-nodelocal"
WEBHOOK_NAME = "deny-host-network.hnc-flavour.local"
DENY_MESSAGE = ("hostNetwork is not allowed outside kube-system (hostnet-conformance flavour emulating a Kyverno or "
                "Gatekeeper policy)")
# o: GKE Autopilot's admission webhook, by its name and its words (../shared/docs/vendor-pages.md:
# pipe-cd/pipecd#4411, the node-exporter case), so the suite detects the gke-autopilot profile
WARDEN_NAME = "warden-validating.common-webhooks.networking.gke.io"
WARDEN_MESSAGE = ("GKE Warden rejected the request because it violates one or more constraints. Violations details: "
                  "{\"[denied by autogke-disallow-hostnamespaces]\":[\"enabling hostNetwork is not allowed in "
                  "Autopilot.\"]} (hostnet-conformance flavour emulating GKE Autopilot)")
# CRDs whose presence is a profile's signal (fixtures/profiles/): name -> (group, plural, kind). p: an
# API group only OpenShift serves (its SCCs' CRD): openshift-4; r: Cilium's host-policy CRD and Calico's
# HostEndpoints: the cilium-host-firewall and calico-host-endpoints overlays
SCC_CRD = "securitycontextconstraints.security.openshift.io"
CRDS = {SCC_CRD: ("security.openshift.io", "securitycontextconstraints", "SecurityContextConstraints"),
        "ciliumclusterwidenetworkpolicies.cilium.io": ("cilium.io", "ciliumclusterwidenetworkpolicies",
                                                       "CiliumClusterwideNetworkPolicy"),
        "hostendpoints.crd.projectcalico.org": ("crd.projectcalico.org", "hostendpoints", "HostEndpoint")}
FLAVOUR_CRDS = {"openshift-scc": [SCC_CRD],
                "cni-host-policies": ["ciliumclusterwidenetworkpolicies.cilium.io", "hostendpoints.crd.projectcalico.org"]}
# q: the label k3s puts on its nodes, which the k3s profile is detected by
K3S_LABEL = ("node.kubernetes.io/instance-type", "k3s")


class FlavourError(Exception):
    """A flavour could not be applied or undone: one line for the user."""


def sh(*cmd: str, input: str | None = None, timeout: float = 120) -> str:
    try:
        r = run(cmd, timeout, input=input, capture_output=True, text=True)
    except TimedOut as e:
        raise FlavourError(str(e)) from None
    if r.returncode != 0:
        raise FlavourError(f"`{' '.join(cmd[:4])}` failed: {(r.stderr or r.stdout).strip().splitlines()[-1:]}")
    return r.stdout


def delete_if_present(delete, name: str) -> None:
    try:
        delete(name)
    except client.ApiException as e:
        if e.status != 404:
            raise


def left_by_us(read, kind: str, name: str) -> bool:
    """Whether an object an interrupted run may have left exists; raises when one of that name
    exists that this script did not create (its part-of label), so it is never touched."""
    try:
        old = read(name)
    except client.ApiException as e:
        if e.status == 404:
            return False
        raise
    if (old.metadata.labels or {}).get("app.kubernetes.io/part-of") != PART_OF:
        raise FlavourError(f"a {kind} {name} exists that this script did not create")
    return True


def wait_daemonset(api: client.ApiClient, ns: str, name: str, selector: str | None, what: str,
                   timeout: float, nodes: int | None = None) -> None:
    """Every pod of a DaemonSet the flavour applies ready (on `nodes` nodes, when given)."""
    apps, core = client.AppsV1Api(api), client.CoreV1Api(api)

    def ready():
        st = apps.read_namespaced_daemon_set(name, ns).status
        want = st.desired_number_scheduled
        return want and (nodes is None or want == nodes) and st.number_ready == want
    wait_until(ready, timeout=timeout, what=what, describe=lambda: kube.describe_pods(core, ns, selector),
               retry_on=(client.ApiException,))


class _NamelessServer(ThreadingHTTPServer):
    """http.server's server_bind asks DNS for its own address's name (socket.getfqdn: a PTR query
    for the kind gateway that went to the host's resolver, off the machine; .ci/run's leak stage
    caught it). The webhook needs no name: none is asked."""

    def server_bind(self):
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]


class _DenyHostNetwork(BaseHTTPRequestHandler):
    """A validating admission webhook, as Kyverno or Gatekeeper answer: refuse Pods with hostNetwork."""

    def do_POST(self):  # noqa: N802 (http.server's name)
        review = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        req = review.get("request") or {}
        allowed = not ((req.get("object") or {}).get("spec") or {}).get("hostNetwork")
        response = {"uid": req.get("uid", ""), "allowed": allowed}
        if not allowed:
            response["status"] = {"code": 403, "message": getattr(self.server, "deny_message", DENY_MESSAGE)}
        body = json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
                           "response": response}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):  # quiet: the flavour's output is the verdict table
        pass


class Kept:
    """An existing kind cluster the kept flavours are applied to."""

    def __init__(self, name: str, workdir: Path):
        self.name = name
        self.kubeconfig = workdir / f"{name}.kubeconfig"
        sh("kind", "export", "kubeconfig", "--name", name, "--kubeconfig", str(self.kubeconfig))
        self.context = f"kind-{name}"
        self.api = config.new_client_from_config(str(self.kubeconfig), context=self.context)
        self.core = client.CoreV1Api(self.api)
        self.nodes = sh("kind", "get", "nodes", "--name", name).split()

    # ------------------------------------------------------------ c: ValidatingAdmissionPolicy
    def _probe_ns(self) -> str:
        name = "hnc-flavour-probe"
        try:
            self.core.create_namespace({"metadata": {"name": name, "labels": {
                kube.PSA_ENFORCE: "privileged", "app.kubernetes.io/part-of": PART_OF}}})
        except client.ApiException as e:
            if e.status != 409:
                raise
        return name

    def _host_network_refused(self) -> admission.Gate | None:
        pod = manifests.pod_from_daemonset(manifests.load("node-exporter-daemonset"), "flavour-dry-run")
        return admission.dry_run_pod(self.core, self._probe_ns(), pod)

    def apply_vap(self) -> None:
        reg = client.AdmissionregistrationV1Api(self.api)
        labels = {"app.kubernetes.io/part-of": PART_OF}
        # left by an interrupted run: ours only (name and label), then start clean
        if left_by_us(reg.read_validating_admission_policy, "ValidatingAdmissionPolicy", VAP_NAME):
            self.undo_vap()
        reg.create_validating_admission_policy({
            "metadata": {"name": VAP_NAME, "labels": labels},
            "spec": {"failurePolicy": "Fail",
                     "matchConstraints": {"resourceRules": [{
                         "apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"],
                         "resources": ["pods"]}]},
                     "validations": [{"expression": "!has(object.spec.hostNetwork) || !object.spec.hostNetwork",
                                      "message": "hostNetwork is not allowed outside kube-system "
                                                 "(hostnet-conformance flavour emulating GKE Autopilot)"}]}})
        reg.create_validating_admission_policy_binding({
            "metadata": {"name": VAP_NAME, "labels": labels},
            "spec": {"policyName": VAP_NAME, "validationActions": ["Deny"],
                     "matchResources": {"namespaceSelector": {"matchExpressions": [{
                         "key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": ["kube-system"]}]}}}})
        wait_until(lambda: (g := self._host_network_refused()) and g.kind == admission.VAP, timeout=60,
                   what=f"ValidatingAdmissionPolicy {VAP_NAME} to take effect",
                   describe=lambda: f"a dry run is answered: {self._host_network_refused() or 'admitted'}")

    def undo_vap(self) -> None:
        reg = client.AdmissionregistrationV1Api(self.api)
        for delete in (reg.delete_validating_admission_policy_binding, reg.delete_validating_admission_policy):
            delete_if_present(delete, VAP_NAME)
        wait_until(lambda: self._host_network_refused() is None, timeout=60,
                   what=f"ValidatingAdmissionPolicy {VAP_NAME} to be gone",
                   describe=lambda: f"still refused: {self._host_network_refused()}")
        self.core.delete_namespace("hnc-flavour-probe")

    # ------------------------------------------------------------ j: a policy from fixtures/flavours/
    def _policy(self, file: str) -> tuple[dict, dict]:
        policy, binding = yaml.safe_load_all((ROOT / "fixtures" / "flavours" / file).read_text())
        return policy, binding

    def _refused_by(self, name: str) -> bool:
        g = self._host_network_refused()
        return g is not None and g.kind == admission.VAP and g.name.startswith(f"'{name}'")

    def apply_policy(self, file: str) -> None:
        """The ValidatingAdmissionPolicy and binding of fixtures/flavours/<file>, in effect once it
        answers a dry run of the vendor's Pod."""
        policy, binding = self._policy(file)
        name, reg = policy["metadata"]["name"], client.AdmissionregistrationV1Api(self.api)
        if left_by_us(reg.read_validating_admission_policy, "ValidatingAdmissionPolicy", name):
            self.undo_policy(file)
        reg.create_validating_admission_policy(policy)
        reg.create_validating_admission_policy_binding(binding)
        wait_until(lambda: self._refused_by(name), timeout=60, what=f"ValidatingAdmissionPolicy {name} to take effect",
                   describe=lambda: f"a dry run is answered: {self._host_network_refused() or 'admitted'}")

    def undo_policy(self, file: str) -> None:
        policy, binding = self._policy(file)
        name, reg = policy["metadata"]["name"], client.AdmissionregistrationV1Api(self.api)
        delete_if_present(reg.delete_validating_admission_policy_binding, binding["metadata"]["name"])
        delete_if_present(reg.delete_validating_admission_policy, name)
        wait_until(lambda: not self._refused_by(name), timeout=60, what=f"ValidatingAdmissionPolicy {name} to be gone",
                   describe=lambda: f"still refused: {self._host_network_refused()}")
        delete_if_present(self.core.delete_namespace, "hnc-flavour-probe")

    # ------------------------------------------------------------ p, r: CRDs a profile is detected by
    def apply_crds(self, names: list[str]) -> None:
        """Each CRD (its schema left open, labelled as this script's): the API server then serves its
        group and lists it, which profile detection reads. Waits until every group is served."""
        ext = client.ApiextensionsV1Api(self.api)
        self.undo_crds(names)
        for name in names:
            group, plural, kind = CRDS[name]
            ext.create_custom_resource_definition({
                "metadata": {"name": name, "labels": {"app.kubernetes.io/part-of": PART_OF}},
                "spec": {"group": group, "scope": "Cluster",
                         "names": {"plural": plural, "singular": kind.lower(), "kind": kind, "listKind": f"{kind}List"},
                         "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {
                             "type": "object", "x-kubernetes-preserve-unknown-fields": True}}}]}})
        groups = {CRDS[n][0] for n in names}

        def served() -> set:
            return groups - {g.name for g in client.ApisApi(self.api).get_api_versions().groups or []}
        wait_until(lambda: not served(), timeout=60, interval=0.5, what=f"the API server to serve {', '.join(groups)}",
                   describe=lambda: f"not in /apis yet: {', '.join(sorted(served()))}", retry_on=(client.ApiException,))

    def undo_crds(self, names: list[str]) -> None:
        ext = client.ApiextensionsV1Api(self.api)
        for name in names:
            if left_by_us(ext.read_custom_resource_definition, "CustomResourceDefinition", name):
                delete_if_present(ext.delete_custom_resource_definition, name)

    # ------------------------------------------------------------ q: k3s's node label
    def label_nodes_k3s(self) -> None:
        """k3s's instance-type label on every node that has none (those it labels are annotated, so
        the undo removes the label from them only)."""
        key, value = K3S_LABEL
        for n in self.core.list_node().items:
            if key not in (n.metadata.labels or {}):
                self.core.patch_node(n.metadata.name, {"metadata": {
                    "labels": {key: value}, "annotations": {f"{PART_OF}/labelled": key}}})

    def unlabel_nodes_k3s(self) -> None:
        key, _ = K3S_LABEL
        for n in self.core.list_node().items:
            if (n.metadata.annotations or {}).get(f"{PART_OF}/labelled") == key:
                self.core.patch_node(n.metadata.name, {"metadata": {
                    "labels": {key: None}, "annotations": {f"{PART_OF}/labelled": None}}})

    # ------------------------------------------------------------ i: a validating admission webhook
    def apply_webhook(self, out: Path, name: str = WEBHOOK_NAME, message: str = DENY_MESSAGE) -> None:
        """A webhook server on this machine, on the kind network's gateway address (the API server in
        the control-plane container reaches it there, traffic stays on the machine), with a throw-away
        self-signed certificate; a ValidatingWebhookConfiguration sends it every Pod outside kube-system."""
        self.undo_webhook(name)   # one an interrupted run left (ours only: name and label)
        gw = next(g for g in sh("docker", "network", "inspect", "kind", "-f",
                                "{{range .IPAM.Config}}{{.Gateway}} {{end}}").split() if ":" not in g)
        key, cert = out / "webhook.key", out / "webhook.crt"
        sh("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-keyout", str(key),
           "-out", str(cert), "-subj", "/CN=hnc-flavour-webhook", "-addext", f"subjectAltName=IP:{gw}")
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        self.webhook_server = _NamelessServer((gw, 0), _DenyHostNetwork)
        self.webhook_server.deny_message = message
        self.webhook_server.socket = ctx.wrap_socket(self.webhook_server.socket, server_side=True)
        threading.Thread(target=self.webhook_server.serve_forever, daemon=True).start()
        port = self.webhook_server.server_address[1]
        reg = client.AdmissionregistrationV1Api(self.api)
        reg.create_validating_webhook_configuration({
            "metadata": {"name": name, "labels": {"app.kubernetes.io/part-of": PART_OF}},
            "webhooks": [{
                "name": name, "admissionReviewVersions": ["v1"], "sideEffects": "None",
                "timeoutSeconds": 5,
                # Ignore, not Fail: should this script die, a dead server admits instead of
                # blocking every Pod on the cluster until someone deletes the configuration
                "failurePolicy": "Ignore",
                "clientConfig": {"url": probes.url(gw, port, "/validate", scheme="https"),
                                 "caBundle": base64.b64encode(cert.read_bytes()).decode()},
                "rules": [{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"],
                           "resources": ["pods"]}],
                "namespaceSelector": {"matchExpressions": [{
                    "key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": ["kube-system"]}]}}]})
        wait_until(lambda: (g := self._host_network_refused()) and g.kind == admission.WEBHOOK, timeout=60,
                   what=f"the webhook {name} to answer", interval=1.0,
                   describe=lambda: f"a dry run is answered: {self._host_network_refused() or 'admitted'}")

    def undo_webhook(self, name: str = WEBHOOK_NAME) -> None:
        reg = client.AdmissionregistrationV1Api(self.api)
        if left_by_us(reg.read_validating_webhook_configuration, "ValidatingWebhookConfiguration", name):
            delete_if_present(reg.delete_validating_webhook_configuration, name)
        server = getattr(self, "webhook_server", None)
        if server is not None:
            wait_until(lambda: self._host_network_refused() is None, timeout=60,
                       what=f"the webhook {name} to be gone",
                       describe=lambda: f"still refused: {self._host_network_refused()}")
            server.shutdown()
            self.webhook_server = None
            delete_if_present(self.core.delete_namespace, "hnc-flavour-probe")

    # ------------------------------------------------------------ an identity without nodes/proxy
    RBAC_NS = "hnc-flavour-rbac"

    def identity_without_node_proxy(self, out: Path) -> Path:
        """A ServiceAccount bound to a ClusterRole with everything the suite touches except the
        nodes/proxy subresource (configz and the node proxy), and a kubeconfig using its token."""
        name, labels = "hnc-flavour-runner", {"app.kubernetes.io/part-of": PART_OF}
        rbac = client.RbacAuthorizationV1Api(self.api)
        self.undo_identity()
        self.core.create_namespace({"metadata": {"name": self.RBAC_NS, "labels": labels}})
        self.core.create_namespaced_service_account(self.RBAC_NS, {"metadata": {"name": name, "labels": labels}})
        everything = ["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"]
        rbac.create_cluster_role({"metadata": {"name": name, "labels": labels}, "rules": [
            {"apiGroups": [""], "resources": ["namespaces", "nodes", "pods", "pods/exec", "pods/log", "pods/status",
                                              "services", "endpoints", "events", "serviceaccounts", "configmaps"],
             "verbs": everything},
            {"apiGroups": ["apps"], "resources": ["daemonsets", "deployments", "replicasets"], "verbs": everything},
            {"apiGroups": ["networking.k8s.io"], "resources": ["networkpolicies"], "verbs": everything},
            {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": everything},
            {"apiGroups": ["events.k8s.io"], "resources": ["events"], "verbs": everything},
            {"apiGroups": ["authorization.k8s.io"], "resources": ["selfsubjectaccessreviews"], "verbs": ["create"]},
        ]})
        rbac.create_cluster_role_binding({"metadata": {"name": name, "labels": labels},
                                          "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                                      "name": name},
                                          "subjects": [{"kind": "ServiceAccount", "name": name,
                                                        "namespace": self.RBAC_NS}]})
        token = self.core.create_namespaced_service_account_token(
            name, self.RBAC_NS, {"spec": {"expirationSeconds": 3600}}).status.token
        kc = yaml.safe_load(self.kubeconfig.read_text())
        cluster = next(c for c in kc["clusters"] if c["name"] == self.context)
        path = out / "no-node-proxy.kubeconfig"
        path.write_text(yaml.safe_dump({
            "apiVersion": "v1", "kind": "Config", "current-context": "no-node-proxy",
            "clusters": [{"name": "c", "cluster": cluster["cluster"]}],
            "users": [{"name": name, "user": {"token": token}}],
            "contexts": [{"name": "no-node-proxy", "context": {"cluster": "c", "user": name}}]}))
        return path

    def undo_identity(self) -> None:
        rbac = client.RbacAuthorizationV1Api(self.api)
        name = "hnc-flavour-runner"
        for delete in (rbac.delete_cluster_role_binding, rbac.delete_cluster_role):
            delete_if_present(delete, name)
        delete_if_present(self.core.delete_namespace, self.RBAC_NS)
        self._namespace_gone(self.RBAC_NS, timeout=60)

    # ------------------------------------------------------------ e: a node-local DNS cache
    def apply_nodelocal(self, originals: dict) -> None:
        """NodeLocal DNSCache's shape: a host-network CoreDNS on every node listening on
        169.254.20.10 (on the node's lo) and forwarding to the cluster DNS Service, and every
        kubelet's clusterDNS pointing there. The image is the cluster's own CoreDNS."""
        apps = client.AppsV1Api(self.api)
        image = apps.read_namespaced_deployment("coredns", "kube-system").spec.template.spec.containers[0].image
        upstream = self.core.read_namespaced_service("kube-dns", "kube-system").spec.cluster_ip
        domain = cluster_facts.read_kubelet(self.api, self.nodes[0]).cluster_domain
        self.undo_nodelocal()   # what an interrupted run left (ours only: our namespace, our address)
        for node in self.nodes:
            sh("docker", "exec", node, "sh", "-c", f"ip addr show dev lo | grep -q ' {NODELOCAL_IP}/' || "
                                                   f"ip addr add {NODELOCAL_IP}/32 dev lo")
        labels = {"app.kubernetes.io/part-of": PART_OF}
        self.core.create_namespace({"metadata": {"name": NODELOCAL_NS, "labels": {
            **labels, kube.PSA_ENFORCE: "privileged"}}})
        zone = lambda z: f"{z}:53 {{\n    errors\n    bind {NODELOCAL_IP}\n    forward . {upstream}\n}}\n"  # noqa: E731
        self.core.create_namespaced_config_map(NODELOCAL_NS, {"metadata": {"name": "nodelocal", "labels": labels},
                                                              "data": {"Corefile": zone(domain) + zone(".")}})
        apps.create_namespaced_daemon_set(NODELOCAL_NS, {
            "metadata": {"name": "nodelocal-dns", "labels": labels},
            "spec": {"selector": {"matchLabels": {"app": "nodelocal-dns"}},
                     "template": {"metadata": {"labels": {"app": "nodelocal-dns"}},
                                  "spec": {"hostNetwork": True, "dnsPolicy": "Default",
                                           "tolerations": [{"operator": "Exists"}],
                                           "containers": [{"name": "coredns", "image": image,
                                                           "imagePullPolicy": "IfNotPresent",
                                                           "args": ["-conf", "/etc/coredns/Corefile"],
                                                           "volumeMounts": [{"name": "conf",
                                                                             "mountPath": "/etc/coredns"}]}],
                                           "volumes": [{"name": "conf", "configMap": {"name": "nodelocal"}}]}}}})

        wait_daemonset(self.api, NODELOCAL_NS, "nodelocal-dns", None, "the node-local DNS cache on every node", 120)
        self.set_kubelet({"clusterDNS": [NODELOCAL_IP]}, originals)

    def undo_nodelocal(self) -> None:
        delete_if_present(self.core.delete_namespace, NODELOCAL_NS)
        for node in self.nodes:
            sh("docker", "exec", node, "sh", "-c", f"ip addr del {NODELOCAL_IP}/32 dev lo 2>/dev/null || true")
        self._namespace_gone(NODELOCAL_NS)

    # ------------------------------------------------------------ n: the node's resolver at a host-DNS address
    HOST_DNS_IP = "127.0.0.53"   # Talos's host DNS (and systemd-resolved's stub) address
    HOST_DNS_PID = "/run/hnc-flavour-host-dns.pid"

    def apply_host_dns(self) -> None:
        """Talos's host DNS: on every node a caching resolver on 127.0.0.53 (a dnsmasq, asking the
        node's own resolver, so no name leaves the machine), and the node's /etc/resolv.conf, the
        file the kubelet hands to dnsPolicy Default pods and to host-network pods with ClusterFirst,
        naming it. The node keeps its own file in a backup until it is restored."""
        self.undo_host_dns()   # what an interrupted run left (ours only: our backup, our pid file)
        for node in self.nodes:
            sh("docker", "exec", node, "sh", "-c", "cp /etc/resolv.conf /etc/resolv.conf.hnc-orig")
            upstream = sh("docker", "exec", node, "awk", "/^nameserver/ {print $2; exit}", "/etc/resolv.conf").strip()
            if not upstream or upstream == self.HOST_DNS_IP:
                raise FlavourError(f"{node}: no nameserver of its own in /etc/resolv.conf to ask: {upstream!r}")
            sh("docker", "exec", node, "dnsmasq", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
               f"--listen-address={self.HOST_DNS_IP}", "--bind-interfaces", f"--server={upstream}",
               f"--pid-file={self.HOST_DNS_PID}", "--user=nobody", "--group=nogroup")
            # only the nameserver lines change; /etc/resolv.conf is a bind mount: written in place
            sh("docker", "exec", node, "sh", "-c", f"{{ echo 'nameserver {self.HOST_DNS_IP}'; "
                                                   "grep -v '^nameserver' /etc/resolv.conf.hnc-orig || true; } > /tmp/hnc-rc "
                                                   "&& cat /tmp/hnc-rc > /etc/resolv.conf && rm /tmp/hnc-rc")
            # another node's name (its own is in /etc/hosts): answered through 127.0.0.53
            other = next((n for n in self.nodes if n != node), node)
            said = sh("docker", "exec", node, "sh", "-c", f"getent hosts {other} || echo unresolved").strip()
            if "unresolved" in said:
                raise FlavourError(f"{node}: the host-DNS resolver at {self.HOST_DNS_IP} does not resolve {other}")

    def undo_host_dns(self) -> None:
        for node in self.nodes:
            sh("docker", "exec", node, "sh", "-c",
               "if [ -f /etc/resolv.conf.hnc-orig ]; then cat /etc/resolv.conf.hnc-orig > /etc/resolv.conf && "
               f"rm /etc/resolv.conf.hnc-orig; fi; if [ -f {self.HOST_DNS_PID} ]; then kill $(cat {self.HOST_DNS_PID}) "
               f"2>/dev/null || true; rm -f {self.HOST_DNS_PID}; fi")

    def _namespace_gone(self, name: str, timeout: float = 90) -> None:
        wait_until(lambda: name not in {n.metadata.name for n in self.core.list_namespace().items},
                   timeout=timeout, what=f"namespace {name} gone", describe=lambda: "terminating",
                   retry_on=(client.ApiException,))

    # ------------------------------------------------------------ d: kubelet configuration
    def _kubelet_matches(self, want: dict) -> list[str]:
        """Nodes whose kubelet (configz, through the API server) does not report `want` yet."""
        keys = KUBELET_KEYS
        behind = []
        for node in self.nodes:
            k = cluster_facts.read_kubelet(self.api, node)
            if k.source != "configz" or any(getattr(k, keys[key]) != v for key, v in want.items()):
                behind.append(f"{node} ({k.source}: {k.healthz_bind}:{k.healthz_port})")
        return behind

    def set_kubelet(self, settings: dict, originals: dict) -> None:
        for node in self.nodes:
            # the node keeps its own configuration in a backup until it is restored, so even a
            # killed run leaves the way back on the node (and the next run starts from it)
            text = sh("docker", "exec", node, "sh", "-c",
                      f"[ -f {KUBELET_CONFIG}.hnc-orig ] || cp {KUBELET_CONFIG} {KUBELET_CONFIG}.hnc-orig; "
                      f"cat {KUBELET_CONFIG}.hnc-orig")
            originals.setdefault(node, text)
            cfg = yaml.safe_load(text)
            cfg.update(settings)
            sh("docker", "exec", "-i", node, "sh", "-c", f"cat > {KUBELET_CONFIG}", input=yaml.safe_dump(cfg))
            sh("docker", "exec", node, "systemctl", "restart", "kubelet")
        want = {k: v for k, v in settings.items() if k in KUBELET_KEYS}
        wait_until(lambda: not self._kubelet_matches(want), timeout=120, interval=1.0,
                   what=f"every kubelet to report {want}", describe=lambda: "behind: " + ", ".join(self._kubelet_matches(want)),
                   retry_on=(client.ApiException,))
        wait_until(self._nodes_ready, timeout=120, what="every node Ready after the kubelet restart",
                   describe=lambda: "not ready yet", retry_on=(client.ApiException,))

    def restore_kubelet(self, originals: dict) -> None:
        for node, text in originals.items():
            sh("docker", "exec", "-i", node, "sh", "-c", f"cat > {KUBELET_CONFIG} && rm -f {KUBELET_CONFIG}.hnc-orig",
               input=text)
            sh("docker", "exec", node, "systemctl", "restart", "kubelet")
        first = yaml.safe_load(next(iter(originals.values()))) if originals else {}
        want = {"healthzBindAddress": first.get("healthzBindAddress", "127.0.0.1"),   # the kubelet's defaults
                "healthzPort": first.get("healthzPort", 10248), "clusterDNS": first.get("clusterDNS") or []}
        wait_until(lambda: not self._kubelet_matches(want), timeout=120, interval=1.0,
                   what="every kubelet back to its own configuration",
                   describe=lambda: "behind: " + ", ".join(self._kubelet_matches(want)), retry_on=(client.ApiException,))
        wait_until(self._nodes_ready, timeout=120, what="every node Ready after restoring the kubelet",
                   describe=lambda: "not ready yet", retry_on=(client.ApiException,))
        originals.clear()

    def _nodes_ready(self) -> bool:
        return all(kube.is_ready(n) for n in self.core.list_node().items)


class Made:
    """A kind cluster of the flavour's own that this script makes (the suite's kind config with the
    flavour's changes), sets up, lets the suite reuse (`--cluster-name`) and deletes afterwards."""

    UNINITIALIZED = "node.cloudprovider.kubernetes.io/uninitialized"

    def __init__(self, f: flavours.Flavour, workdir: Path):
        self.f, self.name = f, f"hnc-flavour-{f.letter}"
        self.workdir = workdir / self.name
        self.kubeconfig = self.workdir / "kubeconfig"
        self.api = self.core = None

    def create(self) -> None:
        image = os.environ.get("HNC_NODE_IMAGE")
        if not image:
            raise FlavourError("HNC_NODE_IMAGE is not set: source the offline.env that scripts/offline/bootstrap.sh wrote")
        self.delete()   # one an interrupted run left (the name is this script's own)
        self.workdir.mkdir(parents=True, exist_ok=True)
        base = yaml.safe_load(render_kind_config(self.workdir, self.f.kind.get("workers", 2),
                                                 self.f.kind.get("pod_security_default", "baseline")).read_text())
        cfg = self.workdir / "kind-flavour.yaml"
        cfg.write_text(yaml.safe_dump(flavours.kind_config(base, self.f), sort_keys=False))
        sh("kind", "create", "cluster", "--name", self.name, "--image", image, "--config", str(cfg),
           "--kubeconfig", str(self.kubeconfig), timeout=600)
        self.api = config.new_client_from_config(str(self.kubeconfig), context=f"kind-{self.name}")
        self.core = client.CoreV1Api(self.api)
        if self.f.setup:
            getattr(self, "setup_" + self.f.setup.replace("-", "_"))()

    def delete(self) -> None:
        if self.name in sh("kind", "get", "clusters").split():
            sh("kind", "delete", "cluster", "--name", self.name, timeout=300)

    # ------------------------------------------------------------ f: what a cloud provider does
    def setup_cloud_node_init(self) -> None:
        """The kubelets of the workers run with --hostname-override (their Node is named unlike the
        container's hostname) and --cloud-provider=external, so they wait for a cloud controller.
        This plays that controller, as on EKS: the node's Hostname address becomes the machine's own
        hostname (read from the node container that spec.providerID names), then the
        uninitialized taint goes. The kubelet keeps addresses a cloud provider set."""
        def pending():
            return [n for n in self.core.list_node().items
                    if any(t.key == self.UNINITIALIZED for t in n.spec.taints or [])]
        wait_until(lambda: len(self.core.list_node().items) == 3, timeout=120, what="3 nodes registered",
                   describe=lambda: f"{len(self.core.list_node().items)} registered", retry_on=(client.ApiException,))
        todo = pending()
        if not todo:
            raise FlavourError("no node waits for a cloud provider: the kubelet flags did not take")
        for n in todo:
            container = (n.spec.provider_id or "").rsplit("/", 1)[-1]
            hostname = sh("docker", "exec", container, "hostname").strip()
            addresses = [{"type": a.type, "address": a.address} for a in n.status.addresses or []
                         if a.type != "Hostname"] + [{"type": "Hostname", "address": hostname}]
            self.core.patch_node_status(n.metadata.name, [{"op": "replace", "path": "/status/addresses",
                                                           "value": addresses}])
            self.core.patch_node(n.metadata.name, [{"op": "replace", "path": "/spec/taints", "value": [
                self.api.sanitize_for_serialization(t) for t in n.spec.taints if t.key != self.UNINITIALIZED]}])
        wait_until(lambda: not pending(), timeout=30, what="the uninitialized taints gone",
                   describe=lambda: ", ".join(n.metadata.name for n in pending()), retry_on=(client.ApiException,))

    # ------------------------------------------------------------ g: dual-stack
    def setup_dual_stack_cni(self) -> None:
        """The node image's own CNI (scripts/offline/images/default-cni.yaml: kube-router and the
        safety net), with kube-router routing IPv6 too; kind applies it only to single-stack
        clusters, so the flavour turns kind's default CNI off and applies this."""
        text = (ROOT / "scripts" / "offline" / "images" / "default-cni.yaml").read_text()
        arg = "            - --run-router=true\n"
        if arg not in text:
            raise FlavourError("default-cni.yaml has no `--run-router=true` argument to add --enable-ipv6 after")
        self._apply_cni(text.replace(arg, arg + "            - --enable-ipv6=true\n"), "kube-router", "k8s-app=kube-router")

    # ------------------------------------------------------------ l: IPv6 single-stack
    def setup_ipv6_cni(self) -> None:
        """The same CNI with kube-router routing IPv6 alone (--enable-ipv4=false: the nodes and pods
        have no IPv4 address of the cluster's); kind applies its default CNI unchanged, so the flavour
        turns it off and applies this."""
        text = (ROOT / "scripts" / "offline" / "images" / "default-cni.yaml").read_text()
        arg = "            - --run-router=true\n"
        if arg not in text:
            raise FlavourError("default-cni.yaml has no `--run-router=true` argument to add the IPv6 flags after")
        # a BGP router-id is an IPv4 address: with none on the node, kube-router derives one; its
        # policy controller's Service range (IPv4 by default) is the cluster's, from kubeadm's config
        cc = yaml.safe_load(self.core.read_namespaced_config_map("kubeadm-config", "kube-system")
                            .data["ClusterConfiguration"])
        flags = "".join(f"            - {a}\n" for a in (
            "--enable-ipv4=false", "--enable-ipv6=true", "--router-id=generate",
            f"--service-cluster-ip-range={cc['networking']['serviceSubnet']}"))
        self._apply_cni(text.replace(arg, arg + flags), "kube-router", "k8s-app=kube-router")

    def _apply_cni(self, text: str, name: str, selector: str) -> None:
        sh("kubectl", "--kubeconfig", str(self.kubeconfig), "apply", "-f", "-", input=text)
        wait_daemonset(self.api, "kube-system", name, selector, f"{name} ready on every node", 180, nodes=3)

    # ------------------------------------------------------------ m: values where kind does not put them
    RENAMED_KUBELET = "/usr/local/bin/hnc-node-agent"   # a k3s-like binary name: one process, not "kubelet"
    DNS_NS, DNS_NAME = "hnc-flavour-dns", "dns-default"  # OpenShift's shape: openshift-dns/dns-default
    DNS_LABELS = {"dns.hnc-flavour.local/daemonset-dns": "default"}

    def setup_non_kind_defaults(self) -> None:
        """What kind's config cannot say (the cluster domain and the kubelet's port are kubeadm patches
        in the flavour): every kubelet restarted as a binary of another name; cluster DNS moved out of
        kube-system under another name and labels, at the same address; a completed Job pod in
        kube-system, as k3s's and RKE2's helm-install Jobs leave."""
        for node in self._node_containers():
            self.rename_kubelet(node)
        wait_until(lambda: all(kube.is_ready(n) for n in self.core.list_node().items), timeout=120,
                   what="every node Ready after the kubelet's restart under another name",
                   describe=lambda: "not ready yet", retry_on=(client.ApiException,))
        self.move_cluster_dns()
        self.completed_job()

    def _node_containers(self) -> list[str]:
        return [n.metadata.name for n in self.core.list_node().items]

    def rename_kubelet(self, node: str) -> None:
        """The kubelet unit's own command line (systemctl cat: the last ExecStart), with the binary
        copied under another name, as a drop-in; then a restart. Checked: the process that serves the
        node is the renamed one."""
        unit = sh("docker", "exec", node, "systemctl", "cat", "kubelet")
        starts = [ln.split("=", 1)[1] for ln in unit.splitlines() if ln.startswith("ExecStart=") and ln != "ExecStart="]
        if not starts or "/usr/bin/kubelet" not in starts[-1]:
            raise FlavourError(f"{node}: the kubelet unit's ExecStart does not start /usr/bin/kubelet: {starts}")
        line = starts[-1].replace("/usr/bin/kubelet", self.RENAMED_KUBELET)
        sh("docker", "exec", node, "cp", "/usr/bin/kubelet", self.RENAMED_KUBELET)
        sh("docker", "exec", "-i", node, "sh", "-c", "cat > /etc/systemd/system/kubelet.service.d/99-hnc-renamed.conf",
           input=f"[Service]\nExecStart=\nExecStart={line}\n")
        sh("docker", "exec", node, "sh", "-c", "systemctl daemon-reload && systemctl restart kubelet")
        name = self.RENAMED_KUBELET.rsplit("/", 1)[-1]
        wait_until(lambda: name in sh("docker", "exec", node, "ps", "-eo", "comm").split()
                   and "kubelet" not in sh("docker", "exec", node, "ps", "-eo", "comm").split(),
                   timeout=60, what=f"{node}'s kubelet running as {name}", describe=lambda: "not yet")

    def move_cluster_dns(self) -> None:
        """kube-system's CoreDNS (Deployment coredns, Service kube-dns, k8s-app=kube-dns) becomes
        Deployment and Service dns-default in a namespace of its own, with other labels, its Service
        at the address the kubelets' clusterDNS names; kube-system's are deleted."""
        apps, rbac = client.AppsV1Api(self.api), client.RbacAuthorizationV1Api(self.api)
        old_svc = self.core.read_namespaced_service("kube-dns", "kube-system")
        dep = apps.read_namespaced_deployment("coredns", "kube-system")
        corefile = self.core.read_namespaced_config_map("coredns", "kube-system").data["Corefile"]
        ns, name, labels = self.DNS_NS, self.DNS_NAME, self.DNS_LABELS
        self.core.create_namespace({"metadata": {"name": ns, "labels": {"app.kubernetes.io/part-of": PART_OF}}})
        self.core.create_namespaced_service_account(ns, {"metadata": {"name": name}})
        rbac.create_cluster_role_binding({
            "metadata": {"name": f"hnc-flavour-{name}", "labels": {"app.kubernetes.io/part-of": PART_OF}},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "system:coredns"},
            "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": ns}]})
        self.core.create_namespaced_config_map(ns, {"metadata": {"name": name}, "data": {"Corefile": corefile}})
        tpl = self.api.sanitize_for_serialization(dep.spec.template)
        tpl["metadata"] = {"labels": labels}
        spec = tpl["spec"]
        spec["serviceAccountName"] = name
        spec.pop("serviceAccount", None)
        spec.pop("priorityClassName", None)
        for v in spec.get("volumes") or []:
            if v.get("configMap"):
                v["configMap"]["name"] = name
        apps.create_namespaced_deployment(ns, {"metadata": {"name": name, "labels": labels}, "spec": {
            "replicas": dep.spec.replicas, "selector": {"matchLabels": labels}, "template": tpl}})
        apps.delete_namespaced_deployment("coredns", "kube-system")
        self.core.delete_namespaced_service("kube-dns", "kube-system")
        ports = [{"name": p.name, "port": p.port, "protocol": p.protocol, "targetPort": p.target_port}
                 for p in old_svc.spec.ports]
        svc = {"metadata": {"name": name, "labels": labels},
               "spec": {"clusterIP": old_svc.spec.cluster_ip, "selector": labels, "ports": ports}}

        def created():   # the address is free once the old Service's allocation is released
            try:
                self.core.create_namespaced_service(ns, svc)
                return True
            except client.ApiException as e:
                if e.status == 422 and "allocated" in (e.body or ""):
                    return False
                raise
        wait_until(created, timeout=60, what=f"Service {ns}/{name} at {old_svc.spec.cluster_ip}",
                   describe=lambda: "the address is still allocated")
        wait_until(lambda: (apps.read_namespaced_deployment(name, ns).status.ready_replicas or 0) == dep.spec.replicas,
                   timeout=120, what=f"Deployment {ns}/{name} ready", describe=lambda: kube.describe_pods(self.core, ns, None),
                   retry_on=(client.ApiException,))

    def completed_job(self) -> None:
        """A Job in kube-system whose pod ran to completion (the cluster's CoreDNS image, -version)."""
        image = client.AppsV1Api(self.api).read_namespaced_deployment(self.DNS_NAME, self.DNS_NS) \
            .spec.template.spec.containers[0].image
        batch = client.BatchV1Api(self.api)
        batch.create_namespaced_job("kube-system", {
            "metadata": {"name": "hnc-flavour-helm-install", "labels": {"app.kubernetes.io/part-of": PART_OF}},
            "spec": {"backoffLimit": 0, "template": {"spec": {"restartPolicy": "Never", "containers": [
                {"name": "install", "image": image, "imagePullPolicy": "IfNotPresent", "args": ["-version"]}]}}}})
        wait_until(lambda: (batch.read_namespaced_job("hnc-flavour-helm-install", "kube-system").status.succeeded or 0) == 1,
                   timeout=120, what="Job kube-system/hnc-flavour-helm-install complete",
                   describe=lambda: kube.describe_pods(self.core, "kube-system", "job-name=hnc-flavour-helm-install"),
                   retry_on=(client.ApiException,))

    # ------------------------------------------------------------ b: kind's own kindnetd
    def setup_kindnetd(self) -> None:
        """kind's default CNI: the kindnetd DaemonSet of kind v0.31 (fixtures/flavours/kindnetd.yaml,
        its manifest), from the image scripts/offline built from kind's own source, with the pod
        subnet read from the cluster's kubeadm configuration."""
        image = os.environ.get("HNC_KINDNETD_IMAGE")
        if not image:
            raise FlavourError("HNC_KINDNETD_IMAGE is not set: scripts/offline/bootstrap.sh builds it")
        sh("kind", "load", "docker-image", "--name", self.name, image, timeout=300)
        cc = yaml.safe_load(self.core.read_namespaced_config_map("kubeadm-config", "kube-system")
                            .data["ClusterConfiguration"])
        text = ((ROOT / "fixtures" / "flavours" / "kindnetd.yaml").read_text()
                .replace("__KINDNETD_IMAGE__", image).replace("__POD_SUBNET__", cc["networking"]["podSubnet"]))
        self._apply_cni(text, "kindnet", "app=kindnet")


def run_suite(args: list[str], report: Path, own: bool = False) -> tuple[float, dict | None, str]:
    """The suite as a user runs it: scripts/conformance.sh for a cluster of its own (it provides the
    offline images when no registry answers), pytest with --kubeconfig for a kept one."""
    cmd = ["bash", "scripts/conformance.sh"] if own else [sys.executable, "-m", "pytest", "suites"]
    t0 = time.monotonic()
    try:
        r = run([*cmd, "-q", "-p", "no:cacheprovider", "--report-dir", str(report), *args], SUITE_TIMEOUT,
                "the suite" + (" on a cluster of its own" if own else ""), cwd=ROOT, capture_output=True, text=True)
    except TimedOut as e:
        raise FlavourError(str(e)) from None
    wall = time.monotonic() - t0
    report.mkdir(parents=True, exist_ok=True)
    (report / "pytest.log").write_text(r.stdout + r.stderr)
    path = report / "report.json"
    data = json.loads(path.read_text()) if path.is_file() else None
    if data is not None:
        data["_pytest_exit"] = r.returncode
        data["_pytest_last_line"] = (r.stdout.strip().splitlines() or [""])[-1]
    return wall, data, r.stdout[-4000:] + r.stderr[-2000:]


def run_flavour(f: flavours.Flavour, kept: Kept | None, out: Path) -> dict:
    report = out / f.name
    originals: dict = {}
    made = None
    t0 = time.monotonic()
    try:
        if f.cluster == "own":
            if flavours.made(f):
                made = Made(f, out)
                made.create()
            args = ["--cluster-name", f"hnc-flavour-{f.letter}", *f.suite_args]
            wall, data, tail = run_suite(args, report, own=True)
        else:
            if kept is None:
                raise FlavourError(f"flavour {f.name} is applied to a kept cluster: give --cluster-name")
            target = ["--kubeconfig", str(kept.kubeconfig), "--context", kept.context]
            if f.name == "vap-forbids-host-network":
                kept.apply_vap()
            elif f.name == "webhook-denies-host-network":
                kept.apply_webhook(out)
            elif f.name == "gke-autopilot-warden":
                kept.apply_webhook(out, WARDEN_NAME, WARDEN_MESSAGE)
            elif f.name == "no-node-proxy":
                target = ["--kubeconfig", str(kept.identity_without_node_proxy(out)), "--context", "no-node-proxy"]
            elif f.name == "node-local-dns":
                kept.apply_nodelocal(originals)
            elif f.name == "host-dns":
                kept.apply_host_dns()
            elif f.name == "k3s-signals":
                kept.label_nodes_k3s()
            elif f.policy:
                kept.apply_policy(f.policy)
            elif f.kubelet:
                kept.set_kubelet(f.kubelet, originals)
            if f.name in FLAVOUR_CRDS:
                kept.apply_crds(FLAVOUR_CRDS[f.name])
            wall, data, tail = run_suite([*target, *f.suite_args], report)
    finally:
        if made is not None:
            made.delete()
        if kept is not None and f.cluster == "kept":
            if f.name == "vap-forbids-host-network":
                kept.undo_vap()
            if f.name == "webhook-denies-host-network":
                kept.undo_webhook()
            if f.name == "gke-autopilot-warden":
                kept.undo_webhook(WARDEN_NAME)
            if f.name in FLAVOUR_CRDS:
                kept.undo_crds(FLAVOUR_CRDS[f.name])
            if f.name == "k3s-signals":
                kept.unlabel_nodes_k3s()
            if f.name == "no-node-proxy":
                kept.undo_identity()
            if f.policy:
                kept.undo_policy(f.policy)
            if originals:
                kept.restore_kubelet(originals)
            if f.name == "node-local-dns":
                kept.undo_nodelocal()
            if f.name == "host-dns":
                kept.undo_host_dns()
    problems = flavours.compare(f, data, wall) if data else ["the suite wrote no report.json:\n" + tail]
    seen = {c["id"]: c for c in (data or {}).get("claims", [])}
    return {"flavour": f.name, "letter": f.letter, "wall_s": round(wall, 1),
            "total_s": round(time.monotonic() - t0, 1), "problems": problems,
            "seen": {c: (seen.get(c) or {}).get("verdict") for c in flavours.CLAIMS},
            "reasons": {c: (seen.get(c) or {}).get("reason") for c in flavours.CLAIMS}}


def main() -> int:
    known = flavours.load()
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--flavour", action="append", help=f"one of: {', '.join(known)} (repeatable; default: all)")
    ap.add_argument("--cluster-name", help="kept kind cluster the `kept` flavours are applied to (and undone on)")
    ap.add_argument("--kept-only", action="store_true", help="only the flavours applied to the kept cluster")
    ap.add_argument("--own-only", action="store_true", help="only the flavours that need a cluster of their own")
    ap.add_argument("--report-dir", default=str(Path(tempfile.gettempdir()) / "hostnet-conformance" / "flavours"))
    ap.add_argument("--list", action="store_true", help="list the flavours and exit")
    a = ap.parse_args()
    if a.list:
        for f in known.values():
            print(f"{f.letter}  {f.name:28} {f.cluster:5} {f.title}")
        return 0
    unknown = [n for n in a.flavour or [] if n not in known]
    if unknown:
        print(f"flavours.py: unknown flavour {', '.join(unknown)} (known: {', '.join(known)})", file=sys.stderr)
        return 2
    chosen = [known[n] for n in (a.flavour or known)]
    if a.kept_only:
        chosen = [f for f in chosen if f.cluster == "kept"]
    if a.own_only:
        chosen = [f for f in chosen if f.cluster == "own"]
    out = Path(a.report_dir)
    out.mkdir(parents=True, exist_ok=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))   # the finally blocks undo the flavour
    results = []
    try:
        kept = Kept(a.cluster_name, out) if a.cluster_name and any(f.cluster == "kept" for f in chosen) else None
        for f in chosen:
            print(f"=== flavour {f.letter}. {f.name}: {f.title}", flush=True)
            r = run_flavour(f, kept, out)
            results.append(r)
            for c in flavours.CLAIMS:
                mark = "ok" if r["seen"][c] == f.expect[c] else "DIFFERS"
                print(f"  {c:4} expected {f.expect[c]:15} seen {str(r['seen'][c]):15} {mark}")
            for p in r["problems"]:
                print(f"  ! {p}")
            print(f"  suite run {r['wall_s']}s, flavour total {r['total_s']}s: "
                  + ("matches its table" if not r["problems"] else f"{len(r['problems'])} difference(s)"), flush=True)
    except (FlavourError, WaitTimeout, client.ApiException) as e:
        msg = kube.first_line(e)
        print(f"flavours.py: {msg}", file=sys.stderr)
        return 2
    finally:
        (out / "flavours.json").write_text(json.dumps(results, indent=2) + "\n")
    bad = [r["flavour"] for r in results if r["problems"]]
    print(f"flavours: {len(results) - len(bad)} of {len(results)} printed their table"
          + (f"; differing: {', '.join(bad)}" if bad else ""))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
