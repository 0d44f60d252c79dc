"""Typed failure codes: checks name every failure, negative controls demand the one they provoke.

Pure unit tests: the verdict helper, expect_failure, and static (ast) scans of checks.py and the
suites, so a new failure without a code, or a control that only asserts `not passed`, is caught
without a cluster."""
from __future__ import annotations

import ast
import re
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from hostnet_conformance import checks
from hostnet_conformance.verdict import ClusterError, ControlInconclusive, NotApplicable, Verdict, expect_failure
from hostnet_conformance.waiting import WaitTimeout

ROOT = Path(__file__).resolve().parent.parent
CHECKS = ROOT / "hostnet_conformance" / "checks.py"
SUITES = sorted((ROOT / "suites").glob("*.py"))
SNAKE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


# ---------------------------------------------------------------- checks.verdict

def test_tuple_failures_give_codes_in_order_and_joined_messages():
    v = checks.verdict("C8", [("not_crashlooping", "container is not in CrashLoopBackOff"),
                              ("wrong_exit_code", "last exit code None, not 1")],
                       {"restarts": 0}, "exit 1 ...", time.monotonic())
    assert not v.passed
    assert v.codes == ["not_crashlooping", "wrong_exit_code"]
    assert v.reason == "container is not in CrashLoopBackOff; last exit code None, not 1"
    assert v.evidence == {"restarts": 0} and v.claim == "C8"


def test_a_plain_string_failure_gets_the_code_failed():
    v = checks.verdict("C1", ["something odd", ("no_pods", "no DaemonSet pods")], {}, "ok", time.monotonic())
    assert not v.passed
    assert v.codes == ["failed", "no_pods"]
    assert v.reason == "something odd; no DaemonSet pods"


def test_no_failures_pass_with_the_ok_reason_and_no_codes():
    v = checks.verdict("C14", [], {"n": 1}, "hostname == nodeName", time.monotonic())
    assert v.passed and v.reason == "hostname == nodeName" and v.codes == []
    assert v.duration_s >= 0


def test_a_failure_may_say_how_it_came_about():
    v = checks.verdict("C2", [("no_metrics_on_loopback", "localhost:20101 on w1: refused", "refused"),
                              ("no_pods", "none")], {}, "", time.monotonic())
    assert (v.codes, v.modes) == (["no_metrics_on_loopback", "no_pods"], ["refused", ""])


def test_no_wait_that_runs_out_becomes_a_failure():
    """A WaitTimeout (an AssertionError) is ERROR: checks.py never turns one into a failure code.
    An `except AssertionError` handler must raise again, whatever else it looks at first."""
    tree = _tree(CHECKS)
    handlers = [h for h in ast.walk(tree) if isinstance(h, ast.ExceptHandler) and h.type is not None
                and "AssertionError" in ast.unparse(h.type)]
    swallowed = [f"line {h.lineno}" for h in handlers if not any(isinstance(n, ast.Raise) for n in ast.walk(h))]
    assert not swallowed, "AssertionError (WaitTimeout) caught without raising: " + ", ".join(swallowed)
    assert "timeout" not in _check_codes()


def _fake_env(pods: list, nodes: dict[str, str]):
    """Just enough of Env for check_c1: a DaemonSet selector, its pods, the nodes' InternalIPs."""
    ns_ = SimpleNamespace
    ds = ns_(spec=ns_(selector=ns_(match_labels={"app": "node-exporter"})))
    cluster = ns_(apps=ns_(read_namespaced_daemon_set=lambda name, ns: ds),
                  nodes=lambda: [ns_(metadata=ns_(name=n), status=ns_(addresses=[ns_(type="InternalIP", address=ip)]))
                                 for n, ip in nodes.items()])
    core = ns_(list_namespaced_pod=lambda ns, label_selector: ns_(items=pods),
               read_node=lambda name: {"metadata": {"name": name},
                                       "status": {"addresses": [{"type": "InternalIP", "address": nodes[name]},
                                                                {"type": "Hostname", "address": name}]}})
    cluster.api = ns_(sanitize_for_serialization=lambda obj: obj)   # read_node already gives the API's JSON
    return ns_(cluster=cluster, core=core)


