"""Observations from inside the cluster: probe pods (normal or host-network, pinned to a node),
HTTP GETs, DNS lookups, resolv.conf, listening ports. The same code works on any cluster;
nothing here needs `docker exec` into a kind node."""
from __future__ import annotations

import re
from dataclasses import dataclass

import requests
from kubernetes import client

from . import kube, manifests, signals, watching
from .verdict import ClusterError
from .waiting import wait_until

RESERVED_PORTS = [22, 53, 80, 443, 6443, 9099, 9890, 10250, 10256]
NODEPORT_RANGE = (30000, 32767)


@dataclass
class Probe:
    ns: str
    name: str
    node: str | None
    host_network: bool
    container: str | None = None   # the pod's only (or first) container when None

    def run(self, core: client.CoreV1Api, *cmd: str, timeout: float = 30) -> kube.ExecResult:
        return kube.exec_in(core, self.ns, self.name, list(cmd), container=self.container, timeout=timeout)


def of_pod(pod) -> Probe:
    """Any running pod (a claim's own workload) as a Probe: GETs and commands in its first container."""
    return Probe(pod.metadata.namespace, pod.metadata.name, pod.spec.node_name, bool(pod.spec.host_network),
                 pod.spec.containers[0].name)


def pod_running(core: client.CoreV1Api, ns: str, name: str, timeout: float = 120) -> client.V1Pod:
    def running():
        watched = watching.current()   # the run's watch's copy (no request), else the API's
        p = (watched.pods.get(ns, name) if watched else None) or core.read_namespaced_pod(name, ns)
        if p.status.phase in ("Failed", "Succeeded"):
            # the suite's own pod ended: nothing about the claim was observed (ERROR, never FAIL)
            raise ClusterError(f"the suite's pod {ns}/{name} ended with phase {p.status.phase}: "
                               + " | ".join(ln.strip() for ln in kube.describe_pods(core, ns, name=name).splitlines()
                                            if ln.strip())[:600])
        return p if p.status.phase == "Running" and kube.is_ready(p) else None

    return wait_until(running, timeout=timeout, what=f"pod {ns}/{name} Running and Ready",
                      describe=lambda: kube.describe_pods(core, ns, name=name), retry_on=(client.ApiException,),
                      terminal=lambda: signals.observe(core, ns, names=[name]), interval=1.0,
                      changes=watching.current())


def start_probe(api: client.ApiClient, ns: str, run_id: str, image: str, *, name: str = "probe",
                node: str | None = None, host_network: bool = False, host_root: bool = False,
                dns_policy: str | None = None, serve_port: int | None = None,
                within: list[str] | None = None) -> Probe:
    """Create a probe pod (not waiting). host_root mounts the node's / read-only at /host;
    serve_port makes it also answer HTTP GET / with "ok" on that port (busybox httpd). `within`:
    the scheduler places it on one of these nodes (the run's node sample), not anywhere."""
    pod = manifests.with_image(manifests.load("probe-pod"), image)
    if within:
        pod = manifests.on_nodes(pod, within)
    pod["metadata"]["name"] = name
    spec = pod["spec"]
    if node:
        spec["nodeName"] = node
        spec["tolerations"] = [{"operator": "Exists"}]
    if host_network:
        spec["hostNetwork"] = True
        spec["dnsPolicy"] = dns_policy or "ClusterFirstWithHostNet"
    elif dns_policy:
        spec["dnsPolicy"] = dns_policy
    if serve_port:
        loop = spec["containers"][0]["command"][-1]
        spec["containers"][0]["command"][-1] = (
            f"mkdir -p /tmp/www && echo ok > /tmp/www/index.html && httpd -p {serve_port} -h /tmp/www && {loop}")
    if host_root:
        spec["volumes"] = [{"name": "host", "hostPath": {"path": "/"}}]
        spec["containers"][0]["volumeMounts"] = [{"name": "host", "mountPath": "/host", "readOnly": True}]
    kube.create(api, ns, pod, run_id)
    return Probe(ns, name, node, host_network)


def wait_probes(core: client.CoreV1Api, probes: list[Probe], timeout: float = 120) -> None:
    for p in probes:
        pod_running(core, p.ns, p.name, timeout)


def wget(url: str, timeout: int = 3) -> list[str]:
    """The command that GETs `url` inside a busybox container, bounded by `timeout` seconds.
    `timeout N wget`, not `wget -T N`: Debian's busybox 1.35 wget crashes (SIGSEGV) with -T."""
    return ["timeout", str(timeout), "wget", "-q", "-O", "-", url]


def url(host: str, port: int, path: str = "/", scheme: str = "http") -> str:
    """http://host:port/path (or another scheme's), with an IPv6 address in brackets."""
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"{scheme}://{host}:{port}{path}"


