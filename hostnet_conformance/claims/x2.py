"""X2 (extra, --extra): a NetworkPolicy on a normal pod filters traffic from host-network pods on
other nodes. Spec: verdict.CLAIMS["X2"]; the pitfall: cilium/cilium#10405, kube-router#332 (a
host-network client arrives with its node's address, which no podSelector admits).

Observed, once for both tests (scenarios.x2): two normal web pods on the first worker; the client is
the node probe (host network) of the last worker. GETs of both from the client before any policy;
then two ingress policies: the claim's pod admits only pods labelled hostnet-conformance/x2-allowed,
the control's admits all ingress. NetworkPolicy's enforcement is proven first: the pod-network probe
(not labelled) is blocked from the claim's pod within POLICY_WAIT. Then GETs of both from the client.
Judged: the claim: the client reached the pod before the policy and not after it. The control: the
client still reaches the pod whose policy admits all, so the check fails with the answer it provokes.
A cluster where nothing blocks the pod-network probe enforces no NetworkPolicy: NOT APPLICABLE."""
from __future__ import annotations

from .. import probes
from ..environment import deploy, two_workers
from ..scenarios import observer
from ..verdict import ControlInconclusive, NotApplicable
from ..waiting import WaitTimeout, wait_until
from ..world import require_pod_network
from .base import judged, kept_get, observe, unobserved

POLICY_WAIT = 30
ALLOWED = "hostnet-conformance/x2-allowed"


def policies() -> list[dict]:
    only_labelled = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                     "metadata": {"name": "x2-only-labelled-pods"},
                     "spec": {"podSelector": {"matchLabels": {"app": "x2-web"}}, "policyTypes": ["Ingress"],
                              "ingress": [{"from": [{"podSelector": {"matchLabels": {ALLOWED: "true"}}}]}]}}
    admit_all = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                 "metadata": {"name": "x2-admit-all"},
                 "spec": {"podSelector": {"matchLabels": {"app": "x2-open"}}, "policyTypes": ["Ingress"],
                          "ingress": [{}]}}
    return [only_labelled, admit_all]


def observe_setup(env, ns: str, client, pod_probe) -> dict:
    pods = {k: probes.pod_running(env.core, ns, name) for k, name in (("web", "x2-web"), ("open", "x2-open"))}
    urls = {k: probes.url(p.status.pod_ip, 8080) for k, p in pods.items()}
    before = probes.http_get_many(env.core, client, urls)
    made = policies()
    for pol in made:
        deploy(env, ns, pol)
    last: dict = {}

    def probe_blocked():
        last["get"] = r = probes.http_get(env.core, pod_probe, urls["web"], timeout=2)
        return r["mode"] != probes.EXEC_ERROR and not r["ok"]

    enforced = True
    try:
        wait_until(probe_blocked, timeout=POLICY_WAIT, what="the policy to block the pod-network probe",
                   describe=lambda: f"{urls['web']} still answers the pod-network probe")
    except WaitTimeout:
        if "get" not in last:
            raise
        enforced = False
    after = probes.http_get_many(env.core, client, urls) if enforced else {}
    return {"namespace": ns, "client": {"pod": f"{client.ns}/{client.name}", "node": client.node,
                                         "host_network": client.host_network},
            "server_node": pods["web"].spec.node_name,
            "policies": [p["metadata"]["name"] for p in made],
            "before": {k: kept_get(urls[k], r) for k, r in before.items()},
            "pod_network_probe_after_policy": kept_get(urls["web"], last["get"]), "enforced": enforced,
            "after": {k: kept_get(urls[k], r) for k, r in after.items()}}


def judge_for(target: str):
    """The judge of the claim (target "web": its policy admits only labelled pods) or of the control
    (target "open": its policy admits all)."""
    def judge(facts: dict) -> tuple[list, dict, str]:
        before = facts["before"][target]
        unobserved("X2", f"GET {before['url']} from the host-network client", before)
        if not facts["client"]["host_network"]:
            raise ControlInconclusive(f"the client {facts['client']['pod']} is not a host-network pod")
        if not before["ok"]:
            raise NotApplicable(f"the host-network pod {facts['client']['pod']} on {facts['client']['node']} does not "
                                f"reach {before['url']} on {facts['server_node']} even without a policy "
                                f"({before['mode']}: {before.get('error') or ''})")
        if not facts["enforced"]:
            ctl = facts["pod_network_probe_after_policy"]
            unobserved("X2", f"GET {ctl['url']} from the pod-network probe", ctl)
            raise NotApplicable(f"nothing enforces NetworkPolicy: the policy did not block the pod-network probe's "
                                f"GET of {ctl['url']} within {POLICY_WAIT}s")
        a = facts["after"][target]
        unobserved("X2", f"GET {a['url']} from the host-network client", a)
        ev = {"client": facts["client"]["pod"], "client_node": facts["client"]["node"],
              "server_node": facts["server_node"], "url": a["url"], "before_policy": before["mode"],
              "after_policy": a["mode"], "policies": facts["policies"]}
        failures = []
        if a["ok"]:
            failures.append(("host_network_client_answered",
                             f"{a['url']} answers the host-network pod on {facts['client']['node']} despite the "
                             f"policy", a["mode"]))
        return failures, ev, (f"the policy blocks {a['url']} ({a['mode']}) for the host-network pod on "
                              f"{facts['client']['node']}, which reached it before the policy")
    return judge


@observer("x2-policy", "X2")
def _setup(world):
    """The set-up, recorded once for both tests."""
    require_pod_network(world)
    _, client_node = two_workers(world)
    client = world.node_probes.get(client_node)
    if client is None:
        raise NotApplicable(f"no host-network node probe runs on {client_node}")
    return observe("x2", "X2", observe_setup, world.env, world.scenario("x2"), client, world.pod_probe)


judge, judge_control = judge_for("web"), judge_for("open")
observer("x2", "X2")(lambda world: judged(world.observed("x2-policy"), judge))
observer("x2-control", "X2")(lambda world: judged(world.observed("x2-policy"), judge_control))
