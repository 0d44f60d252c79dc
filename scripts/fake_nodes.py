#!/usr/bin/env python3
"""Add simulated nodes to a kind cluster, and remove them again (issue 22: a 300-node cluster on one machine).

kwok (sigs.k8s.io/kwok, built offline on demand: `bash scripts/offline/build-kwok.sh`) runs
as a background process on this machine and plays the kubelet of every node annotated
kwok.x-k8s.io/node=fake: it keeps them Ready (leases, heartbeats) and marks the pods bound to them
Running. The nodes carry no taint, so DaemonSets place a pod on each, as on a real cluster.

    scripts/fake_nodes.py add --kubeconfig K --context kind-hnc-dev --count 300
    scripts/fake_nodes.py remove --kubeconfig K --context kind-hnc-dev

Nothing leaves the machine: the context's API server must be on loopback (kind's is), kwok gets a
kubeconfig with that context alone and no proxy settings, and it serves nothing (no --server-address,
no --node-port: it opens no port). The fake nodes' addresses are loopback ones (127.100.0.0/16), so the
host-network pods on them have loopback IPs; a pod that is not host-network gets one from its node's
podCIDR (the cluster's pod network, allocated by kube-controller-manager) or, without one, from
127.101.0.0/16 (--cidr). The suite never picks a simulated node to exec into (sampling.simulated).

kwok's pid, log and kubeconfig are in --state-dir (one per context); `remove` stops that kwok.

Exit status: 0 done, 1 the cluster did not get there in time (or kwok exited), 2 bad input (one line
on stderr)."""
from __future__ import annotations

import argparse
import ipaddress
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kubernetes import client, config  # noqa: E402

from hostnet_conformance import kube  # noqa: E402
from hostnet_conformance.waiting import WaitTimeout, wait_until  # noqa: E402

PREFIX = "hnc-fake-"
FAKE_LABEL = "hostnet-conformance/fake-node"   # sampling.SIMULATED_LABEL
KWOK_ANNOTATION = "kwok.x-k8s.io/node"          # sampling.KWOK_ANNOTATION
SELECTOR = f"{FAKE_LABEL}=true"
ZONES = ("hnc-fake-zone-a", "hnc-fake-zone-b", "hnc-fake-zone-c")
NODE_IPS = ipaddress.ip_network("127.100.0.0/16")   # node i: its (i+1)th address
POD_CIDR = "127.101.0.0/16"                         # kwok's --cidr: pods on a node without podCIDR
MAX_COUNT = 5000
LEASE_S = 40   # a kubelet's default nodeLeaseDurationSeconds
CACHE = Path(os.environ.get("HNC_CACHE", "/var/cache/hostnet-conformance"))
# kwok's own capacity defaults are 1k CPUs and 1 TiB; these look like a real worker
CAPACITY = {"cpu": "16", "memory": "64Gi", "pods": "110", "ephemeral-storage": "100Gi"}


class BadInput(Exception):
    """What the user gave cannot be used: one line, exit 2."""


class Failed(Exception):
    """The cluster or kwok did not do what was asked: one line, exit 1."""


# ---------------------------------------------------------------- pure parts (tests/test_fake_nodes.py)
def node_name(i: int) -> str:
    return f"{PREFIX}{i}"


def node_ip(i: int) -> str:
    return str(NODE_IPS[i + 1])


def node_manifest(i: int) -> dict:
    """Node i: kwok's (annotation), ours (label), Linux on amd64 in one of three zones, no taint,
    a loopback address, a worker's capacity. kwok fills in the conditions and nodeInfo (amd64, linux,
    kwok's version as the kubelet's)."""
    name = node_name(i)
    return {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {"type": "kwok", FAKE_LABEL: "true", "kubernetes.io/hostname": name,
                       "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
                       "topology.kubernetes.io/zone": ZONES[i % len(ZONES)]},
            "annotations": {KWOK_ANNOTATION: "fake"},
        },
        "spec": {},
        "status": {
            "addresses": [{"type": "InternalIP", "address": node_ip(i)}, {"type": "Hostname", "address": name}],
            "capacity": dict(CAPACITY), "allocatable": dict(CAPACITY),
        },
    }


def ours(node) -> bool:
    """A node this script made: our label and kwok's annotation (a real node someone labelled is never deleted)."""
    labels, notes = node.metadata.labels or {}, node.metadata.annotations or {}
    return labels.get(FAKE_LABEL) == "true" and notes.get(KWOK_ANNOTATION) == "fake"


