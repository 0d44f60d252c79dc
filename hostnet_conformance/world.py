"""The shared deployments of one run, started together and waited for together.

Read-only claims (C1-C4, C11-C15) all observe these; claims that change things create their own
namespace in their test. Every namespace is labelled as this run's and removed at the end.

build() puts the run's set-up in order; its steps live by job: what the run reads from the cluster
first (discovery.py), the host ports it finds in use and takes (host_ports.py), images and earlier
runs checked before it deploys (preflight.py), and the shared DaemonSets' settling (settling.py)."""
from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field

from kubernetes import client

from . import admission, kube, manifests, placement, probes, scenarios, timeline
from .manifests import one_node
from .scenarios import OBSERVERS, SCENARIOS, in_background
from .discovery import discover, host_network_gate, kubelet_from_node_files, pod_network_state, refused_features
from .environment import Env, deploy
from .host_ports import await_port_holder, choose_ports, make_port_holder, serve_probe_port
from .ports import PortAllocator
from .preflight import await_earlier_runs, preflight_images, unpullable
from .settling import await_daemonsets
from .verdict import CallTimeout, ClusterError, NotApplicable, port_keys, variant_claims
from .waiting import STOPPING, Stopped, each, result_within, start_thread

# The vendor's port, which the claims (claims/*.py) import from here
VENDOR_PORT = manifests.VENDOR_PORT
# Every host port the suite uses besides the vendor's 20000, one per key (see ports.py), from the
# claims registry
PORT_KEYS = port_keys()
# The longest a test waits for an observation that runs in the background: longer than the shared
# DaemonSets' settling (await_settled, 600 s) and an observation's own waits after it together.
OBSERVATION_BOUND = 1200.0
# which claims' tests observe each shared DaemonSet (ds_of): a run deploys only the selected claims'
VARIANT_CLAIMS = variant_claims()

