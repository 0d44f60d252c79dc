"""The shared deployments of one run, started together and waited for together.

Read-only claims (C1-C4, C11-C15) all observe these; claims that change things create their own
namespace in their test. Every namespace is labelled as this run's and removed at the end."""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

from . import kube, manifests, probes
from .checks import Env, deploy, schedulable_nodes, wait_daemonset_ready
from .ports import PortAllocator

# Every host port the suite uses besides the vendor's 20000, one per key (see ports.py).
PORT_KEYS = ["clusterfirst", "no-hostnet", "no-hostpid", "guaranteed", "one-node",
             "c5-declared", "c5-listening", "c5-matching", "c6", "c7-free", "c7-free-pod", "c8-free",
             "c9-pod", "c9-ds", "c10", "c10-no-hostnet"]
VENDOR_PORT = 20000


@dataclass
class World:
    env: Env
    ports: PortAllocator
    namespaces: dict = field(default_factory=dict)     # purpose -> namespace
    daemonsets: dict = field(default_factory=dict)     # variant -> (namespace, DaemonSet name)
    node_probes: dict = field(default_factory=dict)    # node -> hostNetwork Probe with the node's / at /host
    pod_probe: probes.Probe | None = None              # a normal pod-network probe
    workers: list = field(default_factory=list)

    def ns(self, purpose: str, psa: str | None = "privileged") -> str:
        """A fresh namespace for one test (labelled as this run's); purposes may repeat."""
        worker = os.environ.get("PYTEST_XDIST_WORKER")
        if worker:  # namespaces of parallel workers never collide
            purpose = f"{worker}-{purpose}"
        base, n = purpose, 1
        while purpose in self.namespaces:
            n += 1
            purpose = f"{base}-{n}"
        name = kube.create_namespace(self.env.core, self.env.run_id, purpose, psa)
        self.namespaces[purpose] = name
        return name

    def vendor_ds(self) -> dict:
        """The vendor's DaemonSet as written, with the run's node-exporter image."""
        return manifests.with_image(manifests.load("node-exporter-daemonset"), self.env.exporter_image)

    def pinned_pod(self, purpose: str, port: int, node: str, declared: int | None = None) -> str:
        """The vendor's pod template as a bare Pod bound to `node` by spec.nodeName (no scheduler),
        listening on `port` and declaring `declared` (default: the same port). Returns its namespace."""
        pod = manifests.pod_from_daemonset(manifests.with_ports(self.vendor_ds(), declared or port, port), "pinned")
        return self.deploy(purpose, manifests.with_node_name(pod, node))

    def create(self, ns: str, obj: dict):
        """Create a manifest in one of this run's namespaces, labelled as the run's."""
        return deploy(self.env, ns, obj)

    def deploy(self, purpose: str, obj: dict, psa: str | None = "privileged") -> str:
        """A fresh namespace holding `obj`; returns the namespace."""
        ns = self.ns(purpose, psa)
        self.create(ns, obj)
        return ns


# The variants the negative controls need, each a small function of the vendor's DaemonSet.
def variants(w: World) -> dict[str, dict]:
    v, p = w.vendor_ds(), w.ports.port_for
    one_node = manifests.with_port(v, p("one-node"))
    one_node["spec"]["template"]["spec"]["nodeSelector"] = {"kubernetes.io/hostname": w.workers[0]}
    guaranteed = manifests.with_port(v, p("guaranteed"))
    guaranteed["spec"]["template"]["spec"]["containers"][0]["resources"] = {
        "requests": {"memory": "128Mi", "cpu": "200m"}, "limits": {"memory": "128Mi", "cpu": "200m"}}
    return {
        "vendor": v,
        "clusterfirst": manifests.with_dns_policy(manifests.with_port(v, p("clusterfirst")), "ClusterFirst"),
        "no-hostnet": manifests.with_host_network(manifests.with_port(v, p("no-hostnet")), False),
        "no-hostpid": manifests.with_host_pid(manifests.with_port(v, p("no-hostpid")), False),
        "guaranteed": guaranteed,
        "one-node": one_node,
    }


def discover_pod_security_default(w: World) -> str:
    """Server-side dry run of a host-network Pod in a namespace without Pod Security labels."""
    from kubernetes import client
    ns = w.ns("psa-discovery", psa=None)
    pod = manifests.pod_from_daemonset(w.vendor_ds(), "psa-dry-run")
    try:
        w.env.core.create_namespaced_pod(ns, kube.owned(pod, w.env.run_id), dry_run="All")
        return "privileged"
    except client.ApiException as e:
        if e.status == 403 and "baseline" in (e.body or ""):
            return "baseline"
        if e.status == 403 and "restricted" in (e.body or ""):
            return "restricted"
        raise


