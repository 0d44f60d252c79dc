#!/usr/bin/env bash
# Run upstream Kubernetes e2e (the specs in fixtures/upstream-e2e/specs.yaml) against a kept
# cluster, as the outside reference for the cluster the suite runs on. Builds or reuses e2e.test,
# agnhost and the images the specs need (scripts/offline/build-e2e.sh, cached), loads the images
# into a kind cluster, runs the parallel-safe specs, then the [Serial] ones in a second run, and
# prints one line per listed spec. JUnit and logs go to the report directory.
#
# Usage: scripts/upstream-e2e.sh --cluster-name NAME [--report-dir DIR]
#        scripts/upstream-e2e.sh --kubeconfig FILE [--context NAME] [--report-dir DIR]
#            (any cluster whose nodes already have, or can pull, the images e2e.test names)
# Exit: 0 every listed spec passed; 1 a spec failed or did not run; 2 bad input.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SPECS="$ROOT/fixtures/upstream-e2e/specs.yaml"
# shellcheck source=lib-host.sh
source "$ROOT/scripts/lib-host.sh"   # bounded: every kind and kubectl call and e2e.test have a deadline
CLUSTER="" KUBECONFIG_FILE="" CONTEXT="" REPORT="$PWD/upstream-e2e-report"
: "${HNC_E2E_TIMEOUT:=3600}"
usage() { echo "upstream-e2e: $*" >&2; echo "usage: scripts/upstream-e2e.sh (--cluster-name NAME | --kubeconfig FILE [--context NAME]) [--report-dir DIR]" >&2; exit 2; }
fail() { echo "upstream-e2e: $*" >&2; exit 1; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --cluster-name) [[ $# -ge 2 && -n "$2" ]] || usage "--cluster-name needs a value"; CLUSTER=$2; shift 2 ;;
    --kubeconfig) [[ $# -ge 2 && -n "$2" ]] || usage "--kubeconfig needs a value"; KUBECONFIG_FILE=$2; shift 2 ;;
    --context) [[ $# -ge 2 && -n "$2" ]] || usage "--context needs a value"; CONTEXT=$2; shift 2 ;;
    --report-dir) [[ $# -ge 2 && -n "$2" ]] || usage "--report-dir needs a value"; REPORT=$2; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) usage "unknown argument: $1" ;;
  esac
done
[[ -n "$CLUSTER" || -n "$KUBECONFIG_FILE" ]] || usage "name a cluster: --cluster-name NAME or --kubeconfig FILE"
[[ -z "$CLUSTER" || -z "$KUBECONFIG_FILE" ]] || usage "--cluster-name and --kubeconfig exclude each other"
[[ -z "$KUBECONFIG_FILE" || -r "$KUBECONFIG_FILE" ]] || usage "--kubeconfig: cannot read $KUBECONFIG_FILE"
[[ -z "$CONTEXT" || -n "$KUBECONFIG_FILE" ]] || usage "--context goes with --kubeconfig"

"$ROOT/scripts/install-python-deps.sh"
python3 -m hostnet_conformance.upstream_e2e focus "$SPECS" parallel >/dev/null   # validates the list
"$ROOT/scripts/offline/bootstrap.sh"
env_file=$("$ROOT/scripts/offline/build-e2e.sh")
set -a; source "$env_file"; set +a
mkdir -p "$REPORT"; REPORT=$(cd "$REPORT" && pwd)
rm -rf "$REPORT/parallel" "$REPORT/serial"

if [[ -n "$CLUSTER" ]]; then
  clusters=$(quiet bounded 60 kind get clusters) || fail "kind get clusters failed"
  grep -qx "$CLUSTER" <<<"$clusters" || fail "no kind cluster named $CLUSTER (kind get clusters)"
  KUBECONFIG_FILE="$REPORT/kubeconfig"
  quiet bounded 60 kind export kubeconfig --name "$CLUSTER" --kubeconfig "$KUBECONFIG_FILE" >/dev/null \
    || fail "kind export kubeconfig --name $CLUSTER failed"
  t=$SECONDS
  IFS=, read -r -a images <<<"$HNC_E2E_IMAGES"
  bounded 600 kind load docker-image --name "$CLUSTER" "${images[@]}" >"$REPORT/kind-load.log" 2>&1 \
    || fail "kind load docker-image failed: ${BOUNDED_LAST:-$(tail -n1 "$REPORT/kind-load.log")}"
  echo "upstream-e2e: images on the nodes in $((SECONDS - t))s: ${images[*]}"
fi
ctx=(); [[ -n "$CONTEXT" ]] && ctx=(--context "$CONTEXT")
bounded 60 kubectl --kubeconfig "$KUBECONFIG_FILE" "${ctx[@]}" get --raw /readyz >/dev/null 2>"$REPORT/readyz.err" \
  || fail "the cluster does not answer: ${BOUNDED_LAST:-$(tail -n1 "$REPORT/readyz.err")}"

run() {  # run GROUP: one e2e.test invocation over the group's focus list
  local group=$1 focus=()
  mapfile -d '' -t focus < <(python3 -m hostnet_conformance.upstream_e2e focus "$SPECS" "$group")
  [[ ${#focus[@]} -gt 0 ]] || return 0
  mkdir -p "$REPORT/$group"
  local t=$SECONDS rc=0
  echo "upstream-e2e: $group: ${#focus[@]} specs (log: $REPORT/$group/e2e.log)"
  KUBE_TEST_REPO_LIST="$HNC_E2E_REPO_LIST" bounded "$HNC_E2E_TIMEOUT" "$HNC_E2E_TEST" \
    --kubeconfig="$KUBECONFIG_FILE" ${CONTEXT:+--context="$CONTEXT"} --provider=skeleton \
    --kubectl-path="$(command -v kubectl)" --report-dir="$REPORT/$group" --disable-log-dump \
    --ginkgo.no-color --ginkgo.timeout="${HNC_E2E_TIMEOUT}s" "${focus[@]}" \
    >"$REPORT/$group/e2e.log" 2>&1 || rc=$?
  echo "upstream-e2e: $group: e2e.test exit $rc after $((SECONDS - t))s${BOUNDED_LAST:+ ($BOUNDED_LAST)}"
  [[ -f "$REPORT/$group/junit_01.xml" ]] || fail "$group: e2e.test wrote no JUnit report (exit $rc): $(grep -m1 -E 'FAIL|panic|error' "$REPORT/$group/e2e.log" || tail -n1 "$REPORT/$group/e2e.log")"
}
run parallel
run serial
junits=("$REPORT"/*/junit_01.xml)
rc=0
python3 -m hostnet_conformance.upstream_e2e check "$SPECS" "${junits[@]}" >"$REPORT/summary.txt" || rc=$?
cat "$REPORT/summary.txt"
exit "$rc"
