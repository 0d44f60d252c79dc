"""Typed failure codes: checks name every failure, negative controls demand the one they provoke.

Pure unit tests: the verdict helper, expect_failure, and static (ast) scans of the claim modules (claims/) and the
suites, so a new failure without a code, or a control that only asserts `not passed`, is caught
without a cluster."""
from __future__ import annotations

import ast
import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from hostnet_conformance.claims import c8, c14, base
from hostnet_conformance.verdict import ClusterError, ControlInconclusive, NotApplicable, Verdict, expect_failure
from hostnet_conformance.waiting import WaitTimeout

ROOT = Path(__file__).resolve().parent.parent
CLAIM_MODULES = sorted((ROOT / "hostnet_conformance" / "claims").glob("*.py"))
SNAKE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


# ---------------------------------------------------------------- base.decided

def test_tuple_failures_give_codes_in_order_and_joined_messages():
    v = base.decided("C8", [("not_crashlooping", "container is not in CrashLoopBackOff"),
                              ("wrong_exit_code", "last exit code None, not 1")],
                       {"restarts": 0}, "exit 1 ...", 0.0)
    assert not v.passed
    assert v.codes == ["not_crashlooping", "wrong_exit_code"]
    assert v.reason == "container is not in CrashLoopBackOff; last exit code None, not 1"
    assert v.evidence == {"restarts": 0} and v.claim == "C8"


def test_a_plain_string_failure_gets_the_code_failed():
    v = base.decided("C1", ["something odd", ("no_pods", "no DaemonSet pods")], {}, "ok", 0.0)
    assert not v.passed
    assert v.codes == ["failed", "no_pods"]
    assert v.reason == "something odd; no DaemonSet pods"


def test_no_failures_pass_with_the_ok_reason_and_no_codes():
    v = base.decided("C14", [], {"n": 1}, "hostname == nodeName", 0.0)
    assert v.passed and v.reason == "hostname == nodeName" and v.codes == []
    assert v.duration_s >= 0


def test_a_failure_may_say_how_it_came_about():
    v = base.decided("C2", [("no_metrics_on_loopback", "localhost:20101 on w1: refused", "refused"),
                              ("no_pods", "none")], {}, "", 0.0)
    assert (v.codes, v.modes) == (["no_metrics_on_loopback", "no_pods"], ["refused", ""])


def test_no_wait_that_runs_out_becomes_a_failure():
    """A WaitTimeout (an AssertionError) is ERROR: no claim module turns one into a failure code.
    An `except AssertionError` handler must raise again, whatever else it looks at first."""
    tree = _checks_tree()
    handlers = [h for h in ast.walk(tree) if isinstance(h, ast.ExceptHandler) and h.type is not None
                and "AssertionError" in ast.unparse(h.type)]
    swallowed = [f"line {h.lineno}" for h in handlers if not any(isinstance(n, ast.Raise) for n in ast.walk(h))]
    assert not swallowed, "AssertionError (WaitTimeout) caught without raising: " + ", ".join(swallowed)
    assert "timeout" not in _check_codes()


def test_a_control_demands_its_code_not_another():
    wrong = Verdict("C1", False, "a: podIPs", codes=["pod_ip_not_node_ip"], modes=[""])
    assert expect_failure(wrong, "pod_ip_not_node_ip", "no hostNetwork") is wrong
    none = Verdict("C1", False, "no DaemonSet pods", codes=["no_pods"], modes=[""])
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


def _checks_tree() -> ast.Module:
    """Every claim module's code (hostnet_conformance/claims/) as one module."""
    return ast.Module(body=[n for p in CLAIM_MODULES for n in _tree(p).body], type_ignores=[])


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
    """Every failure a claim module records: `failures.append(x)` arguments and the items of a list
    literal handed to `decided(...)`."""
    out = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        if (isinstance(f, ast.Attribute) and f.attr == "append" and isinstance(f.value, ast.Name)
                and f.value.id == "failures"):
            assert len(node.args) == 1, ast.unparse(node)
            out.append(node.args[0])
        elif _call_name(node) in ("verdict", "decided") and len(node.args) >= 2 and isinstance(node.args[1], ast.List):
            out.extend(node.args[1].elts)
    return out