# How a GET ended, from what busybox wget and `timeout` left (recorded in tests/test_probes_modes.py):
OK, REFUSED, TIMEOUT, HTTP_ERROR, UNREACHABLE, DNS_ERROR, EXEC_ERROR = (
    "ok", "refused", "timeout", "http_error", "unreachable", "dns_error", "exec_error")
# the modes in which a GET reached a verdict about the address: something answered, or the network
# said no, or nothing came back within the bound. EXEC_ERROR is the suite failing to ask at all.
_WORDS = ((REFUSED, ("Connection refused",)),
          (HTTP_ERROR, ("server returned error",)),
          (UNREACHABLE, ("No route to host", "Host is unreachable", "Network is unreachable")),
          (DNS_ERROR, ("bad address",)),
          (TIMEOUT, ("Connection timed out", "timed out")))


def get_mode(rc: int | None, stderr: str) -> str:
    """The mode of one GET: wget's own words decide before its exit status (an exec has reported
    exit status 0 with 'Connection refused' on stderr); `timeout` killing wget is 143 (busybox) or
    124 (coreutils); an exit status the exec never delivered (-1, None) is EXEC_ERROR."""
    for mode, needles in _WORDS:
        if any(n in stderr for n in needles):
            return mode
    if rc in (143, 124):
        return TIMEOUT
    if rc is None or rc < 0:
        return EXEC_ERROR
    return OK if rc == 0 else EXEC_ERROR


def answer(rc: int | None, body: str, err: str) -> dict:
    """One GET's record: {'ok', 'mode', 'body', 'error'}; 'ok' is mode ok."""
    mode = get_mode(rc, err)
    error = err.strip() or ("" if mode == OK else {TIMEOUT: "timed out", EXEC_ERROR: f"exit code {rc}"}.get(mode, mode))
    return {"ok": mode == OK, "mode": mode, "body": body, "error": error[-200:]}


def http_get(core: client.CoreV1Api, probe: Probe, url: str, timeout: int = 3) -> dict:
    """GET from inside a probe pod: {'ok', 'mode', 'body', 'error'} (answer). An exec that could not
    run raises (kube.exec_in); one that ran without an exit status is mode EXEC_ERROR."""
    r = probe.run(core, *wget(url, timeout), timeout=timeout + 15)
    return answer(r.rc, r.stdout, r.stderr)


# GET every URL at once inside one container (one exec, not one per URL: an exec is a runc
# process start on the node, and on a busy node that is what takes the time)
_MANY = r"""d=$(mktemp -d); t=$1; m=$2; shift 2; i=0
for u in "$@"; do (timeout "$t" wget -q -O - "$u" >"$d/$i.o" 2>"$d/$i.e"; echo $? >"$d/$i.r") & i=$((i+1)); done
wait; i=0
for u in "$@"; do echo "$m $i $(cat "$d/$i.r")"; cat "$d/$i.o"; echo "$m err"; cat "$d/$i.e"; i=$((i+1)); done
rm -rf "$d"
"""


def http_get_many(core: client.CoreV1Api, probe: Probe, urls: dict, timeout: int = 3) -> dict:
    """{key: http_get's answer} for {key: url}, every GET at once in one exec of the probe."""
    import secrets
    if not urls:
        return {}
    keys = list(urls)
    marker = f"@@hnc-{secrets.token_hex(6)}"
    r = probe.run(core, "sh", "-c", _MANY, "sh", str(timeout), marker, *[urls[k] for k in keys],
                  timeout=timeout + 20)
    return parse_many(r.stdout, marker, keys, fallback=(r.stderr or "no output").strip()[-200:])


def parse_many(text: str, marker: str, keys: list, fallback: str) -> dict:
    """The answers of http_get_many's script: per URL a line `MARKER i rc`, its body, a line
    `MARKER err`, its stderr. A URL without its block (the exec itself failed) gets `fallback` as
    its error, mode EXEC_ERROR."""
    out = {k: {"ok": False, "mode": EXEC_ERROR, "body": "", "error": fallback} for k in keys}
    head = re.compile(rf"{re.escape(marker)} (\d+) (-?\d+)\n")   # wget's output may lack a final newline
    heads = list(head.finditer(text))
    for i, m in enumerate(heads):
        idx = int(m.group(1))
        if idx >= len(keys):
            continue
        block = text[m.end():heads[i + 1].start() if i + 1 < len(heads) else len(text)]
        body, _, err = block.partition(f"{marker} err\n")   # `echo` ends the marker line with a newline
        out[keys[idx]] = answer(int(m.group(2)), body, err)
    return out


def http_get_from_host(url: str, timeout: float = 3) -> dict:
    """GET from the machine running pytest (works where node IPs are routable, e.g. kind on Linux)."""
    try:
        with requests.Session() as session:
            session.trust_env = False   # no HTTP(S)_PROXY, no .netrc: the GET goes to the node, not a proxy
            r = session.get(url, timeout=timeout)
        return {"ok": r.status_code == 200, "status": r.status_code, "body": r.text}
    except requests.RequestException as e:
        return {"ok": False, "status": None, "body": "", "error": type(e).__name__}