def _pod(name: str, node: str, pod_ip: str, host_ip: str):
    return SimpleNamespace(metadata=SimpleNamespace(name=name), spec=SimpleNamespace(node_name=node),
                           status=SimpleNamespace(pod_ip=pod_ip, host_ip=host_ip, pod_ips=[SimpleNamespace(ip=pod_ip)],
                                                  host_ips=[SimpleNamespace(ip=host_ip)]))


def test_a_check_gives_its_codes_and_a_control_can_demand_them():
    nodes = {"w1": "172.18.0.2", "w2": "172.18.0.3"}
    ok = checks.check_c1(_fake_env([_pod("a", "w1", "172.18.0.2", "172.18.0.2"),
                                    _pod("b", "w2", "172.18.0.3", "172.18.0.3")], nodes), "ns", "ds")
    assert ok.passed and ok.codes == []
    wrong = checks.check_c1(_fake_env([_pod("a", "w1", "10.244.1.5", "172.18.0.2")], nodes), "ns", "ds")
    assert wrong.codes == ["pod_ip_not_node_ip"]
    assert wrong.reason == "a: podIPs ['10.244.1.5'] != hostIPs ['172.18.0.2'] / node InternalIPs ['172.18.0.2']"
    assert expect_failure(wrong, "pod_ip_not_node_ip", "no hostNetwork") is wrong
    none = checks.check_c1(_fake_env([], nodes), "ns", "ds")
    assert none.codes == ["no_pods"]
    with pytest.raises(ControlInconclusive, match="no_pods"):
        expect_failure(none, "pod_ip_not_node_ip", "no hostNetwork")


# ---------------------------------------------------------------- verdict.expect_failure

def test_expect_failure_on_a_passed_verdict_is_a_failure_of_the_check():
    v = Verdict("C7", True, "Pending, Unschedulable", codes=[])
    with pytest.raises(AssertionError, match="negative control passed a wrong setup") as e:
        expect_failure(v, "scheduled", "a DaemonSet on a free port")
    assert "a DaemonSet on a free port" in str(e.value)
    assert not isinstance(e.value, ClusterError)


def test_expect_failure_with_another_code_is_inconclusive_and_names_the_codes_seen():
    v = Verdict("C8", False, "timed out after 120s waiting for ns/pinned to crash-loop", codes=["timeout"])
    with pytest.raises(ControlInconclusive) as e:
        expect_failure(v, "not_crashlooping", "a pod on a free port")
    msg = str(e.value)
    assert "'not_crashlooping'" in msg and "timeout" in msg and "a pod on a free port" in msg
    assert isinstance(e.value, ClusterError) and not isinstance(e.value, AssertionError)


def test_expect_failure_without_any_code_is_inconclusive():
    with pytest.raises(ControlInconclusive, match="no code"):
        expect_failure(Verdict("C1", False, "r"), "pod_ip_not_node_ip", "no hostNetwork")


def test_expect_failure_with_the_provoked_code_returns_the_verdict():
    v = Verdict("C7", False, "p: phase Running; no FailedScheduling event", codes=["scheduled", "no_failed_scheduling"])
    assert expect_failure(v, "scheduled", "a DaemonSet on a free port") is v
    assert expect_failure(v, "no_failed_scheduling", "a DaemonSet on a free port") is v


# ---------------------------------------------------------------- static scans

def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _call_name(node: ast.Call) -> str | None:
    f = node.func
    return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None


def _code_of(node: ast.AST) -> str | None:
    """The code of a `(code, message)` or `(code, message, mode)` tuple literal, else None."""
    if (isinstance(node, ast.Tuple) and len(node.elts) in (2, 3) and isinstance(node.elts[0], ast.Constant)
            and isinstance(node.elts[0].value, str)):
        return node.elts[0].value
    return None


def _failure_nodes(tree: ast.Module) -> list[ast.AST]:
    """Every failure checks.py records: `failures.append(x)` arguments and the items of a list
    literal handed to `verdict(...)`."""
    out = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        if (isinstance(f, ast.Attribute) and f.attr == "append" and isinstance(f.value, ast.Name)
                and f.value.id == "failures"):
            assert len(node.args) == 1, ast.unparse(node)
            out.append(node.args[0])
        elif _call_name(node) == "verdict" and len(node.args) >= 2 and isinstance(node.args[1], ast.List):
            out.extend(node.args[1].elts)
    return out


def _check_codes() -> set[str]:
    """Every code checks.py can give a failure."""
    return {c for n in _failure_nodes(_tree(CHECKS)) if (c := _code_of(n))}