def on_loopback(server: str) -> bool:
    host = urlsplit(server).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _named(items: list | None, name: str | None, what: str) -> dict:
    for item in items or []:
        if item.get("name") == name:
            return item
    raise BadInput(f"the kubeconfig has no {what} {name!r}")


def kwok_kubeconfig(doc: dict, context: str, base: Path) -> dict:
    """The kubeconfig kwok gets: `context` alone (kwok has no --context), made current, relative file
    paths made absolute (against the kubeconfig's directory). Refused: an API server off loopback,
    a proxy."""
    ctx = _named((doc or {}).get("contexts"), context, "context")
    cluster = _named(doc.get("clusters"), (ctx.get("context") or {}).get("cluster"), "cluster")
    server = (cluster.get("cluster") or {}).get("server") or ""
    if not on_loopback(server):
        raise BadInput(f"context {context}'s API server {server or '(none)'} is not on loopback: "
                       "kwok talks to a kind cluster on this machine only")
    if (cluster.get("cluster") or {}).get("proxy-url"):
        raise BadInput(f"context {context} goes through a proxy (proxy-url): kwok talks to the API server directly")
    user_name = (ctx.get("context") or {}).get("user")
    user = _named(doc.get("users"), user_name, "user") if user_name else None
    out = {"apiVersion": "v1", "kind": "Config", "current-context": context, "preferences": {},
           "contexts": [ctx], "clusters": [_absolute(cluster, "cluster", ("certificate-authority",), base)],
           "users": [_absolute(user, "user", ("client-certificate", "client-key", "tokenFile"), base)] if user else []}
    return out


def _absolute(entry: dict, key: str, fields: tuple[str, ...], base: Path) -> dict:
    inner = dict(entry.get(key) or {})
    for f in fields:
        if inner.get(f) and not os.path.isabs(inner[f]):
            inner[f] = str(base / inner[f])
    return {**entry, key: inner}


def kwok_command(kwok: Path, kubeconfig: Path, stages: Path) -> list[str]:
    """kwok's command line. No --server-address and no --node-port: it serves nothing, opens no port."""
    return [str(kwok), "--kubeconfig", str(kubeconfig), "--config", str(stages),
            f"--manage-nodes-with-annotation-selector={KWOK_ANNOTATION}=fake", f"--cidr={POD_CIDR}",
            # a lease per node, renewed like a kubelet's: the stages heartbeat the node's status only
            # every 10 minutes (node-heartbeat-with-lease), so without leases the node lifecycle
            # controller marks the nodes' pods NotReady after its grace period (seen: 100 nodes, the
            # vendor's DaemonSet never ready)
            f"--node-lease-duration-seconds={LEASE_S}"]


def default_state_dir(context: str) -> Path:
    return Path(tempfile.gettempdir()) / "hostnet-conformance" / "fake-nodes" / re.sub(r"[^A-Za-z0-9_.-]", "_", context)


