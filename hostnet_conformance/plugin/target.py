"""The cluster target (a kind cluster created or reused, or an existing one by kubeconfig and
context), the run's world (world.build), pytest-xdist's shared set-up, the run's heartbeat on its
namespaces, and removing what the run made: first the run's stop (nothing is created after it, its
background threads are joined), then its namespaces, and a kind cluster it created once the reports
are out."""
from __future__ import annotations

import gc
import json
import os
import time

import pytest

from hostnet_conformance import cluster as targets
from hostnet_conformance import kube, report, sampling, timeline, waiting, watching
from hostnet_conformance.environment import Env
from hostnet_conformance.verdict import Verdict
from hostnet_conformance.waiting import WaitTimeout

from .state import SHARED_STATE, STATE, VERDICTS, claim_of, fail_setup, shared_state, xdist_controller


def existing_target(cfg) -> targets.Cluster | None:
    """The cluster named by --in-cluster or --kubeconfig/--context; None: a kind cluster."""
    if cfg.getoption("in_cluster"):
        return targets.in_cluster()
    if cfg.getoption("kubeconfig"):
        return targets.existing_cluster(cfg.getoption("kubeconfig"), cfg.getoption("context"))
    return None


def open_cluster(cfg) -> targets.Cluster:
    """The cluster target from the options: an existing cluster, or a kind cluster created or reused."""
    c = loading = None
    try:
        c = existing_target(cfg)
        if c is None:
            name = cfg.option.cluster_name
            targets.docker_available()
            kind_bin = targets.find_binary("kind", cfg.getoption("kind_bin"))
            kubectl_bin = targets.find_binary("kubectl", cfg.getoption("kind_kubectl_bin"))
            t0 = time.monotonic()
            c = targets.kind_cluster(name, image=cfg.getoption("kind_image"), kind_bin=kind_bin,
                                     kubectl_bin=kubectl_bin, workdir=targets.default_workdir(name),
                                     pod_security_default=cfg.getoption("pod_security_default"),
                                     create_timeout=cfg.getoption("kind_create_timeout"),
                                     keep=bool(cfg.getoption("keep_cluster")))
            c.facts["timing_kind_cluster_s"] = round(time.monotonic() - t0, 1)
            images = cfg.getoption("load_image") or [i for i in os.environ.get("HNC_LOAD_IMAGES", "").split(",") if i]
            loading = targets.start_loading_images(c, images)  # runs while the cluster becomes ready
        t0 = time.monotonic()
        try:
            targets.wait_ready(c)
        except WaitTimeout as e:
            if loading:
                loading.kill()
            raise targets.TargetError(f"the cluster did not become ready: {e}") from None
        c.facts["timing_wait_ready_s"] = round(time.monotonic() - t0, 1)
        targets.gate(c)   # RBAC and a schedulable Linux node: what every claim needs
        if loading:
            with timeline.span("kind load: waited for after readiness"):
                targets.finish_loading_images(loading)
            c.facts["timing_ready_and_images_loaded_s"] = round(time.monotonic() - t0, 1)
    except targets.TargetError as e:
        if loading:
            loading.kill()
        if c is not None:  # a cluster this run created is not left behind by a failed set-up
            close(cfg, c, None)
        fail_setup(str(e))
    except KeyboardInterrupt:   # Ctrl-C or SIGTERM while the cluster became ready: nor by an interrupted one
        if loading:
            loading.kill()
        if c is not None:
            close(cfg, c, None)
        raise
    STATE["capabilities"] = c.facts  # discovery adds to it as the run goes
    return c


JOIN_BOUND = 10.0   # teardown waits this long, in all, for the run's background threads to end


def close(cfg, c: targets.Cluster, run_id: str | None, after_report: bool = False) -> None:
    """Remove what this run created. First the run's stop: nothing is created from then on, and its
    background threads (observations, the wave, settling) are joined, JOIN_BOUND s in all; then its
    namespaces, listed again after the delete (any that is there and not terminating was made too
    late: said, and deleted again); and the kind cluster if it made it (unless kept; with
    `after_report`, only once the reports are written: pytest_unconfigure)."""
    if not waiting.STOPPING.is_set():
        with timeline.span("teardown: the run's threads joined"):
            running = waiting.stop_run(JOIN_BOUND)
        if running:   # they create nothing now (STOPPING); their waits end at their next attempt
            print(f"\nhostnet-conformance: {len(running)} background threads still running after "
                  f"{JOIN_BOUND:.0f} s: {' '.join(running)}")
    delete_cluster = c.kind_name and c.created_by_run and not cfg.getoption("keep_cluster")
    if run_id:
        try:   # what the run put on the cluster, for the report (scale: pods per node): the run's
            # watch's count when it ran (no list of every pod), else the API's
            watched = watching.current()
            c.facts["pods_in_run_namespaces"] = len(watched.pods.objects) if watched else kube.pods_of_run(c.core, run_id)
        except Exception as e:  # noqa: BLE001 - a count, never a reason to keep the namespaces
            c.facts["pods_in_run_namespaces"] = f"not counted: {kube.first_line(e)}"
    try:
        if delete_cluster and after_report:
            STATE["delete_after_report"] = c
        elif delete_cluster:
            targets.delete_kind_cluster(c)
        elif run_id:
            pods_on = pods_to_delete(c)
            with timeline.span("teardown: the run's namespaces deleted"):
                kube.delete_namespaces(c.core, run_id, pods_on)
                left = kube.namespaces_left(c.core, run_id)
            if left:
                print(f"\nhostnet-conformance: {len(left)} namespaces of run {run_id} appeared during teardown, "
                      f"deleting them too: {' '.join(left)}")
                kube.delete_namespaces(c.core, run_id)
    except Exception as e:  # noqa: BLE001 - teardown reports, it never hides the run's outcome
        print(f"\nhostnet-conformance: cleanup failed: {kube.first_line(e)}")


