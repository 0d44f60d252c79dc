"""C12: hostPID and /proc, /sys. Spec: verdict.CLAIMS["C12"].

Observed on the node of the DaemonSet's first pod: the pods and that node as the API serves them;
an exec in the exporter (its PID 1, the node's PID 1 through /host/proc, the interfaces in
/host/sys, how many processes it sees), an exec in the node probe there (PID 1 and interfaces of
the node itself; null when no node probe runs there) and the exporter's GET of its own /metrics.
Judged: the exporter's PID 1 is the node's (name and start time: a PID namespace of its own starts
its PID 1 later), /host/proc and /host/sys show the node's, node_uname_info names the node's OS
hostname. No node probe, an exec without an exit status, a node PID 1 the probe could not read:
nothing was observed (ERROR)."""
from __future__ import annotations

from dataclasses import asdict

from .. import facts as cluster_facts, probes
from ..environment import Env, exec_pods, exec_pod, node_json
from ..scenarios import observer
from ..verdict import ClusterError
from ..waiting import each
from ..world import VENDOR_PORT, ds_of
from .base import exec_failed, run, serialize, unobserved

# What the exporter sees, then what the node shows, each one exec; sections split by a line "@@".
# Each interface: its name, its MAC, and "bridge" for a bridge.
_IFS = 'for i in {}/*; do echo "${{i##*/}} $(cat $i/address)$([ -d $i/bridge ] && echo " bridge")"; done'
C12_EXPORTER = ("cat /proc/1/stat; echo @@; cat /host/proc/1/stat; echo @@; "
                + _IFS.format("/host/sys/class/net") + "; echo @@; ls -d /proc/[0-9]* | wc -l")
C12_NODE = "cat /host/proc/1/stat; echo @@; " + _IFS.format("/sys/class/net")


def observe(env: Env, ns: str, ds: str, port: int, node_probes: dict) -> dict:
    found = exec_pods(env, ns, ds)
    facts: dict = {"pods": serialize(found), "port": port}
    if not found:
        return facts
    p, node = found[0], found[0].spec.node_name
    calls = {"exporter": lambda: asdict(exec_pod(env, p, "sh", "-c", C12_EXPORTER)),
             "metrics": lambda: probes.http_get(env.core, probes.of_pod(p), probes.url("127.0.0.1", port, "/metrics"))}
    if node in node_probes:
        calls["node_probe"] = lambda: asdict(node_probes[node].run(env.core, "sh", "-c", C12_NODE))
    got = each(lambda call: call(), calls)
    # only node_uname_info is judged: the rest of /metrics (thousands of lines) is not kept
    got["metrics"]["body"] = "\n".join(ln for ln in got["metrics"]["body"].splitlines()
                                       if ln.startswith("node_uname_info"))
    return {**facts, "node": node_json(env, node), "exporter": got["exporter"],
            "node_probe": got.get("node_probe"), "metrics": got["metrics"]}


def _sections(text: str, n: int) -> list[str]:
    parts = [x.strip() for x in text.split("@@\n")]
    return (parts + [""] * n)[:n]


def _interfaces(text: str) -> dict[str, tuple[str, bool]]:
    """{name: (MAC, is a bridge)} from lines "name MAC" or "name MAC bridge" (recorded before
    2026-12-04: MAC alone)."""
    out = {}
    for ln in text.splitlines():
        name, *rest = ln.split() or [""]
        if rest:
            out[name] = (rest[0], "bridge" in rest[1:])
    return out


def judge(facts: dict) -> tuple[list, dict, str]:
    if not facts["pods"]:
        return [("no_pods", "no DaemonSet pods")], {}, ""
    p = facts["pods"][0]
    pod, node = p["metadata"]["name"], (p.get("spec") or {}).get("nodeName")
    if facts["node_probe"] is None:
        raise ClusterError(f"C12: no node probe runs on {node}, so the node's view cannot be read")
    for key, what in (("exporter", "exporter"), ("node_probe", "node")):
        exec_failed(f"C12: the exec into the {what} pod on {node}", facts[key], any_exit=False)
    unobserved("C12", f"GET :{facts['port']}/metrics in {pod}", facts["metrics"])
    exporter_out, node_out = facts["exporter"]["stdout"], facts["node_probe"]["stdout"]
    unames = [ln for ln in facts["metrics"]["body"].splitlines() if ln.startswith("node_uname_info")]
    uname = unames[0] if unames else None
    # uname's nodename is the OS hostname: the node's Hostname address, not its name when the
    # kubelet runs with --hostname-override (as C14)
    hostname = cluster_facts.os_hostname(facts["node"])

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
    # a bridge's MAC is its lowest port's unless set, so it changes as pods' veths come and go
    # between the two reads (seen on one node: kube-bridge's differed, C12 FAIL on a true claim);
    # the other interfaces' MACs are fixed for their life
    bridges = sorted(n for n in set(mine) & set(theirs) if mine[n][1] or theirs[n][1])
    common = sorted(n for n in set(mine) & set(theirs) if n != "lo" and n not in bridges)
    ev.update(host_sys_interfaces=sorted(mine), node_interfaces=sorted(theirs))
    if bridges:
        ev["bridges_not_compared"] = bridges
    differ = [n for n in common if mine[n][0] != theirs[n][0]]
    if not common or differ:
        failures.append(("sys_mount_not_node",
                         f"/host/sys/class/net in the exporter {sorted(mine)} is not the node's {sorted(theirs)}"
                         + (f" (MAC of {differ} differs)" if differ else "")))
    ev["node_uname_info"] = uname[:200] if uname else None
    ev["node_hostname_address"] = hostname
    if not uname or f'nodename="{hostname}"' not in uname:
        failures.append(("uname_wrong_node", f"node_uname_info lacks nodename=\"{hostname}\" (node {node})"))
    ev["pod"] = pod
    return failures, ev, (f"PID 1 is the node's {truth['comm']} (same start time); /host/proc and /host/sys show "
                          f"the node's; node_uname_info names {hostname}")


observer("c12", "C12")(lambda world: run("c12", "C12", judge, observe, world.env, *ds_of(world, "vendor"),
                                         VENDOR_PORT, world.node_probes))
observer("c12-control", "C12")(lambda world: run("c12-control", "C12", judge, observe, world.env,
                                                 *ds_of(world, "no-hostpid"), world.ports.port_for("no-hostpid"),
                                                 world.node_probes))
