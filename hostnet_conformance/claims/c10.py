"""C10: host-network pods bypass NetworkPolicy. Spec: verdict.CLAIMS["C10"].

Observed, the set-up (facts "kind": "policy", observation c10-policy, shared by the claim test and
its control): in one namespace a normal web pod, a host-network exporter DaemonSet and a pod-network
one (scenarios.c10); GETs of each from the pod-network probe before any policy; then a default-deny
ingress policy, and GETs of the web pod until one goes unanswered or the wait runs out. Judged:
enforcement is proven, never assumed: the web pod answered before the policy and not after it;
unblocked within the wait, nothing enforces NetworkPolicy (NOT APPLICABLE).

Observed, the bypass (facts "kind": "bypass"): the policies in the namespace, GETs of the web pod and
of each exporter pod (the host-network one's address is its node's), and the exporter's GET from
before the policy. Judged: the web pod goes unanswered, each exporter answers. The control, a
pod-network exporter, must be blocked by the policy: proof only if it answered before the policy.
A GET the suite could not make (mode exec_error) is ERROR."""
from __future__ import annotations

from .. import manifests, probes
from ..environment import Env, deploy, ds_pods, wait_daemonset_ready
from ..scenarios import observer
from ..verdict import ClusterError, ControlInconclusive, NotApplicable
from ..waiting import WaitTimeout, wait_until
from ..world import require_host_network, require_pod_network
from .base import judged, kept_get, observe, run, unobserved

# how long the default-deny policy has to block the normal pod before nothing is taken to enforce it
POLICY_WAIT = 30


def observe_policy(env: Env, ns: str, ports: dict, probe) -> dict:
    web_pod = probes.pod_running(env.core, ns, "web")
    for d in ports:
        wait_daemonset_ready(env, ns, d)
    # each exporter's answer before the policy: a block after it is then the policy's doing (the
    # control needs this: an exporter that never answered proves nothing about NetworkPolicy)
    urls = {"web": probes.url(web_pod.status.pod_ip, 8080),
            **{d: probes.url(ds_pods(env, ns, d)[0].status.pod_ip, p, "/metrics") for d, p in ports.items()}}
    before = probes.http_get_many(env.core, probe, urls)
    deploy(env, ns, manifests.load("default-deny-ingress"))
    last: dict = {}

    def blocked():
        # an exec that could not ask proves nothing: keep asking
        last["get"] = r = probes.http_get(env.core, probe, urls["web"], timeout=2)
        return r["mode"] != probes.EXEC_ERROR and not r["ok"]

    waited, bound = None, POLICY_WAIT
    try:
        wait_until(blocked, timeout=POLICY_WAIT, what="the default-deny policy to block the normal pod",
                   describe=lambda: f"{urls['web']} still answers")
    except WaitTimeout as e:   # the policy's effect, observed absent for the whole wait
        if "get" not in last:   # no GET came back: nothing was observed
            raise
        waited, bound = e.in_words(), round(e.timeout)
    return {"kind": "policy", "namespace": ns, "ports": ports,
            "before": {k: kept_get(urls[k], r) for k, r in before.items()},
            "after_policy": {"web": kept_get(urls["web"], last["get"]), "blocked": waited is None, "wait": waited,
                             "wait_s": bound}}


def observe_bypass(env: Env, setup: dict, exporter: str, probe) -> dict:
    ns = setup["namespace"]
    ds = env.cluster.apps.read_namespaced_daemon_set(exporter, ns)
    web = env.core.read_namespaced_pod("web", ns)
    policies = [p.metadata.name for p in env.cluster.net.list_namespaced_network_policy(ns).items]
    pods = {p.spec.node_name: p for p in ds_pods(env, ns, exporter)}
    urls = {"web": probes.url(web.status.pod_ip, 8080),
            **{node: probes.url(p.status.pod_ip, setup["ports"][exporter], "/metrics") for node, p in pods.items()}}
    # every GET at once: a blocked one waits out its timeout, and they are independent (3 s: an
    # exporter's /metrics on a busy node must not pass for blocked)
    got = probes.http_get_many(env.core, probe, urls)
    return {"kind": "bypass", "namespace": ns, "exporter": exporter,
            "host_network": bool(ds.spec.template.spec.host_network), "policies": policies,
            "answered_before_policy": setup["before"][exporter],
            "web": kept_get(urls["web"], got.pop("web")),
            "nodes": {node: kept_get(urls[node], r) for node, r in sorted(got.items())}}