def pods_to_delete(c: targets.Cluster):
    """kube._delete's pods_on for the teardown, or None (every pod of every namespace, at once).
    On a cluster with simulated nodes, only pods on real nodes, node by node (a simulated node holds
    no host port). With the run's watch, only where it saw the run's pods (a namespace without one
    costs no request)."""
    real = {n.metadata.name for n in c.core.list_node().items if not sampling.simulated(n)} \
        if c.facts.get("simulated_nodes") else None
    watched = watching.current()
    if watched is None:
        return None if real is None else (lambda ns: [f"spec.nodeName={n}" for n in sorted(real)])
    on: dict[str, set] = {}
    with watched.pods.lock:
        pods = list(watched.pods.objects.items())
    for (ns, _), p in pods:
        on.setdefault(ns, set()).add(p.spec.node_name or "")
    if real is None:
        return lambda ns: [""] if on.get(ns) else []
    return lambda ns: [f"spec.nodeName={n}" for n in sorted(on.get(ns, set()) & real)]


def make_env(config, c: targets.Cluster, run_id: str) -> Env:
    """The run's Env, and its watch of the run's pods and DaemonSets started (watching.py)."""
    watching.start(c.api, run_id)
    choose_profile(config, c)
    return Env(c, run_id, config.getoption("probe_image"), config.getoption("node_exporter_image"),
               nodes_asked=config.getoption("nodes"), node_selector=config.getoption("node_selector"))


def choose_profile(config, c: targets.Cluster) -> None:
    """The vendor page the verdicts are held to (profiles.py): --profile's, or detected from what
    the API server shows; named in the report with the signals that chose it."""
    from hostnet_conformance import profiles, report
    with timeline.span("profile chosen"):
        choice = profiles.choose(profiles.read_signals(c.api), config.getoption("profile"))
    report.PROFILE = choice   # the one place it is kept: the summaries and page_not_applicable read it
    c.facts["profile"] = choice.in_words()


def pytest_sessionstart(session):
    config = session.config
    if not xdist_controller(config):
        return
    # pytest-xdist: one cluster and one set of shared deployments for every worker.
    from hostnet_conformance import world as w
    c = open_cluster(config)
    run_id = kube.new_run_id()
    STATE.update(run_id=run_id, cluster=c)
    kube.start_heartbeat(c.core, run_id)   # the workers' namespaces are the run's too
    try:
        built = w.build(make_env(config, c, run_id), config.getoption("host_port_base"))
    except (Exception, KeyboardInterrupt) as e:
        close(config, c, run_id)
        fail_setup(f"shared deployments failed: {e}")
    c.await_dns()   # the workers get the controller's facts, cluster DNS's judgement included
    state = targets.default_workdir(config.option.cluster_name) / f"state-{run_id}.json"
    state.parent.mkdir(parents=True, exist_ok=True)   # existing-cluster mode never made the kind workdir
    state.write_text(json.dumps(w.to_state(built)))
    os.environ[SHARED_STATE] = str(state)


def pytest_sessionfinish(session, exitstatus):
    if xdist_controller(session.config) and "cluster" in STATE:
        close(session.config, STATE["cluster"], STATE.get("run_id"), after_report=True)


def pytest_unconfigure(config):
    """A kind cluster this run created goes last, after the verdicts and reports are out (issue 11:
    teardown does not hold the verdict). pytest calls this also after Ctrl-C and failures."""
    if STATE.get("preload"):
        STATE.pop("preload").join(timeout=30)
    gc.freeze()   # exit then skips a last collection of every object the run made (~0.4 s here)
    c = STATE.pop("delete_after_report", None)
    if c is not None:
        with timeline.span("kind delete cluster (after the reports)"):
            close(config, c, None)
        js = STATE.get("report_json")
        if js:   # the report's timeline gains the deletion, so the benchmark can show process end
            try:
                report.rewrite_timeline(js, timeline.snapshot())
            except (OSError, ValueError):
                pass


@pytest.fixture(scope="session")
def cluster(request):
    shared = shared_state()
    if shared:
        yield targets.attach(shared["cluster"])
        return
    c = open_cluster(request.config)
    yield c
    close(request.config, c, STATE.get("run_id"), after_report=True)


@pytest.fixture(scope="session")
def env(cluster, request):
    shared = shared_state()
    run_id = shared["run_id"] if shared else kube.new_run_id()
    STATE["run_id"] = run_id
    if not shared:   # an xdist worker's run is the controller's, which beats for it
        kube.start_heartbeat(cluster.core, run_id)
    return make_env(request.config, cluster, run_id)


@pytest.fixture(scope="session")
def world(env, request):
    from hostnet_conformance import world as w
    shared = shared_state()
    if shared:
        return w.from_state(env, shared)
    # one process: the selected claims' shared DaemonSets and scenarios, all made in one wave
    from .verdicts import page_not_applicable
    # a claim the profile's page says cannot hold there gets no workload (its tests say why)
    claims = {c for c in (claim_of(i) for i in request.session.items) if c and not page_not_applicable(c)}
    if any(i.get_closest_marker("cluster") for i in request.session.items):
        claims.add("cluster")
    return w.build(env, request.config.getoption("host_port_base"), claims=claims, wave=True)


@pytest.fixture
def record(request):
    """Tests hand their Verdict to this, so the report shows the evidence."""
    def _record(v: Verdict) -> Verdict:
        request.node.stash[VERDICTS] = v
        return v
    return _record
