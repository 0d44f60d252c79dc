#!/usr/bin/env bash
# Run the suite INSIDE a cluster, as deploy/runner.yaml's Job, and bring its results home.
#
#   scripts/in-cluster.sh --cluster-name hnc-ci [--out DIR] [-- SUITE ARGS]     # a kind cluster
#   scripts/in-cluster.sh --kubeconfig F --context C --image REG/PATH:TAG [--out DIR]
#
# Applies the Job (namespace, ServiceAccount, ClusterRole, Job), waits for the runner's `done`
# file, copies results.tar.gz out, unpacks it into --out (junit.xml, report/), prints the verdict
# table, and removes everything it applied, also after a failure or Ctrl-C. For a kind cluster
# the runner image is loaded into its nodes; any other cluster pulls --image.
# Exit status: the runner's (0: every test passed), 2 bad usage, 3 the runner could not run.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
NS=hostnet-conformance-runner
# shellcheck source=lib-host.sh
source "$ROOT/scripts/lib-host.sh"   # bounded: every kind, docker and kubectl call has a deadline
die() { echo "in-cluster: $*" >&2; exit 3; }
usage() { echo "in-cluster: $*" >&2; echo "usage: $0 (--cluster-name NAME | --kubeconfig FILE --context CTX) [--image IMAGE] [--out DIR] [--timeout S] [-- SUITE ARGS]" >&2; exit 2; }

name="" kubeconfig="" context="" image="${HNC_RUNNER_IMAGE:-}" out="$PWD/in-cluster-results" timeout=900 args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --cluster-name) name="${2:?}"; shift 2 ;;
    --kubeconfig) kubeconfig="${2:?}"; shift 2 ;;
    --context) context="${2:?}"; shift 2 ;;
    --image) image="${2:?}"; shift 2 ;;
    --out) out="${2:?}"; shift 2 ;;
    --timeout) timeout="${2:?}"; shift 2 ;;
    --) shift; args=("$@"); break ;;
    *) usage "unknown argument $1" ;;
  esac
done
[[ -n "$name" || -n "$kubeconfig" ]] || usage "name a kind cluster (--cluster-name) or a kubeconfig and context"
[[ -z "$name" || -z "$kubeconfig" ]] || usage "--cluster-name and --kubeconfig name two targets: give one"
[[ -z "$kubeconfig" || -n "$context" ]] || usage "--kubeconfig needs an explicit --context"
[[ "$timeout" =~ ^[0-9]+$ ]] || usage "--timeout takes seconds"
work="$(mktemp -d)"
if [[ -n "$name" ]]; then
  clusters=$(quiet bounded 60 kind get clusters) || die "kind get clusters failed"
  grep -qx "$name" <<<"$clusters" || die "no kind cluster named $name"
  if [[ -z "$image" ]]; then   # the offline bootstrap builds it; build it now if it has not
    image="$(bash "$ROOT/scripts/offline/build-runner.sh")" || die "the runner image could not be built"
  fi
  kubeconfig="$work/kubeconfig" context="kind-$name"
  quiet bounded 60 kind export kubeconfig --name "$name" --kubeconfig "$kubeconfig" >/dev/null \
    || die "kind export kubeconfig failed"
  quiet bounded 60 docker image inspect "$image" >/dev/null || die "image $image is not in the local Docker daemon"
  bounded 300 kind load docker-image --name "$name" "$image" >/dev/null || die "kind load docker-image $image failed"
fi
[[ -n "$image" ]] || usage "--image: the runner image, as this cluster's nodes can pull it"
k() { bounded 120 kubectl --kubeconfig "$kubeconfig" --context "$context" "$@"; }
quiet k version --request-timeout=10s >/dev/null || die "the API server of context $context does not answer"

# the manifest with this run's image and arguments
python3 - "$ROOT/deploy/runner.yaml" "$image" "$work/runner.yaml" "${args[@]}" <<'PY'
import sys, yaml
src, image, dst, args = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
docs = [d for d in yaml.safe_load_all(open(src)) if d]
for d in docs:
    if d["kind"] == "Job":
        c = d["spec"]["template"]["spec"]["containers"][0]
        c["image"] = image
        c["args"] = list(args)
yaml.safe_dump_all(docs, open(dst, "w"), sort_keys=False)
PY
cleanup() {
  k delete -f "$work/runner.yaml" --ignore-not-found --wait=false >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
if k get namespace "$NS" >/dev/null 2>&1; then
  die "namespace $NS exists already (another run, or one that was killed): kubectl delete namespace $NS"
fi
k apply -f "$work/runner.yaml" >/dev/null || die "kubectl apply of the runner failed"

# the runner's pod: running (stop at once if it cannot start), then its `done` file
deadline=$((SECONDS + timeout)) pod="" last=""
while (( SECONDS < deadline )); do
  pod=$(k -n "$NS" get pods -l job-name=hostnet-conformance -o jsonpath='{.items[0].metadata.name}' 2>/dev/null || true)
  if [[ -n "$pod" ]]; then
    state=$(k -n "$NS" get pod "$pod" -o jsonpath='{.status.phase} {.status.containerStatuses[0].state.waiting.reason} {.status.containerStatuses[0].state.waiting.message}{.status.containerStatuses[0].state.terminated.reason}' 2>/dev/null || true)
    last="pod $pod: $state"
    case "$state" in
      *ErrImagePull*|*ImagePullBackOff*|*ErrImageNeverPull*|*InvalidImageName*|*CreateContainerConfigError*|*CreateContainerError*)
        die "the runner cannot start: $last" ;;
    esac
    if k -n "$NS" exec "$pod" -- test -f /tmp/sonobuoy/results/done >/dev/null 2>&1; then break; fi
    if [[ "$state" == Failed* || "$state" == Succeeded* ]]; then
      k -n "$NS" logs "$pod" --tail=20 >&2 || true
      die "the runner ended before writing its results: $last"
    fi
  else
    last=$(k -n "$NS" get events --field-selector involvedObject.kind=Job -o jsonpath='{.items[-1:].message}' 2>/dev/null || true)
  fi
  read -r -t 1 <> <(:) || true   # a one-second pause between polls, with the deadline above
done
(( SECONDS < deadline )) || die "no results within ${timeout}s; last seen: ${last:-no pod}"

mkdir -p "$out"
tarball=$(k -n "$NS" exec "$pod" -- cat /tmp/sonobuoy/results/done) || die "reading the runner's done file failed"
[[ "$tarball" == /tmp/sonobuoy/results/* ]] || die "the done file names no results file: $tarball"
k -n "$NS" exec "$pod" -- cat "$tarball" >"$out/results.tar.gz" || die "copying $tarball failed"
tar -C "$out" -xzf "$out/results.tar.gz"
echo "$tarball" >"$out/done"
k -n "$NS" exec "$pod" -- touch /tmp/sonobuoy/results/collected >/dev/null 2>&1 || true
rc=$(cat "$out/exit-code" 2>/dev/null || echo 3)
python3 - "$out/report/report.json" <<'PY'
import json, sys
data = json.load(open(sys.argv[1]))
for c in data["claims"]:
    if c["verdict"] != "NOT RUN":
        print(f'{c["id"]:<4} {c["verdict"]:<15} {" ".join(str(c["reason"]).split())[:90]}')
PY
echo "in-cluster: runner exit code $rc; results in $out (junit.xml, report/)"
exit "$rc"
