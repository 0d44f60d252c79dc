"""C3: DNS with ClusterFirstWithHostNet. Spec: verdict.CLAIMS["C3"].

Observed, once cluster DNS has been judged (env.cluster.await_dns()): the IPs of cluster DNS's
Service (the one at the kubelets' clusterDNS, else kube-dns: cluster.find_dns_service) and of the
kubernetes Service, cluster DNS's state (ready endpoints or why not, naming that Service), and for
one of the DaemonSet's pods (every pod gets the same file: one is proof, more is time) the pod, its
kubelet's DNS facts, its /etc/resolv.conf and, when cluster DNS is ready, an nslookup of
kubernetes.default.svc.<domain>.
Judged: cluster DNS is ready; resolv.conf names the kubelet's clusterDNS (cluster DNS's Service
when it has none), its search list begins with the pod's namespace's, the Services' and the
cluster's domain, it sets ndots:5; the lookup resolves to the kubernetes Service's IP. A
resolv.conf that could not be read is ERROR; so is a lookup nobody answered, unless the claim was
already seen false another way."""
from __future__ import annotations

from .. import probes
from ..cluster import cluster_dns_state, kubelet_dns_addresses
from ..environment import Env, dns_facts, exec_pods, kubelet_of
from ..scenarios import observer
from ..world import ds_of
from .base import run
from .dns import cluster_name, kubelet_facts, lookup, lookup_said, observe_pod, resolv_conf, unanswered


def observe(env: Env, ns: str, ds: str) -> dict:
    facts = {"dns_facts": dns_facts(env)}
    # The claim is that the pod gets *working* cluster DNS: without ready endpoints it does not.
    env.cluster.await_dns()
    facts["cluster_dns"] = cluster_dns_state(env.core, env.cluster.apps, kubelet_dns_addresses(env.cluster))
    facts["pod"] = None
    pods = exec_pods(env, ns, ds)
    if pods:
        # the kubelet's own clusterDNS (a NodeLocal DNSCache address on some clusters) and domain
        k = kubelet_of(env, pods[0].spec.node_name)
        facts["kubelet"] = kubelet_facts(k)
        facts.update(observe_pod(env, pods[0], k.cluster_domain, lookup=facts["cluster_dns"]["ready"]))
    return facts


def judge(facts: dict) -> tuple[list, dict, str]:
    failures, ev = [], {}
    dns, known, pod = facts["cluster_dns"], facts["dns_facts"], facts["pod"]
    ev["cluster_dns"] = dns["why"]
    if not dns["ready"]:
        failures.append(("cluster_dns_unavailable", dns["why"]))
    ok = "cluster DNS in resolv.conf and the cluster name resolves"
    if pod is None:
        failures.append(("no_pods", "no DaemonSet pods"))
        return failures, ev, ok
    k = facts["kubelet"]
    domain = k["cluster_domain"]
    want_ns = k["cluster_dns"] or [known["dns_ip"]]
    want_search = [f"{pod['metadata']['namespace']}.svc.{domain}", f"svc.{domain}", domain]
    rc = resolv_conf(pod, facts["resolv_conf"])
    look, name = lookup(facts["lookup"]), cluster_name(domain)
    ev.update(pod=pod["metadata"]["name"], dnsPolicy=pod["spec"].get("dnsPolicy"), **known,
              kubelet_cluster_dns=want_ns, kubelet_facts=k["source"], resolv_conf=rc, lookup=look["addresses"])
    if rc["nameservers"] != want_ns:
        failures.append(("nameserver_not_cluster_dns",
                         f"nameserver {rc['nameservers']} is not the kubelet's clusterDNS {want_ns} ({k['source']})"))
    if rc["search"][:3] != want_search:
        failures.append(("search_not_cluster", f"search {rc['search']} does not begin {want_search}"))
    if "ndots:5" not in rc["options"]:
        failures.append(("no_ndots5", f"options {rc['options']} lack ndots:5"))
    ev["lookup_answer"] = lookup_said(look) if dns["ready"] else look["output"]
    if dns["ready"] and look["answer"] in ("NOERROR", *probes.NEGATIVE_ANSWERS) \
            and known["kubernetes_ip"] not in look["addresses"]:
        failures.append(("cluster_name_unresolved",
                         f"{name} did not resolve to {known['kubernetes_ip']}: {lookup_said(look)}"
                         + (f" {look['addresses']}" if look["addresses"] else "")))
    if dns["ready"]:
        unanswered("C3", pod, name, look, facts["lookup"], failures)
    return failures, ev, f"cluster DNS {rc['nameservers'][0] if rc['nameservers'] else '-'} in resolv.conf and {name} resolves"


observer("c3", "C3")(lambda world: run("c3", "C3", judge, observe, world.env, *ds_of(world, "vendor")))
observer("c3-control", "C3")(lambda world: run("c3-control", "C3", judge, observe, world.env,
                                               *ds_of(world, "clusterfirst")))
