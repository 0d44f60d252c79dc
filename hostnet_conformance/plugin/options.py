"""Command-line options, checked before anything touches a cluster (a bad value is one line and
exit 4, never a traceback), and the markers, from the claims registry (verdict.CLAIMS)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from hostnet_conformance import kube, manifests, options, sampling, waiting
from hostnet_conformance.verdict import CLAIMS

from .state import STATE, pop, push, suite_requested

DEFAULT_CLUSTER = "hostnet-conformance"
PLUGIN_DEFAULT_CLUSTER = "pytest-kind"   # pytest-kind-ng's default for --cluster-name
MARKERS = {
    "negative_control": "the same check run against a deliberately wrong setup; it must fail",
    "cluster": "the cluster itself is real and complete (nodes, kube-system, DNS, pod network, NetworkPolicy)",
    "denial_only": "a claim test that needs no admitted host-network pod (it observes a denial)",
    "host_network_pods": "a cluster test that needs an admitted host-network pod",
    "slow": "needs more than a few seconds of cluster time (rollouts, CrashLoopBackOff)",
}


def pytest_addoption(parser):
    g = parser.getgroup("hostnet-conformance")
    env = os.environ.get
    g.addoption("--context", default=None, help="kubeconfig context of an existing cluster (with --kubeconfig)")
    g.addoption("--node-exporter-image", default=env("HNC_NODE_EXPORTER_IMAGE", "prom/node-exporter:v1.8.2"),
                help="image for the vendor's DaemonSet (the page's own tag: prom/node-exporter:v0.17.0)")
    g.addoption("--probe-image", default=env("HNC_PROBE_IMAGE", "busybox:1.36.1"),
                help="image of probe pods: needs sh, wget, nslookup, timeout, hostname, cat")
    g.addoption("--load-image", action="append", default=None,
                help="local Docker image to load into kind nodes (repeatable; default: the two images above "
                     "when HNC_LOAD_IMAGES says so)")
    g.addoption("--host-port-base", default=env("HNC_HOST_PORT_BASE", "20100"),
                help="first host port for the suite's own variants (the vendor's 20000 is used as written)")
    g.addoption("--pod-security-default", default=env("HNC_POD_SECURITY_DEFAULT", "baseline"),
                choices=["privileged", "baseline", "restricted"],
                help="Pod Security level a kind cluster the suite creates enforces by default (default: "
                     "baseline, the page's strict cluster; an existing cluster keeps its own)")
    g.addoption("--image-registry", default=env("HNC_IMAGE_REGISTRY"),
                help="HOST[:PORT][/PATH]: pull every image the suite runs from this mirror (air-gapped clusters), "
                     "e.g. prom/node-exporter:v1.8.2 -> HOST/PATH/prom/node-exporter:v1.8.2")
    g.addoption("--in-cluster", action="store_true",
                help="run against the cluster this pod runs in, as its ServiceAccount (the in-cluster runner)")
    g.addoption("--kind-create-timeout", type=float, default=float(env("HNC_KIND_CREATE_TIMEOUT", "600")),
                help="seconds `kind create cluster` may take (pytest-kind runs it); past them it is stopped and "
                     "what it made is deleted (default 600)")
    g.addoption("--request-timeout", default=env("HNC_REQUEST_TIMEOUT", "30"),
                help="seconds one Kubernetes API request (or an exec's connection) may take; past them the "
                     "claim that made it is ERROR, 'timed out after N s: <request>' (default 30)")
    g.addoption("--max-wait", default=env("HNC_MAX_WAIT"),
                help="seconds any one wait on the cluster may take (a pod to run, a DaemonSet to roll out, a "
                     "scheduler's answer), whatever the claim's own bound; past them the claim is ERROR, 'timed "
                     "out after N s waiting for ...; last seen: <the cluster's words>' (default: each wait's own)")
    g.addoption("--report-dir", default=None, help="write report.md, report.json and report.html here")
    g.addoption("--cleanup", action="store_true",
                help="remove leftovers of runs that are over (suite-labelled only) and exit: a run's namespaces go "
                     f"when its heartbeat is older than {kube.STALE_AFTER / 60:.0f} min, or when every process that "
                     "made them ran on this host and is gone; a live run's are kept (and named)")
    g.addoption("--nodes", default=env("HNC_NODES", str(sampling.DEFAULT_NODES)),
                help="how many schedulable Linux nodes the per-node checks (exec, node probes, the suite's own "
                     "DaemonSets) run on, or 'all'; picked the same way every time, spread over zones, instance "
                     "types and arches; the vendor's DaemonSet still runs on every node (C1, C15) "
                     f"(default: {sampling.DEFAULT_NODES})")
    g.addoption("--node-selector", default=env("HNC_NODE_SELECTOR"),
                help="key=value[,key=value...]: run on that node pool only, the vendor's DaemonSet included")
    g.addoption("--claims", default=None, help="comma-separated claim ids to run, e.g. C1,C7 (default: all)")
    g.addoption("--extra", action="store_true", default=bool(env("HNC_EXTRA")),
                help="also the extra claims, pitfalls the vendor's page leaves out: X1 (a NodePort Service takes "
                     "nodeIP:port from a host-network pod listening there), X2 (a NetworkPolicy on a normal pod "
                     "filters host-network clients on other nodes)")
    g.addoption("--profile", default=env("HNC_PROFILE"), metavar="NAME|FILE",
                help="the vendor page the verdicts are held to: a shipped profile (fixtures/profiles/: base, "
                     "gke-autopilot, openshift-4, talos, k3s) or a profile file; default: detected from the "
                     "cluster (API groups, webhooks, CRDs, node labels and OS images, server version), else base. "
                     "CNI overlays (cilium-host-firewall, calico-host-endpoints) are always detected")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    push()
    waiting.begin_run()
    from hostnet_conformance import report
    report.PROFILE = None   # this run's, once chosen (plugin/target.py)
    for c in CLAIMS.values():
        config.addinivalue_line("markers", f"{c.id}: claim {c.id}, {c.sentence}")
    for name, text in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {text}")
    name = config.getoption("cluster_name", default=DEFAULT_CLUSTER)
    if name == PLUGIN_DEFAULT_CLUSTER:
        config.option.cluster_name = DEFAULT_CLUSTER
    if config.getoption("kind_image", default=None) is None and os.environ.get("HNC_NODE_IMAGE"):
        config.option.kind_image = os.environ["HNC_NODE_IMAGE"]
    try:
        options.validate_cluster_name(config.option.cluster_name)
        base = options.parse_port(str(config.getoption("host_port_base")))
        from hostnet_conformance.world import PORT_KEYS
        options.validate_port_base(base, len(PORT_KEYS))
        config.option.host_port_base = base
        config.option.request_timeout = options.parse_seconds(str(config.getoption("request_timeout")),
                                                              "--request-timeout")
        waiting.set_request_timeout(config.option.request_timeout)
        max_wait = config.getoption("max_wait")
        config.option.max_wait = options.parse_seconds(str(max_wait), "--max-wait") if max_wait else None
        waiting.set_max_wait(config.option.max_wait)
        registry = config.getoption("image_registry")
        registry = options.parse_registry(registry) if registry else None
        for opt in ("node_exporter_image", "probe_image"):
            options.validate_image_ref(config.getoption(opt), f"--{opt.replace('_', '-')}")
            if registry:
                setattr(config.option, opt, options.with_registry(config.getoption(opt), registry))
        if config.getoption("kubeconfig") and not config.getoption("context"):
            raise options.UsageError("--kubeconfig needs an explicit --context: the suite never picks a cluster by accident")
        if config.getoption("in_cluster") and config.getoption("kubeconfig"):
            raise options.UsageError("--in-cluster and --kubeconfig name two targets: give one")
        if config.getoption("context") and not config.getoption("kubeconfig"):
            raise options.UsageError("--context needs --kubeconfig PATH")
        try:
            if isinstance(config.getoption("nodes"), str):   # parsed once: None afterwards means all
                config.option.nodes = sampling.parse_nodes(config.getoption("nodes"))
            if not isinstance(config.getoption("node_selector"), dict):
                config.option.node_selector = sampling.parse_selector(config.getoption("node_selector"))
        except sampling.BadSample as e:
            raise options.UsageError(str(e)) from None
        if config.getoption("claims"):
            config.option.claims = options.parse_claim_ids(config.getoption("claims"))
        if config.getoption("profile"):
            from hostnet_conformance import profiles
            try:
                p = profiles.load(config.getoption("profile"))
            except profiles.ProfileError as e:
                raise options.UsageError(str(e)) from None
            if p.kind == "overlay":
                raise options.UsageError(f"--profile {config.getoption('profile')}: an overlay (detected on its own); "
                                         f"name a vendor profile")
        if config.getoption("report_dir"):
            _check_writable_dir(Path(config.getoption("report_dir")))
        manifests.load("node-exporter-daemonset")  # a malformed override fails here, in one line
    except manifests.ManifestError as e:
        raise pytest.UsageError(f"manifest: {e}") from None
    except options.UsageError as e:
        raise pytest.UsageError(str(e)) from None
    if suite_requested(config):   # joined in pytest_unconfigure: no import is cut off at exit
        STATE["preload"] = kube.preload_api()
    if getattr(config.option, "numprocesses", None) and getattr(config.option, "dist", "no") == "load":
        # a module's tests share module-scoped workloads (host ports, namespaces): keep them on one worker
        config.option.dist = "loadscope"


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    pop()


def _check_writable_dir(d: Path) -> None:
    try:
        d.mkdir(parents=True, exist_ok=True)
        probe = d / ".hnc-write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as e:
        raise options.UsageError(f"--report-dir: {d} is not writable ({e.strerror or e})") from None
