"""pytest wiring: options, the cluster target, the shared deployments, verdict collection,
reports and cleanup. The checks themselves live in hostnet_conformance.checks."""
from __future__ import annotations

import gc
import json
import os
import signal
import time
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path

import pytest
from kubernetes import client

from hostnet_conformance import cluster as targets
from hostnet_conformance import kube, manifests, options, report, timeline
from hostnet_conformance.checks import Env
from hostnet_conformance.report import Result
from hostnet_conformance.signals import TerminalSignal
from hostnet_conformance.verdict import ERROR, FAIL, NOT_APPLICABLE, PASS, ClusterError, NotApplicable, Verdict
from hostnet_conformance.waiting import WaitTimeout

DEFAULT_CLUSTER = "hostnet-conformance"
PLUGIN_DEFAULT_CLUSTER = "pytest-kind"   # pytest-kind-ng's default for --cluster-name
VERDICTS = pytest.StashKey[Verdict]()
NS_BEFORE = pytest.StashKey[set]()
SHARED_STATE = "HNC_SHARED_STATE"
STATE: dict = {"results": [], "started": datetime.now(timezone.utc), "capabilities": {}}


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
    g.addoption("--report-dir", default=None, help="write report.md and report.json here")
    g.addoption("--cleanup", action="store_true", help="remove leftovers of earlier runs (suite-labelled only) and exit")
    g.addoption("--claims", default=None, help="comma-separated claim ids to run, e.g. C1,C7 (default: all)")


def pytest_configure(config):
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
        for opt in ("node_exporter_image", "probe_image"):
            options.validate_image_ref(config.getoption(opt), f"--{opt.replace('_', '-')}")
        if config.getoption("kubeconfig") and not config.getoption("context"):
            raise options.UsageError("--kubeconfig needs an explicit --context: the suite never picks a cluster by accident")
        if config.getoption("context") and not config.getoption("kubeconfig"):
            raise options.UsageError("--context needs --kubeconfig PATH")
        if config.getoption("claims"):
            config.option.claims = options.parse_claim_ids(config.getoption("claims"))
        if config.getoption("report_dir"):
            _check_writable_dir(Path(config.getoption("report_dir")))
        manifests.load("node-exporter-daemonset")  # a malformed override fails here, in one line
    except manifests.ManifestError as e:
        raise pytest.UsageError(f"manifest: {e}") from None
    except options.UsageError as e:
        raise pytest.UsageError(str(e)) from None
    STATE["preload"] = kube.preload_api()   # joined in pytest_unconfigure: no import is cut off at exit
    if getattr(config.option, "numprocesses", None) and getattr(config.option, "dist", "no") == "load":
        # a module's tests share module-scoped workloads (host ports, namespaces): keep them on one worker
        config.option.dist = "loadscope"
    # Ctrl-C already ends pytest through KeyboardInterrupt (teardown runs); make SIGTERM do the same.
    signal.signal(signal.SIGTERM, signal.default_int_handler)


def _check_writable_dir(d: Path) -> None:
    try:
        d.mkdir(parents=True, exist_ok=True)
        probe = d / ".hnc-write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as e:
        raise options.UsageError(f"--report-dir: {d} is not writable ({e.strerror or e})") from None


def _fail_setup(msg: str):
    """Stop the whole run with one line (exit 3): the target itself is unusable."""
    pytest.exit(f"hostnet-conformance: {msg}", returncode=3)


def _xdist_worker(config) -> bool:
    return hasattr(config, "workerinput")


def _xdist_controller(config) -> bool:
    return (not _xdist_worker(config) and bool(getattr(config.option, "numprocesses", None))
            and getattr(config.option, "dist", "no") != "no")


def _open_cluster(cfg) -> targets.Cluster:
    """The cluster target from the options: an existing cluster, or a kind cluster created or reused."""
    c = loading = None
    try:
        if cfg.getoption("kubeconfig"):
            c = targets.existing_cluster(cfg.getoption("kubeconfig"), cfg.getoption("context"))
        else:
            name = cfg.option.cluster_name
            targets.docker_available()
            kind_bin = targets.find_binary("kind", cfg.getoption("kind_bin"))
            kubectl_bin = targets.find_binary("kubectl", cfg.getoption("kind_kubectl_bin"))
            t0 = time.monotonic()
            c = targets.kind_cluster(name, image=cfg.getoption("kind_image"), kind_bin=kind_bin,
                                     kubectl_bin=kubectl_bin, workdir=targets.default_workdir(name),
                                     pod_security_default=cfg.getoption("pod_security_default"))
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
        if c is not None:  # a cluster this run created is not left behind by a failed set-up
            _close(cfg, c, None)
        _fail_setup(str(e))
    STATE["capabilities"] = c.facts  # discovery adds to it as the run goes
    return c