@dataclass
class World:
    env: Env
    ports: PortAllocator
    namespaces: dict = field(default_factory=dict)     # purpose -> namespace
    daemonsets: dict = field(default_factory=dict)     # variant -> (namespace, DaemonSet name)
    broken: dict = field(default_factory=dict)         # variant -> why it never became ready (cluster's words)
    pod_network: dict = field(default_factory=dict)    # node -> why a pod cannot reach its IP (empty: fine)
    node_probes: dict = field(default_factory=dict)    # node -> hostNetwork Probe with the node's / at /host
    _pod_probe: probes.Probe | None = field(default=None, repr=False)   # pod_probe
    pod_probe_running: threading.Event = field(default_factory=threading.Event, repr=False)
    workers: list = field(default_factory=list)
    blocked: dict | None = None                        # the admission gate refusing host-network pods (Gate)
    started: dict = field(default_factory=dict)        # scenario key -> its namespace (or why making it failed)
    scenario_locks: dict = field(default_factory=dict, repr=False)   # scenario key -> Lock (make_scenario)
    observations: dict = field(default_factory=dict)   # observation key -> Future (scenarios.observer)
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)   # observations run in threads
    settled: threading.Event = field(default_factory=threading.Event, repr=False)  # shared DaemonSets judged
    settle_error: BaseException | None = None                 # why settling them failed, if it did
    pod_network_known: threading.Event = field(default_factory=threading.Event, repr=False)  # pod_network set

    @property
    def pod_probe(self) -> probes.Probe | None:
        """A normal pod-network probe: once it runs (build starts it, and waits for it in a thread)
        and the pod-network check has ended, so a probe that reached no node and was replaced
        (replace_pod_probe) is never handed out. The check itself uses `_pod_probe`."""
        if self._pod_probe is not None and not self.pod_probe_running.wait(180):
            raise CallTimeout(180, f"the pod-network probe {self._pod_probe.ns}/{self._pod_probe.name} to run")
        if self._pod_probe is not None:
            self.await_pod_network()
        return self._pod_probe

    @pod_probe.setter
    def pod_probe(self, probe: probes.Probe | None) -> None:
        self._pod_probe = probe

    def ns(self, purpose: str, psa: str | None = "privileged") -> str:
        """A fresh namespace for one test (labelled as this run's); purposes may repeat."""
        worker = os.environ.get("PYTEST_XDIST_WORKER")
        if worker:  # namespaces of parallel workers never collide
            purpose = f"{worker}-{purpose}"
        with self.lock:
            base, n = purpose, 1
            while purpose in self.namespaces:
                n += 1
                purpose = f"{base}-{n}"
            self.namespaces[purpose] = kube.ns_name(self.env.run_id, purpose)   # claimed before creating
        return kube.create_namespace(self.env.core, self.env.run_id, purpose, psa)

    def await_settled(self, timeout: float = 600) -> None:
        """Block until the shared DaemonSets are judged (build settles them in a thread); ERROR for
        the asking claim when that failed or never ended."""
        if not self.settled.wait(timeout):
            raise CallTimeout(timeout, "the shared DaemonSets to be judged")
        if self.settle_error is not None:
            e = self.settle_error
            raise ClusterError(f"settling the shared DaemonSets failed: {kube.first_line(e)}")

    def await_pod_network(self, timeout: float = 300) -> dict:
        """The pod-network precondition (pod_network), once build's check of it has ended."""
        if not self.pod_network_known.wait(timeout):
            raise CallTimeout(timeout, "the pod-network check")
        return self.pod_network

    def scenario(self, key: str) -> str:
        """The namespace of a claim's scenario (scenarios.py): made by the run's wave, else now."""
        if SCENARIOS[key].after_vendor:   # it takes port 20000 from the vendor's pods: they run first
            self.await_settled()
        self.make_scenario(SCENARIOS[key])   # made once: by the wave, or here by the first to ask
        made = self.started[key]
        if isinstance(made, Exception):
            raise made
        return made

    def observed(self, key: str):
        """A registered observation's result (scenarios.observer): from the run's background thread
        when one was started, else computed now and kept; its exception is raised here, in the test."""
        from concurrent.futures import Future

        fut = self.observations.get(key)
        if fut is None:   # computed here, once: C6's and C10's set-up serve two tests each
            fut = self.observations[key] = Future()
            try:
                fut.set_result(OBSERVERS[key].fn(self))
            except BaseException as e:  # noqa: BLE001 - kept for the next test that asks, raised now
                fut.set_exception(e)
        return result_within(fut, OBSERVATION_BOUND, f"observation {key}")

    def await_observation(self, key: str) -> None:
        """Wait for a started observation to end, whatever its outcome (its test reports that)."""
        fut = self.observations.get(key)
        if fut is not None:
            try:
                fut.exception(timeout=OBSERVATION_BOUND)   # returns its exception, never raises it
            except TimeoutError:
                raise CallTimeout(OBSERVATION_BOUND, f"observation {key}") from None

    def start_observations(self, claims: set[str] | None) -> None:
        """Start every registered observation of the selected claims (None: all), each in a thread."""
        for o in OBSERVERS.values():
            if (claims is None or o.claim in claims) and o.key not in self.observations:
                self.observations[o.key] = in_background(o.fn, self, name=f"observe {o.key}")

    def start_scenarios(self, scenarios: list) -> None:
        """Make scenarios now, all at once, without waiting for them; a failure is kept for the
        scenario's test."""
        each(self.make_scenario, {s.key: s for s in scenarios if s.key not in self.started})

    def make_scenario(self, s) -> None:
        """Make one scenario unless it was made (the wave's thread and an observation may both ask:
        one lock per scenario, so the others are made meanwhile). An API refusal is kept."""
        with self.lock:
            key_lock = self.scenario_locks.setdefault(s.key, threading.Lock())
        with key_lock:
            if s.key in self.started:
                return
            if STOPPING.is_set():
                raise Stopped(f"the run is ending: scenario {s.key} not made")
            try:
                made = s.make(self)
            except client.ApiException as e:
                made = ClusterError(f"making scenario {s.key} failed: HTTP {e.status} {kube.api_message(e)}")
            except CallTimeout as e:
                made = ClusterError(f"making scenario {s.key} failed: {e}")
            except NotApplicable as e:   # its precondition does not hold here: its tests say which
                made = e
            self.started[s.key] = made

    def vendor_ds(self, as_written: bool = False) -> dict:
        """The vendor's DaemonSet with the run's node-exporter image, without the host features an
        admission gate refuses (refused_features; `as_written` keeps them: admission's dry run). On a
        cluster with Windows (non-Linux) nodes it gets `nodeSelector: kubernetes.io/os: linux` unless
        it selects an OS itself: the exporter is a Linux program, and C15 counts the nodes its
        controller selects."""
        ds = manifests.with_image(manifests.load("node-exporter-daemonset"), self.env.exporter_image)
        if self.env.cluster.facts.get("non_linux_nodes"):
            spec = ds["spec"]["template"]["spec"]
            spec.setdefault("nodeSelector", {}).setdefault("kubernetes.io/os", "linux")
        if getattr(self.env, "node_selector", None):   # --node-selector: the run's node pool, the vendor's DaemonSet included
            ds = manifests.with_node_selector(ds, self.env.node_selector)
        refused = refused_features(self)
        return manifests.without_host_features(ds, refused) if refused and not as_written else ds

    def derived_ds(self) -> dict:
        """The vendor's DaemonSet as the suite's own variants and scenarios start from it: the same,
        with a lighter CPU request (manifests.light), so a busy or one-node cluster fits them all,
        and on the run's node sample alone when it has one (--nodes, --node-selector)."""
        # a sample of the nodes (--nodes): the suite's own DaemonSets run there alone
        return self.in_sample(manifests.light(self.vendor_ds()))

    def sample(self) -> list[str] | None:
        """The nodes the run's own pods go to when it judges a sample of them (--nodes,
        --node-selector, simulated nodes); None when every node is judged (anywhere will do)."""
        return None if getattr(self.env, "judged_nodes", None) is None else list(self.workers)

    def pod_probe_nodes(self) -> list[str] | None:
        """Where the pod-network probe goes: the last sampled worker, so the cluster's cross-node check
        uses it as its client, against a web pod on the first worker (scenarios.cross_node); anywhere
        on the sample when there are no workers."""
        return [self.workers[-1]] if self.workers else self.sample()

    def in_sample(self, obj: dict) -> dict:
        """`obj` (a Pod or a DaemonSet) placed on the run's node sample (sample()); unchanged
        when every node is judged."""
        nodes = self.sample()
        return obj if nodes is None else manifests.on_nodes(obj, nodes)

    def pinned_pod(self, purpose: str, port: int, node: str, declared: int | None = None) -> str:
        """The vendor's pod template as a bare Pod bound to `node` by spec.nodeName (no scheduler),
        listening on `port` and declaring `declared` (default: the same port). Returns its namespace."""
        pod = manifests.pod_from_daemonset(manifests.with_ports(self.derived_ds(), declared or port, port), "pinned")
        return self.deploy(purpose, manifests.with_node_name(pod, node))

    def create(self, ns: str, obj: dict):
        """Create a manifest in one of this run's namespaces, labelled as the run's."""
        return deploy(self.env, ns, obj)

    def deploy(self, purpose: str, obj: dict, psa: str | None = "privileged") -> str:
        """A fresh namespace holding `obj`; returns the namespace."""
        ns = self.ns(purpose, psa)
        self.create(ns, obj)
        return ns


