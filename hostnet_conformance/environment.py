"""The run's environment and its workloads: the cluster target and run id (Env), making an
object in one of the run's namespaces, a DaemonSet's pods and readiness, a node's kubelet facts,
addresses and JSON, exec into a pod, the cluster's DNS addresses, the nodes the suite may place its
pods on. The claims (claims/), the world (world.py) and the suites all reach the cluster through these."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from kubernetes import client

from . import facts as cluster_facts
from . import kube, signals, watching
from .cluster import Cluster, find_dns_service, kubelet_dns_addresses
from .verdict import NotApplicable
from .waiting import wait_until

CONTAINER = "node-exporter"
# A DaemonSet counts as ready only once it has been seen ready on every poll for this long: a
# container without a readiness probe is Ready from its start until it crashes, and the exporter's
# `bind: address already in use` comes a second or two after that start (seen in CI: a port held on
# both workers, the vendor's DaemonSet judged ready in that instant, C1 PASSed over crashing pods)
STEADY_S = 3.0


class Steady:
    """A wait condition that holds only once `fn` has been truthy on every poll for `steady` s; a
    falsy poll starts the count again. Returns fn's value then, else None."""

    def __init__(self, fn, steady: float = STEADY_S, clock=time.monotonic):
        self.fn, self.steady, self.clock, self.since = fn, steady, clock, None

    def __call__(self):
        value = self.fn()
        if not value:
            self.since = None
            return None
        now = self.clock()
        if self.since is None:
            self.since = now
        return value if now - self.since >= self.steady else None


@dataclass
class Env:
    cluster: Cluster
    run_id: str
    probe_image: str
    exporter_image: str
    nodes_asked: int | None = 2           # --nodes (None: all)
    node_selector: dict = field(default_factory=dict)   # --node-selector
    judged_nodes: set | None = None      # the node sample (discovery.choose_sample); None: every node

    @property
    def core(self) -> client.CoreV1Api:
        return self.cluster.core


def deploy(env: Env, ns: str, obj: dict):
    return kube.create(env.cluster.api, ns, obj, env.run_id)


def selector_of(ds) -> str:
    """A DaemonSet's pod selector as a label selector string."""
    return ",".join(f"{k}={v}" for k, v in ds.spec.selector.match_labels.items())


def ds_selector(env: Env, ns: str, name: str) -> str:
    return selector_of(env.cluster.apps.read_namespaced_daemon_set(name, ns))


def ds_pods(env: Env, ns: str, name: str) -> list:
    return env.core.list_namespaced_pod(ns, label_selector=ds_selector(env, ns, name)).items


def exec_pods(env: Env, ns: str, name: str) -> list:
    """The DaemonSet's pods on the run's node sample (--nodes): the ones a claim execs into or GETs
    through a node probe. Every pod when the run judges every node. On a sample, listed node by node
    (a field selector on spec.nodeName): at 300 simulated nodes, each of the exec claims listed and
    decoded the vendor's 302 pods to keep 2."""
    judged = getattr(env, "judged_nodes", None)
    if judged is None:
        return ds_pods(env, ns, name)
    selector = ds_selector(env, ns, name)
    return [p for node in sorted(judged)
            for p in env.core.list_namespaced_pod(ns, label_selector=selector, field_selector=f"spec.nodeName={node}").items]


def read_daemonset(env: Env, ns: str, name: str):
    """A DaemonSet of the run for a wait: the watch's copy (None while the watch has not seen it),
    else read from the API."""
    watched = watching.current()
    return watched.daemonsets.get(ns, name) if watched else env.cluster.apps.read_namespaced_daemon_set(name, ns)


def pods_of(env: Env, ns: str, ds) -> list:
    """A DaemonSet's pods for a wait: the watch's copies, else listed by the API (not deleting)."""
    watched = watching.current()
    pods = watched.pods.list(ns, ds.spec.selector.match_labels) if watched else \
        env.core.list_namespaced_pod(ns, label_selector=selector_of(ds)).items
    return [p for p in pods if not p.metadata.deletion_timestamp]


def daemonset_ready(env: Env, ns: str, name: str):
    """The DaemonSet when every scheduled pod is ready and updated to its current generation, else None.
    A DaemonSet never changed since its creation (generation 1) has only current pods, so their own
    Ready conditions (and no restart) decide as soon as the controller has counted the nodes: its
    status counters trail the pods by seconds (about 3 s measured on kind). Read from the run's
    watch when it runs (a wait's condition: no request)."""
    ds = read_daemonset(env, ns, name)
    if ds is None or ds.status is None:
        return None
    st = ds.status
    if (st.observed_generation or 0) < ds.metadata.generation:
        return None
    want = st.desired_number_scheduled or 0
    if want > 0 and st.number_ready == want and (st.updated_number_scheduled or 0) == want:
        return ds
    if want > 0 and ds.metadata.generation == 1:
        pods = pods_of(env, ns, ds)
        # never restarted: a crash-looping container without a readiness probe is Ready for an
        # instant after each restart, which must not pass for a ready DaemonSet
        if len(pods) == want and all(kube.is_ready(p) and not any(c.restart_count for c in p.status.container_statuses
                                                                   or []) for p in pods):
            return ds
    return None


