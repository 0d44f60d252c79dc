"""C12: hostPID and /proc, /sys. Its spec is verdict.CLAIMS["C12"]; this module observes the cluster and judges."""
from __future__ import annotations

import time

from .. import facts as cluster_facts, probes
from ..environment import Env, ds_pods, exec_pod, node_json
from ..scenarios import observer
from ..verdict import ClusterError, Verdict
from ..waiting import each
from ..world import VENDOR_PORT, ds_of
from .base import unobserved, verdict

# What the exporter sees, then what the node shows, each one exec; sections split by a line "@@".
C12_EXPORTER = ("cat /proc/1/stat; echo @@; cat /host/proc/1/stat; echo @@; "
                "for i in /host/sys/class/net/*; do echo \"${i##*/} $(cat $i/address)\"; done; echo @@; "
                "ls -d /proc/[0-9]* | wc -l")
C12_NODE = "cat /host/proc/1/stat; echo @@; for i in /sys/class/net/*; do echo \"${i##*/} $(cat $i/address)\"; done"


def _sections(text: str, n: int) -> list[str]:
    parts = [x.strip() for x in text.split("@@\n")]
    return (parts + [""] * n)[:n]


def _interfaces(text: str) -> dict[str, str]:
    return dict(ln.split(" ", 1) for ln in text.splitlines() if " " in ln.strip())


def judge_c12(node: str, hostname: str, exporter_out: str, node_out: str, uname: str | None) -> tuple[list, dict, str]:
    """C12 on what was read: the exporter's PID 1 (its own /proc), the node's PID 1 through the
    exporter's /host/proc and through the node probe's view of the node's /, the interfaces (name,
    MAC) in the exporter's /host/sys and in the node's own network namespace, node_uname_info.
    Identity by PID 1's name and start time: a PID namespace of its own starts its PID 1 later."""
    failures, ev = [], {}
    own1, host1, ifs, nprocs = _sections(exporter_out, 4)
    node1, node_ifs = _sections(node_out, 2)
    own, via_mount, truth = probes.parse_stat(own1), probes.parse_stat(host1), probes.parse_stat(node1)
    ev.update(node=node, pid1=own, node_pid1=truth, host_proc_pid1=via_mount,
              processes_visible=int(nprocs) if nprocs.isdigit() else None)
    if truth is None:
        raise ClusterError(f"C12: the node probe on {node} could not read the node's /proc/1/stat: {node_out[:200]!r}")
    if own != truth:
        failures.append(("pid1_not_node_init", f"PID 1 in the exporter is {own and own['comm']!r} started at "
                                               f"{own and own['start']}, not the node's {truth['comm']!r} started at "
                                               f"{truth['start']}: no host PID namespace"))
    if via_mount != truth:
        failures.append(("proc_mount_not_node", f"/host/proc/1/stat in the exporter shows {via_mount}, not the "
                                                f"node's PID 1 {truth}"))
    mine, theirs = _interfaces(ifs), _interfaces(node_ifs)
    common = sorted(n for n in set(mine) & set(theirs) if n != "lo")
    ev.update(host_sys_interfaces=sorted(mine), node_interfaces=sorted(theirs))
    differ = [n for n in common if mine[n] != theirs[n]]
    if not common or differ:
        failures.append(("sys_mount_not_node",
                         f"/host/sys/class/net in the exporter {sorted(mine)} is not the node's {sorted(theirs)}"
                         + (f" (MAC of {differ} differs)" if differ else "")))
    ev["node_uname_info"] = uname[:200] if uname else None
    # uname's nodename is the OS hostname: the node's Hostname address, not its name when the
    # kubelet runs with --hostname-override (as C14)
    ev["node_hostname_address"] = hostname
    if not uname or f'nodename="{hostname}"' not in uname:
        failures.append(("uname_wrong_node", f"node_uname_info lacks nodename=\"{hostname}\" (node {node})"))
    return failures, ev, (f"PID 1 is the node's {truth['comm']} (same start time); /host/proc and /host/sys show "
                          f"the node's; node_uname_info names {hostname}")


def check_c12(env: Env, ns: str, ds: str, port: int, node_probes: dict) -> Verdict:
    t0 = time.monotonic()
    pods = ds_pods(env, ns, ds)
    if not pods:
        return verdict("C12", [("no_pods", "no DaemonSet pods")], {}, "", t0)
    p = pods[0]
    node = p.spec.node_name
    if node not in node_probes:
        raise ClusterError(f"C12: no node probe runs on {node}, so the node's view cannot be read")
    got = each(lambda call: call(), {
        "exporter": lambda: exec_pod(env, p, "sh", "-c", C12_EXPORTER),
        "node": lambda: node_probes[node].run(env.core, "sh", "-c", C12_NODE),
        "metrics": lambda: probes.http_get(env.core, probes.of_pod(p), probes.url("127.0.0.1", port, "/metrics"))})
    for key in ("exporter", "node"):
        if got[key].rc < 0:
            raise ClusterError(f"C12: the exec into the {key} pod on {node} delivered no exit status: "
                               f"{(got[key].stderr or got[key].stdout or 'no output').strip()[:200]}")
    unobserved("C12", f"GET :{port}/metrics in {p.metadata.name}", got["metrics"])
    uname = [ln for ln in got["metrics"]["body"].splitlines() if ln.startswith("node_uname_info")]
    failures, ev, ok = judge_c12(node, cluster_facts.os_hostname(node_json(env, node)), got["exporter"].stdout,
                                 got["node"].stdout, uname[0] if uname else None)
    ev["pod"] = p.metadata.name
    return verdict("C12", failures, ev, ok, t0)


observer("c12", "C12")(lambda world: check_c12(world.env, *ds_of(world, "vendor"), VENDOR_PORT, world.node_probes))
observer("c12-control", "C12")(lambda world: check_c12(world.env, *ds_of(world, "no-hostpid"),
                                                      world.ports.port_for("no-hostpid"), world.node_probes))