def test_every_failure_in_checks_carries_a_snake_case_code():
    nodes = _failure_nodes(_tree(CHECKS))
    assert len(nodes) > 40, "the scan found too few failures: did checks.py change shape?"
    bare = []
    for n in nodes:
        code = _code_of(n)
        if code is None or not SNAKE.match(code):
            bare.append(f"line {n.lineno}: {ast.unparse(n)[:100]}")
    assert not bare, "failures without a (snake_case code, message) tuple:\n" + "\n".join(bare)


def test_failures_append_takes_only_tuples():
    tree = _tree(CHECKS)
    appends = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
               and n.func.attr == "append" and isinstance(n.func.value, ast.Name) and n.func.value.id == "failures"]
    assert appends
    not_tuples = [f"line {n.lineno}: {ast.unparse(n)[:100]}" for n in appends if not isinstance(n.args[0], ast.Tuple)]
    assert not not_tuples, "failures.append of a non-tuple (no code):\n" + "\n".join(not_tuples)


def _negative_controls() -> list[tuple[Path, ast.FunctionDef]]:
    out = []
    for path in SUITES:
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.FunctionDef) and any(
                    "negative_control" in ast.unparse(d) for d in node.decorator_list):
                out.append((path, node))
    return out


def _asserts_not_passed(fn: ast.FunctionDef) -> bool:
    for node in ast.walk(fn):
        if isinstance(node, ast.Assert):
            for sub in ast.walk(node.test):
                if (isinstance(sub, ast.UnaryOp) and isinstance(sub.op, ast.Not)
                        and any(isinstance(a, ast.Attribute) and a.attr == "passed" for a in ast.walk(sub.operand))):
                    return True
    return False


def test_every_negative_control_demands_its_registered_code_with_expect_control():
    controls = _negative_controls()
    assert len(controls) >= 15, f"found only {len(controls)} negative controls"
    bad = []
    for path, fn in controls:
        calls = [n for n in ast.walk(fn) if isinstance(n, ast.Call) and _call_name(n) == "expect_control"]
        if not calls:
            bad.append(f"{path.name}::{fn.name} does not call expect_control")
        for n in calls:
            if len(n.args) < 2 or not isinstance(n.args[1], ast.Constant) or n.args[1].value != fn.name:
                bad.append(f"{path.name}::{fn.name}: expect_control must name its own test: {ast.unparse(n)}")
        if _asserts_not_passed(fn):
            bad.append(f"{path.name}::{fn.name} still asserts `not ... .passed`")
    assert not bad, "\n".join(bad)


def test_the_registry_lists_every_control_and_claim_test_in_suites_and_no_other():
    from hostnet_conformance.verdict import CLAIMS
    controls = {fn.name for _, fn in _negative_controls()}
    registered = {c.test for claim in CLAIMS.values() for c in claim.controls}
    assert controls == registered
    claim_tests = set()
    for path in SUITES:
        for node in ast.walk(_tree(path)):
            marks = [ast.unparse(d) for d in getattr(node, "decorator_list", [])]
            if (isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
                    and any(re.fullmatch(r"pytest\.mark\.C\d+", m) for m in marks)
                    and not any("negative_control" in m for m in marks)):
                claim_tests.add(node.name)
    assert claim_tests == {t for claim in CLAIMS.values() for t in claim.claim_tests}


def test_every_code_a_control_demands_is_one_a_check_can_produce():
    from hostnet_conformance.verdict import CLAIMS
    produced = _check_codes()
    unknown = [f"{c.test}: {c.code!r}" for claim in CLAIMS.values() for c in claim.controls if c.code not in produced]
    assert not unknown, "codes no check produces:\n" + "\n".join(unknown)


def test_a_control_with_modes_needs_its_code_in_one_of_them():
    refused = Verdict("C2", False, "r", codes=["no_metrics_on_loopback"], modes=["refused"])
    assert expect_failure(refused, "no_metrics_on_loopback", "x", ("refused",)) is refused
    broken = Verdict("C2", False, "r", codes=["no_metrics_on_loopback"], modes=["exec_error"])
    with pytest.raises(ControlInconclusive, match="but exec_error, not refused"):
        expect_failure(broken, "no_metrics_on_loopback", "x", ("refused",))