# The variants the negative controls need, each a small function of the vendor's DaemonSet.
def variants(w: World) -> dict[str, dict]:
    v, p = w.derived_ds(), w.ports.port_for
    guaranteed = one_node(w, manifests.with_port(v, p("guaranteed")), 0)
    guaranteed["spec"]["template"]["spec"]["containers"][0]["resources"] = {
        "requests": {"memory": "128Mi", "cpu": "200m"}, "limits": {"memory": "128Mi", "cpu": "200m"}}
    out = {
        "vendor": w.vendor_ds(),
        # C4's claim observes it too, on every node
        "clusterfirst": manifests.with_dns_policy(manifests.with_port(v, p("clusterfirst")), "ClusterFirst"),
        "no-hostnet": one_node(w, manifests.with_host_network(manifests.with_port(v, p("no-hostnet")), False), 1),
        "no-hostpid": one_node(w, manifests.with_host_pid(manifests.with_port(v, p("no-hostpid")), False), 1),
        "guaranteed": guaranteed,
        # C15's control: the vendor's DaemonSet on a port a pod already holds (and declares) on the
        # first worker, so the controller's pod for that node stays Pending: "didn't have free ports".
        # On that worker alone: the controller's counts differ there (desired 1, ready 0), and a pod on
        # another node would run for nothing
        "port-held": one_node(w, manifests.with_port(v, p("port-held")), 0),
    }
    # a variant only a control observes is not deployed when that control cannot be judged here
    refused = refused_features(w)
    for name, claim in (("no-hostpid", "C12"), ("port-held", "C15")):
        if admission.not_applicable(claim, refused, control=True):
            del out[name]
    return out