def _close(cfg, c: targets.Cluster, run_id: str | None, after_report: bool = False) -> None:
    """Remove what this run created: its namespaces, and the kind cluster if it made it (unless kept;
    with `after_report`, only once the reports are written: pytest_unconfigure)."""
    delete_cluster = c.kind_name and c.created_by_run and not cfg.getoption("keep_cluster")
    try:
        if delete_cluster and after_report:
            STATE["delete_after_report"] = c
        elif delete_cluster:
            targets.delete_kind_cluster(c)
        elif run_id:
            kube.delete_namespaces(c.core, run_id)
    except Exception as e:  # noqa: BLE001 - teardown reports, it never hides the run's outcome
        print(f"\nhostnet-conformance: cleanup failed: {kube.first_line(e)}")


def _shared_state() -> dict | None:
    """In a pytest-xdist worker: the cluster and deployments the controller set up, once for all workers."""
    path = os.environ.get(SHARED_STATE)
    return json.loads(Path(path).read_text()) if path else None


def pytest_sessionstart(session):
    config = session.config
    if config.getoption("cleanup"):
        _cleanup_and_exit(config)
    if not _xdist_controller(config):
        return
    # pytest-xdist: one cluster and one set of shared deployments for every worker.
    from hostnet_conformance import world as w
    c = _open_cluster(config)
    run_id = kube.new_run_id()
    STATE.update(run_id=run_id, cluster=c)
    try:
        built = w.build(_env(config, c, run_id), config.getoption("host_port_base"))
    except (Exception, KeyboardInterrupt) as e:
        _close(config, c, run_id)
        _fail_setup(f"shared deployments failed: {e}")
    c.await_dns()   # the workers get the controller's facts, cluster DNS's judgement included
    state = targets.default_workdir(config.option.cluster_name) / f"state-{run_id}.json"
    state.parent.mkdir(parents=True, exist_ok=True)   # existing-cluster mode never made the kind workdir
    state.write_text(json.dumps(w.to_state(built)))
    os.environ[SHARED_STATE] = str(state)


def _env(config, c: targets.Cluster, run_id: str) -> Env:
    return Env(c, run_id, config.getoption("probe_image"), config.getoption("node_exporter_image"))


def pytest_sessionfinish(session, exitstatus):
    if _xdist_controller(session.config) and "cluster" in STATE:
        _close(session.config, STATE["cluster"], STATE.get("run_id"), after_report=True)


def pytest_unconfigure(config):
    """A kind cluster this run created goes last, after the verdicts and reports are out (issue 11:
    teardown does not hold the verdict). pytest calls this also after Ctrl-C and failures."""
    if STATE.get("preload"):
        STATE.pop("preload").join(timeout=30)
    gc.freeze()   # exit then skips a last collection of every object the run made (~0.4 s here)
    c = STATE.pop("delete_after_report", None)
    if c is not None:
        with timeline.span("kind delete cluster (after the reports)"):
            _close(config, c, None)
        js = STATE.get("report_json")
        if js:   # the report's timeline gains the deletion, so the benchmark can show process end
            try:
                data = json.loads(js.read_text())
                data["timeline"] = timeline.snapshot()
                js.write_text(json.dumps(data, indent=2, default=str))
            except (OSError, ValueError):
                pass


@pytest.fixture(scope="session")
def cluster(request):
    shared = _shared_state()
    if shared:
        yield targets.attach(shared["cluster"])
        return
    c = _open_cluster(request.config)
    yield c
    _close(request.config, c, STATE.get("run_id"), after_report=True)


@pytest.fixture(scope="session")
def env(cluster, request):
    shared = _shared_state()
    run_id = shared["run_id"] if shared else kube.new_run_id()
    STATE["run_id"] = run_id
    return _env(request.config, cluster, run_id)


@pytest.fixture(scope="session")
def world(env, request):
    from hostnet_conformance import world as w
    shared = _shared_state()
    if shared:
        return w.from_state(env, shared)
    # one process: the selected claims' shared DaemonSets and scenarios, all made in one wave
    claims = {c for c in (_claim_of(i) for i in request.session.items) if c}
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


