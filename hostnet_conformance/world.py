"""The shared deployments of one run, started together and waited for together.

Read-only claims (C1-C4, C11-C15) all observe these; claims that change things create their own
namespace in their test. Every namespace is labelled as this run's and removed at the end."""
from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field

from kubernetes import client

from . import facts as cluster_facts
from . import admission, kube, manifests, probes, scenarios, signals, timeline
from .manifests import VENDOR_PORT, one_node  # noqa: F401 (suites and scenarios use them from here too)
from .scenarios import OBSERVERS, SCENARIOS, in_background
from .environment import Env, Steady, daemonset_ready, deploy, ds_selector, schedulable_nodes
from .ports import PortAllocator, listening_ports
from .verdict import CallTimeout, ClusterError, NotApplicable, port_keys, variant_claims
from .waiting import STOPPING, Stopped, WaitTimeout, each, result_within, start_thread, wait_until

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
        """A normal pod-network probe: once it runs (build starts it, and waits for it in a thread)."""
        if self._pod_probe is not None and not self.pod_probe_running.wait(180):
            raise CallTimeout(180, f"the pod-network probe {self._pod_probe.ns}/{self._pod_probe.name} to run")
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
        refused = refused_features(self)
        return manifests.without_host_features(ds, refused) if refused and not as_written else ds

    def pinned_pod(self, purpose: str, port: int, node: str, declared: int | None = None) -> str:
        """The vendor's pod template as a bare Pod bound to `node` by spec.nodeName (no scheduler),
        listening on `port` and declaring `declared` (default: the same port). Returns its namespace."""
        pod = manifests.pod_from_daemonset(manifests.with_ports(self.vendor_ds(), declared or port, port), "pinned")
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
    v, p = w.vendor_ds(), w.ports.port_for
    guaranteed = one_node(w, manifests.with_port(v, p("guaranteed")), 0)
    guaranteed["spec"]["template"]["spec"]["containers"][0]["resources"] = {
        "requests": {"memory": "128Mi", "cpu": "200m"}, "limits": {"memory": "128Mi", "cpu": "200m"}}
    out = {
        "vendor": v,
        # C4's claim observes it too, on every node
        "clusterfirst": manifests.with_dns_policy(manifests.with_port(v, p("clusterfirst")), "ClusterFirst"),
        "no-hostnet": one_node(w, manifests.with_host_network(manifests.with_port(v, p("no-hostnet")), False), 1),
        "no-hostpid": one_node(w, manifests.with_host_pid(manifests.with_port(v, p("no-hostpid")), False), 1),
        "guaranteed": guaranteed,
        # C15's control: the vendor's DaemonSet on a port a pod already holds (and declares) on the
        # first worker, so the controller's pod for that node stays Pending: "didn't have free ports"
        "port-held": manifests.with_port(v, p("port-held")),
    }
    # a variant only a control observes is not deployed when that control cannot be judged here
    refused = refused_features(w)
    for name, claim in (("no-hostpid", "C12"), ("port-held", "C15")):
        if admission.not_applicable(claim, refused, control=True):
            del out[name]
    return out


def _free_ports_unschedulable(s: signals.Signal) -> bool:
    return s.code == "unschedulable" and "free ports" in s.message


# shared variants that settle with some pods held by an expected signal, not all ready
SETTLE_WITH = {"port-held": _free_ports_unschedulable}


def make_port_holder(w: World) -> str:
    """The pod holding C15's control port on the first worker: the vendor's pod template, bound to
    the node (no scheduler), declaring the port it listens on. Made before anything else takes a
    host port, so it is the first pod the kubelet starts there. Returns its namespace."""
    return w.pinned_pod("port-held-holder", w.ports.port_for("port-held"), w.workers[0])


def await_port_holder(w: World, ns: str) -> str | None:
    """Wait for the holder to run (the variant must come after it). Returns why it could not run
    (the cluster's words), else None."""
    try:
        probes.pod_running(w.env.core, ns, "pinned", timeout=60)
    except (AssertionError, signals.TerminalSignal) as e:   # WaitTimeout is an AssertionError
        return f"the pod holding port {w.ports.port_for('port-held')} on {w.workers[0]} did not run: {kube.first_line(e)}"
    return None


