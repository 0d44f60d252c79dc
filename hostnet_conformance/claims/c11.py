"""C11: node-local services. Its spec is verdict.CLAIMS["C11"]; this module observes the cluster and judges."""
from __future__ import annotations

import time

from .. import probes
from ..environment import Env, ds_pods, kubelet_of
from ..scenarios import observer
from ..verdict import NotApplicable, Verdict
from ..waiting import each
from ..world import ds_of
from .base import unobserved, verdict

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


def _vendor_pod(world):
    return ds_pods(world.env, *ds_of(world, "vendor"))[0]


observer("c11", "C11")(lambda world: check_c11(world.env, _vendor_pod(world), world.pod_probe))
observer("c11-control", "C11")(lambda world: check_c11(
    world.env, world.env.core.read_namespaced_pod(world.pod_probe.name, world.pod_probe.ns), world.pod_probe))
