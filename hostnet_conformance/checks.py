"""One check per claim. A check observes the real cluster and returns a Verdict with the
evidence it saw; it never asserts. Every failure carries a short snake_case code naming what was
observed (`("scheduled", "pod x: phase Running ...")`). Claim tests assert `passed`; negative
controls run the same check on a deliberately wrong setup and demand the code that setup provokes
(`verdict.expect_failure`) — so every check is proven able to fail, and to fail for the right reason."""
from __future__ import annotations

import re
import time

from kubernetes import client

from . import admission, facts as cluster_facts
from . import kube, manifests, placement, probes, signals
from .cluster import cluster_dns_state
from .environment import (Env, deploy, dns_facts, ds_pods, ds_selector, ds_state, exec_pod, kubelet_of, node_ips,
                          node_json, wait_daemonset_ready)
from .verdict import ClusterError, NotApplicable, Verdict
from .waiting import each, wait_until

CLUSTER_DOMAIN = "cluster.local"


# (code, message) or (code, message, mode): the code names what was observed, the message quotes
# it, the mode says how a GET that decided it ended (probes.get_mode)
Failure = tuple[str, str] | tuple[str, str, str]


def verdict(claim: str, failures: list[Failure | str], evidence: dict, ok_reason: str, t0: float) -> Verdict:
    """The check's Verdict: passed when there are no failures; otherwise the reason is the messages
    joined by "; ", `codes` the failures' codes in order (a plain string gets the code "failed")
    and `modes` their modes ("" where none)."""
    triples = [(f + ("",))[:3] if isinstance(f, tuple) else ("failed", f, "") for f in failures]
    passed = not triples
    return Verdict(claim, passed, ok_reason if passed else "; ".join(m for _, m, _ in triples), evidence,
                   round(time.monotonic() - t0, 2), [c for c, _, _ in triples], [m for _, _, m in triples])


def unobserved(claim: str, what: str, r: dict) -> None:
    """A GET the suite could not make (the exec delivered no exit status) observed nothing: ERROR."""
    if r.get("mode") == probes.EXEC_ERROR:
        raise ClusterError(f"{claim}: {what}: the exec into the suite's probe failed: {r.get('error') or 'no output'}")


# ---------------------------------------------------------------- C1 shared network namespace

def check_c1(env: Env, ns: str, ds: str) -> Verdict:
    t0, failures, ev = time.monotonic(), [], {}
    ips = node_ips(env)
    pods = ds_pods(env, ns, ds)
    if not pods:
        failures.append(("no_pods", "no DaemonSet pods"))
    for p in pods:
        node_ip = ips.get(p.spec.node_name)
        pod_ips = [x.ip for x in (p.status.pod_ips or [])]
        ev[p.spec.node_name] = {"podIP": p.status.pod_ip, "hostIP": p.status.host_ip, "nodeInternalIP": node_ip,
                                "podIPs": pod_ips}
        # as sets: a dual-stack node has one address per family, in any order
        host_ips = sorted(x.ip for x in (getattr(p.status, "host_ips", None) or [])) or [p.status.host_ip]
        internal = sorted(cluster_facts.addresses(node_json(env, p.spec.node_name), "InternalIP")) \
            if p.spec.node_name else []
        ev[p.spec.node_name].update(hostIPs=host_ips, nodeInternalIPs=internal)
        if not pod_ips or set(pod_ips) != set(host_ips) or not set(pod_ips) <= set(internal):
            failures.append(("pod_ip_not_node_ip", f"{p.metadata.name}: podIPs {sorted(pod_ips)} != hostIPs "
                                                   f"{host_ips} / node InternalIPs {internal}"))
    ok = f"podIP == hostIP == node InternalIP for {len(pods)} pods"
    dual = [p for p in pods if len({":" in x.ip for x in p.status.pod_ips or []}) == 2]
    if dual:
        ok += f"; dual-stack: {len(dual)} of them have an IPv4 and an IPv6 podIP, compared as sets"
    return verdict("C1", failures, ev, ok, t0)


# ---------------------------------------------------------------- C2 metrics on the host port

def check_c2(env: Env, ns: str, ds: str, port: int, node_probes: dict, pod_probe) -> Verdict:
    """GET nodeIP:port/metrics from a pod-network probe, from the test host, and from the node's
    own loopback (a hostNetwork probe on that node)."""
    t0, failures, ev = time.monotonic(), [], {}
    ips = node_ips(env)
    nodes = [p.spec.node_name for p in ds_pods(env, ns, ds)]
    urls = {node: probes.url(ips[node], port, "/metrics") for node in nodes}
    # the GETs of every node at once: the pod probe's in one exec, each node probe's beside it
    calls = {node: (lambda n=node: probes.http_get(env.core, node_probes[n], probes.url("127.0.0.1", port, "/metrics")))
             for node in nodes}
    calls["(pod)"] = lambda: probes.http_get_many(env.core, pod_probe, urls)
    got = each(lambda call: call(), calls)
    for node in nodes:
        url = urls[node]
        via_pod, via_loop = got["(pod)"][node], got[node]
        via_host = probes.http_get_from_host(url)
        has = lambda r: r["ok"] and "node_exporter_build_info" in r["body"]  # noqa: E731
        # evidence only: the runner may have no route to node IPs, and the API server's node proxy
        # needs nodes/proxy RBAC; the in-cluster GETs above decide
        ev[node] = {"url": url, "from_pod_network": has(via_pod), "from_node_loopback": has(via_loop),
                    "from_test_host": has(via_host) if via_host.get("status") is not None else "unreachable",
                    "via_api_server_node_proxy": _node_proxy_metrics(env, node, port)}
        unobserved("C2", f"GET {url} from a pod", via_pod)
        unobserved("C2", f"GET localhost:{port} on {node}", via_loop)
        if not has(via_pod):
            failures.append(("no_metrics_from_pod",
                             f"{url} from a pod: {via_pod['error'] or 'no node_exporter_build_info'}", via_pod["mode"]))
        if not has(via_loop):
            failures.append(("no_metrics_on_loopback",
                             f"localhost:{port} on {node}: {via_loop['error'] or 'no node_exporter_build_info'}",
                             via_loop["mode"]))
    if not ev:
        failures.append(("no_pods", "no DaemonSet pods"))
    return verdict("C2", failures, ev, f"/metrics with node_exporter_build_info on :{port} of every node", t0)