def probed_nodes(w: World, nodes: list) -> list:
    """The nodes that get a node probe: the Linux nodes the run judges that run any of its pods, the
    sampled workers and the nodes the vendor's DaemonSet controller places a pod on (by its own
    rules: placement.expected_nodes). A node none of the run's pods goes to (kind's control plane,
    tainted) gets none: a probe there would be a pod for nothing."""
    judged = w.env.judged_nodes
    linux = [n for n in nodes if kube.is_linux(n) and (judged is None or n.metadata.name in judged)]
    vendor, _, _ = placement.expected_nodes(w.vendor_ds(), [w.env.cluster.api.sanitize_for_serialization(n)
                                                            for n in linux])
    used = set(vendor) | set(w.workers)
    return [n for n in linux if n.metadata.name in used]


def require_host_network(w: World) -> None:
    """NOT APPLICABLE for a claim that needs a host-network pod when an admission gate refuses one
    even in a namespace labelled privileged; the reason names the gate and what would let the suite run."""
    gate = host_network_gate(w)
    if gate:
        raise NotApplicable(f"an admission gate refuses host-network pods even in a namespace labelled "
                            f"privileged: {gate} (to run this claim: {gate.remedy()})")


def require_features(w: World, claim: str, control: bool = False) -> None:
    """NOT APPLICABLE for a claim (or its negative control) that needs a host feature an admission
    gate refuses (admission.CLAIM_FEATURES), naming the feature and the gate."""
    why = admission.not_applicable(claim, refused_features(w), control)
    if why:
        raise NotApplicable(why)


def _judged_here(w: World, chosen: list) -> list:
    """The scenarios whose claim can be judged here: a claim that needs a host feature a gate refuses
    is NOT APPLICABLE, so its workloads would only be refused (or run for nothing)."""
    refused = refused_features(w)
    return [sc for sc in chosen if any(admission.not_applicable(c, refused) is None for c in (sc.claim, *sc.also))]


def probe_reached_nothing(w: World) -> bool:
    """The pod-network probe reached no node at all, its own node's address included: its own network
    is more likely dead than the cluster's (seen once in CI: a fresh probe pod whose every GET timed
    out, on a cluster whose pod network worked before and after)."""
    return bool(w.node_probes) and set(w.pod_network) >= set(w.node_probes)


