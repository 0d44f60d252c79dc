"""C10: NetworkPolicy bypass. Its spec is verdict.CLAIMS["C10"]; this module observes the cluster and judges."""
from __future__ import annotations

import time

from .. import manifests, probes
from ..environment import Env, ds_pods, wait_daemonset_ready
from ..scenarios import observer
from ..verdict import ClusterError, ControlInconclusive, NotApplicable, Verdict
from ..waiting import WaitTimeout, wait_until
from ..world import require_host_network, require_pod_network
from .base import unobserved, verdict

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


@observer("c10-policy", "C10")
def _policy_ns(world):
    """A namespace with a normal web pod, a host-network DaemonSet and one without, then a
    default-deny ingress policy. Enforcement is proven here first (web reachable before the policy,
    unreachable after), never assumed."""
    require_host_network(world)
    require_pod_network(world)   # observed through the pod network: a precondition
    env = world.env
    ns = world.scenario("c10")   # the web pod and both exporters (scenarios.c10)
    port, port_nohost = world.ports.port_for("c10"), world.ports.port_for("c10-no-hostnet")
    web_pod = probes.pod_running(env.core, ns, "web")
    for d in ("exporter-hostnet", "exporter-podnet"):
        wait_daemonset_ready(env, ns, d)
    url = probes.url(web_pod.status.pod_ip, 8080)
    # Each exporter answers before the policy, so a block after it is the policy's doing (the control
    # needs this: an exporter that never answered proves nothing about NetworkPolicy).
    urls = {"web": url, **{d: probes.url(ds_pods(env, ns, d)[0].status.pod_ip, p, "/metrics")
                           for d, p in (("exporter-hostnet", port), ("exporter-podnet", port_nohost))}}
    got = probes.http_get_many(env.core, world.pod_probe, urls)
    before = got.pop("web")
    exporters_before = {d: r["ok"] or r["error"] or "no answer" for d, r in got.items()}
    world.create(ns, manifests.load("default-deny-ingress"))
    try:
        wait_until(lambda: not probes.http_get(env.core, world.pod_probe, url, timeout=2)["ok"], timeout=30,
                   what="the default-deny policy to block the normal pod", describe=lambda: f"{url} still answers")
        enforced = before["ok"]
    except WaitTimeout:   # the policy's effect, observed absent for 30 s: nothing enforces it (NOT APPLICABLE)
        enforced = False
    world.env.cluster.facts["networkpolicy_enforced"] = enforced
    if not before["ok"]:
        raise ClusterError(f"the normal pod {url} did not answer even before any policy: {before['error']}")
    if not enforced:
        raise NotApplicable(f"nothing enforces NetworkPolicy: a default-deny ingress policy did not block {url} "
                            f"within 30s")
    return {"ns": ns, "port": port, "port_nohost": port_nohost, "exporters_before": exporters_before}


@observer("c10", "C10")
def _c10(world):
    p = world.observed("c10-policy")
    return check_c10(world.env, p["ns"], "exporter-hostnet", p["port"], "web", world.pod_probe)


@observer("c10-control", "C10")
def _c10_control(world):
    p = world.observed("c10-policy")
    answered = p["exporters_before"]["exporter-podnet"]
    if answered is not True:
        raise ControlInconclusive(f"the pod-network exporter did not answer before the policy: {answered}")
    v = check_c10(world.env, p["ns"], "exporter-podnet", p["port_nohost"], "web", world.pod_probe)
    v.evidence["answered_before_policy"] = True
    return v
