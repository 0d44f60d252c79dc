"""C11: a compromised pod reaches node-local services. Spec: verdict.CLAIMS["C11"].

Observed: the pod (the vendor's host-network pod; the control: the suite's normal pod-network
probe) as the API serves it, and its node's kubelet facts (healthz address and port, from configz
or defaults); then, when the healthz is node-local, a GET of the kubelet's healthz from inside the
pod, and beside it a GET of the node's address on the healthz port from a normal pod.
Judged: the healthz answers "ok" from the pod. The claim does not apply where the healthz is
disabled, bound beyond loopback, or reached by the normal pod at the node's address (then it is not
node-local on this cluster); a GET the suite could not make is ERROR."""
from __future__ import annotations

from .. import probes
from ..environment import Env, exec_pods, kubelet_of
from ..facts import Kubelet
from ..scenarios import observer
from ..verdict import NotApplicable
from ..waiting import each
from ..world import ds_of, require_pod_network
from .base import run, serialize, unobserved


def observe(env: Env, pod, normal_probe) -> dict:
    k = kubelet_of(env, pod.spec.node_name)
    facts = {"pod": serialize(pod), "kubelet": {"source": k.source, "healthz_bind": k.healthz_bind,
                                                "healthz_port": k.healthz_port, "healthz_url": k.healthz_url}}
    if k.healthz_url is None or not k.healthz_node_local:
        return facts   # no node-local healthz to ask for: the judge finds the claim not applicable
    node_url = probes.url(pod.status.host_ip, k.healthz_port, "/healthz")
    got = each(lambda call: call(), {"pod": lambda: probes.http_get(env.core, probes.of_pod(pod), k.healthz_url),
                                     "normal": lambda: probes.http_get(env.core, normal_probe, node_url)})
    facts.update(from_pod=got["pod"], node_url=node_url, from_normal_pod=got["normal"])
    return facts


def judge(facts: dict) -> tuple[list, dict, str]:
    failures, ev = [], {}
    pod, kf = facts["pod"], facts["kubelet"]
    name, node = pod["metadata"]["name"], pod["spec"].get("nodeName")
    url = kf["healthz_url"]
    if url is None:
        raise NotApplicable(f"the kubelet's healthz is disabled on {node} (healthzPort 0, {kf['source']})")
    if not Kubelet(kf["source"], kf["healthz_bind"], kf["healthz_port"]).healthz_node_local:
        raise NotApplicable(f"the kubelet's healthz on {node} is bound to {kf['healthz_bind']!r}, not to "
                            f"loopback ({kf['source']}): it is not a node-local service")
    r, node_url, ctl = facts["from_pod"], facts["node_url"], facts["from_normal_pod"]
    unobserved("C11", f"GET {url} in {name}", r)
    unobserved("C11", f"GET {node_url} from a normal pod", ctl)
    ev.update(pod=name, host_network=bool(pod["spec"].get("hostNetwork")), url=url,
              answer=r["body"].strip()[:40] or r["error"], mode=r["mode"], kubelet_facts=kf["source"],
              from_normal_pod={"url": node_url, "mode": ctl["mode"], "error": ctl["error"]})
    if ctl["ok"]:
        raise NotApplicable(f"a normal pod reaches the kubelet's healthz at {node_url}: it is not node-local on "
                            f"this cluster")
    if not (r["ok"] and r["body"].strip() == "ok"):
        failures.append(("healthz_unreachable",
                         f"kubelet healthz {url} not reachable from {name} ({r['mode']}): "
                         f"{r['error'] or r['body'].strip()[:80]}", r["mode"]))
    return failures, ev, f"kubelet's {url} answers from the pod; a normal pod's GET of {node_url} is {ctl['mode']}"


def _vendor_pod(world):
    return exec_pods(world.env, *ds_of(world, "vendor"))[0]


# Both ask through the normal pod-network probe: its GET of the node's address must be able to
# reach the node for "not answered" to mean anything (a probe whose own network is dead times out
# everywhere), so the pod network is a precondition, as for C2, C5 and C10
@observer("c11", "C11")
def _c11(world):
    require_pod_network(world)
    return run("c11", "C11", judge, observe, world.env, _vendor_pod(world), world.pod_probe)


@observer("c11-control", "C11")
def _c11_control(world):
    require_pod_network(world)
    return run("c11-control", "C11", judge, observe, world.env,
               world.env.core.read_namespaced_pod(world.pod_probe.name, world.pod_probe.ns), world.pod_probe)