def discover_admission(w: World) -> dict:
    """Server-side dry runs, all at once: the vendor's host-network Pod in a namespace without Pod
    Security labels (the cluster's default level), and in one labelled privileged (what the suite's
    own deployments need) the vendor's Pod and one Pod per host feature with only that feature
    (manifests.host_feature_pods). Each answer names the gate that refused, if any. When the
    vendor's Pod is refused, admission.Admission decides which features it must do without: the
    claims that need one are NOT APPLICABLE (require_features) and the others are judged on the
    vendor's DaemonSet without them (World.vendor_ds). When no host-network pod can be admitted at
    all, `w.blocked` says by which gate, and every claim that needs one is NOT APPLICABLE."""
    pod = kube.owned(manifests.pod_from_daemonset(w.vendor_ds(as_written=True), "admission-dry-run"), w.env.run_id)
    privileged_ns = w.ns("admission-privileged")
    asks = {"unlabelled": (w.ns("admission-default", psa=None), pod), "vendor": (privileged_ns, pod),
            **{f: (privileged_ns, p) for f, p in manifests.host_feature_pods(pod).items()}}
    got = each(lambda ask: admission.dry_run_pod(w.env.core, *ask), asks)
    unlabelled = got.pop("unlabelled")
    adm = admission.Admission(vendor=got.pop("vendor"), by_feature=got)
    if adm.refused and adm.by_feature.get(manifests.HOST_NETWORK) is None:
        # a variant is judged only if it is admitted itself
        variant = manifests.without_host_features(pod, adm.refused)
        adm = admission.Admission(adm.vendor, adm.by_feature, admission.dry_run_pod(w.env.core, privileged_ns, variant))
    # Pod Security runs before ValidatingAdmissionPolicy and the webhooks (kube-apiserver's plugin
    # order), so when another gate answered, Pod Security had admitted the pod
    default = unlabelled.level if unlabelled and unlabelled.kind == admission.POD_SECURITY else "privileged"
    w.blocked = adm.blocked.to_dict() if adm.blocked else None
    return {
        "pod_security_default": default,
        "admission": {
            "namespace without Pod Security labels": str(unlabelled) if unlabelled else "admitted",
            "namespace labelled privileged": str(adm.vendor) if adm.vendor else "admitted",
        },
        "admission_by_feature": adm.by_feature_words(),
        # what the vendor's DaemonSet and the pods made from it do without (World.vendor_ds)
        "host_features_refused": {} if adm.blocked else {f: g.to_dict() for f, g in adm.refused.items()},
        "judged_on_variant": adm.judged_on(),
    }


def refused_features(w: World) -> dict[str, admission.Gate]:
    """{feature: the gate refusing it} that the run's host-network pods do without (discover_admission)."""
    return {f: admission.Gate(**g) for f, g in (w.env.cluster.facts.get("host_features_refused") or {}).items()}


def host_network_gate(w: World) -> admission.Gate | None:
    return admission.Gate(**w.blocked) if w.blocked else None


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


def pull_state(pod) -> str | None:
    """'pulled', 'not pullable: <the kubelet's words>', or None while the pull is still going on."""
    for cs in pod.status.container_statuses or []:
        waiting = cs.state.waiting if cs.state else None
        if waiting and waiting.reason in signals.IMAGE_PULL:
            return f"not pullable: {waiting.reason}: {' '.join((waiting.message or '').split())[:300]}"
        if cs.image_id or (cs.state and (cs.state.running or cs.state.terminated)):
            return "pulled"   # the container exists, so its image is on the node
    return "pulled" if pod.status.phase in ("Succeeded", "Failed") else None


