"""One check per claim. A check observes the real cluster and returns a Verdict with the
evidence it saw; it never asserts. Claim tests assert `passed`, negative controls run the same
check on a deliberately wrong setup and assert `not passed` — so every check is proven able to fail."""
from __future__ import annotations

import time
from dataclasses import dataclass

from kubernetes import client

from . import kube, manifests, probes
from .cluster import Cluster
from .verdict import Verdict
from .waiting import wait_until

CONTAINER = "node-exporter"
CLUSTER_DOMAIN = "cluster.local"


@dataclass
class Env:
    cluster: Cluster
    run_id: str
    probe_image: str
    exporter_image: str

    @property
    def core(self) -> client.CoreV1Api:
        return self.cluster.core


def verdict(claim: str, failures: list[str], evidence: dict, ok_reason: str, t0: float) -> Verdict:
    passed = not failures
    return Verdict(claim, passed, ok_reason if passed else "; ".join(failures), evidence,
                   round(time.monotonic() - t0, 2))


# ---------------------------------------------------------------- deployments

def deploy(env: Env, ns: str, obj: dict):
    return kube.create(env.cluster.api, ns, obj, env.run_id)


def ds_selector(env: Env, ns: str, name: str) -> str:
    ds = env.cluster.apps.read_namespaced_daemon_set(name, ns)
    return ",".join(f"{k}={v}" for k, v in ds.spec.selector.match_labels.items())


def ds_pods(env: Env, ns: str, name: str) -> list:
    return env.core.list_namespaced_pod(ns, label_selector=ds_selector(env, ns, name)).items


def wait_daemonset_ready(env: Env, ns: str, name: str, timeout: float = 180):
    apps = env.cluster.apps

    def ready():
        ds = apps.read_namespaced_daemon_set(name, ns)
        st = ds.status
        if (st.observed_generation or 0) < ds.metadata.generation:
            return None
        want = st.desired_number_scheduled or 0
        done = want > 0 and st.number_ready == want and (st.updated_number_scheduled or 0) == want
        return ds if done else None

    return wait_until(ready, timeout=timeout, what=f"DaemonSet {ns}/{name} ready on every node",
                      describe=lambda: _ds_state(env, ns, name), retry_on=(client.ApiException,))


def _ds_state(env: Env, ns: str, name: str) -> str:
    st = env.cluster.apps.read_namespaced_daemon_set(name, ns).status
    head = (f"daemonset {name}: desired={st.desired_number_scheduled} current={st.current_number_scheduled} "
            f"ready={st.number_ready} updated={st.updated_number_scheduled}")
    return head + "\n" + kube.describe_pods(env.core, ns)


def node_ips(env: Env) -> dict[str, str]:
    return {n.metadata.name: kube.node_internal_ip(n) for n in env.cluster.nodes()}


def exec_pod(env: Env, pod, *cmd: str, timeout: float = 30) -> kube.ExecResult:
    return kube.exec_in(env.core, pod.metadata.namespace, pod.metadata.name, list(cmd),
                        container=pod.spec.containers[0].name, timeout=timeout)


# ---------------------------------------------------------------- C1 shared network namespace

def check_c1(env: Env, ns: str, ds: str) -> Verdict:
    t0, failures, ev = time.monotonic(), [], {}
    ips = node_ips(env)
    pods = ds_pods(env, ns, ds)
    if not pods:
        failures.append("no DaemonSet pods")
    for p in pods:
        node_ip = ips.get(p.spec.node_name)
        pod_ips = [x.ip for x in (p.status.pod_i_ps or [])]
        ev[p.spec.node_name] = {"podIP": p.status.pod_ip, "hostIP": p.status.host_ip, "nodeInternalIP": node_ip,
                                "podIPs": pod_ips}
        if not (p.status.pod_ip == p.status.host_ip == node_ip):
            failures.append(f"{p.metadata.name}: podIP {p.status.pod_ip} != hostIP {p.status.host_ip} / node {node_ip}")
        if len(pod_ips) != 1:
            failures.append(f"{p.metadata.name}: {len(pod_ips)} podIPs on a single-stack node")
    return verdict("C1", failures, ev, f"podIP == hostIP == node InternalIP for {len(pods)} pods", t0)


# ---------------------------------------------------------------- C2 metrics on the host port