def _check_codes() -> set[str]:
    """Every code a claim module can give a failure."""
    return {c for n in _failure_nodes(_checks_tree()) if (c := _code_of(n))}


def test_every_failure_in_checks_carries_a_snake_case_code():
    nodes = _failure_nodes(_checks_tree())
    assert len(nodes) > 40, "the scan found too few failures: did the claim modules change shape?"
    bare = []
    for n in nodes:
        code = _code_of(n)
        if code is None or not SNAKE.match(code):
            bare.append(f"line {n.lineno}: {ast.unparse(n)[:100]}")
    assert not bare, "failures without a (snake_case code, message) tuple:\n" + "\n".join(bare)


def test_failures_append_takes_only_tuples():
    tree = _checks_tree()
    appends = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
               and n.func.attr == "append" and isinstance(n.func.value, ast.Name) and n.func.value.id == "failures"]
    assert appends
    not_tuples = [f"line {n.lineno}: {ast.unparse(n)[:100]}" for n in appends if not isinstance(n.args[0], ast.Tuple)]
    assert not not_tuples, "failures.append of a non-tuple (no code):\n" + "\n".join(not_tuples)


def _generated() -> dict[str, set[str]]:
    """The tests suites/test_claims.py makes, each with its markers."""
    import importlib
    mod = importlib.import_module("suites.test_claims")
    return {name: {m.name for m in getattr(fn, "pytestmark", [])} for name, fn in vars(mod).items()
            if name.startswith("test_") and callable(fn)}


def test_the_suite_makes_every_claim_test_and_control_of_the_registry_and_no_other():
    from hostnet_conformance.verdict import CLAIMS
    made = _generated()
    controls = {n for n, marks in made.items() if "negative_control" in marks}
    assert controls == {c.test for claim in CLAIMS.values() for c in claim.controls}
    assert set(made) - controls == {t for claim in CLAIMS.values() for t in claim.claim_tests}
    for claim in CLAIMS.values():
        for t in (*claim.claim_tests, *(c.test for c in claim.controls)):
            assert claim.id in made[t], f"{t} lacks the marker {claim.id}"


class _World:
    def __init__(self, v):
        self.v, self.asked = v, []

    def observed(self, key):
        self.asked.append(key)
        return self.v


def test_a_generated_control_demands_its_registered_code_and_mode_and_fails_a_passing_check():
    import importlib
    mod = importlib.import_module("suites.test_claims")
    control = mod.test_c2_control_without_host_network
    right = Verdict("C2", False, "refused", codes=["no_metrics_on_loopback"], modes=["refused"])
    w = _World(right)
    control(w, lambda v: v)
    assert w.asked == ["c2-control"]
    with pytest.raises(ControlInconclusive):   # the right code reached another way proves nothing
        control(_World(Verdict("C2", False, "x", codes=["no_metrics_on_loopback"], modes=["exec_error"])), lambda v: v)
    with pytest.raises(ControlInconclusive):
        control(_World(Verdict("C2", False, "x", codes=["no_pods"], modes=[""])), lambda v: v)
    with pytest.raises(AssertionError, match="negative control passed a wrong setup"):
        control(_World(Verdict("C2", True, "all fine")), lambda v: v)
    claim_test = mod.test_c2_metrics_on_host_port
    with pytest.raises(AssertionError, match="refused"):
        claim_test(_World(right), lambda v: v)


def test_a_control_of_two_parts_judges_each_part_on_its_own():
    import importlib
    from hostnet_conformance.claims.c6 import both
    mod = importlib.import_module("suites.test_claims")
    control = mod.test_c6_control_mutable_field_and_noop_template
    pod = Verdict("C6", False, "accepted", codes=["patch_accepted"], modes=[""])
    kept = Verdict("C6", False, "kept", codes=["no_rollout"], modes=["controller_kept"])
    control(_World(both(pod, kept, False)), lambda v: v)
    # each code in the other part proves nothing
    with pytest.raises(ControlInconclusive):
        control(_World(both(kept, pod, False)), lambda v: v)


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


# ---------------------------------------------------------------- C14 on recorded nodes

def _node(name):
    import json
    return json.loads((ROOT / "tests" / "data" / "facts" / name).read_text())