def same_image(node_name: str, ref: str) -> bool:
    """A node lists `busybox:1.36.1` under its fully qualified name (default registry and the
    `library/` prefix added); match on the tail so no registry host needs naming here."""
    ref = ref.split("@")[0]
    if "/" not in ref:  # an official image: only its library/ form
        return node_name == ref or node_name.endswith("/library/" + ref)
    return node_name == ref or node_name.endswith("/" + ref)


def images_on_nodes(nodes, images: list[str]) -> dict:
    """For each image the suite runs: on how many nodes it is already present (preloaded), or whether
    the nodes will have to pull it (which needs registry access)."""
    out = {}
    for ref in images:
        have = sum(any(same_image(name, ref) for img in (n.status.images or []) for name in (img.names or []))
                   for n in nodes)
        out[ref] = f"present on {have}/{len(nodes)} nodes" + ("" if have == len(nodes) else "; the rest must pull it")
    return out


def discover(w: World) -> dict:
    """Facts about the cluster that the report states and claims depend on."""
    from .checks import dns_facts
    c = w.env.cluster
    nodes = c.nodes()
    facts = {
        "nodes": len(nodes),
        "schedulable_nodes": schedulable_nodes(w.env),
        "kubelet_versions": sorted({n.status.node_info.kubelet_version for n in nodes}),
        "container_runtimes": sorted({n.status.node_info.container_runtime_version for n in nodes}),
        "cluster_dns_ip": dns_facts(w.env)["dns_ip"],
        "pod_security_default": discover_pod_security_default(w),
        "images": images_on_nodes(nodes, [w.env.exporter_image, w.env.probe_image]),
        "target": f"kind cluster {c.kind_name}" if c.kind_name else f"context {c.context}",
    }
    c.facts.update(facts)
    return facts


def build(env: Env, port_base: int) -> World:
    t0 = time.monotonic()
    w = World(env=env, ports=PortAllocator(port_base, PORT_KEYS))
    discover(w)
    nodes = env.cluster.nodes()
    w.workers = sorted(env.cluster.facts["schedulable_nodes"])
    w.daemonsets = {name: (w.deploy(name, ds), ds["metadata"]["name"]) for name, ds in variants(w).items()}
    probe_ns = w.ns("probes")
    for n in nodes:
        name = f"node-{n.metadata.name}"[:63]
        w.node_probes[n.metadata.name] = probes.start_probe(
            env.cluster.api, probe_ns, env.run_id, env.probe_image, name=name, node=n.metadata.name,
            host_network=True, host_root=True)
    w.pod_probe = probes.start_probe(env.cluster.api, probe_ns, env.run_id, env.probe_image, name="pod-probe")
    for ns, ds in w.daemonsets.values():
        wait_daemonset_ready(env, ns, ds)
    probes.wait_probes(env.core, list(w.node_probes.values()) + [w.pod_probe])
    env.cluster.facts["timing_shared_deployments_s"] = round(time.monotonic() - t0, 1)
    return w


def to_state(w: World) -> dict:
    """What pytest-xdist workers need to use the controller's deployments (JSON-serialisable)."""
    from .cluster import state_of
    return {"cluster": state_of(w.env.cluster), "run_id": w.env.run_id, "port_base": w.ports.base,
            "namespaces": w.namespaces, "daemonsets": w.daemonsets, "workers": w.workers,
            "node_probes": {n: [p.ns, p.name] for n, p in w.node_probes.items()},
            "pod_probe": [w.pod_probe.ns, w.pod_probe.name] if w.pod_probe else None}


def from_state(env: Env, state: dict) -> World:
    w = World(env=env, ports=PortAllocator(state["port_base"], PORT_KEYS), workers=state["workers"])
    w.namespaces = dict(state["namespaces"])
    w.daemonsets = {k: tuple(v) for k, v in state["daemonsets"].items()}
    w.node_probes = {n: probes.Probe(ns, name, n, True) for n, (ns, name) in state["node_probes"].items()}
    if state["pod_probe"]:
        w.pod_probe = probes.Probe(*state["pod_probe"], None, False)
    return w


def ds_of(w: World, variant: str) -> tuple[str, str]:
    return w.daemonsets[variant]
