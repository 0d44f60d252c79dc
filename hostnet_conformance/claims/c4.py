"""C4: ClusterFirst falls back to the node's DNS. Its spec is verdict.CLAIMS["C4"]; this module observes the cluster and judges."""
from __future__ import annotations

import time

from .. import kube, probes
from ..environment import Env, dns_facts, ds_pods, kubelet_of
from ..scenarios import observer
from ..verdict import ClusterError, Verdict
from ..world import ds_of
from .base import verdict
from .dns import lookup_said, pod_dns, unanswered

def check_c4(env: Env, ns: str, ds: str, node_probes: dict) -> Verdict:
    """ClusterFirst + hostNetwork: the pod silently gets the node's resolver, not cluster DNS."""
    t0, failures, ev = time.monotonic(), [], {}
    env.cluster.await_dns()   # the cluster name must go unresolved with cluster DNS up, not because it is down
    facts = dns_facts(env)
    pods = ds_pods(env, ns, ds)
    for p in pods[:1]:
        k = kubelet_of(env, p.spec.node_name)
        d = pod_dns(env, p, domain=k.cluster_domain)
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
        said = lookup_said(look)
        if look["server"] and look["server"] in node_rc["nameservers"]:
            said = "the node's " + said
        ev["lookup_answer"] = f"{said} for {name}"
        if look["answer"] == "NOERROR":
            failures.append(("cluster_name_resolved", f"{name} resolved: {said} {look['addresses']}"))
        if dns_events:
            failures.append(("dns_event", f"events mention DNS: {dns_events} (the page says the failure is silent)"))
        unanswered("C4", p, name, look, failures)
        if look["answer"] != "NOERROR" and look["server"] not in node_rc["nameservers"] and not failures:
            # "does not resolve" is the node's nameserver's answer, or nothing was observed
            raise ClusterError(f"C4: nslookup {name} in {p.metadata.name}: {said}, which is not the node's "
                               f"nameserver {node_rc['nameservers']}: {look['output'] or 'no output'}")
    if not pods:
        failures.append(("no_pods", "no DaemonSet pods"))
    return verdict("C4", failures, ev, "node resolver, no cluster DNS, no event; the cluster name is unresolved: "
                   + ev.get("lookup_answer", "-"), t0)


observer("c4", "C4")(lambda world: check_c4(world.env, *ds_of(world, "clusterfirst"), world.node_probes))
observer("c4-control", "C4")(lambda world: check_c4(world.env, *ds_of(world, "vendor"), world.node_probes))
