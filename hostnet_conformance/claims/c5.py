"""C5: containerPort vs real port. Its spec is verdict.CLAIMS["C5"]; this module observes the cluster and judges."""
from __future__ import annotations

import time

from kubernetes import client

from .. import kube, manifests, probes
from ..environment import Env, deploy, ds_pods, wait_daemonset_ready
from ..scenarios import observer
from ..verdict import Verdict
from ..waiting import wait_until
from ..world import require_pod_network
from .base import scheduled, unobserved, verdict

def check_c5(env: Env, ns: str, ds: str, pod_probe) -> Verdict:
    """The claim holds when the declared containerPort and the real listen port differ: metrics
    answer on the real port only, and the scheduler reserves (guards) only the declared one."""
    t0, failures, ev = time.monotonic(), [], {}
    # read the live object back as a manifest dict, so the manifests module's parsers serve here too
    obj = env.cluster.api.sanitize_for_serialization(env.cluster.apps.read_namespaced_daemon_set(ds, ns))
    declared, listening = manifests.declared_port(obj), manifests.listen_port(obj)
    pods = ds_pods(env, ns, ds)
    if not pods:
        return verdict("C5", [("no_pods", "no DaemonSet pods")], ev, "", t0)
    p = pods[0]
    ip = p.status.host_ip
    got = probes.http_get_many(env.core, pod_probe, {"real": probes.url(ip, listening, "/metrics"),
                                                     "declared": probes.url(ip, declared, "/metrics")})
    real, decl = got["real"], got["declared"]
    unobserved("C5", f"GET {ip}:{listening} and :{declared} from a pod", real)
    host_ports = sorted(pp.host_port for cc in p.spec.containers for pp in (cc.ports or []) if pp.host_port)
    ev.update(node=p.spec.node_name, declared=declared, listening=listening, reserved_host_ports=host_ports,
              real_port_answers=real["ok"], declared_port_answers=decl["ok"])
    if declared == listening:
        failures.append(("ports_equal", f"declared port {declared} equals the listen port: nothing to mismatch"))
    if not real["ok"]:
        failures.append(("real_port_silent", f"metrics do not answer on the real port {listening}: {real['error']}",
                         real["mode"]))
    if decl["ok"]:
        failures.append(("declared_port_answers", f"metrics answer on the declared port {declared}", decl["mode"]))
    # the reservation as the scheduler shows it: a pod asking for the declared port on that node stays
    # Pending, "didn't have free ports" (its spec alone would prove nothing)
    outcome = _scheduling_outcome(env, ns, p.spec.node_name, declared)
    ev["pod_asking_declared_port"] = outcome
    if not outcome.startswith("Unschedulable") or "free ports" not in outcome:
        failures.append(("declared_not_reserved", f"a pod asking for host port {declared} on {p.spec.node_name} "
                                                  f"was not refused for it: {outcome}"))
    if listening in host_ports and declared != listening:
        failures.append(("real_port_reserved", f"the real port {listening} is reserved too"))
    return verdict("C5", failures, ev, f"answers on real :{listening} only; a pod asking for :{declared} on "
                   f"{p.spec.node_name} stays Pending: {outcome[:120]}", t0)


def _scheduling_outcome(env: Env, ns: str, node: str, port: int, timeout: float = 60) -> str:
    """Create a pod (the probe image, sleeping) that asks for host port `port` on `node` through the
    scheduler (required affinity on the node's name), and return the scheduler's answer:
    'Unschedulable: <its message>' or 'scheduled'. No answer within `timeout` is ERROR (WaitTimeout)."""
    name = f"asks-{port}"
    pod = manifests.on_one_node({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
        "spec": {"terminationGracePeriodSeconds": 0, "tolerations": [{"operator": "Exists"}],
                 "containers": [{"name": "sleep", "image": env.probe_image, "imagePullPolicy": "IfNotPresent",
                                 "command": ["sleep", "3600"], "ports": [{"containerPort": port, "hostPort": port}],
                                 "resources": {"requests": {"cpu": "1m", "memory": "4Mi"}}}]}}, node)
    deploy(env, ns, pod)

    def decided():
        cond = scheduled(env.core.read_namespaced_pod(name, ns))
        if cond is None:
            return None
        if cond.status == "True":
            return "scheduled"
        return f"{cond.reason}: {' '.join((cond.message or '').split())}" if cond.reason == "Unschedulable" else None

    return wait_until(decided, timeout=timeout, what=f"the scheduler's answer on {ns}/{name}",
                      describe=lambda: kube.describe_pods(env.core, ns), retry_on=(client.ApiException,))


def _c5(world, key):
    require_pod_network(world)   # observed through the pod network: a precondition
    ns = world.scenario(key)
    wait_daemonset_ready(world.env, ns, "node-exporter")
    return check_c5(world.env, ns, "node-exporter", world.pod_probe)


observer("c5", "C5")(lambda world: _c5(world, "c5"))   # the vendor's DaemonSet declaring one port, listening on another
observer("c5-control", "C5")(lambda world: _c5(world, "c5-control"))   # declared == listening