def preflight_images(w: World, nodes: list, timeout: float = 180) -> dict:
    """Before any claim waits on them: each image the suite runs, on each Linux node, either
    present (the node's status lists it) or pulled now by a pod that only has to start (bound to
    the node, never restarted). A node that cannot pull it says why in the kubelet's words. On a
    cluster whose nodes hold the images, as the offline kind cluster's do, no pod is made.
    Returns {image: {node: 'present' | 'pulled' | 'not pullable: ...'}} (facts['images_on_nodes'])."""
    env = w.env
    images = [env.exporter_image, env.probe_image]
    # each image as its workloads pull it (a manifest may say Never: then nothing is asked of a registry)
    policy = {env.exporter_image: w.vendor_ds()["spec"]["template"]["spec"]["containers"][0].get(
                  "imagePullPolicy", "IfNotPresent"),
              env.probe_image: manifests.load("probe-pod")["spec"]["containers"][0].get("imagePullPolicy",
                                                                                       "IfNotPresent")}
    state = {i: {n.metadata.name: "present" if kube.image_on_node(n, i) else None for n in nodes if kube.is_linux(n)}
             for i in images}
    missing = [(i, node) for i in images for node, st in state[i].items() if st is None]
    if missing:
        ns = w.ns("image-preflight")
        pods = {}
        for k, (image, node) in enumerate(missing):
            name = f"pull-{k}-{node}"[:63].rstrip("-")
            kube.create(env.cluster.api, ns, {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": {
                "nodeName": node, "restartPolicy": "Never", "tolerations": [{"operator": "Exists"}],
                "automountServiceAccountToken": False,
                "containers": [{"name": "pull", "image": image, "imagePullPolicy": policy[image],
                                "command": ["true"]}]}}, env.run_id)
            pods[name] = (image, node)

        def all_known():
            for name, (image, node) in pods.items():
                if state[image][node] is None:
                    state[image][node] = pull_state(env.core.read_namespaced_pod(name, ns))
            return all(state[i][n] for i, n in pods.values())

        try:
            wait_until(all_known, timeout=timeout, what="the suite's images pulled on every node",
                       describe=lambda: "; ".join(f"{n}: {i} still pulling" for i, n in pods.values()
                                                 if state[i][n] is None), retry_on=(client.ApiException,))
        except WaitTimeout:
            for image, node in pods.values():
                state[image][node] = state[image][node] or f"not pullable: still pulling after {timeout:.0f}s"
    env.cluster.facts["images_on_nodes"] = state
    return state


def unpullable(state: dict, image: str) -> str | None:
    """Why some node cannot run `image` (the preflight's words), or None."""
    bad = [f"node {node}: {st}" for node, st in state.get(image, {}).items() if str(st).startswith("not pullable")]
    return f"image {image} cannot be pulled: " + "; ".join(bad) if bad else None


def discover(w: World) -> dict:
    """Facts about the cluster that the report states and claims depend on."""
    from .environment import dns_facts
    c = w.env.cluster
    nodes = c.nodes()
    c.facts["non_linux_nodes"] = sorted(n.metadata.name for n in nodes if not kube.is_linux(n))
    facts = {
        "nodes": len(nodes),
        "schedulable_nodes": schedulable_nodes(w.env),
        "kubelet_versions": sorted({n.status.node_info.kubelet_version for n in nodes}),
        "container_runtimes": sorted({n.status.node_info.container_runtime_version for n in nodes}),
        "cluster_dns_ip": dns_facts(w.env)["dns_ip"],
        # each kubelet's own settings (configz through the API server), which C3, C4 and C11 judge by
        "kubelet": {n.metadata.name: cluster_facts.read_kubelet(c.api, n.metadata.name).to_dict() for n in nodes},
        "target": f"kind cluster {c.kind_name}" if c.kind_name else f"context {c.context}" if c.kubeconfig else
        f"in-cluster ServiceAccount (namespace {c.facts.get('in_cluster_namespace', '?')})",
    }
    facts.update(discover_admission(w))
    c.facts.update(facts)
    return facts


def await_earlier_runs(env: Env, timeout: float = 120) -> None:
    """Pods of earlier runs that are still terminating may hold port 20000, the vendor's port, which
    every run uses: deploying before they are gone would look like a port conflict. Wait for those
    pods only (the suite's own namespaces, by label), not for whole namespaces to finish terminating:
    every other port the run uses is chosen free of what any pod, terminating or not, declares and of
    what the nodes listen on (choose_ports)."""
    selector = f"{kube.LABEL_MANAGED}={kube.MANAGED_VALUE}"

    def holding():
        out = []
        for n in env.core.list_namespace(label_selector=selector).items:
            if n.status.phase != "Terminating" or (n.metadata.labels or {}).get(kube.LABEL_RUN) == env.run_id:
                continue
            for p in env.core.list_namespaced_pod(n.metadata.name).items:
                # a pod never bound to a node, or one that ended, holds no port
                if p.spec.node_name and p.status.phase not in ("Failed", "Succeeded") and \
                        VENDOR_PORT in pod_host_ports(p):
                    out.append(f"{n.metadata.name}/{p.metadata.name}")
        return out

    wait_until(lambda: not holding(), timeout=timeout, interval=0.5,
               what=f"pods of earlier runs holding port {VENDOR_PORT} to be gone",
               describe=lambda: "still there: " + " ".join(holding()), retry_on=(client.ApiException,))


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


def listening_on_nodes(w: World) -> dict[int, list[str]]:
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


