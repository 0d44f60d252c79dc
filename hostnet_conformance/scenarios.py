"""The workloads of the claims that change things (C5-C8, C10), one scenario each, and the
observations the tests make of them.

In a single process the run makes every selected scenario in one wave, while the shared
DaemonSets start, so the cluster works on all of them at once and a run lasts about as long as
its slowest observation (C8's CrashLoopBackOff), not the sum of them. A test only observes:
`world.scenario(key)` gives the namespace of its scenario, making it then if the wave did not
(pytest-xdist workers, or a selection that left its claim out). Each maker only creates objects;
the test's check waits for what it expects, with its own deadline and terminal signals.

Observations (`@observer`, registered by the suites) are what a test computes on its scenario: its
check, with the check's own waits. After the shared world is built, a single-process run starts
every selected observation at once, each in a thread, so their waits overlap; the test asks
`world.observed(key)` for the result (its exception, if it raised one) and records it. Without that
start (pytest-xdist, or a key left out), `world.observed` computes it in the test, as before."""
from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass
from typing import Callable

from . import manifests, timeline
from .environment import kubelet_of
from .waiting import start_thread
from .manifests import VENDOR_PORT, one_node


@dataclass(frozen=True)
class Scenario:
    key: str
    claim: str
    make: Callable  # (World) -> namespace: creates the scenario's objects, waits for nothing
    also: tuple[str, ...] = ()   # other claims whose observations read it too (one pod fewer)
    after_vendor: bool = False  # takes port 20000 from the vendor's DaemonSet: made once that runs
    # made by its test, never by the wave: the kubelet rejects this pod (NodePorts), and once a pod
    # bound by nodeName to a port another pod of the node holds is rejected, the scheduler forgets
    # that the port is taken on that node (its used-port set has no count), so C7's second
    # DaemonSet, made in the same wave, was bound there and rejected in a loop instead of staying
    # Pending (seen on kube-scheduler v1.34.4)
    wave: bool = True
    # made before the rest of the wave, so its pods are the first the kubelets start: the longest
    # chains of a run (the NetworkPolicy ones: wait for the pods, then for a policy to take effect)
    first: bool = False


def second_daemonset(w, port: int) -> dict:
    return manifests.with_name(manifests.with_port(w.derived_ds(), port), "second-exporter")


def c5(w) -> str:
    """The vendor's DaemonSet declaring one port and listening on another, on one worker (the check
    observes one pod)."""
    p = w.ports.port_for
    return w.deploy("c5", one_node(w, manifests.with_ports(w.derived_ds(), declared=p("c5-declared"),
                                                            listening=p("c5-listening")), 0))


def c6(w) -> str:
    """A bare host-network Pod on the first worker, and on the last one a DaemonSet (the claim) and
    the same DaemonSet with updateStrategy OnDelete (the control: its pods are never replaced).
    Each takes a host port of its own: on a one-node cluster the first worker is the last, and the
    rolling DaemonSet's replacement pod asks for the host port of the pod it replaces, on that node."""
    p, ns, v = w.ports.port_for, w.ns("c6"), w.derived_ds()
    pod = manifests.pod_from_daemonset(manifests.with_port(v, p("c6-bare")), "bare")
    w.create(ns, manifests.with_node_name(pod, w.workers[0]))
    w.create(ns, manifests.on_one_node(manifests.with_name(manifests.with_port(v, p("c6")), "rolling"), w.workers[-1]))
    keep = manifests.on_one_node(manifests.with_name(manifests.with_port(v, p("c6-ondelete")), "on-delete"),
                                 w.workers[-1])
    keep["spec"]["updateStrategy"] = {"type": "OnDelete"}
    w.create(ns, keep)
    return ns


def c8(w) -> str:
    """The vendor's pod bound to the first worker, on the port that node's kubelet serves on (a node
    process holds it): from its configz, else its config file, else the kubelet's default."""
    node = w.workers[0]
    return w.pinned_pod("c8", kubelet_of(w.env, node).port, node)


def c10(w) -> str:
    """A normal web pod, a host-network exporter DaemonSet and one without host networking; the
    test's fixture proves each answers, then adds the default-deny policy."""
    ns = w.ns("c10")
    w.create(ns, w.in_sample(manifests.with_image(manifests.load("web-pod"), w.env.probe_image)))
    p = w.ports.port_for
    # one pod each: the claim observes the first exporter pod (claims/c10.py)
    w.create(ns, one_node(w, manifests.with_name(manifests.with_port(w.derived_ds(), p("c10")), "exporter-hostnet"), 0))
    w.create(ns, one_node(w, manifests.with_name(manifests.with_host_network(
        manifests.with_port(w.derived_ds(), p("c10-no-hostnet")), False), "exporter-podnet"), 1))   # the control
    return ns


def cross_node(w) -> str:
    """The cluster's own pod-to-pod check: a web pod on the first worker; its client is the run's
    pod-network probe, on the last (World.pod_probe_nodes). NOT APPLICABLE on one node
    (environment.two_workers)."""
    from .environment import two_workers
    env = w.env
    server, _ = two_workers(w)   # before any object: one node makes nothing
    ns = w.ns("cluster-net")
    w.create(ns, manifests.with_node_name(manifests.with_image(manifests.load("web-pod"), env.probe_image), server))
    return ns