def check_c2(env: Env, ns: str, ds: str, port: int, node_probes: dict, pod_probe) -> Verdict:
    """GET nodeIP:port/metrics from a pod-network probe, from the test host, and from the node's
    own loopback (a hostNetwork probe on that node)."""
    t0, failures, ev = time.monotonic(), [], {}
    ips = node_ips(env)
    for p in ds_pods(env, ns, ds):
        node = p.spec.node_name
        url = f"http://{ips[node]}:{port}/metrics"
        via_pod = probes.http_get(env.core, pod_probe, url)
        via_loop = probes.http_get(env.core, node_probes[node], f"http://127.0.0.1:{port}/metrics")
        via_host = probes.http_get_from_host(url)
        has = lambda r: r["ok"] and "node_exporter_build_info" in r["body"]  # noqa: E731
        ev[node] = {"url": url, "from_pod_network": has(via_pod), "from_node_loopback": has(via_loop),
                    "from_test_host": has(via_host) if via_host.get("status") is not None else "unreachable"}
        if not has(via_pod):
            failures.append(f"{url} from a pod: {via_pod['error'] or 'no node_exporter_build_info'}")
        if not has(via_loop):
            failures.append(f"localhost:{port} on {node}: {via_loop['error'] or 'no node_exporter_build_info'}")
    if not ev:
        failures.append("no DaemonSet pods")
    return verdict("C2", failures, ev, f"/metrics with node_exporter_build_info on :{port} of every node", t0)


# ---------------------------------------------------------------- C3 / C4 DNS

def dns_facts(env: Env) -> dict:
    dns = env.core.list_namespaced_service("kube-system", label_selector="k8s-app=kube-dns").items
    api = env.core.read_namespaced_service("kubernetes", "default")
    return {"dns_ip": dns[0].spec.cluster_ip if dns else None, "kubernetes_ip": api.spec.cluster_ip}


def _pod_dns(env: Env, pod) -> dict:
    conf = exec_pod(env, pod, "cat", "/etc/resolv.conf")
    parsed = probes.parse_resolv_conf(conf.stdout)
    looked = probes.lookup(env.core, pod.metadata.namespace, pod.metadata.name,
                           f"kubernetes.default.svc.{CLUSTER_DOMAIN}", container=pod.spec.containers[0].name)
    return {"resolv_conf": parsed, "lookup": looked}


def check_c3(env: Env, ns: str, ds: str) -> Verdict:
    t0, failures, ev = time.monotonic(), [], {}
    facts = dns_facts(env)
    want_search = [f"{ns}.svc.{CLUSTER_DOMAIN}", f"svc.{CLUSTER_DOMAIN}", CLUSTER_DOMAIN]
    pods = ds_pods(env, ns, ds)
    for p in pods[:1]:  # every pod gets the same file; one is proof, more is time
        d = _pod_dns(env, p)
        rc = d["resolv_conf"]
        ev.update(pod=p.metadata.name, dnsPolicy=p.spec.dns_policy, **facts, resolv_conf=rc,
                  lookup=d["lookup"]["addresses"])
        if rc["nameservers"] != [facts["dns_ip"]]:
            failures.append(f"nameserver {rc['nameservers']} is not the kube-dns Service {facts['dns_ip']}")
        if rc["search"][:3] != want_search:
            failures.append(f"search {rc['search']} does not begin {want_search}")
        if "ndots:5" not in rc["options"]:
            failures.append(f"options {rc['options']} lack ndots:5")
        if facts["kubernetes_ip"] not in d["lookup"]["addresses"]:
            failures.append(f"kubernetes.default.svc.{CLUSTER_DOMAIN} did not resolve to {facts['kubernetes_ip']} "
                            f"({d['lookup']['output'][-120:]})")
    if not pods:
        failures.append("no DaemonSet pods")
    return verdict("C3", failures, ev, "cluster DNS in resolv.conf and the cluster name resolves", t0)


def check_c4(env: Env, ns: str, ds: str, node_probes: dict) -> Verdict:
    """ClusterFirst + hostNetwork: the pod silently gets the node's resolver, not cluster DNS."""
    t0, failures, ev = time.monotonic(), [], {}
    facts = dns_facts(env)
    pods = ds_pods(env, ns, ds)
    for p in pods[:1]:
        d = _pod_dns(env, p)
        node_conf = node_probes[p.spec.node_name].run(env.core, "cat", "/host/etc/resolv.conf")
        node_rc = probes.parse_resolv_conf(node_conf.stdout)
        rc = d["resolv_conf"]
        dns_events = [e.reason for e in kube.events(env.core, ns) if "dns" in (e.message or "").lower()]
        ev.update(pod=p.metadata.name, dnsPolicy=p.spec.dns_policy, pod_resolv_conf=rc, node_resolv_conf=node_rc,
                  cluster_dns_ip=facts["dns_ip"], lookup_ok=d["lookup"]["ok"], dns_events=dns_events)
        if rc["nameservers"] != node_rc["nameservers"]:
            failures.append(f"pod nameservers {rc['nameservers']} != node's {node_rc['nameservers']}")
        if facts["dns_ip"] in rc["nameservers"]:
            failures.append(f"cluster DNS {facts['dns_ip']} is in the pod's resolv.conf")
        if d["lookup"]["ok"]:
            failures.append(f"kubernetes.default.svc.{CLUSTER_DOMAIN} resolved: {d['lookup']['addresses']}")
        if dns_events:
            failures.append(f"events mention DNS: {dns_events} (the page says the failure is silent)")
    if not pods:
        failures.append("no DaemonSet pods")
    return verdict("C4", failures, ev, "node resolver, no cluster DNS, cluster name unresolved, no event", t0)
