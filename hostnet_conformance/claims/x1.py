"""X1 (extra, --extra): a NodePort Service on a port a host-network pod listens on takes
nodeIP:port away from that pod. Spec: verdict.CLAIMS["X1"]; the pitfall: kubernetes/kubernetes#100643
("holding the port open won't work because iptables resolves first").

Observed (scenarios.x1): the host-network pod Running, its port (env PORT), the LISTEN sockets of its
node on that port (the node's /proc/net/tcp and tcp6, read in the pod: it shares the node's network
namespace), the Service and its node port, then GETs of nodeIP:port from the pod-network probe until
one is answered by the side the check waits for (the claim: the Service's backend, once kube-proxy has
programmed it; the control: the host-network pod), or the wait ends; the last answer is kept.
Judged: the node listens on the port (else the suite's own pod failed: ERROR), and the GET is answered
by the Service's backend, not by the host-network pod. The control, the same pod on a port no Service
holds, must be answered by that pod."""
from __future__ import annotations

from .. import probes
from ..scenarios import X1_BACKEND, X1_HOST, observer
from ..verdict import ClusterError
from ..waiting import WaitTimeout, wait_until
from ..world import require_pod_network
from .base import kept_get, run, unobserved

# how long kube-proxy may take to program the Service's node port before its absence is observed
SERVICE_WAIT = 45


def listening(proc_net_tcp: str, port: int) -> list[str]:
    """The LISTEN lines of /proc/net/tcp(6) whose local port is `port` (probes.parse_listening_ports
    reads each line), kept whole as evidence."""
    return [line.strip() for line in proc_net_tcp.splitlines() if probes.parse_listening_ports(line) == {port}]


def observe(env, ns: str, pod_name: str, probe, service: str | None) -> dict:
    pod = probes.pod_running(env.core, ns, pod_name)
    port = int(next(e.value for e in pod.spec.containers[0].env if e.name == "PORT"))
    r = probes.of_pod(pod).run(env.core, "cat", "/proc/net/tcp", "/proc/net/tcp6", timeout=20)
    if r.rc != 0:
        raise ClusterError(f"cat /proc/net/tcp in the suite's pod {ns}/{pod_name} exited {r.rc}: "
                           f"{(r.stderr or r.stdout).strip()[:200]}")
    svc = None
    if service:
        s = env.core.read_namespaced_service(service, ns)
        svc = {"name": service, "type": s.spec.type, "node_port": s.spec.ports[0].node_port}
    url = probes.url(pod.status.host_ip, port)
    want = X1_BACKEND if service else X1_HOST
    last: dict = {}

    def answered():
        last["get"] = got = probes.http_get(env.core, probe, url, timeout=3)
        return got["mode"] != probes.EXEC_ERROR and want in (got.get("body") or "")

    waited = None
    try:
        wait_until(answered, timeout=SERVICE_WAIT, interval=1.0, what=f"GET {url} answered by {want}",
                   describe=lambda: f"last answer: {last.get('get')}")
    except WaitTimeout as e:
        if "get" not in last:
            raise
        waited = e.in_words()
    got = last["get"]
    return {"pod": pod_name, "node": pod.spec.node_name, "node_ip": pod.status.host_ip,
            "host_network": bool(pod.spec.host_network), "port": port, "listening": listening(r.stdout, port),
            "service": svc, "url": url, "waited_for": want, "wait": waited,
            "answer": kept_get(url, got)}


def judge(facts: dict) -> tuple[list, dict, str]:
    failures = []
    pod, port, node, url = facts["pod"], facts["port"], facts["node"], facts["url"]
    if not facts["listening"]:
        raise ClusterError(f"the suite's host-network pod {pod} runs but nothing listens on port {port} of {node} "
                           f"(no LISTEN socket in its /proc/net/tcp): nothing about the Service was observed")
    svc, a = facts["service"], facts["answer"]
    unobserved("X1", f"GET {url}", a)
    body = (a.get("body") or "").strip()
    ev = {"node": node, "port": port, "listening": len(facts["listening"]), "url": url,
          "node_port_service": svc and f"{svc['name']} ({svc['type']}, nodePort {svc['node_port']})",
          "answered_by": ("the Service's backend" if X1_BACKEND in body else "the host-network pod" if X1_HOST in body
                          else a["mode"])}
    if svc is not None and svc["node_port"] != port:
        raise ClusterError(f"the Service {svc['name']} has node port {svc['node_port']}, not the host-network "
                           f"pod's {port}: the suite's set-up is wrong")
    if X1_HOST in body:
        failures.append(("host_pod_answered", f"GET {url} answered by the host-network pod {pod}"
                         + (f" for {SERVICE_WAIT}s after the NodePort Service was made" if svc else "")))
    elif X1_BACKEND not in body:
        failures.append(("no_answer", f"GET {url}: {a['mode']}: {a.get('error') or body[:80]}", a["mode"]))
    return failures, ev, (f"GET {url} answered by the Service's backend, though {pod} listens on {port} on {node} "
                          f"(nodePort {port})")


def _x1(world, pod: str, service: str | None):
    require_pod_network(world)   # the GET goes from a pod-network probe to the node's address
    return run("x1" if service else "x1-control", "X1", judge, observe, world.env, world.scenario("x1"), pod,
               world.pod_probe, service)


observer("x1", "X1")(lambda world: _x1(world, "x1-host", "x1-nodeport"))
observer("x1-control", "X1")(lambda world: _x1(world, "x1-host-control", None))