def server_pod(w, name: str, port: int, body: str, node: str, host_network: bool) -> dict:
    """busybox httpd on `port`, answering `body` at /, on `node` (scheduled there by node affinity:
    the scheduler sees its port), the probe image; its port in the env var PORT (claims read it)."""
    pod = manifests.with_name(manifests.with_image(manifests.load("web-pod"), w.env.probe_image), name)
    pod["metadata"]["labels"] = {"app": name}
    c = pod["spec"]["containers"][0]
    c["command"] = ["sh", "-c", f"mkdir -p /www && echo {body} > /www/index.html && exec httpd -f -p {port} -h /www"]
    c["env"] = [{"name": "PORT", "value": str(port)}]
    c["ports"] = [{"containerPort": port}]
    if host_network:
        pod["spec"]["hostNetwork"] = True
        pod["spec"]["dnsPolicy"] = "ClusterFirstWithHostNet"
    return manifests.on_nodes(pod, [node])


X1_BACKEND, X1_HOST = "hnc-x1-service-backend", "hnc-x1-host-network-pod"


def x1(w) -> str:
    """A normal backend pod behind a NodePort Service (the API server allots the node port, from the
    cluster's own range), a host-network pod on the first worker listening on that port, and beside it
    the control: the same host-network pod on a port of the suite's (no Service holds it)."""
    ns = w.ns("x1")
    node = w.workers[0]
    w.create(ns, server_pod(w, "x1-backend", 8080, X1_BACKEND, w.workers[-1], False))
    svc = w.create(ns, {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "x1-nodeport"},
                        "spec": {"type": "NodePort", "selector": {"app": "x1-backend"},
                                 "ports": [{"port": 8080, "targetPort": 8080, "protocol": "TCP"}]}})
    w.create(ns, server_pod(w, "x1-host", svc.spec.ports[0].node_port, X1_HOST, node, True))
    w.create(ns, server_pod(w, "x1-host-control", w.ports.port_for("x1-control"), X1_HOST, node, True))
    return ns


def x2(w) -> str:
    """Two normal web pods on the first worker: the claim's, and the control's (its policy will admit
    all ingress); the client is the node probe (host network) of the last worker."""
    from .environment import two_workers
    server, _ = two_workers(w)   # before any object: one node makes nothing
    ns = w.ns("x2")
    w.create(ns, server_pod(w, "x2-web", 8080, "hnc-x2-web", server, False))
    w.create(ns, server_pod(w, "x2-open", 8080, "hnc-x2-open", server, False))
    return ns


SCENARIOS = {s.key: s for s in [
    Scenario("c5", "C5", c5),
    # C5's control: declared == listening on a port of its own (not the vendor's 20000: on one node the
    # asking pod for 20000 was bound once c7-kubelet's pod had failed there, and refused, NodePorts)
    Scenario("c5-control", "C5", lambda w: w.deploy("c5-control", one_node(
        w, manifests.with_port(w.derived_ds(), w.ports.port_for("c5-matching")), 1))),
    Scenario("c6", "C6", c6),
    # on one worker: the vendor's pod holds 20000 there as on every node. Not the worker of c7-kubelet's
    # pod (bound to port 20000 by spec.nodeName, refused by the kubelet): once that pod had failed, the
    # scheduler bound this DaemonSet's Pending pod to its node (seen twice in a row: the kubelet refused
    # it too, NodePorts, and the DaemonSet made another, 4 pods for 1). Likely cause: the scheduler keeps a
    # node's host ports as a set, so removing the failed pod's 20000 forgets the vendor's.
    Scenario("c7", "C7", lambda w: w.deploy("c7", one_node(w, second_daemonset(w, VENDOR_PORT), 1)), after_vendor=True),
    Scenario("c7-control", "C7",
             lambda w: w.deploy("c7-control", one_node(w, second_daemonset(w, w.ports.port_for("c7-free")), 0))),
    Scenario("c7-kubelet", "C7", lambda w: w.pinned_pod("c7-kubelet", VENDOR_PORT, w.workers[0]), after_vendor=True,
             wave=False),
    Scenario("c8", "C8", c8),
    # the vendor's pod bound by nodeName to a free port: C8's control (it runs, no crash) and C7's
    # kubelet control (the kubelet admits it) observe this one pod
    Scenario("c8-control", "C8", lambda w: w.pinned_pod("c8-control", w.ports.port_for("c8-free"), w.workers[0]),
             also=("C7",)),
    Scenario("c10", "C10", c10, first=True),
    Scenario("cross-node", "cluster", cross_node, first=True),
    Scenario("x1", "X1", x1),
    Scenario("x2", "X2", x2, first=True),
]}


def selected(claims: set[str] | None, after_vendor: bool) -> list[Scenario]:
    """The wave's scenarios of the selected claims (None: every claim), of one phase of the wave,
    the `first` ones first."""
    return sorted((s for s in SCENARIOS.values()
                   if s.wave and s.after_vendor == after_vendor
                   and (claims is None or {s.claim, *s.also} & claims)),
                  key=lambda s: not s.first)


@dataclass(frozen=True)
class Observer:
    key: str
    claim: str      # "C5".."C15", or "cluster" for the cluster's own tests
    fn: Callable    # (World) -> the test's result (a Verdict, or what its fixture returns)


OBSERVERS: dict[str, Observer] = {}


def observer(key: str, claim: str):
    """Register a suite function as the observation `key` of `claim` (see the module docstring)."""
    def register(fn):
        OBSERVERS[key] = Observer(key, claim, fn)
        return fn
    return register


def in_background(fn: Callable, *args, name: str = "") -> Future:
    """Run fn(*args) in a daemon thread (an interrupted run never waits for it at exit); the Future
    holds its result or whatever it raised, pytest's skip included. With `name`, its start and end
    go on the run's timeline."""
    fut: Future = Future()

    def run():
        if name:
            timeline.start(name)
        try:
            fut.set_result(fn(*args))
        except BaseException as e:  # noqa: BLE001 - handed to the test that asks, raised there
            fut.set_exception(e)
        finally:
            if name:
                timeline.end(name)
    start_thread(run, name=f"hnc-{name or 'observe'}")   # the run's: teardown joins it (waiting.stop_run)
    return fut
