"""What C3 and C4 share: a pod's resolv.conf and a lookup of the cluster's own name in it."""
from __future__ import annotations

from .. import probes
from ..environment import Env, exec_pod
from ..verdict import ClusterError

CLUSTER_DOMAIN = "cluster.local"


def pod_dns(env: Env, pod, lookup: bool = True, domain: str = CLUSTER_DOMAIN) -> dict:
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


def lookup_said(look: dict) -> str:
    """What the server said, in one phrase: 'nameserver 172.18.0.3 answered NXDOMAIN'."""
    return f"nameserver {look['server'] or '?'} answered {look['answer']}"


def unanswered(claim: str, pod, name: str, look: dict, failures: list) -> None:
    """A lookup that no server answered (timeout, unreachable, the exec failed) decides nothing:
    ERROR, quoting nslookup, unless the claim was already observed to be false another way."""
    if look["answer"] not in probes.NEGATIVE_ANSWERS and look["answer"] != "NOERROR" and not failures:
        raise ClusterError(f"{claim}: nslookup {name} in pod {pod.metadata.namespace}/{pod.metadata.name} got no "
                           f"answer from any nameserver: {look['output'] or 'no output'}")