def _node_proxy_metrics(env: Env, node: str, port: int):
    """GET /api/v1/nodes/<node>:<port>/proxy/metrics: True when it names node_exporter_build_info,
    else why not (HTTP status and reason, e.g. 403 when this identity lacks nodes/proxy)."""
    try:
        r = env.core.connect_get_node_proxy_with_path(f"{node}:{port}", "metrics", _preload_content=False,
                                                      _request_timeout=10)
        return b"node_exporter_build_info" in r.data or "answered without node_exporter_build_info"
    except client.ApiException as e:
        return f"HTTP {e.status} {e.reason}"
    except Exception as e:  # noqa: BLE001 - evidence only: a transport error is recorded, never raised
        return " ".join(str(e).split())[:120] or type(e).__name__


# ---------------------------------------------------------------- C3 / C4 DNS

def _pod_dns(env: Env, pod, lookup: bool = True, domain: str = CLUSTER_DOMAIN) -> dict:
    conf = exec_pod(env, pod, "cat", "/etc/resolv.conf")
    if not conf.ok or not conf.stdout.strip():
        raise ClusterError(f"reading /etc/resolv.conf in pod {pod.metadata.namespace}/{pod.metadata.name} failed: "
                           f"exit {conf.rc}: {' '.join((conf.stderr or conf.stdout or 'no output').split())[:200]}")
    parsed = probes.parse_resolv_conf(conf.stdout)
    looked = probes.lookup(env.core, pod.metadata.namespace, pod.metadata.name,
                           probes.fqdn(f"kubernetes.default.svc.{domain}"), container=pod.spec.containers[0].name) \
        if lookup else {"ok": False, "addresses": [], "answer": "not_asked", "server": None,
                        "output": "not looked up: cluster DNS has no ready endpoints"}
    return {"resolv_conf": parsed, "lookup": looked}


def _lookup_said(look: dict) -> str:
    """What the server said, in one phrase: 'nameserver 172.18.0.3 answered NXDOMAIN'."""
    return f"nameserver {look['server'] or '?'} answered {look['answer']}"


def _unanswered(claim: str, pod, name: str, look: dict, failures: list) -> None:
    """A lookup that no server answered (timeout, unreachable, the exec failed) decides nothing:
    ERROR, quoting nslookup, unless the claim was already observed to be false another way."""
    if look["answer"] not in probes.NEGATIVE_ANSWERS and look["answer"] != "NOERROR" and not failures:
        raise ClusterError(f"{claim}: nslookup {name} in pod {pod.metadata.namespace}/{pod.metadata.name} got no "
                           f"answer from any nameserver: {look['output'] or 'no output'}")


def check_c3(env: Env, ns: str, ds: str) -> Verdict:
    t0, failures, ev = time.monotonic(), [], {}
    facts = dns_facts(env)
    # The claim is that the pod gets *working* cluster DNS: without ready endpoints it does not.
    env.cluster.await_dns()
    dns = cluster_dns_state(env.core, env.cluster.apps)
    ev["cluster_dns"] = dns["why"]
    if not dns["ready"]:
        failures.append(("cluster_dns_unavailable", dns["why"]))
    pods = ds_pods(env, ns, ds)
    for p in pods[:1]:  # every pod gets the same file; one is proof, more is time
        # the kubelet's own clusterDNS (a NodeLocal DNSCache address on some clusters) and domain
        k = kubelet_of(env, p.spec.node_name)
        domain = k.cluster_domain
        want_ns = k.cluster_dns or [facts["dns_ip"]]
        want_search = [f"{ns}.svc.{domain}", f"svc.{domain}", domain]
        d = _pod_dns(env, p, lookup=dns["ready"], domain=domain)
        rc = d["resolv_conf"]
        ev.update(pod=p.metadata.name, dnsPolicy=p.spec.dns_policy, **facts, kubelet_cluster_dns=want_ns,
                  kubelet_facts=k.source, resolv_conf=rc, lookup=d["lookup"]["addresses"])
        if rc["nameservers"] != want_ns:
            failures.append(("nameserver_not_cluster_dns",
                             f"nameserver {rc['nameservers']} is not the kubelet's clusterDNS {want_ns} ({k.source})"))
        if rc["search"][:3] != want_search:
            failures.append(("search_not_cluster", f"search {rc['search']} does not begin {want_search}"))
        if "ndots:5" not in rc["options"]:
            failures.append(("no_ndots5", f"options {rc['options']} lack ndots:5"))
        look, name = d["lookup"], probes.fqdn(f"kubernetes.default.svc.{domain}")
        ev["lookup_answer"] = _lookup_said(look) if dns["ready"] else look["output"]
        if dns["ready"] and look["answer"] in ("NOERROR", *probes.NEGATIVE_ANSWERS) \
                and facts["kubernetes_ip"] not in look["addresses"]:
            failures.append(("cluster_name_unresolved",
                             f"{name} did not resolve to {facts['kubernetes_ip']}: {_lookup_said(look)}"
                             + (f" {look['addresses']}" if look["addresses"] else "")))
        if dns["ready"]:
            _unanswered("C3", p, name, look, failures)
    if not pods:
        failures.append(("no_pods", "no DaemonSet pods"))
    return verdict("C3", failures, ev, "cluster DNS in resolv.conf and the cluster name resolves", t0)