def choose_ports(w: World, port_base: int) -> None:
    """Host ports for the suite's variants that no node listens on and no pod declares, and a
    report of the vendor's 20000 (the page's port) when something already holds it."""
    declared, why = declared_host_ports(w.env)
    listening = listening_on_nodes(w)
    in_use = set(declared) | set(listening)
    w.ports = PortAllocator(port_base, PORT_KEYS, avoid=[p for p in in_use if p >= port_base])
    facts = w.env.cluster.facts
    skipped = sorted(p for p in in_use if port_base <= p <= max(w.ports.ports))
    facts["host_ports"] = {"base": port_base, "skipped_in_use": skipped, "declared_unknown": why} if why else \
        {"base": port_base, "skipped_in_use": skipped}
    holders = [f"listening on {', '.join(listening[VENDOR_PORT])}"] if VENDOR_PORT in listening else []
    holders += [f"declared by {', '.join(declared[VENDOR_PORT])}"] if VENDOR_PORT in declared else []
    facts["vendor_port_20000"] = ("in use before the suite deployed anything: " + "; ".join(holders)) if holders \
        else "free on every node"


def kubelet_from_node_files(w: World) -> None:
    """For each node whose configz could not be read, its kubelet config file, read by its probe."""
    facts = w.env.cluster.facts.get("kubelet") or {}
    for node, k in facts.items():
        probe = w.node_probes.get(node)
        if not k["source"].startswith("defaults") or probe is None:
            continue
        why = k["source"].split(": ", 1)[-1]
        for path in cluster_facts.KUBELET_CONFIG_FILES:
            r = probe.run(w.env.core, "cat", "/host" + path)
            if r.ok and r.stdout.strip():
                try:
                    facts[node] = cluster_facts.parse_config_file(r.stdout, path, why).to_dict()
                    break
                except ValueError:
                    continue


def serve_probe_port(w: World) -> None:
    """Each host-network probe answers 'ok' on its port (the pod-network precondition's target)."""
    port = w.ports.port_for("probe-http")
    each(lambda probe: probe.run(w.env.core, "sh", "-c", f"mkdir -p /tmp/www && echo ok > /tmp/www/index.html && "
                                                         f"httpd -p {port} -h /tmp/www"), dict(w.node_probes))


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
    w.workers = sorted(env.cluster.facts["schedulable_nodes"])
    # the pod-network probe runs even when host networking is refused: the cluster's own tests (DNS,
    # Services) observe through it
    probe_ns = w.ns("probes")
    w.pod_probe = probes.start_probe(env.cluster.api, probe_ns, env.run_id, env.probe_image, name="pod-probe")
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
                preflight_state.update(preflight_images(w, nodes))
        except Exception as e:  # noqa: BLE001 - the pods that use the images say why, in their words
            env.cluster.facts["images_on_nodes"] = f"not checked: {kube.first_line(e)}"
    preflight = start_thread(run_preflight, name="hnc-image-preflight")
    # the node probes first: they tell which host ports are already in use on each node (Linux
    # nodes only: the probe is a Linux image, and the claims are about Linux host networking). They
    # take no host port, so they start while an earlier run's pods leave.
    for n in nodes:
        if not kube.is_linux(n):
            continue
        name = f"node-{n.metadata.name}"[:63]
        w.node_probes[n.metadata.name] = probes.start_probe(
            env.cluster.api, probe_ns, env.run_id, env.probe_image, name=name, node=n.metadata.name,
            host_network=True, host_root=manifests.HOST_PATH not in refused_features(w))
    await_earlier_runs(env)   # their pods may still hold port 20000
    done("earlier runs' pods on port 20000 gone")
    probes.wait_probes(env.core, list(w.node_probes.values()))
    done("node probes running")
    choose_ports(w, port_base)
    kubelet_from_node_files(w)
    serve_probe_port(w)
    done("busy ports read, ports chosen")
    todo = {k: v for k, v in variants(w).items() if claims is None or VARIANT_CLAIMS[k] & claims}
    # C15's control: the pod holding its port on the first worker comes first. It is bound by
    # nodeName, so the scheduler counts its port from the moment it exists, running or not, and the
    # variant made seconds later (the wave's other objects come in between) finds the port taken there
    held = todo.pop("port-held", None)
    holder = make_port_holder(w) if held is not None else None
    wave_now = scenarios.selected(claims, after_vendor=False) if wave else []
    for sc in wave_now:   # the longest chains' pods first (Scenario.first)
        if sc.first:
            w.make_scenario(sc)
    # the shared DaemonSets and the wave's other scenarios, all at once: each is a namespace and a few creates
    made = each(lambda job: job(), {
        **{("ds", name): (lambda name=name, ds=ds: w.deploy(name, ds)) for name, ds in todo.items()},
        **{("scenario", sc.key): (lambda sc=sc: w.make_scenario(sc)) for sc in wave_now if not sc.first}})
    w.daemonsets = {name: (made[("ds", name)], ds["metadata"]["name"]) for name, ds in todo.items()}
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
            env.cluster.facts["pod_network"] = w.pod_network or "a pod reaches every node's IP"
        except Exception as e:  # noqa: BLE001 - the claims that observe through it say so
            w.pod_network = {"(all)": f"the check itself failed: {kube.first_line(e)}"}
        finally:
            w.pod_network_known.set()

    def settle():
        """The shared DaemonSets' verdicts, then the scenarios that need the vendor's pods on 20000."""
        try:
            if holder is not None:   # the control proves nothing unless its holder runs
                with timeline.span("port-held: the holder pod running"):
                    why = await_port_holder(w, holder)
                if why:
                    w.broken["port-held"] = why
            preflight.join(240)
            why = unpullable(preflight_state, env.exporter_image)
            if why:   # every shared DaemonSet runs the exporter's image: say so now, not after a wait
                w.broken.update({k: why for k in w.daemonsets if k not in w.broken})
            w.broken.update(await_daemonsets(env, {k: v for k, v in w.daemonsets.items() if k not in w.broken}))
            env.cluster.facts["broken_shared_deployments"] = w.broken or "none"
            if wave:   # the vendor's pods hold port 20000 now: the scenarios that conflict with it
                w.start_scenarios(scenarios.selected(claims, after_vendor=True))
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
            "node_probes": {n: [p.ns, p.name] for n, p in w.node_probes.items()},
            "pod_probe": [w.pod_probe.ns, w.pod_probe.name] if w.pod_probe else None}