def _c14(seen):
    """c14.judge on facts made of (pod name, what `hostname` printed in it, its node's JSON)."""
    return c14.judge({"pods": [{"metadata": {"name": pod}, "spec": {"nodeName": node["metadata"]["name"]}}
                               for pod, _, node in seen],
                      "nodes": {node["metadata"]["name"]: node for _, _, node in seen},
                      "hostname": {pod: {"rc": 0, "stdout": out + "\n", "stderr": ""} for pod, out, _ in seen}})


def test_c14_with_hostname_override_judges_on_the_hostname_address_and_notes_the_node_name():
    # recorded on flavour f: the kubelet ran with --hostname-override, a cloud controller set the address
    node = _node("node-hostname-override.json")
    assert node["metadata"]["name"] == "node-1.hnc-flavour.internal"
    failures, ev, ok = _c14([("exporter-x", "hnc-flavour-f-worker", node)])
    assert failures == []
    assert "node-1.hnc-flavour.internal the node name is not the OS hostname" in ok
    assert ev["exporter-x"] == {"hostname": "hnc-flavour-f-worker", "nodeName": "node-1.hnc-flavour.internal",
                                "nodeHostnameAddress": "hnc-flavour-f-worker"}
    # the pod's own hostname (no hostNetwork) is neither: a failure, not a note
    failures, _, _ = _c14([("exporter-x", "exporter-x", node)])
    assert [c for c, _ in failures] == ["hostname_differs"]


def test_c14_on_a_kind_node_has_no_note_and_no_pods_fail():
    node = _node("node-kind-worker.json")
    failures, _, ok = _c14([("p", "hnc-ci-worker", node)])
    assert failures == [] and "note" not in ok
    failures, _, _ = _c14([])
    assert [c for c, _ in failures] == ["no_pods"]


def _c8_env(started_ago: float, log: str):
    """A pod whose one container has run for `started_ago` s without a restart, and its current log."""
    from datetime import datetime, timedelta, timezone

    from kubernetes import client as k

    from hostnet_conformance.facts import Kubelet
    ns_ = SimpleNamespace
    # the client's own models: c8.observe records the pod as the API serves it
    started = datetime.now(timezone.utc) - timedelta(seconds=started_ago)
    cs = k.V1ContainerStatus(name="node-exporter", image="prom/node-exporter:v1.8.2", image_id="", ready=True,
                             restart_count=0, last_state=k.V1ContainerState(),
                             state=k.V1ContainerState(running=k.V1ContainerStateRunning(started_at=started)))
    pod = k.V1Pod(metadata=k.V1ObjectMeta(name="pinned", namespace="ns"), status=k.V1PodStatus(container_statuses=[cs]),
                  spec=k.V1PodSpec(node_name="w1", containers=[k.V1Container(name="node-exporter")]))
    core = ns_(read_namespaced_pod=lambda name, ns: pod,
               read_namespaced_pod_log=lambda name, ns, **kw: log,
               list_namespaced_event=lambda ns, **kw: ns_(items=[]),
               list_namespaced_pod=lambda ns, **kw: ns_(items=[pod]))
    # its node's kubelet as discovery read it (configz), beside which C8's evidence puts the pod's port
    kubelet = {"w1": Kubelet("configz", port=10350).to_dict()}
    return ns_(core=core, cluster=ns_(facts={"kubelet": kubelet}))


def test_c8_a_running_exporter_counts_as_stable_only_once_it_said_it_listens():
    listening = 'ts=... level=info caller=tls_config.go:313 msg="Listening on" address=[::]:20107'
    facts = c8.observe(_c8_env(3, "msg=\"Starting node_exporter\"\n" + listening), "ns", "pinned", timeout=5)
    assert facts["settled"] == "running" and facts["previous_log"] is None   # it never ended: no previous log
    assert facts["kubelet"] == {"port": 10350, "source": "configz"}
    failures, ev, _ = c8.judge(facts)
    assert [f[0] for f in failures] == ["not_crashlooping", "wrong_exit_code", "no_bind_error"]   # the control's
    assert ev["state"] == "running"
    # three seconds up on a starved node, no word of listening yet: the crash may still come, so wait
    with pytest.raises(WaitTimeout):   # a wait that runs out is ERROR, never a failure code
        c8.observe(_c8_env(3, 'msg="Enabled collectors"'), "ns", "pinned", timeout=1.5)
    quiet = c8.observe(_c8_env(31, ""), "ns", "pinned", timeout=5)   # an image that never says so
    assert quiet["settled"] == "running" and c8.judge(quiet)[1]["state"] == "running"


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