def enforced(facts: dict) -> bool:
    """The set-up proved NetworkPolicy enforced: the normal pod answered before the policy, not after."""
    return facts["before"]["web"]["ok"] and facts["after_policy"]["blocked"]


def judge(facts: dict) -> tuple[list, dict, str]:
    return (_judge_policy if facts["kind"] == "policy" else _judge_bypass)(facts)


def _judge_policy(facts: dict) -> tuple[list, dict, str]:
    before, after = facts["before"], facts["after_policy"]
    web = before["web"]
    unobserved("C10", f"GET {web['url']} before the policy", web)
    if not web["ok"]:
        raise ClusterError(f"the normal pod {web['url']} did not answer even before any policy: {web['error']}")
    if not after["blocked"]:
        unobserved("C10", f"GET {web['url']} after the policy", after["web"])
        raise NotApplicable(f"nothing enforces NetworkPolicy: a default-deny ingress policy did not block "
                            f"{web['url']} within {after['wait_s']}s")
    ev = {"namespace": facts["namespace"], "ports": facts["ports"], "before": before,
          "normal_pod_after_policy": after["web"]["mode"]}
    return [], ev, f"default-deny ingress blocks {web['url']} ({after['web']['mode']}), which answered before it"


def _judge_bypass(facts: dict) -> tuple[list, dict, str]:
    """With default-deny ingress in the namespace: the normal pod's port is unreachable, nodeIP:port
    of the host-network DaemonSet still answers (the control: the pod-network one is blocked)."""
    failures, ev = [], {}
    web, nodes = facts["web"], facts["nodes"]
    control = not facts["host_network"]   # a pod-network exporter: the policy must block it
    before = facts["answered_before_policy"]
    if control:
        unobserved("C10", f"GET {before['url']} before the policy", before)
        if not before["ok"]:
            raise ControlInconclusive(f"the pod-network exporter did not answer before the policy: "
                                      f"{before['error'] or 'no answer'}")
    for r in (web, *nodes.values()):
        unobserved("C10", f"GET {r['url']}", r)
    policies = facts["policies"]
    ev.update(policies=policies, normal_pod=web["url"], normal_pod_reachable=web["ok"], normal_pod_mode=web["mode"])
    if not policies:
        failures.append(("no_policy", "no NetworkPolicy in the namespace"))
    if web["ok"]:
        failures.append(("policy_not_enforced",
                         f"control failed: {web['url']} answers despite the policy (NetworkPolicy not enforced?)"))
    if not nodes:   # nothing was asked past the policy: no answer proves nothing
        failures.append(("no_pods", "no DaemonSet pods to GET past the policy"))
    for node, r in nodes.items():
        ev[node] = {"url": r["url"], "answers": r["ok"], "mode": r["mode"]}
        if not r["ok"]:
            failures.append(("host_network_blocked", f"{r['url']} blocked by the policy ({r['mode']}): {r['error']}",
                             r["mode"]))
    if control:
        ev["answered_before_policy"] = True
    return failures, ev, "policy blocks the normal pod; host-network pods still answer"


@observer("c10-policy", "C10")
def _policy(world):
    """The set-up, recorded and judged once for both tests; its Verdict's evidence names the
    namespace, the ports and the GETs before the policy (observe_bypass reads them)."""
    require_host_network(world)
    require_pod_network(world)   # observed through the pod network: a precondition
    ports = {"exporter-hostnet": world.ports.port_for("c10"), "exporter-podnet": world.ports.port_for("c10-no-hostnet")}
    obs = observe("c10-policy", "C10", observe_policy, world.env, world.scenario("c10"), ports, world.pod_probe)
    if "facts" in obs:   # a capability report.json lists
        world.env.cluster.facts["networkpolicy_enforced"] = enforced(obs["facts"])
    return judged(obs, judge)


# the set-up's NOT APPLICABLE or ERROR is raised for both tests as they ask for it
observer("c10", "C10")(lambda world: run("c10", "C10", judge, observe_bypass, world.env,
                                         world.observed("c10-policy").evidence, "exporter-hostnet", world.pod_probe))
observer("c10-control", "C10")(lambda world: run("c10-control", "C10", judge, observe_bypass, world.env,
                                                 world.observed("c10-policy").evidence, "exporter-podnet",
                                                 world.pod_probe))