def from_state(env: Env, state: dict) -> World:
    w = World(env=env, ports=PortAllocator(state["port_base"], PORT_KEYS, avoid=state.get("ports_avoided") or ()),
              workers=state["workers"])
    w.namespaces = dict(state["namespaces"])
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


def pod_network_state(w: World, settle: float = 30) -> dict:
    """Pod networking as C2, C5 and C10 use it: the pod-network probe GETs each node's IP (the
    hostNetwork probe there answers "ok"). Returns {node: error} for the nodes it cannot reach.
    A node that does not answer is asked again for up to `settle` s: on a fresh cluster the CNI's
    routes to some node can trail the first pods by seconds (seen: the control plane, 3 s timeouts)."""
    port = w.ports.port_for("probe-http")
    urls = {n.metadata.name: f"http://{kube.node_internal_ip(n)}:{port}/"
            for n in w.env.cluster.nodes() if n.metadata.name in w.node_probes}
    failing: dict = {}

    def all_reached():
        got = probes.http_get_many(w.env.core, w.pod_probe, {n: urls[n] for n in failing or urls}, timeout=3)
        failing.clear()
        failing.update({node: f"{urls[node]}: {r['error'] or r['body'][:80] or 'no answer'}"
                        for node, r in sorted(got.items()) if not (r["ok"] and r["body"].strip() == "ok")})
        return not failing

    try:
        wait_until(all_reached, timeout=settle, interval=1.0, what="the pod-network probe to reach every node",
                   describe=lambda: "; ".join(failing.values()), retry_on=(client.ApiException,))
    except WaitTimeout:
        pass
    return dict(failing)


def require_pod_network(w: World) -> None:
    """ERROR for a claim that observes through the pod network when a pod cannot reach a node."""
    if w.await_pod_network():
        raise ClusterError("pod networking: the pod-network probe cannot reach "
                           + "; ".join(f"node {n} ({why})" for n, why in sorted(w.pod_network.items())))


