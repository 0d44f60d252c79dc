#!/usr/bin/env bash
# Re-record the API objects tests/test_signals.py decides on, from a real cluster:
#   KUBECONFIG=... tests/data/signals/record.sh
# Creates namespace hnc-record-signals (labelled as the suite's own), provokes each terminal signal,
# writes <case>.json (the pod or the namespace's events, as `kubectl get -o json` prints them) and
# deletes the namespace. Needs busybox:1.36.1 on the nodes; never pulls anything (imagePullPolicy Never).
set -euo pipefail
cd "$(dirname "$0")"
NS=hnc-record-signals
k() { timeout 60 kubectl "$@"; }
k delete ns "$NS" --ignore-not-found --wait=true >/dev/null
k create ns "$NS" >/dev/null
k label ns "$NS" app.kubernetes.io/managed-by=hostnet-conformance pod-security.kubernetes.io/enforce=baseline >/dev/null
trap 'k delete ns "$NS" --wait=false >/dev/null 2>&1 || true' EXIT
pod() {  # pod NAME RESTART JSON-SPEC-FRAGMENT
  k -n "$NS" apply -f - >/dev/null <<JSON
{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "$1"},
 "spec": {"restartPolicy": "$2", "terminationGracePeriodSeconds": 0, $3}}
JSON
}
pod image-never-pull Always '"containers": [{"name": "c", "image": "hnc.local/absent:0", "imagePullPolicy": "Never"}]'
pod crash-loop Always '"containers": [{"name": "exporter", "image": "busybox:1.36.1", "imagePullPolicy": "Never",
  "command": ["sh", "-c", "echo starting; echo \"level=error msg=listen tcp :20000: bind: address already in use\" >&2; exit 1"]}]'
pod exited-never Never '"containers": [{"name": "c", "image": "busybox:1.36.1", "imagePullPolicy": "Never",
  "command": ["sh", "-c", "echo cannot open /etc/config >&2; exit 3"]}]'
pod unschedulable Always '"nodeSelector": {"hnc-no-such": "label"}, "containers": [{"name": "c", "image": "busybox:1.36.1", "imagePullPolicy": "Never", "command": ["sleep", "3600"]}]'
pod running Always '"containers": [{"name": "c", "image": "busybox:1.36.1", "imagePullPolicy": "Never", "command": ["sleep", "3600"]}]'
k -n "$NS" apply -f - >/dev/null <<'JSON'
{"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "denied"},
 "spec": {"selector": {"matchLabels": {"app": "denied"}}, "template": {"metadata": {"labels": {"app": "denied"}},
  "spec": {"hostNetwork": true, "containers": [{"name": "c", "image": "busybox:1.36.1", "imagePullPolicy": "Never", "command": ["sleep", "3600"]}]}}}}
JSON
k -n "$NS" wait --for=jsonpath='{.status.containerStatuses[0].state.waiting.reason}'=ErrImageNeverPull pod/image-never-pull --timeout=60s >/dev/null
k -n "$NS" wait --for=jsonpath='{.status.containerStatuses[0].state.waiting.reason}'=CrashLoopBackOff pod/crash-loop --timeout=60s >/dev/null
k -n "$NS" wait --for=jsonpath='{.status.phase}'=Failed pod/exited-never --timeout=60s >/dev/null
k -n "$NS" wait --for=condition=PodScheduled=false pod/unschedulable --timeout=60s >/dev/null
k -n "$NS" wait --for=condition=Ready pod/running --timeout=60s >/dev/null
timeout 60 bash -c "until kubectl -n $NS get events --field-selector reason=FailedCreate -o name | grep -q .; do :; done"
for p in image-never-pull crash-loop exited-never unschedulable running; do k -n "$NS" get pod "$p" -o json >"pod-$p.json"; done
k -n "$NS" logs crash-loop --previous >"log-crash-loop.txt"
k -n "$NS" get events -o json >"events.json"
# The node reports official images under their registry's full name; the project names no registry
# host anywhere, so the recorded files keep the short name (busybox:1.36.1).
sed -i -E 's#[a-z0-9-]+(\.[a-z0-9-]+)+/library/##g' ./*.json
echo "recorded in $(pwd)"