def count(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= MAX_COUNT:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1 to {MAX_COUNT}, not {text!r}")
    return int(text)


class Parser(argparse.ArgumentParser):
    def error(self, message):   # one line, exit 2 (argparse's own prints the usage too)
        print(f"fake_nodes.py: {message}", file=sys.stderr)
        sys.exit(2)


def parser() -> argparse.ArgumentParser:
    ap = Parser(prog="fake_nodes.py", description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True, parser_class=Parser)
    for name in ("add", "remove"):
        p = sub.add_parser(name)
        p.add_argument("--kubeconfig", required=True)
        p.add_argument("--context", required=True)
        p.add_argument("--state-dir", help="kwok's pid, log and kubeconfig (default: one per context under the temp dir)")
        p.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for the nodes (default 300)")
        if name == "add":
            p.add_argument("--count", type=count, required=True)
            p.add_argument("--kwok", default=str(CACHE / "gobin" / "kwok"))
            p.add_argument("--kwok-stages", default=str(CACHE / "gobin" / "kwok-stages.yaml"))
    return ap


# ---------------------------------------------------------------- the cluster and the kwok process
class State:
    def __init__(self, a: argparse.Namespace):
        self.dir = Path(a.state_dir) if a.state_dir else default_state_dir(a.context)
        self.pid_file, self.log = self.dir / "kwok.pid", self.dir / "kwok.log"
        self.kubeconfig = self.dir / "kwok.kubeconfig"

    def running(self) -> int | None:
        """The pid of the kwok this state dir started, while it runs (checked by its command line,
        so a reused pid is never taken for it)."""
        try:
            pid = int(self.pid_file.read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            stat = Path(f"/proc/{pid}/stat").read_text()
        except (OSError, ValueError):
            return None
        if stat.rsplit(")", 1)[-1].split()[0] == "Z" or str(self.kubeconfig).encode() not in cmdline:
            return None
        return pid


def connect(a: argparse.Namespace, state: State) -> client.CoreV1Api:
    path = Path(a.kubeconfig)
    try:
        doc = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as e:
        raise BadInput(f"cannot read the kubeconfig {path}: {kube.first_line(e)}") from None
    if not isinstance(doc, dict):
        raise BadInput(f"{path} is not a kubeconfig")
    mine = kwok_kubeconfig(doc, a.context, path.resolve().parent)
    state.dir.mkdir(parents=True, exist_ok=True)
    state.kubeconfig.touch(mode=0o600)
    state.kubeconfig.write_text(yaml.safe_dump(mine))
    try:
        api = config.new_client_from_config(str(state.kubeconfig), context=a.context)
    except config.ConfigException as e:
        raise BadInput(f"cannot use context {a.context} of {path}: {kube.first_line(e)}") from None
    return client.CoreV1Api(api)


def rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def kwok_files(a: argparse.Namespace) -> tuple[Path, Path]:
    kwok, stages = Path(a.kwok), Path(a.kwok_stages)
    if not os.access(kwok, os.X_OK):
        raise BadInput(f"no kwok at {kwok}: bash scripts/offline/build-kwok.sh")
    if not stages.is_file():
        raise BadInput(f"no kwok stages at {stages}: bash scripts/offline/build-kwok.sh")
    return kwok, stages


def start_kwok(a: argparse.Namespace, state: State) -> tuple[int, subprocess.Popen | None]:
    if (pid := state.running()) is not None:
        return pid, None
    kwok, stages = kwok_files(a)
    home = state.dir / "home"   # no ~/.kwok/kwok.yaml of the user's: only our stages configure it
    home.mkdir(exist_ok=True)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home)}   # and no proxy variables
    with open(state.log, "wb") as log:
        proc = subprocess.Popen(kwok_command(kwok, state.kubeconfig, stages), stdin=subprocess.DEVNULL,
                                stdout=log, stderr=subprocess.STDOUT, env=env, cwd=state.dir,
                                start_new_session=True)   # outlives this script; `remove` stops it
    state.pid_file.write_text(f"{proc.pid}\n")
    return proc.pid, proc