def test_c11_asks_through_the_pod_network_so_a_dead_one_is_error_not_a_pass():
    """Seen in a clean-clone CI: the pod-network probe's own network was dead (every GET timed out,
    its own node's included), and C11's "a normal pod's GET of node:10248 is timeout" passed. Now
    both C11 observations need the pod network, as C2, C5 and C10 do."""
    from hostnet_conformance.claims import c11  # noqa: F401 (registers the observers)
    from hostnet_conformance.scenarios import OBSERVERS
    from hostnet_conformance.world import World

    w = World(env=None, ports=None)
    w.pod_network = {"w1": "http://172.18.0.2:20118/: Terminated"}
    w.pod_network_known.set()
    for key in ("c11", "c11-control"):
        with pytest.raises(ClusterError, match=r"pod-network probe cannot reach node w1 \(.*Terminated\)"):
            OBSERVERS[key].fn(w)


def test_a_probe_that_reaches_no_node_is_replaced_once_and_the_report_says_so(monkeypatch):
    from types import SimpleNamespace
    from hostnet_conformance import probes, world as world_mod
    from hostnet_conformance.world import World, probe_reached_nothing, replace_pod_probe

    facts = {}
    env = SimpleNamespace(cluster=SimpleNamespace(api=None, facts=facts), core=None, run_id="r1", probe_image="busybox")
    w = World(env=env, ports=None)
    w.node_probes = {"w1": object(), "w2": object()}
    w._pod_probe = probes.Probe("hnc-r1-probes", "pod-probe", None, False)
    w.pod_probe_running.set()
    w.pod_network_known.set()
    w.pod_network = {"w1": "http://172.18.0.2:20118/: Terminated"}
    assert not probe_reached_nothing(w)            # one node unreachable: the cluster's to explain
    w.pod_network["w2"] = "http://172.18.0.3:20118/: Terminated"
    assert probe_reached_nothing(w)                # every node, its own included: the probe's own network
    made = []
    monkeypatch.setattr(probes, "start_probe", lambda api, ns, run_id, image, name, within=None: made.append((ns, name))
                        or probes.Probe(ns, name, None, False))
    monkeypatch.setattr(probes, "wait_probes", lambda core, ps: None)
    monkeypatch.setattr(world_mod, "pod_network_state", lambda w: {})
    replace_pod_probe(w)
    assert made == [("hnc-r1-probes", "pod-probe-2")] and w.pod_probe.name == "pod-probe-2" and w.pod_network == {}
    assert facts["pod_probe_replaced"] == ("hnc-r1-probes/pod-probe reached no node (first: http://172.18.0.2:20118/: "
                                           "Terminated); pod-probe-2 reaches every node")
    monkeypatch.setattr(world_mod, "pod_network_state", lambda w: {"w1": "x", "w2": "y"})
    replace_pod_probe(w)
    assert facts["pod_probe_replaced"].endswith("pod-probe-2-2 neither: 2 node(s) unreachable")


def test_the_pod_probe_is_handed_out_only_once_the_pod_network_check_has_ended():
    """A cluster test (CoreDNS, a Service without endpoints) asking for the probe while the check
    runs gets the one the check settled on: the replacement, when the first reached no node."""
    import threading
    from types import SimpleNamespace
    from hostnet_conformance import probes
    from hostnet_conformance.world import World
    w = World(env=SimpleNamespace(), ports=None)
    w._pod_probe = probes.Probe("ns", "pod-probe", None, False)
    w.pod_probe_running.set()
    got = []
    asker = threading.Thread(target=lambda: got.append(w.pod_probe))
    asker.start()
    asker.join(0.3)
    assert asker.is_alive() and got == []        # the check has not ended: nothing handed out yet
    w._pod_probe = probes.Probe("ns", "pod-probe-2", None, False)   # replace_pod_probe
    w.pod_network_known.set()
    asker.join(5)
    assert [p.name for p in got] == ["pod-probe-2"]