def check_c4(env: Env, ns: str, ds: str, node_probes: dict) -> Verdict:
    """ClusterFirst + hostNetwork: the pod silently gets the node's resolver, not cluster DNS."""
    t0, failures, ev = time.monotonic(), [], {}
    env.cluster.await_dns()   # the cluster name must go unresolved with cluster DNS up, not because it is down
    facts = dns_facts(env)
    pods = ds_pods(env, ns, ds)
    for p in pods[:1]:
        k = kubelet_of(env, p.spec.node_name)
        d = _pod_dns(env, p, domain=k.cluster_domain)
        # the file the kubelet hands to such pods (resolvConf), not kind's path
        node_conf = node_probes[p.spec.node_name].run(env.core, "cat", f"/host{k.resolv_conf}")
        if not node_conf.ok:
            raise ClusterError(f"C4: reading the node's {k.resolv_conf} on {p.spec.node_name} failed: exit "
                               f"{node_conf.rc}: {' '.join((node_conf.stderr or 'no output').split())[:200]}")
        node_rc = probes.parse_resolv_conf(node_conf.stdout)
        rc = d["resolv_conf"]
        dns_events = [e.reason for e in kube.events(env.core, ns) if "dns" in (e.message or "").lower()]
        ev.update(pod=p.metadata.name, dnsPolicy=p.spec.dns_policy, pod_resolv_conf=rc, node_resolv_conf=node_rc,
                  cluster_dns_ip=facts["dns_ip"], kubelet_resolv_conf=k.resolv_conf, kubelet_facts=k.source,
                  lookup_ok=d["lookup"]["ok"], dns_events=dns_events)
        if rc["nameservers"] != node_rc["nameservers"]:
            failures.append(("nameserver_not_node",
                             f"pod nameservers {rc['nameservers']} != node's {node_rc['nameservers']}"))
        cluster_dns = [ip for ip in [facts["dns_ip"], *k.cluster_dns] if ip in rc["nameservers"]]
        if cluster_dns:
            failures.append(("cluster_dns_in_pod", f"cluster DNS {cluster_dns[0]} is in the pod's resolv.conf"))
        look, name = d["lookup"], probes.fqdn(f"kubernetes.default.svc.{k.cluster_domain}")
        said = _lookup_said(look)
        if look["server"] and look["server"] in node_rc["nameservers"]:
            said = "the node's " + said
        ev["lookup_answer"] = f"{said} for {name}"
        if look["answer"] == "NOERROR":
            failures.append(("cluster_name_resolved", f"{name} resolved: {said} {look['addresses']}"))
        if dns_events:
            failures.append(("dns_event", f"events mention DNS: {dns_events} (the page says the failure is silent)"))
        _unanswered("C4", p, name, look, failures)
        if look["answer"] != "NOERROR" and look["server"] not in node_rc["nameservers"] and not failures:
            # "does not resolve" is the node's nameserver's answer, or nothing was observed
            raise ClusterError(f"C4: nslookup {name} in {p.metadata.name}: {said}, which is not the node's "
                               f"nameserver {node_rc['nameservers']}: {look['output'] or 'no output'}")
    if not pods:
        failures.append(("no_pods", "no DaemonSet pods"))
    return verdict("C4", failures, ev, "node resolver, no cluster DNS, no event; the cluster name is unresolved: "
                   + ev.get("lookup_answer", "-"), t0)


# ---------------------------------------------------------------- C5 containerPort vs real port

def check_c5(env: Env, ns: str, ds: str, pod_probe) -> Verdict:
    """The claim holds when the declared containerPort and the real listen port differ: metrics
    answer on the real port only, and the scheduler reserves (guards) only the declared one."""
    t0, failures, ev = time.monotonic(), [], {}
    # read the live object back as a manifest dict, so the manifests module's parsers serve here too
    obj = env.cluster.api.sanitize_for_serialization(env.cluster.apps.read_namespaced_daemon_set(ds, ns))
    declared, listening = manifests.declared_port(obj), manifests.listen_port(obj)
    pods = ds_pods(env, ns, ds)
    if not pods:
        return verdict("C5", [("no_pods", "no DaemonSet pods")], ev, "", t0)
    p = pods[0]
    ip = p.status.host_ip
    got = probes.http_get_many(env.core, pod_probe, {"real": probes.url(ip, listening, "/metrics"),
                                                     "declared": probes.url(ip, declared, "/metrics")})
    real, decl = got["real"], got["declared"]
    unobserved("C5", f"GET {ip}:{listening} and :{declared} from a pod", real)
    host_ports = sorted(pp.host_port for cc in p.spec.containers for pp in (cc.ports or []) if pp.host_port)
    ev.update(node=p.spec.node_name, declared=declared, listening=listening, reserved_host_ports=host_ports,
              real_port_answers=real["ok"], declared_port_answers=decl["ok"])
    if declared == listening:
        failures.append(("ports_equal", f"declared port {declared} equals the listen port: nothing to mismatch"))
    if not real["ok"]:
        failures.append(("real_port_silent", f"metrics do not answer on the real port {listening}: {real['error']}",
                         real["mode"]))
    if decl["ok"]:
        failures.append(("declared_port_answers", f"metrics answer on the declared port {declared}", decl["mode"]))
    # the reservation as the scheduler shows it: a pod asking for the declared port on that node stays
    # Pending, "didn't have free ports" (its spec alone would prove nothing)
    outcome = _scheduling_outcome(env, ns, p.spec.node_name, declared)
    ev["pod_asking_declared_port"] = outcome
    if not outcome.startswith("Unschedulable") or "free ports" not in outcome:
        failures.append(("declared_not_reserved", f"a pod asking for host port {declared} on {p.spec.node_name} "
                                                  f"was not refused for it: {outcome}"))
    if listening in host_ports and declared != listening:
        failures.append(("real_port_reserved", f"the real port {listening} is reserved too"))
    return verdict("C5", failures, ev, f"answers on real :{listening} only; a pod asking for :{declared} on "
                   f"{p.spec.node_name} stays Pending: {outcome[:120]}", t0)


def _scheduled(p):
    """The pod's PodScheduled condition, or None while the scheduler has not answered."""
    return next((c for c in p.status.conditions or [] if c.type == "PodScheduled"), None)


def _scheduling_outcome(env: Env, ns: str, node: str, port: int, timeout: float = 60) -> str:
    """Create a pod (the probe image, sleeping) that asks for host port `port` on `node` through the
    scheduler (required affinity on the node's name), and return the scheduler's answer:
    'Unschedulable: <its message>' or 'scheduled'. No answer within `timeout` is ERROR (WaitTimeout)."""
    name = f"asks-{port}"
    pod = manifests.on_one_node({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
        "spec": {"terminationGracePeriodSeconds": 0, "tolerations": [{"operator": "Exists"}],
                 "containers": [{"name": "sleep", "image": env.probe_image, "imagePullPolicy": "IfNotPresent",
                                 "command": ["sleep", "3600"], "ports": [{"containerPort": port, "hostPort": port}],
                                 "resources": {"requests": {"cpu": "1m", "memory": "4Mi"}}}]}}, node)
    deploy(env, ns, pod)

    def decided():
        cond = _scheduled(env.core.read_namespaced_pod(name, ns))
        if cond is None:
            return None
        if cond.status == "True":
            return "scheduled"
        return f"{cond.reason}: {' '.join((cond.message or '').split())}" if cond.reason == "Unschedulable" else None

    return wait_until(decided, timeout=timeout, what=f"the scheduler's answer on {ns}/{name}",
                      describe=lambda: kube.describe_pods(env.core, ns), retry_on=(client.ApiException,))


# ---------------------------------------------------------------- C6 host network only at creation

