"""Terminal signals decided on API objects recorded from the offline cluster (Kubernetes v1.34.4,
2026-11-29, tests/data/signals/record.sh): each provoked state is recognised with the cluster's own
words, a healthy pod is not, and the signals a claim waits for can be allowed."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from hostnet_conformance import signals as sg

DATA = Path(__file__).resolve().parent / "data" / "signals"


def pod(name: str) -> dict:
    return json.loads((DATA / f"pod-{name}.json").read_text())


def events() -> list[dict]:
    return json.loads((DATA / "events.json").read_text())["items"]


def crash_log(container: str) -> str:
    return (DATA / "log-crash-loop.txt").read_text()


def test_image_that_may_not_be_pulled():
    (s,) = sg.pod_signals(pod("image-never-pull"))
    assert s.code == "image_pull" and s.message.startswith("ErrImageNeverPull: ")
    assert "hnc.local/absent:0" in s.message and s.pod == "image-never-pull" and s.node


def test_crash_loop_quotes_the_log_line_that_explains_it():
    (s,) = sg.pod_signals(pod("crash-loop"), crash_log)
    assert s.code == "crash_loop" and s.container == "exporter"
    assert s.message.startswith("CrashLoopBackOff (exit code 1): ")
    assert s.message.endswith("bind: address already in use")
    assert f"on node {s.node}" in str(s)


def test_crash_loop_without_a_log_still_settles():
    (s,) = sg.pod_signals(pod("crash-loop"))
    assert s.code == "crash_loop" and "exit code 1" in s.message


def test_never_restarted_container_that_exited():
    found = sg.pod_signals(pod("exited-never"), lambda c: "cannot open /etc/config\n")
    assert [s.code for s in found] == ["container_exited"]
    assert found[0].message == "exit code 3: cannot open /etc/config"


def test_unschedulable_quotes_the_scheduler():
    (s,) = sg.pod_signals(pod("unschedulable"))
    assert s.code == "unschedulable" and "didn't match Pod's node affinity/selector" in s.message


def test_running_pod_has_no_signal():
    assert sg.pod_signals(pod("running"), crash_log) == []


def restarted_and_briefly_ready() -> dict:
    """The recorded crash loop in the instant after its restart: running and ready (the container
    has no readiness probe), the exit before the restart only in lastState."""
    p = pod("crash-loop")
    cs = p["status"]["containerStatuses"][0]
    cs.update(ready=True, started=True, state={"running": {"startedAt": "2026-11-29T19:22:02Z"}})
    for c in p["status"]["conditions"]:
        if c["type"] in ("Ready", "ContainersReady"):
            c["status"] = "True"
    return p


def test_ready_instant_of_a_crash_loop_is_not_a_signal_while_waiting():
    assert sg.pod_signals(restarted_and_briefly_ready(), crash_log) == []


def test_ready_instant_of_a_crash_loop_still_names_its_cause_for_a_broken_daemonset():
    (s,) = sg.pod_signals(restarted_and_briefly_ready(), crash_log, past=True)
    assert s.code == "container_exited" and s.message.endswith("bind: address already in use")


def test_pod_being_deleted_has_no_signal():
    p = pod("crash-loop")
    p["metadata"]["deletionTimestamp"] = "2026-11-29T19:00:00Z"
    assert sg.pod_signals(p, crash_log) == []


def test_admission_denial_is_a_failed_create_with_the_policy_message():
    found = [s for s in sg.event_signals(events()) if s.code == "failed_create"]
    assert found and 'violates PodSecurity "baseline:latest"' in found[0].message
    assert "host namespaces (hostNetwork=true)" in found[0].message


def test_events_older_than_since_are_ignored():
    assert sg.event_signals(events(), since=datetime(2100, 1, 1, tzinfo=timezone.utc)) == []


def test_allow_keeps_the_signal_a_claim_waits_for():
    found = sg.pod_signals(pod("crash-loop"), crash_log) + sg.pod_signals(pod("image-never-pull"))
    allow_crash = lambda s: s.code == "crash_loop"  # noqa: E731
    assert sg.first(found, allow_crash).code == "image_pull"
    assert sg.first(sg.pod_signals(pod("crash-loop"), crash_log), allow_crash) is None


@pytest.mark.parametrize("log,line", [
    ("starting\nlevel=error msg=listen tcp :20000: bind: address already in use\n",
     "level=error msg=listen tcp :20000: bind: address already in use"),
    ("a\nb\n", "b"),
    ("", ""),
])
def test_explaining_line(log, line):
    assert sg.explaining_line(log) == line


def test_by_node_groups_each_nodes_cause():
    found = sg.pod_signals(pod("crash-loop"), crash_log) + sg.pod_signals(pod("unschedulable"))
    groups = sg.by_node(found)
    assert set(groups) == {pod("crash-loop")["spec"]["nodeName"], "-"}


def _run_container_error(restarts: int) -> dict:
    """The vendor's pod as the kubelet reports a runtime that could not start its container (the
    words a sandbox race gave in CI), after `restarts` earlier attempts."""
    pod = json.loads((DATA / "pod-running.json").read_text())
    cs = pod["status"]["containerStatuses"][0]
    cs.update(ready=False, restartCount=restarts, state={"waiting": {
        "reason": "RunContainerError",
        "message": "failed to create containerd task: failed to create shim task: OCI runtime create failed: runc "
                   "create failed: unable to create new parent process: namespace path: lstat /proc/0/ns/ipc: no "
                   "such file or directory: unknown"}})
    return pod


def test_a_first_run_container_error_waits_for_the_kubelets_retry_a_second_is_terminal():
    assert sg.pod_signals(_run_container_error(0)) == []
    [sig] = sg.pod_signals(_run_container_error(1))
    assert sig.code == "container_config" and "RunContainerError: failed to create containerd task" in sig.message