def wait_daemonset_ready(env: Env, ns: str, name: str, timeout: float = 180, allow=None):
    """Every scheduled pod of the DaemonSet ready and updated. Ends at once on a terminal signal of
    its pods or namespace (signals.TerminalSignal), except those `allow` accepts."""
    return wait_until(Steady(lambda: daemonset_ready(env, ns, name)), timeout=timeout, what=f"DaemonSet {ns}/{name} ready on every node",
                      describe=lambda: ds_state(env, ns, name), retry_on=(client.ApiException,),
                      interval=1.0, changes=watching.current(),
                      terminal=lambda: ds_signal(env, ns, name, allow))


def ds_signal(env: Env, ns: str, name: str, allow=None):
    """signals.observe on a DaemonSet's pods and its namespace's events; the pods are the run's
    watch's copies when it has them (at 300 simulated nodes, listing the vendor's 302 pods every
    2 s in each wait was most of the run's CPU), else listed."""
    ds = read_daemonset(env, ns, name) if watching.current() else None
    if ds is None:
        return signals.observe(env.core, ns, selector=ds_selector(env, ns, name), allow=allow)
    return signals.observe(env.core, ns, allow=allow, pods=pods_of(env, ns, ds))


def ds_state(env: Env, ns: str, name: str) -> str:
    st = env.cluster.apps.read_namespaced_daemon_set(name, ns).status
    head = (f"daemonset {name}: desired={st.desired_number_scheduled} current={st.current_number_scheduled} "
            f"ready={st.number_ready} updated={st.updated_number_scheduled}")
    return head + "\n" + kube.describe_pods(env.core, ns)


def kubelet_of(env: Env, node: str) -> cluster_facts.Kubelet:
    """The node's kubelet facts (configz, read once per run by discovery; read now if missing)."""
    known = (env.cluster.facts.get("kubelet") or {}).get(node)
    if known:
        return cluster_facts.Kubelet(**known)
    k = cluster_facts.read_kubelet(env.cluster.api, node)
    env.cluster.facts.setdefault("kubelet", {})[node] = k.to_dict()
    return k


def node_json(env: Env, node: str) -> dict:
    return env.cluster.api.sanitize_for_serialization(env.core.read_node(node))


def node_ips(env: Env) -> dict[str, str]:
    return {n.metadata.name: kube.node_internal_ip(n) for n in env.cluster.nodes()}


def exec_pod(env: Env, pod, *cmd: str, timeout: float = 30) -> kube.ExecResult:
    return kube.exec_in(env.core, pod.metadata.namespace, pod.metadata.name, list(cmd),
                        container=pod.spec.containers[0].name, timeout=timeout)


def dns_facts(env: Env) -> dict:
    """The cluster IPs of cluster DNS's Service (found by the kubelets' clusterDNS address, else by
    kube-dns's label or name: cluster.find_dns_service) and of the API's Service."""
    dns, _ = find_dns_service(env.core, kubelet_dns_addresses(env.cluster))
    api = env.core.read_namespaced_service("kubernetes", "default")
    return {"dns_ip": dns.spec.cluster_ip if dns else None, "kubernetes_ip": api.spec.cluster_ip}


def schedulable(nodes: list) -> list[str]:
    """The Linux nodes the scheduler may place an ordinary pod on (not cordoned, no NoSchedule or
    NoExecute taint): where the suite pins its own pods."""
    return [n.metadata.name for n in nodes
            if kube.is_linux(n) and not n.spec.unschedulable
            and not any(t.effect in ("NoSchedule", "NoExecute") for t in (n.spec.taints or []))]


def not_schedulable(nodes: list) -> dict[str, str]:
    """Why each node schedulable() leaves out is left out, in the API's words (the report says it)."""
    out = {}
    for n in nodes:
        why = [f"taint {t.key}:{t.effect}" for t in (n.spec.taints or []) if t.effect in ("NoSchedule", "NoExecute")]
        if n.spec.unschedulable:
            why.insert(0, "cordoned (spec.unschedulable)")
        if not kube.is_linux(n):
            why.insert(0, f"kubernetes.io/os={n.metadata.labels.get('kubernetes.io/os')}")
        if why:
            out[n.metadata.name] = ", ".join(why)
    return out


def two_workers(w) -> tuple[str, str]:
    """Two different nodes for a check between nodes: the world's first and last worker (`w.workers`,
    schedulable Linux nodes). NOT APPLICABLE on a cluster with fewer than two: a single-node
    cluster has no other node to reach."""
    if len(set(w.workers)) < 2:
        sampled = getattr(getattr(w, "env", None), "judged_nodes", None) is not None
        where = "the run's node sample (--nodes, --node-selector) has" if sampled else "this cluster has"
        raise NotApplicable(f"a check between two nodes needs two schedulable Linux nodes; {where} "
                            f"{len(w.workers)}{': ' + ', '.join(w.workers) if w.workers else ''}")
    return w.workers[0], w.workers[-1]
