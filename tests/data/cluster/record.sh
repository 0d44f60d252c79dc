#!/usr/bin/env bash
# Re-record the kind objects of this directory (README.md) from a kind cluster whose CoreDNS is up:
#   KUBECONFIG=... tests/data/cluster/record.sh
# Reads only; the other files are edited or written after other distributions (README.md).
set -euo pipefail
cd "$(dirname "$0")"
k() { timeout 60 kubectl "$@"; }
k -n kube-system wait --for=condition=Available deployment/coredns --timeout=120s >/dev/null
k get services -A -o json >services-kind.json
k -n kube-system get endpointslices -l kubernetes.io/service-name=kube-dns -o json >endpointslices-kube-dns-kind.json
k -n kube-system get deployment coredns -o json >deployment-coredns-kind.json
