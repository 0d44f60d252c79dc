"""Manifests: load the YAML under fixtures/manifests and derive variants from it.

Every variant is a pure function returning a deep copy, so one loaded object can feed
any number of variants (and the negative controls) without copying YAML.
"""

from __future__ import annotations

import copy
import os
import re
from pathlib import Path
from typing import Any

import yaml

from .resources import FIXTURES

Manifest = dict[str, Any]

# Overridable so the suite can run against a copy of the fixtures (e.g. an installed wheel).
MANIFEST_DIR = Path(
    os.environ.get("HNC_MANIFEST_DIR")
    or FIXTURES / "manifests"
)

_LISTEN_ARG = re.compile(r"^--web\.listen-address=(?P<host>.*):(?P<port>\d+)$")


class ManifestError(ValueError):
    """A manifest file is missing, unreadable or not the expected YAML."""


def _path(name: str) -> Path:
    return MANIFEST_DIR / (name if name.endswith(".yaml") else f"{name}.yaml")


def load_all(name: str) -> list[Manifest]:
    """Every YAML document of fixtures/manifests/<name>[.yaml], empty documents skipped."""
    path = _path(name)
    try:
        docs = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
    except OSError as e:
        raise ManifestError(f"{path}: cannot read manifest ({e.strerror or e})") from e
    except yaml.YAMLError as e:
        # YAML errors span several lines; keep the message to one.
        raise ManifestError(f"{path}: malformed YAML ({' '.join(str(e).split())})") from e
    for doc in docs:
        if not isinstance(doc, dict) or "kind" not in doc:
            raise ManifestError(f"{path}: a document is not a Kubernetes object (no 'kind')")
    return docs


def load(name: str) -> Manifest:
    """The single YAML document of fixtures/manifests/<name>[.yaml]."""
    docs = load_all(name)
    if len(docs) != 1:
        raise ManifestError(f"{_path(name)}: expected one document, found {len(docs)}")
    return docs[0]


# --- accessors -------------------------------------------------------------------


def pod_spec(obj: Manifest) -> dict[str, Any]:
    """The pod spec of a Pod (spec) or of a workload with a template (spec.template.spec)."""
    if obj.get("kind") == "Pod":
        return obj["spec"]
    return obj["spec"]["template"]["spec"]


def _containers(obj: Manifest) -> list[dict[str, Any]]:
    return pod_spec(obj)["containers"]


def listen_port(obj: Manifest) -> int:
    """The port node-exporter really listens on, from --web.listen-address."""
    for container in _containers(obj):
        for arg in container.get("args", []):
            if m := _LISTEN_ARG.match(arg):
                return int(m["port"])
    raise ManifestError(f"{_describe(obj)}: no --web.listen-address argument")


def declared_port(obj: Manifest) -> int:
    """The first containerPort declared by the first container that declares one."""
    for container in _containers(obj):
        for port in container.get("ports", []):
            return int(port["containerPort"])
    raise ManifestError(f"{_describe(obj)}: no containerPort declared")


def _describe(obj: Manifest) -> str:
    return f"{obj.get('kind', '?')}/{obj.get('metadata', {}).get('name', '?')}"


# --- variants (pure: deep copy in, deep copy out) --------------------------------


def _set_pod_field(obj: Manifest, field: str, value: Any) -> Manifest:
    out = copy.deepcopy(obj)
    pod_spec(out)[field] = value
    return out


def with_host_network(obj: Manifest, enabled: bool) -> Manifest:
    out = _set_pod_field(obj, "hostNetwork", enabled)
    if not enabled:
        # A hostPort on a pod-network pod would still claim the node's port and blur
        # what the negative control is about.
        for container in _containers(out):
            for port in container.get("ports", []):
                port.pop("hostPort", None)
    return out


def with_host_pid(obj: Manifest, enabled: bool) -> Manifest:
    return _set_pod_field(obj, "hostPID", enabled)


def with_dns_policy(obj: Manifest, policy: str) -> Manifest:
    return _set_pod_field(obj, "dnsPolicy", policy)