def replace_pod_probe(w: World) -> None:
    """One second probe, a fresh pod, asked the same: if it reaches the nodes, the claims observe
    through it and the report says the first was replaced and why; if not, the pod network is
    judged on what the second saw (the claims that need it are ERROR, quoting it)."""
    env, old = w.env, w._pod_probe
    first = next(iter(w.pod_network.values()), "")
    new = probes.start_probe(env.cluster.api, old.ns, env.run_id, env.probe_image, name=f"{old.name}-2",
                             within=w.pod_probe_nodes())
    probes.wait_probes(env.core, [new])
    w._pod_probe = new
    w.pod_network = pod_network_state(w)
    env.cluster.facts["pod_probe_replaced"] = (
        f"{old.ns}/{old.name} reached no node (first: {first}); {new.name} "
        + ("reaches every node" if not w.pod_network else f"neither: {len(w.pod_network)} node(s) unreachable"))


def build(env: Env, port_base: int, claims: set[str] | None = None, wave: bool = False) -> World:
    """The run's shared world: facts, node probes, host ports, the shared DaemonSets of the selected
    `claims` (None: all; "cluster" stands for the cluster's own tests) and, with `wave`, every
    selected claim's scenario made at once beside them, and at the end every selected observation
    started in a thread (scenarios.py). With the wave, build returns once everything is made and
    the pod network checked: the shared DaemonSets settle in a thread (ds_of waits for that) while
    the observations run. pytest-xdist's controller builds without the wave, and settled: its
    workers make and observe their own."""
    t0 = time.monotonic()
    phases = env.cluster.facts.setdefault("timing_world_phases_s", {})
    mark = [t0]

    def done(phase: str) -> None:   # the world's phases, for the report and scripts/benchmark.py
        now = time.monotonic()
        phases[phase] = round(now - mark[0], 2)
        timeline.record(f"world: {phase}", mark[0], now)
        mark[0] = now

    w = World(env=env, ports=PortAllocator(port_base, PORT_KEYS))
    discover(w)    # API reads, dry runs and empty namespaces only: no host port is touched yet
    done("discovery and admission dry runs")
    nodes = env.cluster.nodes()
    # the pod-network probe runs even when host networking is refused: the cluster's own tests (DNS,
    # Services) observe through it
    probe_ns = w.ns("probes")
    # on the node sample, if any: a simulated node runs nothing (on a cluster with kwok nodes an
    # unplaced probe was once bound to one, and every exec into it was refused: `unable to upgrade
    # connection: pod does not exist`)
    w.pod_probe = probes.start_probe(env.cluster.api, probe_ns, env.run_id, env.probe_image, name="pod-probe",
                                     within=w.pod_probe_nodes())
    if w.blocked:   # nothing host-network can run here: every claim that needs it says why, at once
        try:
            probes.wait_probes(env.core, [w._pod_probe])
        finally:
            w.pod_probe_running.set()
        env.cluster.facts["timing_shared_deployments_s"] = round(time.monotonic() - t0, 1)
        w.settled.set()
        w.pod_network_known.set()
        return w
    # every image on every node, or why a node cannot pull it (no pod at all when the nodes hold
    # them); the shared DaemonSets are judged after it (settle)
    preflight_state: dict = {}

    def run_preflight():
        try:
            with timeline.span("world: images present or pulled on every node"):
                preflight_state.update(preflight_images(w, [n for n in nodes if env.judged_nodes is None
                                                            or n.metadata.name in env.judged_nodes]))
        except Exception as e:  # noqa: BLE001 - the pods that use the images say why, in their words
            env.cluster.facts["images_on_nodes"] = f"not checked: {kube.first_line(e)}"
    preflight = start_thread(run_preflight, name="hnc-image-preflight")
    # the node probes first: they tell which host ports are already in use on each node (Linux
    # nodes only: the probe is a Linux image, and the claims are about Linux host networking). They
    # take no host port, so they start while an earlier run's pods leave.
    for n in probed_nodes(w, nodes):
        name = f"node-{n.metadata.name}"[:63]
        w.node_probes[n.metadata.name] = probes.start_probe(
            env.cluster.api, probe_ns, env.run_id, env.probe_image, name=name, node=n.metadata.name,
            host_network=True, host_root=manifests.HOST_PATH not in refused_features(w))
    await_earlier_runs(env)   # their pods may still hold port 20000
    done("earlier runs' pods on port 20000 gone")
    probes.wait_probes(env.core, list(w.node_probes.values()))
    done("node probes running")
    choose_ports(w, port_base, PORT_KEYS)
    kubelet_from_node_files(w)
    serve_probe_port(w)
    done("busy ports read, ports chosen")
    todo = {k: v for k, v in variants(w).items() if claims is None or VARIANT_CLAIMS[k] & claims}
    # C15's control: the pod holding its port on the first worker comes first. It is bound by
    # nodeName, so the scheduler counts its port from the moment it exists, running or not, and the
    # variant made seconds later (the wave's other objects come in between) finds the port taken there
    held = todo.pop("port-held", None)
    # the vendor's DaemonSet before anything else of the wave: it runs on every node, and on a big
    # cluster its rollout is the run's longest wait (300 simulated nodes: 302 pods created over 19 s,
    # the controller manager's default client rate, the last ready at 32 s)
    vendor = todo.pop("vendor", None)
    if vendor is not None:
        w.daemonsets["vendor"] = (w.deploy("vendor", vendor), vendor["metadata"]["name"])
    holder = make_port_holder(w) if held is not None else None
    wave_now = _judged_here(w, scenarios.selected(claims, after_vendor=False)) if wave else []
    for sc in wave_now:   # the longest chains' pods first (Scenario.first)
        if sc.first:
            w.make_scenario(sc)
    # the shared DaemonSets and the wave's other scenarios, all at once: each is a namespace and a few creates
    made = each(lambda job: job(), {
        **{("ds", name): (lambda name=name, ds=ds: w.deploy(name, ds)) for name, ds in todo.items()},
        **{("scenario", sc.key): (lambda sc=sc: w.make_scenario(sc)) for sc in wave_now if not sc.first}})
    w.daemonsets.update({name: (made[("ds", name)], ds["metadata"]["name"]) for name, ds in todo.items()})
    if held is not None:   # last: the holder has existed for as long as the wave took
        w.daemonsets["port-held"] = (w.deploy("port-held", held), held["metadata"]["name"])
    done("shared DaemonSets and the wave applied")

    def check_pod_network():
        try:
            with timeline.span("world: pod network checked"):
                try:
                    probes.wait_probes(env.core, [w._pod_probe])
                finally:   # a probe that never ran: whoever uses it says why (exec fails, in their words)
                    w.pod_probe_running.set()
                w.pod_network = pod_network_state(w)
                if probe_reached_nothing(w):
                    replace_pod_probe(w)
            env.cluster.facts["pod_network"] = w.pod_network or "a pod reaches every node's IP"
        except Exception as e:  # noqa: BLE001 - the claims that observe through it say so
            w.pod_network = {"(all)": f"the check itself failed: {kube.first_line(e)}"}
        finally:
            w.pod_network_known.set()

    def settle():
        """The shared DaemonSets' verdicts, then the scenarios that need the vendor's pods on 20000."""
        try:
            preflight.join(240)
            why = unpullable(preflight_state, env.exporter_image)
            if why:   # every shared DaemonSet runs the exporter's image: say so now, not after a wait
                w.broken.update({k: why for k in w.daemonsets if k not in w.broken})
            held_ds = {k: v for k, v in w.daemonsets.items() if k == "port-held" and k not in w.broken} \
                if holder is not None else {}
            if held_ds:
                def port_held() -> dict:
                    """The control proves nothing unless its holder runs: its DaemonSet is judged after
                    it, beside the others (which used to wait for the holder too: 9 s of a 32 s rerun)."""
                    with timeline.span("port-held: the holder pod running"):
                        why = await_port_holder(w, holder)
                    return {"port-held": why} if why else await_daemonsets(env, held_ds)
                held_result = in_background(port_held)
            w.broken.update(await_daemonsets(env, {k: v for k, v in w.daemonsets.items()
                                                   if k not in w.broken and k not in held_ds}))
            if held_ds:
                w.broken.update(result_within(held_result, 300, "the port-held control's DaemonSet to settle"))
            env.cluster.facts["broken_shared_deployments"] = w.broken or "none"
            if wave:   # the vendor's pods hold port 20000 now: the scenarios that conflict with it
                w.start_scenarios(_judged_here(w, scenarios.selected(claims, after_vendor=True)))
            env.cluster.facts["scenarios_started_with_the_run"] = sorted(w.started) if wave else \
                "none (made by each test)"
            env.cluster.facts["timing_shared_deployments_s"] = round(time.monotonic() - t0, 1)
            timeline.record("world: shared DaemonSets settled", t_settle, time.monotonic())
        except BaseException as e:  # noqa: BLE001 - every claim that waits on it says so
            w.settle_error = e
        finally:
            w.settled.set()

    t_settle = time.monotonic()
    if not wave:   # pytest-xdist's controller hands a settled world to its workers
        check_pod_network()
        settle()
        w.await_settled()
        return w
    # every selected test's observation at once, each in a thread (scenarios.observer), while the
    # pod network is checked and the shared DaemonSets settle: each observation waits only for what
    # it reads (ds_of, require_pod_network, world.scenario)
    start_thread(check_pod_network, name="hnc-pod-network")
    start_thread(settle, name="hnc-settle")
    w.start_observations(claims)
    return w