def check_c6_pod(env: Env, ns: str, pod: str, patch: dict) -> Verdict:
    """Patching an existing Pod must be refused with 422 'pod updates may not change fields'."""
    t0, failures, ev = time.monotonic(), [], {"patch": patch}
    try:
        env.core.patch_namespaced_pod(pod, ns, patch)
        ev["status"] = 200
        failures.append(("patch_accepted", "the patch was accepted"))
    except client.ApiException as e:
        ev["status"] = e.status
        ev["message"] = kube.api_message(e)[:300]
        if e.status != 422 or "pod updates may not change fields other than" not in ev["message"]:
            failures.append(("wrong_status",
                             f"HTTP {e.status}, not 422 'pod updates may not change fields other than'"))
    return verdict("C6", failures, ev, "HTTP 422: pod updates may not change fields other than ...", t0)


def check_c6_daemonset(env: Env, ns: str, ds: str, patch: dict, timeout: float = 120) -> Verdict:
    """Patching a DaemonSet template is accepted and rolls out new pods (new UIDs, new revision hash)."""
    t0, failures, ev = time.monotonic(), [], {"patch": patch}
    before = {p.metadata.uid: p.metadata.labels.get("controller-revision-hash") for p in ds_pods(env, ns, ds)}
    gen_before = env.cluster.apps.read_namespaced_daemon_set(ds, ns).metadata.generation
    gen_after = env.cluster.apps.patch_namespaced_daemon_set(ds, ns, patch).metadata.generation
    ev.update(generation_before=gen_before, generation_after=gen_after)
    if gen_after == gen_before:
        # Every spec change bumps the generation; without one no controller will roll anything out.
        failures.append(("no_generation_change",
                         f"the patch left the spec unchanged (generation {gen_after}): no rollout"))
        return verdict("C6", failures, ev, "", t0)

    kept: list = []

    def rolled():
        pods = ds_pods(env, ns, ds)
        fresh = [p for p in pods if p.metadata.uid not in before and p.metadata.deletion_timestamp is None]
        old_left = [p for p in pods if p.metadata.uid in before]
        if fresh and not old_left and len(fresh) >= len(before):
            return fresh
        # The controller has seen the new template and says it will not replace the pods: decided.
        obj = env.cluster.apps.read_namespaced_daemon_set(ds, ns)
        strategy = obj.spec.update_strategy.type if obj.spec.update_strategy else "RollingUpdate"
        if (strategy == "OnDelete" and (obj.status.observed_generation or 0) >= gen_after and not fresh
                and old_left and not any(p.metadata.deletion_timestamp for p in old_left)):
            kept.append(f"updateStrategy OnDelete: generation {gen_after} observed, "
                        f"{obj.status.updated_number_scheduled or 0}/{obj.status.desired_number_scheduled} "
                        f"pods updated, {len(old_left)} old pods kept")
            return "kept"
        return None

    # a wait that runs out is ERROR (WaitTimeout, with the DaemonSet's last state), never "no rollout":
    # that is decided only by the controller's own status (kept, above)
    fresh = wait_until(rolled, timeout=timeout, what=f"DaemonSet {ns}/{ds} to roll out new pods",
                       describe=lambda: ds_state(env, ns, ds), retry_on=(client.ApiException,),
                       terminal=lambda: signals.observe(env.core, ns, selector=ds_selector(env, ns, ds)))
    if fresh == "kept":
        fresh = []
        failures.append(("no_rollout", kept[-1], "controller_kept"))
    after = {p.metadata.uid: p.metadata.labels.get("controller-revision-hash") for p in fresh}
    want = ((patch.get("spec") or {}).get("template") or {}).get("spec", {}).get("hostNetwork")
    host_network = sorted({bool(p.spec.host_network) for p in fresh})
    ev.update(old_hashes=sorted(set(before.values())), new_hashes=sorted(set(after.values())),
              old_uids=len(before), new_uids=len(after), new_pods_host_network=host_network)
    if fresh and set(after.values()) & set(before.values()):
        failures.append(("old_revision_hash", "new pods carry an old controller-revision-hash"))
    if fresh and want is not None and host_network != [want]:
        failures.append(("host_network_unchanged", f"new pods have hostNetwork {host_network}, "
                                                   f"not the template's {want}"))
    return verdict("C6", failures, ev, "template change accepted and rolled out new pods", t0)


# ---------------------------------------------------------------- C7 port conflict

def check_c7_scheduler(env: Env, ns: str, ds: str, timeout: float = 60) -> Verdict:
    """Pods of a DaemonSet whose host port is taken stay Pending: Unschedulable + FailedScheduling."""
    t0, failures, ev = time.monotonic(), [], {}
    needle = "didn't have free ports for the requested pod ports"

    def settled(p) -> bool:
        # the event can arrive before the pod's condition is written: wait for the condition itself
        if p.status.phase == "Running":
            return True
        return _scheduled(p) is not None

    def observed():
        pods = ds_pods(env, ns, ds)
        if not pods or not all(settled(p) for p in pods):
            return None
        evs = [e for e in kube.events(env.core, ns) if e.reason == "FailedScheduling" and needle in (e.message or "")]
        running = [p for p in pods if p.status.phase == "Running"]
        return (pods, evs) if evs or running else None

    # the one Unschedulable reason this claim waits for; any other settles the wait as ERROR, and so
    # does a wait that runs out (WaitTimeout, with the pods' last state)
    pods, evs = wait_until(observed, timeout=timeout, what=f"a scheduling verdict for {ns}/{ds}",
                           describe=lambda: ds_state(env, ns, ds), retry_on=(client.ApiException,),
                           terminal=lambda: signals.observe(
                               env.core, ns, selector=ds_selector(env, ns, ds),
                               allow=lambda s: s.code == "unschedulable" and "free ports" in s.message))
    for p in pods:
        sched = _scheduled(p)
        ev[p.metadata.name] = {"phase": p.status.phase, "PodScheduled": sched and f"{sched.status}/{sched.reason}"}
        if p.status.phase != "Pending" or not sched or sched.status != "False" or sched.reason != "Unschedulable":
            failures.append(("scheduled", f"{p.metadata.name}: phase {p.status.phase}, PodScheduled "
                                          f"{sched and (sched.status, sched.reason)}"))
    ev["event"] = evs[0].message[:200] if evs else None
    if not evs:
        failures.append(("no_failed_scheduling", f"no FailedScheduling event containing {needle!r}"))
    return verdict("C7", failures, ev, "Pending, Unschedulable, FailedScheduling: no free ports", t0)


