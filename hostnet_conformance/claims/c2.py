"""C2: metrics on the host port. Its spec is verdict.CLAIMS["C2"]; this module observes the cluster and judges."""
from __future__ import annotations

import time

from kubernetes import client

from .. import probes
from ..environment import Env, ds_pods, node_ips
from ..scenarios import observer
from ..verdict import Verdict
from ..waiting import each
from ..world import VENDOR_PORT, ds_of, require_pod_network
from .base import unobserved, verdict

def check_c2(env: Env, ns: str, ds: str, port: int, node_probes: dict, pod_probe) -> Verdict:
    """GET nodeIP:port/metrics from a pod-network probe, from the test host, and from the node's
    own loopback (a hostNetwork probe on that node)."""
    t0, failures, ev = time.monotonic(), [], {}
    ips = node_ips(env)
    nodes = [p.spec.node_name for p in ds_pods(env, ns, ds)]
    urls = {node: probes.url(ips[node], port, "/metrics") for node in nodes}
    # the GETs of every node at once: the pod probe's in one exec, each node probe's beside it
    calls = {node: (lambda n=node: probes.http_get(env.core, node_probes[n], probes.url("127.0.0.1", port, "/metrics")))
             for node in nodes}
    calls["(pod)"] = lambda: probes.http_get_many(env.core, pod_probe, urls)
    got = each(lambda call: call(), calls)
    for node in nodes:
        url = urls[node]
        via_pod, via_loop = got["(pod)"][node], got[node]
        via_host = probes.http_get_from_host(url)
        has = lambda r: r["ok"] and "node_exporter_build_info" in r["body"]  # noqa: E731
        # evidence only: the runner may have no route to node IPs, and the API server's node proxy
        # needs nodes/proxy RBAC; the in-cluster GETs above decide
        ev[node] = {"url": url, "from_pod_network": has(via_pod), "from_node_loopback": has(via_loop),
                    "from_test_host": has(via_host) if via_host.get("status") is not None else "unreachable",
                    "via_api_server_node_proxy": _node_proxy_metrics(env, node, port)}
        unobserved("C2", f"GET {url} from a pod", via_pod)
        unobserved("C2", f"GET localhost:{port} on {node}", via_loop)
        if not has(via_pod):
            failures.append(("no_metrics_from_pod",
                             f"{url} from a pod: {via_pod['error'] or 'no node_exporter_build_info'}", via_pod["mode"]))
        if not has(via_loop):
            failures.append(("no_metrics_on_loopback",
                             f"localhost:{port} on {node}: {via_loop['error'] or 'no node_exporter_build_info'}",
                             via_loop["mode"]))
    if not ev:
        failures.append(("no_pods", "no DaemonSet pods"))
    return verdict("C2", failures, ev, f"/metrics with node_exporter_build_info on :{port} of every node", t0)


def _node_proxy_metrics(env: Env, node: str, port: int):
    """GET /api/v1/nodes/<node>:<port>/proxy/metrics: True when it names node_exporter_build_info,
    else why not (HTTP status and reason, e.g. 403 when this identity lacks nodes/proxy)."""
    try:
        r = env.core.connect_get_node_proxy_with_path(f"{node}:{port}", "metrics", _preload_content=False,
                                                      _request_timeout=10)
        return b"node_exporter_build_info" in r.data or "answered without node_exporter_build_info"
    except client.ApiException as e:
        return f"HTTP {e.status} {e.reason}"
    except Exception as e:  # noqa: BLE001 - evidence only: a transport error is recorded, never raised
        return " ".join(str(e).split())[:120] or type(e).__name__


@observer("c2", "C2")
def _c2(world):
    require_pod_network(world)   # observed through the pod network: a precondition
    return check_c2(world.env, *ds_of(world, "vendor"), VENDOR_PORT, world.node_probes, world.pod_probe)


@observer("c2-control", "C2")
def _c2_control(world):
    require_pod_network(world)
    port = world.ports.port_for("no-hostnet")
    return check_c2(world.env, *ds_of(world, "no-hostnet"), port, world.node_probes, world.pod_probe)