def last_log_line(state: State) -> str:
    try:
        lines = [ln for ln in state.log.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return "no log"
    return lines[-1][:300] if lines else "an empty log"


def create_node(core: client.CoreV1Api, i: int) -> None:
    try:
        core.create_node(node_manifest(i))
    except client.ApiException as e:
        if e.status != 409:
            raise
        if not ours(core.read_node(node_name(i))):
            raise Failed(f"a node {node_name(i)} exists that this script did not make") from None


def settled(core: client.CoreV1Api, timeout: float) -> None:
    """Wait until every kube-system pod is bound to a node. A fake node is untainted, so that
    DaemonSets place a pod on it as on a real one; a pod still waiting for a node when the fake ones
    appear could be bound to one and never run (seen: CoreDNS on a fresh cluster, bound to
    hnc-fake-2)."""
    def bound() -> bool:
        return all(p.spec.node_name for p in core.list_namespaced_pod("kube-system").items)

    def describe() -> str:
        waiting = [p.metadata.name for p in core.list_namespaced_pod("kube-system").items if not p.spec.node_name]
        return f"not yet bound: {', '.join(waiting[:5])}"
    wait_until(bound, timeout=timeout, interval=1.0, what="every kube-system pod bound to a node (before adding any)",
               describe=describe, retry_on=(client.ApiException,))


def add(a: argparse.Namespace) -> int:
    state = State(a)
    core = connect(a, state)
    kwok_files(a)
    settled(core, a.timeout)
    pid, proc = start_kwok(a, state)
    t0 = time.monotonic()
    for i in range(a.count):
        create_node(core, i)
    created = time.monotonic() - t0
    wanted = {node_name(i) for i in range(a.count)}

    def ready() -> bool:
        exited = proc.poll() is not None if proc else state.running() is None
        if exited:
            raise Failed(f"kwok (pid {pid}) exited: {last_log_line(state)} (log: {state.log})")
        nodes = core.list_node(label_selector=SELECTOR).items
        return sum(1 for n in nodes if n.metadata.name in wanted and kube.is_ready(n)) == len(wanted)

    def describe() -> str:
        nodes = {n.metadata.name: n for n in core.list_node(label_selector=SELECTOR).items}
        late = sorted(n for n in wanted if n not in nodes or not kube.is_ready(nodes[n]))
        return f"{len(wanted) - len(late)} of {len(wanted)} Ready; not yet: {', '.join(late[:5])}; kwok: {last_log_line(state)}"
    wait_until(ready, timeout=a.timeout, interval=1.0, what=f"{a.count} fake node(s) Ready",
               describe=describe, retry_on=(client.ApiException,))
    rss = rss_mib(pid)
    print(f"fake_nodes: {a.count} node(s) {PREFIX}0..{a.count - 1} Ready {time.monotonic() - t0:.1f} s after the "
          f"first create (creates {created:.1f} s); kwok pid {pid}"
          + (f", RSS {rss:.0f} MiB" if rss is not None else "") + f", log {state.log}")
    return 0


def stop_kwok(state: State) -> str:
    pid = state.running()
    if pid is None:
        state.pid_file.unlink(missing_ok=True)
        return "no kwok of this context was running"
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        wait_until(lambda: state.running() is None, timeout=15, what=f"kwok (pid {pid}) to exit on SIGTERM",
                   describe=lambda: "still running", stoppable=False)
    except WaitTimeout:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        wait_until(lambda: state.running() is None, timeout=15, what=f"kwok (pid {pid}) to exit on SIGKILL",
                   describe=lambda: "still running", stoppable=False)
    state.pid_file.unlink(missing_ok=True)
    return f"kwok (pid {pid}) stopped"


def remove(a: argparse.Namespace) -> int:
    state = State(a)
    try:
        core = connect(a, state)
        names = set()

        def delete_all() -> bool:
            """Delete our nodes and force-delete (grace 0) every pod bound to them; True when none is left."""
            nodes = [n for n in core.list_node(label_selector=SELECTOR).items if ours(n)]
            names.update(n.metadata.name for n in nodes)
            for n in nodes:
                try:
                    core.delete_node(n.metadata.name)
                except client.ApiException as e:
                    if e.status != 404:
                        raise
            pods = [p for p in core.list_pod_for_all_namespaces().items if p.spec.node_name in names]
            for p in pods:
                try:
                    core.delete_namespaced_pod(p.metadata.name, p.metadata.namespace, grace_period_seconds=0)
                except client.ApiException as e:
                    if e.status != 404:
                        raise
            return not nodes and not pods

        def describe() -> str:
            nodes = [n.metadata.name for n in core.list_node(label_selector=SELECTOR).items if ours(n)]
            pods = [f"{p.metadata.namespace}/{p.metadata.name}" for p in core.list_pod_for_all_namespaces().items
                    if p.spec.node_name in names]
            return f"{len(nodes)} fake node(s) left ({', '.join(sorted(nodes)[:5])}); {len(pods)} pod(s) on them ({', '.join(pods[:5])})"
        t0 = time.monotonic()
        wait_until(delete_all, timeout=a.timeout, interval=1.0, what="the fake nodes and their pods to be gone",
                   describe=describe, retry_on=(client.ApiException,))
        print(f"fake_nodes: {len(names)} fake node(s) and their pods gone in {time.monotonic() - t0:.1f} s")
    finally:
        print(f"fake_nodes: {stop_kwok(state)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    a = parser().parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))   # remove's finally stops kwok
    try:
        return add(a) if a.command == "add" else remove(a)
    except BadInput as e:
        print(f"fake_nodes.py: {e}", file=sys.stderr)
        return 2
    except (Failed, WaitTimeout, client.ApiException) as e:
        undo = "; `fake_nodes.py remove` undoes what was made" if a.command == "add" else ""
        print(f"fake_nodes.py: {kube.first_line(e)}{undo}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