def check_c7_kubelet(env: Env, ns: str, pod: str, timeout: float = 60) -> Verdict:
    """A pod bound by spec.nodeName (no scheduler) to a node whose port is taken: kubelet rejects it."""
    t0, failures, ev = time.monotonic(), [], {}

    def settled():
        p = env.core.read_namespaced_pod(pod, ns)
        return p if p.status.phase in ("Failed", "Running", "Succeeded") else None

    p = wait_until(settled, timeout=timeout, what=f"the kubelet's verdict on {ns}/{pod}",
                   describe=lambda: kube.describe_pods(env.core, ns), retry_on=(client.ApiException,),
                   terminal=lambda: signals.observe(
                       env.core, ns, names=[pod],
                       allow=lambda s: s.code == "pod_failed" and s.message.startswith("NodePorts")))
    ev.update(phase=p.status.phase, reason=p.status.reason, message=(p.status.message or "")[:200])
    if p.status.phase != "Failed" or p.status.reason != "NodePorts":
        failures.append(("not_rejected", f"phase {p.status.phase} reason {p.status.reason}, not Failed/NodePorts"))
    return verdict("C7", failures, ev, "kubelet rejected the pod: Failed, reason NodePorts", t0)


# ---------------------------------------------------------------- C8 port in use on the node

def check_c8(env: Env, ns: str, pod: str, timeout: float = 120, stable_after: float = 2,
             silent_stable_after: float = 30) -> Verdict:
    """A container whose port a node process holds exits 1 with 'bind: address already in use',
    then CrashLoopBackOff."""
    t0, failures, ev = time.monotonic(), [], {}

    def listening() -> bool:
        try:
            return "Listening on" in env.core.read_namespaced_pod_log(pod, ns, tail_lines=50)
        except client.ApiException:
            return False

    def crashed():
        p = env.core.read_namespaced_pod(pod, ns)
        cs = (p.status.container_statuses or [None])[0]
        if cs is None:
            return None
        if cs.state.running and cs.restart_count == 0 and cs.state.running.started_at:
            # no crash coming once the exporter said it listens (node_exporter logs "Listening on"
            # after binding; before 1.0 just before, so a bind error would follow within ms) and ran
            # on for `stable_after` s, or after `silent_stable_after` s for an image that never says
            # so. A time alone is not enough: a starved node can take seconds to reach the bind.
            up = time.time() - cs.state.running.started_at.timestamp()
            return p if up >= silent_stable_after or (up >= stable_after and listening()) else None
        waiting = cs.state.waiting and cs.state.waiting.reason == "CrashLoopBackOff"
        return p if waiting and cs.last_state.terminated else None

    p = wait_until(crashed, timeout=timeout, what=f"{ns}/{pod} to crash-loop",
                   describe=lambda: kube.describe_pods(env.core, ns), retry_on=(client.ApiException,),
                   terminal=lambda: signals.observe(env.core, ns, names=[pod], allow=lambda s: s.code in (
                       "crash_loop", "container_exited")))
    cs = p.status.container_statuses[0]
    term = cs.last_state.terminated
    log = _previous_log(env, ns, pod) if term else ""   # a container that never ended left no previous log
    ev.update(state=cs.state.waiting.reason if cs.state.waiting else "running",
              last_exit_code=term.exit_code if term else None, restarts=cs.restart_count,
              log_tail=[ln for ln in log.splitlines() if "address already in use" in ln][:1] or log.splitlines()[-1:])
    if not (cs.state.waiting and cs.state.waiting.reason == "CrashLoopBackOff"):
        failures.append(("not_crashlooping", "container is not in CrashLoopBackOff"))
    if not term or term.exit_code != 1:
        failures.append(("wrong_exit_code", f"last exit code {term and term.exit_code}, not 1"))
    if "bind: address already in use" not in log:
        failures.append(("no_bind_error", "previous log lacks 'bind: address already in use'"))
    return verdict("C8", failures, ev, "exit 1, 'bind: address already in use', CrashLoopBackOff", t0)


def reserved_ports(env: Env, node_probes: dict) -> dict:
    return {node: probes.reserved_ports_report(probes.listening_ports(env.core, pr)) for node, pr in node_probes.items()}


UNRETRIEVABLE = "unable to retrieve container logs"


def _previous_log(env: Env, ns: str, pod: str, timeout: float = 20) -> str:
    """The ended container's log. The kubelet can answer for a while with its own words instead
    (seen in CI: 'unable to retrieve container logs for containerd://<id>'): that is no log, so
    ask again until the deadline, then ERROR quoting it (WaitTimeout), never 'the log lacks ...'."""
    last: list = []

    def read():
        try:
            text = env.core.read_namespaced_pod_log(pod, ns, previous=True, tail_lines=20)
        except client.ApiException as e:
            last.append(f"HTTP {e.status}: {kube.api_message(e)}")
            return None
        if text.startswith(UNRETRIEVABLE):
            last.append(text.strip())
            return None
        return (text,)   # an empty log is an answer too

    return wait_until(read, timeout=timeout, what=f"the log of the ended container of {ns}/{pod}",
                      describe=lambda: last[-1] if last else "no answer")[0]


# ---------------------------------------------------------------- C9 Pod Security

# the level is whatever the namespace (or the cluster default) enforces: baseline or restricted
PSA_LEVEL = re.compile(r'violates PodSecurity "(baseline|restricted):[^"]+"')
PSA_HOST_NAMESPACES = "host namespaces (hostNetwork=true, hostPID=true)"
# the hostPath violation in each level's words (restricted's volume check overrides baseline's)
PSA_HOST_PATH = {"baseline": 'hostPath volumes (volumes "proc", "sys")',
                 "restricted": 'restricted volume types (volumes "proc", "sys" use restricted volume type "hostPath")'}


def check_c9_pod_rejected(env: Env, ns: str, pod: dict) -> Verdict:
    """Creating the host-network Pod in a namespace at enforce=baseline -> HTTP 403 naming the violations."""
    t0, failures, ev = time.monotonic(), [], {}
    labels = env.core.read_namespace(ns).metadata.labels or {}
    ev["namespace_enforce_label"] = labels.get(kube.PSA_ENFORCE, "(cluster default)")
    try:
        deploy(env, ns, pod)
        ev["status"] = 201
        failures.append(("admitted", "the Pod was admitted"))
    except client.ApiException as e:
        body = kube.api_message(e)
        ev["status"] = e.status
        ev["message"] = body[body.find("violates"):][:300] if "violates" in body else body[:300]
        gate = admission.classify(e.status, body)
        ev["gate"] = f"{gate.kind} {gate.name}".strip() if gate else "none (not an admission denial)"
        if gate and gate.kind != admission.POD_SECURITY:
            # Pod Security runs before every other gate: it admitted the pod, another gate refused it
            failures.append(("other_gate", f"refused by {gate}, not by Pod Security"))
        elif e.status != 403:
            failures.append(("wrong_status", f"HTTP {e.status}, not 403"))
        level = PSA_LEVEL.search(body)
        ev["level"] = level.group(1) if level else None
        needles = (PSA_HOST_NAMESPACES, PSA_HOST_PATH[level.group(1) if level else "baseline"], "hostPort")
        missing = [n for n in needles if n not in body]
        if not level:
            missing.insert(0, 'violates PodSecurity "<baseline|restricted>:<version>"')
        if missing and not (gate and gate.kind != admission.POD_SECURITY):
            failures.append(("violations_missing", f"the rejection lacks {missing}"))
    return verdict("C9", failures, ev, f"HTTP 403 violates PodSecurity {ev.get('level') or 'baseline'}: host namespaces, "
                   "hostPath, hostPort", t0)


