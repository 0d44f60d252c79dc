"""C2: metrics are served on the host port. Spec: verdict.CLAIMS["C2"].

Observed, for every node that runs a pod of the DaemonSet: GET nodeIP:port/metrics from a
pod-network probe, GET localhost:port/metrics from a host-network probe on that node, and, as
evidence only, the same nodeIP GET from the test host and through the API server's node proxy.
Judged: both in-cluster GETs answer with node_exporter_build_info (the runner may have no route to
node IPs, and the node proxy needs nodes/proxy RBAC, so those two decide nothing); a GET the suite
could not make is ERROR."""
from __future__ import annotations

from kubernetes import client

from .. import probes
from ..environment import Env, exec_pods, node_ips
from ..scenarios import observer
from ..waiting import each
from ..world import VENDOR_PORT, ds_of, require_pod_network
from .base import run, unobserved

MARK = "node_exporter_build_info"


def observe(env: Env, ns: str, ds: str, port: int, node_probes: dict, pod_probe) -> dict:
    ips = node_ips(env)
    nodes = list(dict.fromkeys(p.spec.node_name for p in exec_pods(env, ns, ds)))
    urls = {node: probes.url(ips[node], port, "/metrics") for node in nodes}
    # the GETs of every node at once: the pod probe's in one exec, each node probe's beside it
    calls = {node: (lambda n=node: probes.http_get(env.core, node_probes[n], probes.url("127.0.0.1", port, "/metrics")))
             for node in nodes}
    calls["(pod)"] = lambda: probes.http_get_many(env.core, pod_probe, urls)
    got = each(lambda call: call(), calls)
    return {"port": port, "nodes": {node: {
        "url": urls[node],
        "from_pod_network": _kept(got["(pod)"][node]),
        "from_node_loopback": _kept(got[node]),
        "from_test_host": _kept(probes.http_get_from_host(urls[node])),
        "via_api_server_node_proxy": _node_proxy_metrics(env, node, port)} for node in nodes}}


def _kept(r: dict) -> dict:
    """A GET's answer with its body cut to the lines naming node_exporter_build_info, or to its
    first 200 characters when none does: the judge reads that metric only, and whole metrics pages
    (tens of kilobytes each, four per node) would swell every recorded observation."""
    body = r.get("body") or ""
    lines = [ln for ln in body.splitlines() if MARK in ln]
    return {**r, "body": "\n".join(lines) + "\n" if lines else body[:200]}


def _node_proxy_metrics(env: Env, node: str, port: int) -> dict:
    """GET /api/v1/nodes/<node>:<port>/proxy/metrics: {"status", "body"} as answered, or
    {"status", "error"}: the HTTP status and reason (403 when this identity lacks nodes/proxy), or
    the transport's words (status None)."""
    try:
        r = env.core.connect_get_node_proxy_with_path(f"{node}:{port}", "metrics", _preload_content=False,
                                                      _request_timeout=10)
        return _kept({"status": r.status, "body": r.data.decode(errors="replace")})
    except client.ApiException as e:
        return {"status": e.status, "error": f"HTTP {e.status} {e.reason}"}
    except Exception as e:  # noqa: BLE001 - evidence only: a transport error is recorded, never raised
        return {"status": None, "error": " ".join(str(e).split())[:120] or type(e).__name__}


def _has(r: dict) -> bool:
    return r["ok"] and MARK in r["body"]


def judge(facts: dict) -> tuple[list, dict, str]:
    failures, ev = [], {}
    port = facts["port"]
    for node, got in facts["nodes"].items():
        url, via_pod, via_loop = got["url"], got["from_pod_network"], got["from_node_loopback"]
        via_host, proxy = got["from_test_host"], got["via_api_server_node_proxy"]
        ev[node] = {"url": url, "from_pod_network": _has(via_pod), "from_node_loopback": _has(via_loop),
                    "from_test_host": _has(via_host) if via_host.get("status") is not None else "unreachable",
                    "via_api_server_node_proxy": proxy.get("error") or MARK in proxy["body"]
                    or f"answered without {MARK}"}
        unobserved("C2", f"GET {url} from a pod", via_pod)
        unobserved("C2", f"GET localhost:{port} on {node}", via_loop)
        if not _has(via_pod):
            failures.append(("no_metrics_from_pod", f"{url} from a pod: {via_pod['error'] or f'no {MARK}'}",
                             via_pod["mode"]))
        if not _has(via_loop):
            failures.append(("no_metrics_on_loopback",
                             f"localhost:{port} on {node}: {via_loop['error'] or f'no {MARK}'}", via_loop["mode"]))
    if not ev:
        failures.append(("no_pods", "no DaemonSet pods"))
    return failures, ev, f"/metrics with {MARK} on :{port} of every node"


@observer("c2", "C2")
def _c2(world):
    require_pod_network(world)   # observed through the pod network: a precondition
    return run("c2", "C2", judge, observe, world.env, *ds_of(world, "vendor"), VENDOR_PORT, world.node_probes,
               world.pod_probe)


@observer("c2-control", "C2")
def _c2_control(world):
    require_pod_network(world)
    return run("c2-control", "C2", judge, observe, world.env, *ds_of(world, "no-hostnet"),
               world.ports.port_for("no-hostnet"), world.node_probes, world.pod_probe)
