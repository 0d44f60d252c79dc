"""C5: the containerPort must match the port the application listens on. Spec: verdict.CLAIMS["C5"].

Observed, on a one-node DaemonSet declaring one containerPort (a hostPort too) and listening on
another (the control: both the same), once it is ready: the DaemonSet and its pods as the API
serves them; GET hostIP:<real port>/metrics and hostIP:<declared port>/metrics from a pod-network
probe; and a pod the suite creates asking for the declared host port on that node, as it was when
the scheduler answered (its spec alone would prove nothing). Judged: the ports differ, metrics
answer on the real port only, the scheduler refuses the asking pod for "free ports" (the declared
port is reserved) and the real port is not reserved."""
from __future__ import annotations

from kubernetes import client

from .. import kube, manifests, probes
from ..environment import Env, deploy, ds_pods, wait_daemonset_ready
from ..scenarios import observer
from ..waiting import wait_until
from ..world import require_pod_network
from .base import run, scheduled, serialize, unobserved


def observe(env: Env, ns: str, ds: str, pod_probe) -> dict:
    wait_daemonset_ready(env, ns, ds)
    obj = serialize(env.cluster.apps.read_namespaced_daemon_set(ds, ns))
    pods = ds_pods(env, ns, ds)
    facts = {"daemonset": obj, "pods": serialize(pods)}
    if not pods:
        return facts
    p = pods[0]
    declared, listening = manifests.declared_port(obj), manifests.listen_port(obj)
    got = probes.http_get_many(env.core, pod_probe, {"real": probes.url(p.status.host_ip, listening, "/metrics"),
                                                     "declared": probes.url(p.status.host_ip, declared, "/metrics")})
    # the judge reads whether each port answered, not the metrics page (tens of kilobytes)
    facts.update({k: {**r, "body": r["body"][:200]} for k, r in got.items()})
    facts["pod_asking_declared_port"] = serialize(_asking_pod(env, ns, p.spec.node_name, declared))
    return facts


def _asking_pod(env: Env, ns: str, node: str, port: int, timeout: float = 60):
    """Create a pod (the probe image, sleeping) that asks for host port `port` on `node` through the
    scheduler (required affinity on the node's name), and return it as it is once the scheduler has
    answered: PodScheduled True, or False with reason Unschedulable. No answer within `timeout` is
    ERROR (WaitTimeout)."""
    name = f"asks-{port}"
    pod = manifests.on_one_node({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
        "spec": {"terminationGracePeriodSeconds": 0, "tolerations": [{"operator": "Exists"}],
                 "containers": [{"name": "sleep", "image": env.probe_image, "imagePullPolicy": "IfNotPresent",
                                 "command": ["sleep", "3600"], "ports": [{"containerPort": port, "hostPort": port}],
                                 "resources": {"requests": {"cpu": "1m", "memory": "4Mi"}}}]}}, node)
    deploy(env, ns, pod)

    def answered():
        p = env.core.read_namespaced_pod(name, ns)
        cond = scheduled(p)
        return p if cond is not None and (cond.status == "True" or cond.reason == "Unschedulable") else None

    return wait_until(answered, timeout=timeout, what=f"the scheduler's answer on {ns}/{name}",
                      describe=lambda: kube.describe_pods(env.core, ns), retry_on=(client.ApiException,))


def _scheduler_answer(pod: dict) -> str:
    """'scheduled', or 'Unschedulable: <the scheduler's message>'."""
    cond = next(c for c in pod["status"]["conditions"] if c["type"] == "PodScheduled")
    if cond["status"] == "True":
        return "scheduled"
    return f"{cond['reason']}: {' '.join((cond.get('message') or '').split())}"


def judge(facts: dict) -> tuple[list, dict, str]:
    failures, ev = [], {}
    if not facts["pods"]:
        failures.append(("no_pods", "no DaemonSet pods"))
        return failures, ev, ""
    obj, p = facts["daemonset"], facts["pods"][0]
    declared, listening = manifests.declared_port(obj), manifests.listen_port(obj)
    ip, node = p["status"]["hostIP"], p["spec"]["nodeName"]
    real, decl = facts["real"], facts["declared"]
    unobserved("C5", f"GET {ip}:{listening} and :{declared} from a pod", real)
    unobserved("C5", f"GET {ip}:{listening} and :{declared} from a pod", decl)
    host_ports = sorted(pp["hostPort"] for cc in p["spec"]["containers"] for pp in cc.get("ports") or []
                        if pp.get("hostPort"))
    ev.update(node=node, declared=declared, listening=listening, reserved_host_ports=host_ports,
              real_port_answers=real["ok"], declared_port_answers=decl["ok"])
    if declared == listening:
        failures.append(("ports_equal", f"declared port {declared} equals the listen port: nothing to mismatch"))
    if not real["ok"]:
        failures.append(("real_port_silent", f"metrics do not answer on the real port {listening}: {real['error']}",
                         real["mode"]))
    if decl["ok"]:
        failures.append(("declared_port_answers", f"metrics answer on the declared port {declared}", decl["mode"]))
    # the reservation as the scheduler shows it: the asking pod stays Pending, "didn't have free ports"
    outcome = _scheduler_answer(facts["pod_asking_declared_port"])
    ev["pod_asking_declared_port"] = outcome
    if not outcome.startswith("Unschedulable") or "free ports" not in outcome:
        failures.append(("declared_not_reserved", f"a pod asking for host port {declared} on {node} "
                                                  f"was not refused for it: {outcome}"))
    if listening in host_ports and declared != listening:
        failures.append(("real_port_reserved", f"the real port {listening} is reserved too"))
    return failures, ev, (f"answers on real :{listening} only; a pod asking for :{declared} on {node} stays "
                          f"Pending: {outcome[:120]}")


def _c5(world, key):
    require_pod_network(world)   # observed through the pod network: a precondition
    return run(key, "C5", judge, observe, world.env, world.scenario(key), "node-exporter", world.pod_probe)


observer("c5", "C5")(lambda world: _c5(world, "c5"))   # the vendor's DaemonSet declaring one port, listening on another
observer("c5-control", "C5")(lambda world: _c5(world, "c5-control"))   # declared == listening
