"""Facts read from the cluster, not kind's defaults (docs: shared/docs/real-clusters.md).

Per node, the kubelet's own configuration through the API server's node proxy
(`GET /api/v1/nodes/<node>/proxy/configz`): the port its API serves on, where its healthz listens,
which DNS server and domain it gives pods, which resolv.conf it hands to `dnsPolicy:
Default`/ClusterFirst+hostNetwork pods.
When configz cannot be read (RBAC on nodes/proxy, a kubelet without it), the node's own kubelet
config file is read by the node's host-network probe (which mounts the node's / at /host), from
the paths the common distributions use; failing that, the kubelet's documented defaults stand in.
`source` always says which, so a verdict never hides where its expectation came from.

Also the node's addresses (InternalIP, Hostname: with --hostname-override the OS hostname is the
Hostname address, not metadata.name) as sets, for dual-stack clusters.
"""
from __future__ import annotations

import ipaddress
import json
from dataclasses import asdict, dataclass, field, replace

LOOPBACK = ("127.0.0.1", "::1", "localhost")


@dataclass(frozen=True)
class Kubelet:
    source: str                       # "configz", or "defaults: <why configz could not be read>"
    healthz_bind: str = "127.0.0.1"
    healthz_port: int = 10248
    cluster_dns: list[str] = field(default_factory=list)
    cluster_domain: str = "cluster.local"
    resolv_conf: str = "/etc/resolv.conf"
    # the port of the kubelet's own API (logs, exec, metrics), held by the kubelet on every node
    port: int = 10250

    @property
    def healthz_url(self) -> str | None:
        """The kubelet's healthz as seen from the node's own network namespace (None: disabled)."""
        if not self.healthz_port:
            return None
        host = self.healthz_bind or "0.0.0.0"
        if host in ("0.0.0.0", "::"):
            host = "127.0.0.1"     # bound everywhere: loopback reaches it too
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.healthz_port}/healthz"

    @property
    def healthz_node_local(self) -> bool:
        """True when only the node itself can reach the healthz (bound to a loopback address)."""
        try:
            return ipaddress.ip_address(self.healthz_bind).is_loopback
        except ValueError:
            return self.healthz_bind == "localhost"

    def to_dict(self) -> dict:
        return asdict(self)


def parse_configz(doc: dict | str | bytes) -> Kubelet:
    """The facts the claims need from a configz document ({"kubeletconfig": {...}})."""
    if isinstance(doc, (str, bytes)):
        doc = json.loads(doc)
    kc = (doc or {}).get("kubeletconfig") or {}
    defaults = Kubelet("configz")
    port = kc.get("healthzPort", defaults.healthz_port)
    return Kubelet(
        "configz",
        healthz_bind=kc.get("healthzBindAddress", defaults.healthz_bind) or "",
        healthz_port=int(port) if port is not None else 0,
        cluster_dns=list(kc.get("clusterDNS") or []),
        cluster_domain=(kc.get("clusterDomain") or defaults.cluster_domain).rstrip("."),
        resolv_conf=kc.get("resolvConf", defaults.resolv_conf) or "",
        # a file without the key leaves the kubelet on its default (0 is not a port it can serve on)
        port=int(kc.get("port") or defaults.port),
    )


# Where distributions keep the kubelet's --config file (flags given besides it are not seen here)
KUBELET_CONFIG_FILES = (
    "/var/lib/kubelet/config.yaml",                  # kubeadm: kind, most on-prem and kubeadm-based clusters
    "/etc/kubernetes/kubelet/kubelet-config.json",   # EKS optimized AMIs
    "/home/kubernetes/kubelet-config.yaml",          # GKE on Container-Optimized OS
)


def parse_config_file(text: str, path: str, why: str) -> Kubelet:
    """The same facts from a KubeletConfiguration file (YAML or JSON) read on the node."""
    import yaml
    doc = yaml.safe_load(text)
    if not isinstance(doc, dict) or doc.get("kind") != "KubeletConfiguration":
        raise ValueError(f"{path} is not a KubeletConfiguration")
    k = parse_configz({"kubeletconfig": doc})
    return replace(k, source=f"node file {path} ({why}; flags besides the file are not seen)")


def read_kubelet(api, node: str) -> Kubelet:
    """configz of one node's kubelet through the API server, or the defaults with the reason."""
    from kubernetes import client

    core = client.CoreV1Api(api)
    try:
        resp = core.connect_get_node_proxy_with_path(node, "configz", _preload_content=False, _request_timeout=10)
        return parse_configz(resp.data)
    except client.ApiException as e:
        why = f"configz unreadable (HTTP {e.status} {e.reason})"
    except (ValueError, TypeError) as e:
        why = f"configz unreadable ({' '.join(str(e).split())[:120]})"
    # the node's status names the kubelet's port whatever configz allows (daemonEndpoints)
    try:
        port = endpoint_port(api.sanitize_for_serialization(core.read_node(node, _request_timeout=10)))
    except client.ApiException:
        port = None
    if port is None:
        return Kubelet(f"defaults: {why}")
    return Kubelet(f"defaults: {why}; port {port} from the node's status.daemonEndpoints", port=port)


def endpoint_port(node: dict) -> int | None:
    """The kubelet's port as the node's status states it (status.daemonEndpoints.kubeletEndpoint.Port)."""
    port = (((node.get("status") or {}).get("daemonEndpoints") or {}).get("kubeletEndpoint") or {}).get("Port")
    return port if isinstance(port, int) and port > 0 else None


def addresses(node: dict, kind: str) -> list[str]:
    """The node's addresses of one type (InternalIP, ExternalIP, Hostname) from its API JSON."""
    return [a["address"] for a in (node.get("status") or {}).get("addresses") or [] if a.get("type") == kind]


def os_hostname(node: dict) -> str:
    """What `hostname` prints on the node: its Hostname address (kubelet --hostname-override makes
    metadata.name differ), else its name."""
    names = addresses(node, "Hostname")
    return names[0] if names else (node.get("metadata") or {}).get("name", "")