def test_pod_network_precondition_is_an_error_naming_the_nodes():
    from hostnet_conformance.world import World, ds_of, require_pod_network

    w = World(env=None, ports=None, daemonsets={"vendor": ("ns", "node-exporter")})
    with pytest.raises(ClusterError, match="timed out after 0 s: the pod-network check"):
        w.await_pod_network(timeout=0.01)   # build checks it in a thread: the claims wait for it
    w.settled.set()
    w.pod_network_known.set()
    require_pod_network(w)   # reachable: nothing raised
    assert ds_of(w, "vendor") == ("ns", "node-exporter")
    w.pod_network = {"w2": "http://172.18.0.3:20116/: wget: download timed out", "w1": "http://172.18.0.2:20116/: x"}
    with pytest.raises(ClusterError, match=r"cannot reach node w1 \(.*\); node w2 \(.*download timed out\)"):
        require_pod_network(w)
    w.broken = {"vendor": "node w1: crash_loop: CrashLoopBackOff (exit code 1): bind: address already in use"}
    with pytest.raises(ClusterError, match="shared 'vendor' DaemonSet did not become ready: node w1: crash_loop"):
        ds_of(w, "vendor")


def test_a_claim_on_a_shared_daemonset_waits_for_it_to_settle_and_says_why_settling_failed():
    import threading

    from hostnet_conformance.world import World, ds_of

    w = World(env=None, ports=None, daemonsets={"vendor": ("ns", "node-exporter")})
    got = []
    t = threading.Thread(target=lambda: got.append(ds_of(w, "vendor")))
    t.start()
    t.join(0.2)
    assert t.is_alive() and not got          # build's settle thread has not judged them yet
    w.settled.set()
    t.join(5)
    assert got == [("ns", "node-exporter")]
    w.settle_error = RuntimeError("HTTP 500 etcdserver: request timed out\ntraceback...")
    with pytest.raises(ClusterError, match=r"^settling the shared DaemonSets failed: HTTP 500 etcdserver: request timed out$"):
        ds_of(w, "vendor")
    late = World(env=None, ports=None, daemonsets={"vendor": ("ns", "node-exporter")})
    with pytest.raises(ClusterError, match=r"timed out after 0 s: the shared DaemonSets to be judged"):
        late.await_settled(timeout=0.01)


def test_admission_gate_refusing_host_network_makes_claims_not_applicable_naming_it():
    import json

    from hostnet_conformance import admission
    from hostnet_conformance.world import ds_of

    body = (Path(__file__).parent / "data" / "admission" / "validating-admission-policy.json").read_text()
    gate = admission.classify(403, admission.message_of(body))
    w = SimpleNamespace(pod_network={}, broken={}, blocked=gate.to_dict(), daemonsets={})
    with pytest.raises(NotApplicable, match=r"even in a namespace labelled privileged: ValidatingAdmissionPolicy "
                                            r"'hnc-flavour-no-host-network' .*exempt the suite's namespaces"):
        ds_of(w, "vendor")
    assert json.loads(json.dumps(w.blocked)) == w.blocked   # travels to xdist workers as JSON


def test_c1_compares_dual_stack_addresses_as_sets():
    nodes = {"w1": "172.18.0.2"}
    env = _fake_env([], nodes)
    both = SimpleNamespace(metadata=SimpleNamespace(name="a"), spec=SimpleNamespace(node_name="w1"),
                           status=SimpleNamespace(pod_ip="fc00:f853::2", host_ip="172.18.0.2",
                                                  pod_ips=[SimpleNamespace(ip="fc00:f853::2"), SimpleNamespace(ip="172.18.0.2")],
                                                  host_ips=[SimpleNamespace(ip="172.18.0.2"), SimpleNamespace(ip="fc00:f853::2")]))
    env.core.list_namespaced_pod = lambda ns, label_selector: SimpleNamespace(items=[both])
    env.core.read_node = lambda name: {"status": {"addresses": [
        {"type": "InternalIP", "address": "172.18.0.2"}, {"type": "InternalIP", "address": "fc00:f853::2"}]}}
    v = checks.check_c1(env, "ns", "ds")
    assert v.passed, v.reason   # the IPv6 podIP first, the IPv4 hostIP first: the same sets


# ---------------------------------------------------------------- C14 on recorded nodes

def _node(name):
    import json
    return json.loads((ROOT / "tests" / "data" / "facts" / name).read_text())