def to_state(w: World) -> dict:
    """What pytest-xdist workers need to use the controller's deployments (JSON-serialisable)."""
    from .cluster import state_of
    return {"cluster": state_of(w.env.cluster), "run_id": w.env.run_id, "port_base": w.ports.base,
            "ports_avoided": w.ports.avoid,
            "namespaces": w.namespaces, "daemonsets": w.daemonsets, "broken": w.broken,
            "pod_network": w.pod_network, "workers": w.workers, "blocked": w.blocked,
            "judged_nodes": sorted(w.env.judged_nodes) if w.env.judged_nodes is not None else None,
            "node_probes": {n: [p.ns, p.name] for n, p in w.node_probes.items()},
            "pod_probe": [w._pod_probe.ns, w._pod_probe.name] if w._pod_probe else None}


def from_state(env: Env, state: dict) -> World:
    w = World(env=env, ports=PortAllocator(state["port_base"], PORT_KEYS, avoid=state.get("ports_avoided") or ()),
              workers=state["workers"])
    w.namespaces = dict(state["namespaces"])
    env.judged_nodes = set(state["judged_nodes"]) if state.get("judged_nodes") is not None else None
    w.daemonsets = {k: tuple(v) for k, v in state["daemonsets"].items()}
    w.broken = dict(state.get("broken") or {})
    w.pod_network = dict(state.get("pod_network") or {})
    w.pod_network_known.set()
    w.blocked = state.get("blocked")
    w.node_probes = {n: probes.Probe(ns, name, n, True) for n, (ns, name) in state["node_probes"].items()}
    if state["pod_probe"]:
        w.pod_probe = probes.Probe(*state["pod_probe"], None, False)
    w.pod_probe_running.set()
    w.settled.set()   # the controller built and settled it before writing the state
    return w


def ds_of(w: World, variant: str) -> tuple[str, str]:
    """The (namespace, name) of a shared DaemonSet; ERROR for the claim if it never became ready."""
    require_host_network(w)
    w.await_settled()
    if variant not in w.daemonsets:
        raise ClusterError(f"the shared {variant!r} DaemonSet was not deployed: this run selected only "
                           f"claims that do not use it (world.VARIANT_CLAIMS)")
    if variant in w.broken:
        raise ClusterError(f"the shared {variant!r} DaemonSet did not become ready: {w.broken[variant]}")
    return w.daemonsets[variant]


def require_pod_network(w: World) -> None:
    """ERROR for a claim that observes through the pod network when a pod cannot reach a node."""
    if w.await_pod_network():
        raise ClusterError("pod networking: the pod-network probe cannot reach "
                           + "; ".join(f"node {n} ({why})" for n, why in sorted(w.pod_network.items())))
