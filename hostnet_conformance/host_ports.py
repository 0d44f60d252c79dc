"""The nodes' host ports: which ones the cluster's pods declare and the nodes listen on, the ports
the run takes around them (choose_ports), the port each host-network probe answers on, and the pod
that holds C15's control port on the first worker before the control's DaemonSet is made.

ports.py does the allocation and parses /proc/net; this module asks the cluster. A function that
takes `w` takes the run's World (world.py); world.py imports this module, never the reverse."""
from __future__ import annotations

from kubernetes import client

from . import kube, probes, signals
from .environment import Env
from .manifests import VENDOR_PORT
from .ports import PortAllocator, listening_ports
from .waiting import each


def pod_host_ports(p) -> set[int]:
    """The node ports a pod takes: its hostPorts, and with hostNetwork its containerPorts too."""
    out = set()
    for c in p.spec.containers or []:
        for cp in c.ports or []:
            if cp.host_port:
                out.add(cp.host_port)
            elif p.spec.host_network and cp.container_port:
                out.add(cp.container_port)
    return out


def declared_host_ports(env: Env) -> tuple[dict, str | None]:
    """{port: ['ns/pod on node', ...]} for every hostPort a pod of the cluster declares (what the
    scheduler reserves), and why it is unknown (RBAC) if it is."""
    try:
        pods = env.core.list_pod_for_all_namespaces(field_selector="status.phase!=Succeeded,status.phase!=Failed").items
    except client.ApiException as e:
        return {}, f"pods of other namespaces not listable (HTTP {e.status} {e.reason})"
    out: dict = {}
    for p in pods:
        for port in sorted(pod_host_ports(p)):
            out.setdefault(port, []).append(f"{p.metadata.namespace}/{p.metadata.name} on "
                                            f"{p.spec.node_name or '(unscheduled)'}")
    return out, None


def listening_on_nodes(w) -> dict[int, list[str]]:
    """{port: [node, ...]} of the sockets listening (TCP) or bound (UDP) on each node, read by its
    host-network probe from /proc/net; a node whose probe cannot read them is left out (and said)."""
    out: dict = {}
    unread = []
    read = each(lambda probe: probe.run(w.env.core, "cat", "/proc/net/tcp", "/proc/net/tcp6", "/proc/net/udp",
                                        "/proc/net/udp6"), dict(w.node_probes))
    for node, r in sorted(read.items()):
        if not r.stdout:
            unread.append(f"{node} ({(r.stderr or 'no output').strip()[:80]})")
            continue
        for port in listening_ports(r.stdout):
            out.setdefault(port, []).append(node)
    if unread:
        w.env.cluster.facts["host_ports_unread"] = unread
    return out


def choose_ports(w, port_base: int, keys) -> None:
    """Host ports for the suite's variants that no node listens on and no pod declares, one per
    key of `keys` (world.PORT_KEYS), and a report of the vendor's 20000 (the page's port) when
    something already holds it."""
    declared, why = declared_host_ports(w.env)
    listening = listening_on_nodes(w)
    in_use = set(declared) | set(listening)
    w.ports = PortAllocator(port_base, keys, avoid=[p for p in in_use if p >= port_base])
    facts = w.env.cluster.facts
    skipped = sorted(p for p in in_use if port_base <= p <= max(w.ports.ports))
    facts["host_ports"] = {"base": port_base, "skipped_in_use": skipped, "declared_unknown": why} if why else \
        {"base": port_base, "skipped_in_use": skipped}
    holders = [f"listening on {', '.join(listening[VENDOR_PORT])}"] if VENDOR_PORT in listening else []
    holders += [f"declared by {', '.join(declared[VENDOR_PORT])}"] if VENDOR_PORT in declared else []
    facts["vendor_port_20000"] = ("in use before the suite deployed anything: " + "; ".join(holders)) if holders \
        else "free on every node"


def serve_probe_port(w) -> None:
    """Each host-network probe answers 'ok' on its port (the pod-network precondition's target)."""
    port = w.ports.port_for("probe-http")
    each(lambda probe: probe.run(w.env.core, "sh", "-c", f"mkdir -p /tmp/www && echo ok > /tmp/www/index.html && "
                                                         f"httpd -p {port} -h /tmp/www"), dict(w.node_probes))


def make_port_holder(w) -> str:
    """The pod holding C15's control port on the first worker: the vendor's pod template, bound to
    the node (no scheduler), declaring the port it listens on. Made before anything else takes a
    host port, so it is the first pod the kubelet starts there. Returns its namespace."""
    return w.pinned_pod("port-held-holder", w.ports.port_for("port-held"), w.workers[0])


def await_port_holder(w, ns: str) -> str | None:
    """Wait for the holder to run (the variant must come after it). Returns why it could not run
    (the cluster's words), else None."""
    try:
        probes.pod_running(w.env.core, ns, "pinned", timeout=60)
    except (AssertionError, signals.TerminalSignal) as e:   # WaitTimeout is an AssertionError
        return f"the pod holding port {w.ports.port_for('port-held')} on {w.workers[0]} did not run: {kube.first_line(e)}"
    return None