def check_c9_daemonset_blocked_then_fixed(env: Env, ns: str, ds: dict, timeout: float = 90) -> Verdict:
    """The DaemonSet is admitted (with a warning), its controller emits FailedCreate; after labelling
    the namespace privileged its pods run."""
    t0, failures, ev = time.monotonic(), [], {}
    apps = env.cluster.apps
    _, _, headers = apps.create_namespaced_daemon_set_with_http_info(ns, kube.owned(ds, env.run_id))
    warning = headers.get("Warning", "") if headers else ""
    ev["admission_warning"] = warning[:200]
    if "violate PodSecurity" not in warning and "violates PodSecurity" not in warning:
        failures.append(("no_warning", "no PodSecurity warning on DaemonSet creation"))
    name = ds["metadata"]["name"]

    def failed_create():
        return [e for e in kube.events(env.core, ns) if e.reason == "FailedCreate" and "PodSecurity" in (e.message or "")]

    def refused_or_created():
        pods = ds_pods(env, ns, name)
        if pods:
            return "created", pods
        denials = failed_create()
        return ("refused", denials) if denials else None

    # the controller either creates pods or reports FailedCreate; neither within the bound is ERROR
    # (WaitTimeout with the namespace's last state)
    seen, what = wait_until(refused_or_created, timeout=30, what=f"FailedCreate events or pods of {ns}/{name}",
                            describe=lambda: kube.describe_pods(env.core, ns), retry_on=(client.ApiException,),
                            terminal=lambda: signals.observe(env.core, ns, allow=_psa_denial))
    if seen == "created":
        failures.append(("pods_admitted", f"the controller created {len(what)} pods in a namespace that enforces "
                                          f"Pod Security: {[p.metadata.name for p in what][:3]}"))
        ev["failed_create"] = None
        return verdict("C9", failures, ev, "", t0)
    ev["failed_create"] = what[0].message[:200]
    counts = {e.metadata.uid: e.count or 1 for e in what}
    env.core.patch_namespace(ns, {"metadata": {"labels": {kube.PSA_ENFORCE: "privileged"}}})
    try:
        # the denials from before the label stay in the event list: they are what this claim expects
        wait_daemonset_ready(env, ns, name, timeout, allow=_psa_denial)
        ev["after_label"] = "pods running"
    except AssertionError:
        # refused again after the label (a new FailedCreate, or one counted up): observed false;
        # otherwise nothing was observed in time: ERROR, the wait's own message
        again = [e for e in failed_create() if (e.count or 1) > counts.get(e.metadata.uid, 0)]
        if not again:
            raise
        ev["after_label"] = "refused again"
        failures.append(("refused_after_label", "FailedCreate after labelling the namespace privileged: "
                                                + " ".join((again[-1].message or "").split())[:200]))
    return verdict("C9", failures, ev, "DaemonSet admitted with warning, FailedCreate, runs once labelled privileged", t0)


def _psa_denial(s: signals.Signal) -> bool:
    return s.code == "failed_create" and "PodSecurity" in s.message


# ---------------------------------------------------------------- C10 NetworkPolicy bypass

def check_c10(env: Env, ns: str, ds: str, port: int, web_pod: str, client_probe) -> Verdict:
    """With default-deny ingress in the namespace: the normal pod's port is unreachable (control),
    nodeIP:port of the DaemonSet still answers."""
    t0, failures, ev = time.monotonic(), [], {}
    web = env.core.read_namespaced_pod(web_pod, ns)
    policies = [p.metadata.name for p in env.cluster.net.list_namespaced_network_policy(ns).items]
    web_url = probes.url(web.status.pod_ip, 8080)
    pods = {p.spec.node_name: p for p in ds_pods(env, ns, ds)}
    urls = {"web": web_url, **{node: probes.url(p.status.pod_ip, port, "/metrics") for node, p in pods.items()}}
    # every GET at once: a blocked one waits out its timeout, and they are independent (3 s: an
    # exporter's /metrics on a busy node must not pass for blocked)
    got = probes.http_get_many(env.core, client_probe, urls)
    web_r = got.pop("web")
    for key, r in (("web", web_r), *got.items()):
        unobserved("C10", f"GET {urls[key]}", r)
    ev.update(policies=policies, normal_pod=web_url, normal_pod_reachable=web_r["ok"], normal_pod_mode=web_r["mode"])
    if not policies:
        failures.append(("no_policy", "no NetworkPolicy in the namespace"))
    if web_r["ok"]:
        failures.append(("policy_not_enforced",
                         f"control failed: {web_url} answers despite the policy (NetworkPolicy not enforced?)"))
    for node, r in sorted(got.items()):
        url = urls[node]
        ev[node] = {"url": url, "answers": r["ok"], "mode": r["mode"]}
        if not r["ok"]:
            failures.append(("host_network_blocked", f"{url} blocked by the policy ({r['mode']}): {r['error']}",
                             r["mode"]))
    return verdict("C10", failures, ev, "policy blocks the normal pod; host-network pods still answer", t0)


# ---------------------------------------------------------------- C11 node-local services

