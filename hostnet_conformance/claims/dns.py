"""What C3 and C4 share: observing a pod's /etc/resolv.conf and a lookup of the cluster's own name
in it (the execs' results as they came back), and reading those results when judging. A read or a
lookup that observed nothing is ERROR, decided here from the recorded results."""
from __future__ import annotations

from dataclasses import asdict

from .. import probes
from ..environment import Env, exec_pod
from ..facts import Kubelet
from ..verdict import ClusterError
from ..waiting import WaitTimeout, wait_until
from .base import said, serialize

# what a lookup that was not made says (C3 does not ask a cluster DNS without ready endpoints)
NOT_ASKED = {"ok": False, "addresses": [], "answer": "not_asked", "server": None,
             "output": "not looked up: cluster DNS has no ready endpoints"}


def cluster_name(domain: str) -> str:
    """The name both claims look up: the API's Service, absolute (probes.fqdn)."""
    return probes.fqdn(f"kubernetes.default.svc.{domain}")


def kubelet_facts(k: Kubelet) -> dict:
    """The kubelet facts the DNS claims read: what it hands pods as nameservers, domain and file."""
    return {"source": k.source, "cluster_dns": list(k.cluster_dns), "cluster_domain": k.cluster_domain,
            "resolv_conf": k.resolv_conf}


# how long a lookup no nameserver answered is asked again. A Service's dataplane lags the API: on a
# fresh one-node cluster under load, C3's pod got `write to '10.96.0.10': Operation not permitted`
# (kube-proxy's reject rule for a Service without endpoints) while the API already listed cluster
# DNS's endpoint as ready (flavour k, .ci/run of 9ff94fa). Any answer a server gives ends the wait.
LOOKUP_WAIT = 20


def observe_pod(env: Env, pod, domain: str, lookup: bool = True) -> dict:
    """The pod as the API serves it, its /etc/resolv.conf and, with `lookup`, an nslookup of the
    cluster's name inside it (None when not asked): asked again while no server answers, for up to
    LOOKUP_WAIT s; the last one is kept, and how many were made (`lookups`)."""
    facts = {"pod": serialize(pod), "resolv_conf": asdict(exec_pod(env, pod, "cat", "/etc/resolv.conf")),
             "lookup": None}
    if lookup:
        facts["lookup"], facts["lookups"] = _lookup_until_answered(env, pod, cluster_name(domain))
    return facts


def _lookup_until_answered(env: Env, pod, name: str) -> tuple[dict, int]:
    made: list = []

    def answered() -> bool:
        made.append(asdict(exec_pod(env, pod, "nslookup", name, timeout=30)))
        r = made[-1]
        # an exec without an exit status, or a server's answer, ends it: only "no server answered" is asked again
        return r["rc"] < 0 or probes.parse_nslookup(r["rc"], r["stdout"], r["stderr"])["answer"] != "no_answer"
    try:
        wait_until(answered, timeout=LOOKUP_WAIT, interval=2.0, what=f"a nameserver to answer for {name}",
                   describe=lambda: (made[-1]["stderr"] or made[-1]["stdout"])[-200:] if made else "no lookup made")
    except WaitTimeout:
        if not made:
            raise
    return made[-1], len(made)


def pod_ref(pod: dict) -> str:
    return f"{pod['metadata']['namespace']}/{pod['metadata']['name']}"


def resolv_conf(pod: dict, r: dict) -> dict:
    """The pod's resolv.conf, parsed. A read that failed or gave nothing observed nothing: ERROR."""
    if r["rc"] != 0 or not r["stdout"].strip():
        raise ClusterError(f"reading /etc/resolv.conf in pod {pod_ref(pod)} failed: exit {r['rc']}: {said(r)}")
    return probes.parse_resolv_conf(r["stdout"])


def lookup(r: dict | None) -> dict:
    """The recorded nslookup, judged by probes.parse_nslookup; NOT_ASKED when none was made."""
    return dict(NOT_ASKED) if r is None else probes.parse_nslookup(r["rc"], r["stdout"], r["stderr"])


def lookup_said(look: dict) -> str:
    """What the server said, in one phrase: 'nameserver 172.18.0.3 answered NXDOMAIN'."""
    return f"nameserver {look['server'] or '?'} answered {look['answer']}"


def unanswered(claim: str, pod: dict, name: str, look: dict, r: dict | None, failures: list) -> None:
    """A lookup that no server answered (timeout, unreachable, the exec failed) decides nothing:
    ERROR, quoting nslookup, unless the claim was already observed to be false another way."""
    if look["answer"] in probes.NEGATIVE_ANSWERS or look["answer"] == "NOERROR" or failures:
        return
    if r is not None and r["rc"] < 0:
        raise ClusterError(f"{claim}: nslookup {name} in pod {pod_ref(pod)}: the exec into the pod delivered no "
                           f"exit status: {look['output'] or 'no output'}")
    raise ClusterError(f"{claim}: nslookup {name} in pod {pod_ref(pod)} got no "
                       f"answer from any nameserver: {look['output'] or 'no output'}")