# What the suite's own workloads request of a node's CPU: each is the vendor's pod changed in one
# way, a control or a scenario that only has to run, and many of them share a node while a run
# starts at once; at the vendor's 100m they would not fit beside a one-node cluster's control plane.
SUITE_CPU_REQUEST = "10m"


def light(obj: Manifest) -> Manifest:
    """The workload with each container's CPU request lowered to SUITE_CPU_REQUEST (limits and
    memory as they were, and a request already below it kept): for the suite's own copies of the
    vendor's pod, never for the vendor's DaemonSet itself, whose resources C13 judges as written."""
    out = copy.deepcopy(obj)
    for container in _containers(out):
        requests = (container.get("resources") or {}).get("requests") or {}
        if "cpu" in requests and _millicores(requests["cpu"]) > _millicores(SUITE_CPU_REQUEST):
            requests["cpu"] = SUITE_CPU_REQUEST
    return out


def _millicores(q: str) -> float:
    q = str(q)
    return float(q[:-1]) if q.endswith("m") else float(q) * 1000


def with_node_name(pod: Manifest, node: str) -> Manifest:
    """Bind directly to a node, bypassing the scheduler (the kubelet admits or rejects it)."""
    return _set_pod_field(pod, "nodeName", node)


VENDOR_PORT = 20000   # the page's containerPort, used as written


def one_node(w, obj: Manifest, slot: int) -> Manifest:
    """A workload whose check observes one pod, on one worker of the run `w`: w.workers[slot] (round
    the list). Every pod is a cost on the nodes while the whole run starts at once, and counts against
    a node's allocatable CPU (the vendor's pod requests 100m): the slots spread them over the workers."""
    return on_one_node(obj, w.workers[slot % len(w.workers)])


def on_nodes(obj: Manifest, nodes: list[str]) -> Manifest:
    """A DaemonSet (or Pod) placed on `nodes` only (the run's node sample), by required node affinity
    on metadata.name, like on_one_node: one term per node (terms are ORed). One term with several names
    is refused: `must be only one value when operator is 'In' or 'NotIn' for node field selector` (422,
    seen on a cluster with simulated nodes, where the sample is not every node)."""
    return _set_pod_field(obj, "affinity", {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": [n]}]}
                              for n in nodes]}}})


def with_node_selector(obj: Manifest, selector: dict) -> Manifest:
    """Placed on the nodes whose labels match `selector` ({key: value}, or {key: None}: the label
    exists; --node-selector): equality in nodeSelector, existence as required node affinity."""
    out = copy.deepcopy(obj)
    spec = pod_spec(out)
    spec.setdefault("nodeSelector", {}).update({k: v for k, v in selector.items() if v is not None})
    exists = [{"key": k, "operator": "Exists"} for k, v in selector.items() if v is None]
    if exists:
        spec["affinity"] = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": exists}]}}}
    if not spec["nodeSelector"]:
        del spec["nodeSelector"]
    return out


def on_one_node(obj: Manifest, node: str) -> Manifest:
    """A DaemonSet (or Pod) placed on `node` only, by required node affinity on metadata.name (the
    node's name, whatever its hostname label says; the DaemonSet controller matches this field)."""
    return _set_pod_field(obj, "affinity", {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node]}]}]}}})


def with_ports(obj: Manifest, declared: int, listening: int) -> Manifest:
    """Declare one port and listen on another (equal values give a consistent variant)."""
    out = copy.deepcopy(obj)
    for container in _containers(out):
        for port in container.get("ports", []):
            port["containerPort"] = declared
            if "hostPort" in port:  # with hostNetwork hostPort must equal containerPort
                port["hostPort"] = declared
        container["args"] = [
            f"--web.listen-address={m['host']}:{listening}" if (m := _LISTEN_ARG.match(a)) else a
            for a in container.get("args", [])
        ]
    return out


def with_port(obj: Manifest, port: int) -> Manifest:
    return with_ports(obj, declared=port, listening=port)


def with_image(obj: Manifest, image: str) -> Manifest:
    out = copy.deepcopy(obj)
    for container in _containers(out):
        container["image"] = image
    return out