def check_c11(env: Env, pod, normal_probe) -> Verdict:
    """From `pod`, the kubelet's loopback-only healthz answers (the claim: `pod` is host-network; the
    control: a normal pod, whose loopback is its own). Beside it a normal pod GETs the node's
    address on the healthz port: that must be refused or unanswered, or the service is not
    node-local here and the claim does not apply."""
    t0, failures, ev = time.monotonic(), [], {}
    k = kubelet_of(env, pod.spec.node_name)
    url = k.healthz_url
    if url is None:
        raise NotApplicable(f"the kubelet's healthz is disabled on {pod.spec.node_name} (healthzPort 0, {k.source})")
    if not k.healthz_node_local:
        raise NotApplicable(f"the kubelet's healthz on {pod.spec.node_name} is bound to {k.healthz_bind!r}, not to "
                            f"loopback ({k.source}): it is not a node-local service")
    node_url = probes.url(pod.status.host_ip, k.healthz_port, "/healthz")
    got = each(lambda call: call(), {"pod": lambda: probes.http_get(env.core, probes.of_pod(pod), url),
                                     "normal": lambda: probes.http_get(env.core, normal_probe, node_url)})
    r, ctl = got["pod"], got["normal"]
    unobserved("C11", f"GET {url} in {pod.metadata.name}", r)
    unobserved("C11", f"GET {node_url} from a normal pod", ctl)
    ev.update(pod=pod.metadata.name, host_network=bool(pod.spec.host_network), url=url,
              answer=r["body"].strip()[:40] or r["error"], mode=r["mode"], kubelet_facts=k.source,
              from_normal_pod={"url": node_url, "mode": ctl["mode"], "error": ctl["error"]})
    if ctl["ok"]:
        raise NotApplicable(f"a normal pod reaches the kubelet's healthz at {node_url}: it is not node-local on "
                            f"this cluster")
    if not (r["ok"] and r["body"].strip() == "ok"):
        failures.append(("healthz_unreachable",
                         f"kubelet healthz {url} not reachable from {pod.metadata.name} ({r['mode']}): "
                         f"{r['error'] or r['body'].strip()[:80]}", r["mode"]))
    return verdict("C11", failures, ev, f"kubelet's {url} answers from the pod; a normal pod's GET of {node_url} "
                   f"is {ctl['mode']}", t0)


# ---------------------------------------------------------------- C12 hostPID and /proc, /sys

# What the exporter sees, then what the node shows, each one exec; sections split by a line "@@".
C12_EXPORTER = ("cat /proc/1/stat; echo @@; cat /host/proc/1/stat; echo @@; "
                "for i in /host/sys/class/net/*; do echo \"${i##*/} $(cat $i/address)\"; done; echo @@; "
                "ls -d /proc/[0-9]* | wc -l")
C12_NODE = "cat /host/proc/1/stat; echo @@; for i in /sys/class/net/*; do echo \"${i##*/} $(cat $i/address)\"; done"


def _sections(text: str, n: int) -> list[str]:
    parts = [x.strip() for x in text.split("@@\n")]
    return (parts + [""] * n)[:n]


def _interfaces(text: str) -> dict[str, str]:
    return dict(ln.split(" ", 1) for ln in text.splitlines() if " " in ln.strip())


def judge_c12(node: str, hostname: str, exporter_out: str, node_out: str, uname: str | None) -> tuple[list, dict, str]:
    """C12 on what was read: the exporter's PID 1 (its own /proc), the node's PID 1 through the
    exporter's /host/proc and through the node probe's view of the node's /, the interfaces (name,
    MAC) in the exporter's /host/sys and in the node's own network namespace, node_uname_info.
    Identity by PID 1's name and start time: a PID namespace of its own starts its PID 1 later."""
    failures, ev = [], {}
    own1, host1, ifs, nprocs = _sections(exporter_out, 4)
    node1, node_ifs = _sections(node_out, 2)
    own, via_mount, truth = probes.parse_stat(own1), probes.parse_stat(host1), probes.parse_stat(node1)
    ev.update(node=node, pid1=own, node_pid1=truth, host_proc_pid1=via_mount,
              processes_visible=int(nprocs) if nprocs.isdigit() else None)
    if truth is None:
        raise ClusterError(f"C12: the node probe on {node} could not read the node's /proc/1/stat: {node_out[:200]!r}")
    if own != truth:
        failures.append(("pid1_not_node_init", f"PID 1 in the exporter is {own and own['comm']!r} started at "
                                               f"{own and own['start']}, not the node's {truth['comm']!r} started at "
                                               f"{truth['start']}: no host PID namespace"))
    if via_mount != truth:
        failures.append(("proc_mount_not_node", f"/host/proc/1/stat in the exporter shows {via_mount}, not the "
                                                f"node's PID 1 {truth}"))
    mine, theirs = _interfaces(ifs), _interfaces(node_ifs)
    common = sorted(n for n in set(mine) & set(theirs) if n != "lo")
    ev.update(host_sys_interfaces=sorted(mine), node_interfaces=sorted(theirs))
    differ = [n for n in common if mine[n] != theirs[n]]
    if not common or differ:
        failures.append(("sys_mount_not_node",
                         f"/host/sys/class/net in the exporter {sorted(mine)} is not the node's {sorted(theirs)}"
                         + (f" (MAC of {differ} differs)" if differ else "")))
    ev["node_uname_info"] = uname[:200] if uname else None
    # uname's nodename is the OS hostname: the node's Hostname address, not its name when the
    # kubelet runs with --hostname-override (as C14)
    ev["node_hostname_address"] = hostname
    if not uname or f'nodename="{hostname}"' not in uname:
        failures.append(("uname_wrong_node", f"node_uname_info lacks nodename=\"{hostname}\" (node {node})"))
    return failures, ev, (f"PID 1 is the node's {truth['comm']} (same start time); /host/proc and /host/sys show "
                          f"the node's; node_uname_info names {hostname}")


def check_c12(env: Env, ns: str, ds: str, port: int, node_probes: dict) -> Verdict:
    t0 = time.monotonic()
    pods = ds_pods(env, ns, ds)
    if not pods:
        return verdict("C12", [("no_pods", "no DaemonSet pods")], {}, "", t0)
    p = pods[0]
    node = p.spec.node_name
    if node not in node_probes:
        raise ClusterError(f"C12: no node probe runs on {node}, so the node's view cannot be read")
    got = each(lambda call: call(), {
        "exporter": lambda: exec_pod(env, p, "sh", "-c", C12_EXPORTER),
        "node": lambda: node_probes[node].run(env.core, "sh", "-c", C12_NODE),
        "metrics": lambda: probes.http_get(env.core, probes.of_pod(p), probes.url("127.0.0.1", port, "/metrics"))})
    for key in ("exporter", "node"):
        if got[key].rc < 0:
            raise ClusterError(f"C12: the exec into the {key} pod on {node} delivered no exit status: "
                               f"{(got[key].stderr or got[key].stdout or 'no output').strip()[:200]}")
    unobserved("C12", f"GET :{port}/metrics in {p.metadata.name}", got["metrics"])
    uname = [ln for ln in got["metrics"]["body"].splitlines() if ln.startswith("node_uname_info")]
    failures, ev, ok = judge_c12(node, cluster_facts.os_hostname(node_json(env, node)), got["exporter"].stdout,
                                 got["node"].stdout, uname[0] if uname else None)
    ev["pod"] = p.metadata.name
    return verdict("C12", failures, ev, ok, t0)


