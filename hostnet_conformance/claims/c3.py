"""C3: DNS with ClusterFirstWithHostNet. Its spec is verdict.CLAIMS["C3"]; this module observes the cluster and judges."""
from __future__ import annotations

import time

from .. import probes
from ..cluster import cluster_dns_state
from ..environment import Env, dns_facts, ds_pods, kubelet_of
from ..scenarios import observer
from ..verdict import Verdict
from ..world import ds_of
from .base import verdict
from .dns import lookup_said, pod_dns, unanswered

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
        d = pod_dns(env, p, lookup=dns["ready"], domain=domain)
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
        ev["lookup_answer"] = lookup_said(look) if dns["ready"] else look["output"]
        if dns["ready"] and look["answer"] in ("NOERROR", *probes.NEGATIVE_ANSWERS) \
                and facts["kubernetes_ip"] not in look["addresses"]:
            failures.append(("cluster_name_unresolved",
                             f"{name} did not resolve to {facts['kubernetes_ip']}: {lookup_said(look)}"
                             + (f" {look['addresses']}" if look["addresses"] else "")))
        if dns["ready"]:
            unanswered("C3", p, name, look, failures)
    if not pods:
        failures.append(("no_pods", "no DaemonSet pods"))
    return verdict("C3", failures, ev, "cluster DNS in resolv.conf and the cluster name resolves", t0)


observer("c3", "C3")(lambda world: check_c3(world.env, *ds_of(world, "vendor")))
observer("c3-control", "C3")(lambda world: check_c3(world.env, *ds_of(world, "clusterfirst")))