def parse_stat(text: str) -> dict | None:
    """A /proc/<pid>/stat line as {'pid', 'comm', 'start'} (start: field 22, clock ticks since boot);
    None when the text is not one."""
    m = re.match(r"\s*(\d+) \((.*)\) (.*)$", text.strip().splitlines()[0] if text.strip() else "")
    if not m:
        return None
    rest = m.group(3).split()
    if len(rest) < 20 or not rest[19].isdigit():
        return None
    return {"pid": int(m.group(1)), "comm": m.group(2), "start": int(rest[19])}


def parse_resolv_conf(text: str) -> dict:
    out = {"nameservers": [], "search": [], "options": []}
    for line in text.splitlines():
        parts = line.split()
        if not parts or parts[0].startswith("#"):
            continue
        if parts[0] == "nameserver":
            out["nameservers"] += parts[1:2]
        elif parts[0] == "search":
            out["search"] = parts[1:]
        elif parts[0] == "options":
            out["options"] += parts[1:]
    return out


def fqdn(name: str) -> str:
    """A DNS name as the suite looks it up: absolute, ending in a dot, so no resolver tries the
    search list first (with ndots:5 a name like kubernetes.default.svc.cluster.local would be tried
    under the host's search domains, and those queries go wherever the host's resolver sends them)."""
    return name if name.endswith(".") else name + "."


# what an nslookup (busybox, the probe's and the exporter's) prints for the answers it got
_RCODE = re.compile(r"can't find [^:]*: (NXDOMAIN|REFUSED|SERVFAIL|NOTIMP|FORMERR|YXDOMAIN|NOTAUTH|NOTZONE)")
_NODATA = re.compile(r"can't find [^:]*: No answer")
_NO_SERVER = re.compile(r"(timed out|no servers could be reached|connection refused|network unreachable)", re.I)


def parse_nslookup(rc: int, stdout: str, stderr: str) -> dict:
    """busybox nslookup's output, judged. `answer`: NOERROR (addresses found), NODATA (the name
    exists without an address), an rcode the server gave (NXDOMAIN, REFUSED, SERVFAIL...), or
    `no_answer` when no server answered (timeout, unreachable) or the command did not run at all;
    `server` is the nameserver that was asked (busybox prints it first), `addresses` the answers."""
    text = stdout + "\n" + stderr
    server, addrs, seen_name = None, [], False
    for line in stdout.splitlines():
        s = line.strip()
        if s.startswith("Server:") and server is None:
            server = s.split(None, 1)[1].strip() if len(s.split(None, 1)) > 1 else None
        elif s.startswith("Name:"):
            seen_name = True
        elif seen_name and s.startswith("Address"):
            addrs.append(s.split()[-1])
    if addrs:
        answer = "NOERROR"
    elif m := _RCODE.search(text):
        answer = m.group(1)
    elif _NODATA.search(text):
        answer = "NODATA"
    else:
        answer = "no_answer"
    if answer != "NOERROR" and _NO_SERVER.search(text) and not _RCODE.search(text):
        answer = "no_answer"
    return {"ok": bool(addrs), "addresses": addrs, "server": server, "answer": answer,
            "output": " ".join(text.split())[-300:]}


# answers a server gave: the name does not resolve there, and that was observed
NEGATIVE_ANSWERS = ("NXDOMAIN", "NODATA", "REFUSED", "SERVFAIL", "NOTIMP")


def lookup(core: client.CoreV1Api, ns: str, pod: str, name: str, container: str | None = None) -> dict:
    """nslookup of `name` (made absolute) inside a pod: parse_nslookup's judgement of what it printed."""
    r = kube.exec_in(core, ns, pod, ["nslookup", fqdn(name)], container=container, timeout=30)
    return parse_nslookup(r.rc, r.stdout, r.stderr)


def parse_listening_ports(proc_net_tcp: str) -> set[int]:
    """Listening TCP ports from /proc/net/tcp and tcp6 content (state 0A = LISTEN)."""
    ports = set()
    for line in proc_net_tcp.splitlines():
        parts = line.split()
        if len(parts) > 3 and parts[3] == "0A" and ":" in parts[1]:
            ports.add(int(parts[1].rsplit(":", 1)[1], 16))
    return ports


def listening_ports(core: client.CoreV1Api, probe: Probe) -> set[int]:
    """Ports bound on the node whose network namespace the host-network probe shares."""
    assert probe.host_network, "listening ports of a node need a hostNetwork probe"
    r = probe.run(core, "cat", "/proc/net/tcp", "/proc/net/tcp6")
    return parse_listening_ports(r.stdout)


def reserved_ports_report(bound: set[int]) -> dict:
    report = {str(p): p in bound for p in RESERVED_PORTS}
    lo, hi = NODEPORT_RANGE
    report[f"{lo}-{hi}"] = sorted(p for p in bound if lo <= p <= hi)
    return report