def with_name(obj: Manifest, name: str) -> Manifest:
    out = copy.deepcopy(obj)
    out.setdefault("metadata", {})["name"] = name
    if out.get("kind") == "DaemonSet":
        # Two DaemonSets with one selector would fight over the same pods.
        out["spec"]["selector"].setdefault("matchLabels", {})["app"] = name
        out["spec"]["template"].setdefault("metadata", {}).setdefault("labels", {})["app"] = name
    return out


def pod_from_daemonset(ds: Manifest, name: str) -> Manifest:
    """A bare Pod with the DaemonSet's template: Pod-only behaviour (C6, C7, C9) needs one."""
    template = copy.deepcopy(ds["spec"]["template"])
    metadata = template.get("metadata", {})
    metadata["name"] = name
    if namespace := ds.get("metadata", {}).get("namespace"):
        metadata["namespace"] = namespace
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": template["spec"]}


# --- host features (admission.py decides which a cluster refuses) ----------------

HOST_NETWORK, HOST_PID, HOST_PATH, HOST_PORT = "hostNetwork", "hostPID", "hostPath", "hostPort"
HOST_FEATURES = (HOST_NETWORK, HOST_PID, HOST_PATH, HOST_PORT)


def _refers_to(arg: str, paths: list[str]) -> bool:
    """Whether a flag's value names a path under one of `paths` (`--path.procfs=/host/proc`)."""
    value = arg.split("=", 1)[-1]
    return any(value == p or value.startswith(p.rstrip("/") + "/") for p in paths)


def without_host_features(obj: Manifest, features) -> Manifest:
    """The Pod or workload without the host `features` it uses:
    - hostNetwork: a pod-network pod (its hostPorts go too, as with_host_network(False));
    - hostPID: no hostPID;
    - hostPath: no hostPath volumes, no mounts of them, and no argument naming a path under such a
      mount (node-exporter's --path.procfs=/host/proc: without it the exporter reads its own /proc);
    - hostPort: no host ports. A host-network pod's containerPorts are host ports (the API server
      sets hostPort = containerPort on a Pod), so such a pod declares no ports at all; a pod-network
      pod keeps its containerPorts without hostPort."""
    unknown = set(features) - set(HOST_FEATURES)
    if unknown:
        raise ValueError(f"unknown host feature(s) {', '.join(sorted(unknown))} (known: {', '.join(HOST_FEATURES)})")
    out = with_host_network(obj, False) if HOST_NETWORK in features else copy.deepcopy(obj)
    spec = pod_spec(out)
    containers = [*spec.get("initContainers", []), *spec["containers"]]
    if HOST_PID in features:
        spec.pop("hostPID", None)
    if HOST_PATH in features:
        gone = {v["name"] for v in spec.get("volumes", []) if "hostPath" in v}
        spec["volumes"] = [v for v in spec.get("volumes", []) if v["name"] not in gone]
        if not spec["volumes"]:
            spec.pop("volumes")
        for c in containers:
            paths = [m["mountPath"] for m in c.get("volumeMounts", []) if m["name"] in gone]
            c["volumeMounts"] = [m for m in c.get("volumeMounts", []) if m["name"] not in gone]
            if not c["volumeMounts"]:
                c.pop("volumeMounts")
            if "args" in c:
                c["args"] = [a for a in c["args"] if not _refers_to(a, paths)]
    if HOST_PORT in features:
        for c in containers:
            if spec.get("hostNetwork"):
                c.pop("ports", None)
            for port in c.get("ports", []):
                port.pop("hostPort", None)
    return out


def host_feature_pods(pod: Manifest) -> dict[str, Manifest]:
    """{feature: the Pod with only that host feature}, named <pod>-<feature>, for admission's dry
    runs: hostNetwork (declaring no ports, which would be host ports), and hostPID, hostPath, hostPort
    on the pod network (hostPort: each containerPort also taken on the node)."""
    out = {}
    for feature in HOST_FEATURES:
        one = without_host_features(pod, set(HOST_FEATURES) - {feature})
        if feature == HOST_PORT:
            for c in pod_spec(one)["containers"]:
                for port in c.get("ports", []):
                    port["hostPort"] = port["containerPort"]
        out[feature] = with_name(one, f"{pod['metadata']['name']}-{feature.lower()}")
    return out