def _ds_pod_signals(env: Env, ns: str, name: str, ready_since: dict | None = None,
                    steady: float = 3.0) -> tuple[list, list]:
    """(signals of the DaemonSet's pods, its pods that show no signal and are not steadily ready).
    Asked once the DaemonSet is known to be broken, so a crash before the last restart counts. A
    container without a readiness probe is ready from its start to its crash, so a ready pod counts
    as healthy only once this poll has seen it ready for `steady` s (`ready_since` keeps the times)."""
    found, quiet = [], []
    now = time.monotonic()
    for p in env.core.list_namespaced_pod(ns, label_selector=ds_selector(env, ns, name)).items:
        sigs = signals.live_pod_signals(env.core, ns, p, past=True)
        ready = kube.is_ready(p)
        found += sigs
        if sigs:
            continue
        if ready and ready_since is not None:
            ready = now - ready_since.setdefault(p.metadata.uid, now) >= steady
        if not ready:
            quiet.append(p)
    return found, quiet


def broken_cause(env: Env, ns: str, name: str, first: signals.Signal, settle: float = 20) -> str:
    """Every node's cause for a broken DaemonSet, e.g. 'node w1: crash_loop: ... address already in
    use; node w2: ...'. Pods that are not ready yet get up to `settle` s to show their own signal
    (a crash on one node usually comes within seconds of the same crash on the next)."""
    ready_since: dict = {}

    def all_explained():
        found, quiet = _ds_pod_signals(env, ns, name, ready_since)
        return None if quiet else (found, quiet)

    try:
        found, quiet = wait_until(all_explained, timeout=settle, interval=1.0,
                                  what=f"every pod of {ns}/{name} to show its cause", describe=lambda: "",
                                  retry_on=(client.ApiException,))
    except WaitTimeout:
        found, quiet = _ds_pod_signals(env, ns, name)
    parts = {}
    for node, sigs in signals.by_node(found or [first]).items():
        best = max(sigs, key=lambda s: len(s.message))   # the one that explains most (it quotes the log)
        parts[node] = f"{best.code}: {best.message}"
    for p in quiet:
        parts.setdefault(p.spec.node_name or "-", f"not ready: phase {p.status.phase}")
    return "; ".join(f"node {node}: {why}" if node != "-" else why for node, why in sorted(parts.items()))


def _settled_with(env: Env, ns: str, name: str, allow) -> bool:
    """Every pod the controller wants exists and is ready or shows only signals `allow` expects."""
    ds = env.cluster.apps.read_namespaced_daemon_set(name, ns)
    if (ds.status.observed_generation or 0) < ds.metadata.generation or not ds.status.desired_number_scheduled:
        return False
    pods = [p for p in env.core.list_namespaced_pod(ns, label_selector=ds_selector(env, ns, name)).items
            if not p.metadata.deletion_timestamp]
    if len(pods) < ds.status.desired_number_scheduled:
        return False
    for p in pods:
        if kube.is_ready(p):
            continue
        sigs = signals.live_pod_signals(env.core, ns, p)
        if not sigs or not all(allow(s) for s in sigs):
            return False
    return True


def await_daemonsets(env: Env, daemonsets: dict, timeout: float = 180) -> dict:
    """Wait for every shared DaemonSet at once. One that shows a terminal signal (CrashLoopBackOff,
    an image pull error, FailedCreate...) is settled as broken at once, with each node's cause, and
    the others are still awaited: a broken deployment costs only the claims that stand on it."""
    pending, broken = dict(daemonsets), {}
    # ready (or settled as expected) on every poll for environment.STEADY_S: not the instant before a crash
    steady = {variant: Steady(lambda ns=ns, name=name, allow=SETTLE_WITH.get(variant):
                              daemonset_ready(env, ns, name) or (allow and _settled_with(env, ns, name, allow)))
              for variant, (ns, name) in daemonsets.items()}

    t0 = time.monotonic()

    def settled():
        for variant, (ns, name) in list(pending.items()):
            allow = SETTLE_WITH.get(variant)
            if steady[variant]():
                pending.pop(variant)
                timeline.record(f"shared DaemonSet {variant} ready", t0, time.monotonic())
                continue
            sig = signals.observe(env.core, ns, selector=ds_selector(env, ns, name), allow=allow)
            if sig:
                broken[variant] = broken_cause(env, ns, name, sig)
                pending.pop(variant)
        return not pending

    try:
        wait_until(settled, timeout=timeout, interval=0.5, what="the shared DaemonSets to be ready",
                   describe=lambda: ", ".join(pending), retry_on=(client.ApiException,))
    except WaitTimeout:
        for variant, (ns, name) in pending.items():
            broken[variant] = f"not ready after {timeout:.0f}s: " + " | ".join(
                kube.describe_pods(env.core, ns).splitlines()[:3])
    env.cluster.facts["broken_shared_deployments"] = broken or "none"
    return broken