def test_c14_with_hostname_override_judges_on_the_hostname_address_and_notes_the_node_name():
    # recorded on flavour f: the kubelet ran with --hostname-override, a cloud controller set the address
    node = _node("node-hostname-override.json")
    assert node["metadata"]["name"] == "node-1.hnc-flavour.internal"
    failures, ev, ok = checks.judge_c14([("exporter-x", "hnc-flavour-f-worker", node)])
    assert failures == []
    assert "node-1.hnc-flavour.internal the node name is not the OS hostname" in ok
    assert ev["exporter-x"] == {"hostname": "hnc-flavour-f-worker", "nodeName": "node-1.hnc-flavour.internal",
                                "nodeHostnameAddress": "hnc-flavour-f-worker"}
    # the pod's own hostname (no hostNetwork) is neither: a failure, not a note
    failures, _, _ = checks.judge_c14([("exporter-x", "exporter-x", node)])
    assert [c for c, _ in failures] == ["hostname_differs"]


def test_c14_on_a_kind_node_has_no_note_and_no_pods_fail():
    node = _node("node-kind-worker.json")
    failures, _, ok = checks.judge_c14([("p", "hnc-ci-worker", node)])
    assert failures == [] and "note" not in ok
    failures, _, _ = checks.judge_c14([])
    assert [c for c, _ in failures] == ["no_pods"]


def _c8_env(started_ago: float, log: str):
    """A pod whose one container has run for `started_ago` s without a restart, and its current log."""
    from datetime import datetime, timedelta, timezone
    ns_ = SimpleNamespace
    cs = ns_(restart_count=0, last_state=ns_(terminated=None),
             state=ns_(running=ns_(started_at=datetime.now(timezone.utc) - timedelta(seconds=started_ago)),
                       waiting=None))
    pod = ns_(metadata=ns_(name="pinned"), status=ns_(container_statuses=[cs]))
    core = ns_(read_namespaced_pod=lambda name, ns: pod,
               read_namespaced_pod_log=lambda name, ns, **kw: log,
               list_namespaced_event=lambda ns, **kw: ns_(items=[]),
               list_namespaced_pod=lambda ns, **kw: ns_(items=[pod]))
    return ns_(core=core)


def test_c8_a_running_exporter_counts_as_stable_only_once_it_said_it_listens():
    listening = 'ts=... level=info caller=tls_config.go:313 msg="Listening on" address=[::]:20107'
    v = checks.check_c8(_c8_env(3, "msg=\"Starting node_exporter\"\n" + listening), "ns", "pinned", timeout=5)
    assert v.codes == ["not_crashlooping", "wrong_exit_code", "no_bind_error"]   # the control's failure: it runs
    assert v.evidence["state"] == "running"
    # three seconds up on a starved node, no word of listening yet: the crash may still come, so wait
    with pytest.raises(WaitTimeout):   # a wait that runs out is ERROR, never a failure code
        checks.check_c8(_c8_env(3, 'msg="Enabled collectors"'), "ns", "pinned", timeout=1.5)
    quiet = checks.check_c8(_c8_env(31, ""), "ns", "pinned", timeout=5)   # an image that never says so
    assert quiet.evidence["state"] == "running"


def test_an_xdist_worker_gets_a_world_that_is_settled_and_never_waits():
    """The controller builds and settles the world before writing its state: a worker's world must
    answer ds_of, the pod-network precondition and its pod probe at once (they wait on events in
    the single-process run)."""
    from hostnet_conformance.world import from_state, ds_of, require_pod_network
    state = {"port_base": 20100, "ports_avoided": [], "workers": ["w1", "w2"], "namespaces": {},
             "daemonsets": {"vendor": ["hnc-x-vendor", "node-exporter"]}, "broken": {}, "pod_network": {},
             "blocked": None, "node_probes": {"w1": ["hnc-x-probes", "node-w1"]},
             "pod_probe": ["hnc-x-probes", "pod-probe"]}
    w = from_state(SimpleNamespace(), state)
    for event in (w.settled, w.pod_network_known, w.pod_probe_running):
        assert event.is_set()
    assert ds_of(w, "vendor") == ("hnc-x-vendor", "node-exporter")
    require_pod_network(w)
    assert (w.pod_probe.ns, w.pod_probe.name) == ("hnc-x-probes", "pod-probe")