# ---------------------------------------------------------------- C13 resources

WANT_RESOURCES = {"requests": {"memory": "64Mi", "cpu": "100m"}, "limits": {"memory": "128Mi", "cpu": "200m"}}


def check_c13(env: Env, ns: str, ds: str) -> Verdict:
    t0, failures, ev = time.monotonic(), [], {}
    pods = ds_pods(env, ns, ds)
    if not pods:
        return verdict("C13", [("no_pods", "no DaemonSet pods")], ev, "", t0)
    p = pods[0]
    res = p.spec.containers[0].resources
    got = {"requests": dict(res.requests or {}), "limits": dict(res.limits or {})}
    cg = exec_pod(env, p, "sh", "-c", "cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes")
    ev.update(pod=p.metadata.name, resources=got, qosClass=p.status.qos_class, cgroup_memory_limit=cg.stdout.strip())
    if got != WANT_RESOURCES:
        failures.append(("resources_differ", f"resources {got} != {WANT_RESOURCES}"))
    if p.status.qos_class != "Burstable":
        failures.append(("qos_differs", f"QoS class {p.status.qos_class}, not Burstable"))
    if cg.stdout.strip() != str(128 * 1024 * 1024):
        failures.append(("cgroup_limit_differs",
                         f"the container's cgroup memory limit is {cg.stdout.strip()!r}, not 134217728"))
    return verdict("C13", failures, ev, "64Mi/100m requests, 128Mi/200m limits (also in the cgroup), Burstable", t0)


# ---------------------------------------------------------------- C14 hostname

def judge_c14(seen: list[tuple[str, str, dict]]) -> tuple[list, dict, str]:
    """C14 on what was observed: (pod name, `hostname` inside it, its node's JSON) per DaemonSet pod.
    The node's Hostname address decides (with --hostname-override, as on EKS or Bottlerocket, the
    node's name is not its OS hostname; upstream e2e compares with the address too, k8s PR 126088);
    a node name that differs is an environment note in the summary, never a failure."""
    failures, ev, renamed = [], {}, []
    for pod, hostname, node in seen:
        name = (node.get("metadata") or {}).get("name", "")
        want = cluster_facts.os_hostname(node)
        ev[pod] = {"hostname": hostname, "nodeName": name, "nodeHostnameAddress": want}
        if hostname != want:
            failures.append(("hostname_differs", f"{pod}: hostname {hostname!r} != the node's Hostname "
                                                 f"address {want!r} (nodeName {name!r})"))
        elif hostname != name:
            renamed.append(name)
    if not seen:
        failures.append(("no_pods", "no DaemonSet pods"))
    ok = "hostname inside the container == the node's Hostname address"
    if renamed:
        ok += (f"; environment note: on {', '.join(sorted(renamed))} the node name is not the OS hostname "
               f"(kubelet --hostname-override), so the claim is judged on the node's Hostname address")
    return failures, ev, ok


def check_c14(env: Env, ns: str, ds: str) -> Verdict:
    t0 = time.monotonic()
    seen = [(p.metadata.name, exec_pod(env, p, "hostname").stdout.strip(), node_json(env, p.spec.node_name))
            for p in ds_pods(env, ns, ds)]
    failures, ev, ok = judge_c14(seen)
    return verdict("C14", failures, ev, ok, t0)


# ---------------------------------------------------------------- C15 one pod per node

def judge_c15(ds: dict, nodes: list[dict], pods: list[dict]) -> tuple[list, dict, str]:
    """C15 on API JSON: the DaemonSet's status and pods against the nodes its controller should
    place a pod on (placement.expected_nodes). Returns (failures, evidence, summary)."""
    st = ds.get("status") or {}
    expected, excluded, may_stay = placement.expected_nodes(ds, nodes)
    live = [p for p in pods if not (p.get("metadata") or {}).get("deletionTimestamp")]
    placed = sorted((p.get("spec") or {}).get("nodeName") for p in live if (p.get("spec") or {}).get("nodeName"))
    ready_on = sorted((p.get("spec") or {}).get("nodeName") for p in live
                      if any(c.get("type") == "Ready" and c.get("status") == "True"
                             for c in (p.get("status") or {}).get("conditions") or []))
    desired, current, ready = (st.get("desiredNumberScheduled"), st.get("currentNumberScheduled"),
                               st.get("numberReady"))
    ev = {"desired": desired, "current": current, "ready": ready, "expected_nodes": expected,
          "excluded_nodes": excluded, "pods_on": placed, "ready_on": ready_on}
    failures = []
    if not (desired == current == ready == len(expected)):
        failures.append(("counts_differ", f"desired/current/ready {desired}/{current}/{ready} != "
                                          f"{len(expected)} nodes the DaemonSet controller should place a pod on"))
    missing = [n for n in expected if n not in placed]
    extra = [n for n in placed if n not in expected and n not in may_stay]
    twice = sorted({n for n in placed if placed.count(n) > 1})
    if missing or extra or twice:
        failures.append(("placement_differs", "; ".join(x for x in (
            f"no pod on {missing}" if missing else "", f"pods on {extra}, which should run none" if extra else "",
            f"more than one pod on {twice}" if twice else "") if x)))
    not_ready = [n for n in expected if n in placed and n not in ready_on]
    if not_ready:
        failures.append(("not_ready", f"the pod on {not_ready} is not ready"))
    return failures, ev, f"one ready pod on each of the {len(expected)} nodes the DaemonSet controller selects"


def check_c15(env: Env, ns: str, ds: str) -> Verdict:
    """One ready pod on each node the DaemonSet controller's own rules select (taints against the
    template's and the controller's tolerations, nodeSelector, required node affinity), none elsewhere."""
    t0 = time.monotonic()
    ser = env.cluster.api.sanitize_for_serialization
    obj = ser(env.cluster.apps.read_namespaced_daemon_set(ds, ns))
    nodes = [ser(n) for n in env.cluster.nodes()]
    pods = [ser(p) for p in ds_pods(env, ns, ds)]
    failures, ev, summary = judge_c15(obj, nodes, pods)
    return verdict("C15", failures, ev, summary, t0)
