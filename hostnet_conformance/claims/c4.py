"""C4: ClusterFirst falls back to the node's DNS. Spec: verdict.CLAIMS["C4"].

Observed, once cluster DNS has been judged (env.cluster.await_dns(): the cluster name must go
unresolved with cluster DNS up, not because it is down): cluster DNS's and the kubernetes Service's
IPs (environment.dns_facts), and for one of the DaemonSet's pods the pod, its kubelet's DNS facts,
its /etc/resolv.conf, an nslookup of kubernetes.default.svc.<domain> inside it, the node's own
resolv.conf (the file the kubelet hands such pods, its resolvConf, read by the node probe) and the
namespace's events.
Judged: the pod's nameservers are the node's and include no cluster DNS; the cluster name does not
resolve; no event mentions DNS (the page says the fallback is silent). A resolv.conf that could not
be read, a lookup nobody answered, or a "does not resolve" that is not the node's nameserver's
answer observed nothing: ERROR."""
from __future__ import annotations

from dataclasses import asdict

from .. import kube, probes
from ..environment import Env, dns_facts, exec_pods, kubelet_of
from ..scenarios import observer
from ..verdict import ClusterError
from ..world import ds_of
from .base import run, said
from .dns import cluster_name, kubelet_facts, lookup, lookup_said, observe_pod, resolv_conf, unanswered


def observe(env: Env, ns: str, ds: str, node_probes: dict) -> dict:
    env.cluster.await_dns()
    facts = {"dns_facts": dns_facts(env), "pod": None}
    pods = exec_pods(env, ns, ds)
    if pods:   # every pod gets the same file: one is proof, more is time
        p = pods[0]
        k = kubelet_of(env, p.spec.node_name)
        facts["kubelet"] = kubelet_facts(k)
        facts.update(observe_pod(env, p, k.cluster_domain))
        # the file the kubelet hands to such pods (resolvConf), not kind's path
        facts["node_resolv_conf"] = asdict(node_probes[p.spec.node_name].run(env.core, "cat", f"/host{k.resolv_conf}"))
        # every event of the namespace: which of them speak of DNS is the judge's to say
        facts["events"] = [{"type": e.type, "reason": e.reason, "message": e.message,
                            "object": e.involved_object and f"{e.involved_object.kind}/{e.involved_object.name}"}
                           for e in kube.events(env.core, ns)]
    return facts


def _node_resolv_conf(pod: dict, path: str, r: dict) -> dict:
    """The node's file, parsed (read by the node probe at /host<path>). A read that failed: ERROR."""
    if r["rc"] != 0:
        raise ClusterError(f"C4: reading the node's {path} on {pod['spec'].get('nodeName')} failed: exit "
                           f"{r['rc']}: {said(r)}")
    return probes.parse_resolv_conf(r["stdout"])


def judge(facts: dict) -> tuple[list, dict, str]:
    failures, ev = [], {}
    pod, known = facts["pod"], facts["dns_facts"]
    if pod is None:
        failures.append(("no_pods", "no DaemonSet pods"))
    else:
        k = facts["kubelet"]
        rc = resolv_conf(pod, facts["resolv_conf"])
        node_rc = _node_resolv_conf(pod, k["resolv_conf"], facts["node_resolv_conf"])
        # the kubelet's own DNS warnings name DNS in their reason, not always in their message
        # ("Nameserver limits were exceeded": DNSConfigForming)
        dns_events = [e["reason"] for e in facts["events"]
                      if "dns" in (e.get("message") or "").lower() or "dns" in (e.get("reason") or "").lower()]
        look, name = lookup(facts["lookup"]), cluster_name(k["cluster_domain"])
        ev.update(pod=pod["metadata"]["name"], dnsPolicy=pod["spec"].get("dnsPolicy"), pod_resolv_conf=rc,
                  node_resolv_conf=node_rc, cluster_dns_ip=known["dns_ip"], kubelet_resolv_conf=k["resolv_conf"],
                  kubelet_facts=k["source"], lookup_ok=look["ok"], dns_events=dns_events)
        if rc["nameservers"] != node_rc["nameservers"]:
            failures.append(("nameserver_not_node",
                             f"pod nameservers {rc['nameservers']} != node's {node_rc['nameservers']}"))
        cluster_dns = [ip for ip in [known["dns_ip"], *k["cluster_dns"]] if ip in rc["nameservers"]]
        if cluster_dns:
            failures.append(("cluster_dns_in_pod", f"cluster DNS {cluster_dns[0]} is in the pod's resolv.conf"))
        said = lookup_said(look)
        if look["server"] and look["server"] in node_rc["nameservers"]:
            said = "the node's " + said
        ev["lookup_answer"] = f"{said} for {name}"
        if look["answer"] == "NOERROR":
            failures.append(("cluster_name_resolved", f"{name} resolved: {said} {look['addresses']}"))
        if dns_events:
            failures.append(("dns_event", f"events mention DNS: {dns_events} (the page says the failure is silent)"))
        unanswered("C4", pod, name, look, facts["lookup"], failures)
        if look["answer"] != "NOERROR" and look["server"] not in node_rc["nameservers"] and not failures:
            # "does not resolve" is the node's nameserver's answer, or nothing was observed
            raise ClusterError(f"C4: nslookup {name} in {pod['metadata']['name']}: {said}, which is not the node's "
                               f"nameserver {node_rc['nameservers']}: {look['output'] or 'no output'}")
    return failures, ev, ("node resolver, no cluster DNS, no event; the cluster name is unresolved: "
                          + ev.get("lookup_answer", "-"))


observer("c4", "C4")(lambda world: run("c4", "C4", judge, observe, world.env, *ds_of(world, "clusterfirst"),
                                       world.node_probes))
observer("c4-control", "C4")(lambda world: run("c4-control", "C4", judge, observe, world.env,
                                               *ds_of(world, "vendor"), world.node_probes))