def _claim_of(item) -> str | None:
    for m in item.iter_markers():
        if m.name.startswith("C") and m.name[1:].isdigit():
            return m.name
    return None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """A missing precondition (NotApplicable) is a skip with its reason: NOT APPLICABLE in the
    table and the reports, a skip in JUnit."""
    try:
        return (yield)
    except NotApplicable as e:
        pytest.skip(f"NOT APPLICABLE: {e}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    """The same for a precondition a fixture checks (a module fixture's, for each of its tests)."""
    try:
        return (yield)
    except NotApplicable as e:
        pytest.skip(f"NOT APPLICABLE: {e}")


def _status_and_reason(rep, excinfo) -> tuple[str, str | None]:
    """The test's outcome (PASS, FAIL, NOT APPLICABLE, ERROR, SKIP) and, for a failure, its reason
    in the cluster's words: never a file location or an exception class name."""
    if rep.passed:
        return PASS, None
    if rep.skipped:
        text = str(rep.longrepr[2]) if isinstance(rep.longrepr, tuple) else str(rep.longrepr)
        return (NOT_APPLICABLE if text.startswith("Skipped: NOT APPLICABLE") or text.startswith("NOT APPLICABLE")
                else "SKIP"), None
    exc = excinfo.value if excinfo is not None else None
    if isinstance(exc, (ClusterError, TerminalSignal)):
        return ERROR, _one_line(str(exc))
    if isinstance(exc, WaitTimeout):
        state = [ln.strip() for ln in exc.state.splitlines() if ln.strip()][:2]
        return ERROR, _one_line(f"timed out after {exc.timeout:.0f}s waiting for {exc.what}"
                                + (f"; last seen: {' | '.join(state)}" if state else ""))
    if isinstance(exc, client.ApiException):
        return ERROR, _one_line(f"the API answered HTTP {exc.status} {exc.reason}: {kube.api_message(exc)}")
    if isinstance(exc, AssertionError):
        # `assert v.passed, v.reason`: the message before pytest's "assert ..." explanation
        msg = str(exc).split("\nassert ")[0]
        status = FAIL if rep.when == "call" else ERROR
        return status, _one_line(msg) or "assertion failed"
    if exc is not None:
        return ERROR, _one_line(str(exc)) or "the test could not run"
    return (FAIL if rep.when == "call" else ERROR), None


def _one_line(text: str, limit: int = 400) -> str:
    return report.one_line(str(text))[:limit]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed and rep.when in ("call", "setup"):
        try:
            _diagnose(item, rep)
        except Exception as e:  # noqa: BLE001 - diagnostics must never hide the failure itself
            rep.sections.append(("hostnet-conformance diagnostics", f"unavailable: {_one_line(str(e))}"))
    claim = _claim_of(item)
    if claim is None or not (rep.when == "call" or (rep.when == "setup" and rep.outcome != "passed")):
        return
    v = item.stash.get(VERDICTS, None)
    kind = "negative_control" if item.get_closest_marker("negative_control") else "claim"
    skip = str(rep.longrepr[2]) if rep.skipped and isinstance(rep.longrepr, tuple) else None
    if skip and skip.startswith("Skipped: "):
        skip = skip[len("Skipped: "):]
    status, err = _status_and_reason(rep, call.excinfo)
    result = Result(claim, item.nodeid, kind, rep.outcome, v.to_dict() if v else None,
                    skip, round(rep.duration, 2), err, status)
    rep.user_properties.append(("hnc_result", asdict(result)))
    item.user_properties.append(("hnc_outcome", status))   # JUnit: <property name="hnc_outcome">
    w = item.funcargs.get("world")
    if w is not None and len(w.env.cluster.facts) != STATE.get("facts_sent"):
        # facts found during tests (e.g. NetworkPolicy enforcement) reach the xdist controller this way
        STATE["facts_sent"] = len(w.env.cluster.facts)
        rep.user_properties.append(("hnc_facts", dict(w.env.cluster.facts)))


def pytest_runtest_logreport(report):
    """Runs where reports are gathered (the only process, or the xdist controller)."""
    for key, value in report.user_properties:
        if key == "hnc_result":
            STATE["results"].append(Result(**value))  # `report` is this hook's argument, not the module
        elif key == "hnc_facts":
            for k, v in value.items():
                STATE["capabilities"].setdefault(k, v)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not STATE["results"]:
        return
    tr = terminalreporter
    tr.section("hostnet-conformance verdicts")
    for line in report.terminal_table(STATE["results"]):
        tr.write_line(line)
    out = config.getoption("report_dir")
    if out:
        timeline.event("verdicts printed")
        run = report.Run(STATE.get("run_id", "-"), STATE["started"], STATE["capabilities"], timeline.snapshot())
        try:
            md, js = report.write_reports(Path(out), STATE["results"], run)
            STATE["report_json"] = js
            tr.write_line(f"reports: {md} {js}")
        except report.ReportError as e:
            tr.write_line(f"hostnet-conformance: {e}")


def pytest_collection_finish(session):
    timeline.record("pytest start and collection", timeline.T0, time.monotonic())


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    """Each test on the run's timeline (its fixtures' set-up included)."""
    with timeline.span(f"test {item.nodeid.split('/')[-1]}"):
        return (yield)


def pytest_collection_modifyitems(session, config, items):
    wanted = config.getoption("claims")
    if not wanted:
        return  # selection is pytest's own too: -m C7, -k dns
    keep = [i for i in items if _claim_of(i) in wanted]
    config.hook.pytest_deselected(items=[i for i in items if i not in keep])
    items[:] = keep


@pytest.fixture(scope="module", autouse=True)
def _namespaces_of_module(request):
    """Namespaces that exist before the module's own fixtures run (autouse fixtures come first), so
    the diagnostics of a failing test also cover the namespaces of its module fixtures (C6, C10)."""
    if "world" in request.fixturenames:
        w = request.getfixturevalue("world")
        request.module.__dict__.setdefault("_hnc_ns_before", set(w.namespaces.values()))
    yield


@pytest.fixture(autouse=True)
def _namespaces_of_test(request):
    """Remember which namespaces existed before the test's module, so a failure's diagnostics cover
    every namespace created for it (by the test and by its module fixtures)."""
    if "world" in request.fixturenames:
        w = request.getfixturevalue("world")
        before = getattr(request.module, "_hnc_ns_before", None)
        request.node.stash[NS_BEFORE] = set(before) if before is not None else set(w.namespaces.values())
    yield


@pytest.fixture(autouse=True)
def _host_network_admitted(request):
    """Every claim needs an admitted host-network pod, except the ones marked `denial_only`; of the
    cluster tests, those marked `host_network_pods`. When an admission gate refuses such pods even
    in a privileged namespace, those tests are NOT APPLICABLE, naming the gate (world.discover_admission)."""
    item = request.node
    needs = (item.get_closest_marker("host_network_pods") is not None
             or (_claim_of(item) is not None and item.get_closest_marker("denial_only") is None))
    if needs and "world" in request.fixturenames:
        from hostnet_conformance.world import require_host_network
        try:
            require_host_network(request.getfixturevalue("world"))
        except NotApplicable as e:
            pytest.skip(f"NOT APPLICABLE: {e}")
    yield


def _diagnose(item, rep) -> None:
    w = item.funcargs.get("world")
    if w is None:
        return
    from hostnet_conformance import diagnostics
    before = item.stash.get(NS_BEFORE, set())
    names = [v for v in w.namespaces.values() if v not in before]
    vendor = w.daemonsets.get("vendor")
    if vendor and vendor[0] not in names:
        names.append(vendor[0])
    text = diagnostics.collect(w.env.core, names, w.node_probes)
    rep.sections.append(("hostnet-conformance diagnostics", text))
    out = item.config.getoption("report_dir")
    if out:
        d = Path(out) / "diagnostics"
        d.mkdir(parents=True, exist_ok=True)
        (d / (item.nodeid.replace("/", "_").replace("::", "__") + ".txt")).write_text(text + "\n")


def _cleanup_and_exit(config):
    try:
        if config.getoption("kubeconfig"):
            c = targets.existing_cluster(config.getoption("kubeconfig"), config.getoption("context"))
        else:
            name = config.option.cluster_name
            kind_bin = targets.find_binary("kind", config.getoption("kind_bin"))
            if name not in targets.kind_clusters(kind_bin):
                pytest.exit(f"hostnet-conformance: no kind cluster {name}; nothing to clean", returncode=0)
            kc = targets.default_workdir(name) / "kubeconfig"
            kc.parent.mkdir(parents=True, exist_ok=True)
            targets.export_kubeconfig(kind_bin, name, kc)
            c = targets.existing_cluster(str(kc), None)
        gone = kube.delete_namespaces(c.core)
    except targets.TargetError as e:
        pytest.exit(f"hostnet-conformance: {e}", returncode=3)
    pytest.exit(f"hostnet-conformance: removed {len(gone)} namespaces: {' '.join(gone) or '-'}", returncode=0)
