"""What a failed test leaves behind for whoever reads the report: the namespace's events, each
pod's status and conditions, current and previous container logs, the conditions of the nodes
involved, and which ports are bound on them."""
from __future__ import annotations

from kubernetes import client

from . import kube, probes


def _logs(core: client.CoreV1Api, ns: str, pod, tail: int = 40) -> list[str]:
    out = []
    for cs in pod.status.container_statuses or []:
        for previous in (False, True):
            if previous and not cs.restart_count:
                continue
            try:
                text = core.read_namespaced_pod_log(pod.metadata.name, ns, container=cs.name,
                                                    previous=previous, tail_lines=tail)
            except client.ApiException as e:
                text = f"(no log: HTTP {e.status})"
            label = "previous" if previous else "current"
            out.append(f"--- log {pod.metadata.name}/{cs.name} ({label})")
            out += text.splitlines()[-tail:]
    return out


def namespace_report(core: client.CoreV1Api, ns: str) -> list[str]:
    lines = [f"===== namespace {ns}"]
    try:
        pods = core.list_namespaced_pod(ns).items
    except client.ApiException as e:
        return lines + [f"(cannot list pods: HTTP {e.status})"]
    for p in pods:
        conds = ", ".join(f"{c.type}={c.status}" + (f"({c.reason}: {c.message})" if c.reason else "")
                          for c in p.status.conditions or [])
        lines.append(f"pod {p.metadata.name} node={p.spec.node_name} phase={p.status.phase} "
                     f"reason={p.status.reason} podIP={p.status.pod_ip} hostIP={p.status.host_ip}")
        lines.append(f"  conditions: {conds}")
        for cs in p.status.container_statuses or []:
            lines.append(f"  container {cs.name}: state={cs.state.to_dict()} restarts={cs.restart_count} "
                         f"last={cs.last_state.to_dict() if cs.last_state else None}")
        lines += _logs(core, ns, p)
    lines.append("--- events")
    for e in kube.events(core, ns):
        lines.append(f"{e.type} {e.reason} {e.involved_object.kind}/{e.involved_object.name} "
                     f"x{e.count or 1}: {(e.message or '').strip()}")
    return lines


def nodes_report(core: client.CoreV1Api, node_probes: dict | None, node_names: set[str]) -> list[str]:
    lines = ["===== nodes"]
    for n in core.list_node().items:
        if node_names and n.metadata.name not in node_names:
            continue
        conds = ", ".join(f"{c.type}={c.status}" for c in n.status.conditions or [])
        lines.append(f"node {n.metadata.name} ip={kube.node_internal_ip(n)} taints="
                     f"{[t.key for t in n.spec.taints or []]} conditions: {conds}")
        probe = (node_probes or {}).get(n.metadata.name)
        if probe is not None:
            try:
                ports = sorted(probes.listening_ports(core, probe))
                lines.append(f"  listening TCP ports: {ports}")
            except Exception as e:  # noqa: BLE001 - diagnostics must never mask the real failure
                lines.append(f"  listening ports unavailable: {type(e).__name__}")
    return lines


def collect(core: client.CoreV1Api, namespaces: list[str], node_probes: dict | None = None) -> str:
    lines: list[str] = []
    nodes: set[str] = set()
    for ns in namespaces:
        try:
            lines += namespace_report(core, ns)
            nodes |= {p.spec.node_name for p in core.list_namespaced_pod(ns).items if p.spec.node_name}
        except Exception as e:  # noqa: BLE001
            lines.append(f"(diagnostics for {ns} failed: {type(e).__name__}: {e})")
    try:
        lines += nodes_report(core, node_probes, nodes)
    except Exception as e:  # noqa: BLE001
        lines.append(f"(node diagnostics failed: {type(e).__name__})")
    return "\n".join(lines)
