"""Cluster targets: a kind cluster the run creates (or reuses), or an existing cluster.

Both give the same `Cluster` object: API clients, the kubeconfig and context they came from,
and whether the run owns the cluster (only then may it be deleted).
"""
from __future__ import annotations

import ipaddress
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from kubernetes import client, config as kube_config

from . import facts as cluster_facts
from . import kube, sampling, timeline
from .kube import pid_alive
from .resources import FIXTURES
from .waiting import WaitTimeout, each, wait_until
CAP_SYS_RESOURCE = 24


class TargetError(RuntimeError):
    """A problem with the cluster target, explained in one line (no traceback for users)."""


@dataclass
class Cluster:
    kubeconfig: Path | None               # None: the pod's own ServiceAccount (--in-cluster)
    context: str | None
    api: client.ApiClient
    kind_name: str | None = None          # set when the cluster is a kind cluster
    created_by_run: bool = False
    kind_bin: Path | None = None
    facts: dict = field(default_factory=dict)
    # set once cluster DNS is judged (wait_ready judges it in a thread: facts["cluster_dns"])
    dns_known: threading.Event = field(default_factory=threading.Event, repr=False)

    def await_dns(self, timeout: float = 180) -> None:
        """Block until wait_ready's judgement of cluster DNS is in (ready, or why not). Only the
        claims that use cluster DNS wait for it; the rest of the run goes on meanwhile."""
        self.dns_known.wait(timeout)

    @property
    def core(self) -> client.CoreV1Api:
        return client.CoreV1Api(self.api)

    @property
    def apps(self) -> client.AppsV1Api:
        return client.AppsV1Api(self.api)

    @property
    def net(self) -> client.NetworkingV1Api:
        return client.NetworkingV1Api(self.api)

    def nodes(self) -> list:
        return self.core.list_node().items


def find_binary(name: str, explicit: str | None = None) -> Path:
    """Absolute path of a tool (explicit path first, then PATH); one clear line if missing."""
    if explicit:
        p = Path(explicit).expanduser().resolve()
        if not (p.is_file() and os.access(p, os.X_OK)):
            raise TargetError(f"{name} not found or not executable at {p}")
        return p
    found = shutil.which(name)
    if not found:
        raise TargetError(f"{name} not found on PATH (run scripts/offline/bootstrap.sh, or pass its path)")
    return Path(found).resolve()


DOCKER_TIMEOUT = 60.0   # a `docker info` or `docker image inspect` (a healthy daemon answers in well under 1 s)


def docker_available() -> None:
    docker = shutil.which("docker")
    if not docker:
        raise TargetError("docker not found on PATH: install Docker (scripts/ensure-docker.sh does it on Debian)")
    try:
        r = subprocess.run([docker, "info", "--format", "{{.ServerVersion}}"], capture_output=True, text=True,
                           timeout=DOCKER_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise TargetError(f"timed out after {DOCKER_TIMEOUT:.0f} s: docker info (is the Docker daemon hung?)") from None
    if r.returncode != 0:
        raise TargetError("Docker is not running: start it (scripts/ensure-docker.sh), then retry")


def host_cannot_lower_oom_score() -> bool:
    """True when this host's capability bounding set lacks CAP_SYS_RESOURCE (so the kubelet's
    negative oom_score_adj requests would fail inside kind nodes)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("CapBnd:"):
                return not (int(line.split()[1], 16) >> CAP_SYS_RESOURCE) & 1
    except OSError:
        pass
    return False


POD_SECURITY_LEVELS = ("privileged", "baseline", "restricted")


# Not app.kubernetes.io/managed-by (the namespaces' label): the kubelet refuses --node-labels under
# kubernetes.io that are not its own, and kind passes node labels to it that way.
KIND_NODE_LABELS = {"hostnet-conformance/made-by": "hostnet-conformance"}
OWNER_FILE = "owner.json"


def render_kind_config(workdir: Path, workers: int = 2, pod_security_default: str = "baseline") -> Path:
    """Write the kind config (fixtures/kind/cluster.yaml) with absolute paths filled in, and the
    Pod Security admission config with `pod_security_default` as the cluster-wide default level."""
    if pod_security_default not in POD_SECURITY_LEVELS:
        raise TargetError(f"Pod Security level {pod_security_default!r} is not one of {', '.join(POD_SECURITY_LEVELS)}")
    psa_dir = workdir / "pod-security"
    psa_dir.mkdir(parents=True, exist_ok=True)
    psa = yaml.safe_load((FIXTURES / "kind" / "pod-security-admission.yaml").read_text())
    defaults = psa["plugins"][0]["configuration"]["defaults"]
    for mode in ("enforce", "audit", "warn"):
        defaults[mode] = pod_security_default
    (psa_dir / "pod-security-admission.yaml").write_text(yaml.safe_dump(psa, sort_keys=False))
    cfg = yaml.safe_load((FIXTURES / "kind" / "cluster.yaml").read_text())
    cp = cfg["nodes"][0]
    cp["extraMounts"][0]["hostPath"] = str(psa_dir.resolve())
    cfg["nodes"] = [cp] + [{"role": "worker"} for _ in range(workers)]
    for node in cfg["nodes"]:   # the cluster says whose it is (kubectl get nodes -l hostnet-conformance/made-by)
        node["labels"] = dict(KIND_NODE_LABELS)
    if host_cannot_lower_oom_score():
        cfg["containerdConfigPatches"] = [
            '[plugins."io.containerd.grpc.v1.cri"]\n  restrict_oom_score_adj = true\n'
        ]
    out = workdir / "kind-config.yaml"
    out.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return out


def load_api(kubeconfig: Path, context: str | None) -> client.ApiClient:
    if not kubeconfig.is_file() or not os.access(kubeconfig, os.R_OK):
        raise TargetError(f"kubeconfig {kubeconfig} does not exist or is not readable")
    try:
        contexts, _ = kube_config.list_kube_config_contexts(str(kubeconfig))
    except Exception as e:  # the client raises several types for a malformed file
        raise TargetError(f"kubeconfig {kubeconfig} is not a valid kubeconfig: {str(e).splitlines()[0]}") from None
    names = [c["name"] for c in contexts]
    if context and context not in names:
        raise TargetError(f"context {context!r} not in {kubeconfig} (has: {', '.join(names) or 'none'})")
    try:
        return kube.api_client_from_kubeconfig(str(kubeconfig), context)
    except Exception as e:
        raise TargetError(f"cannot use context {context!r} of {kubeconfig}: {str(e).splitlines()[0]}") from None


def check_reachable(api: client.ApiClient, where: str) -> str:
    """Return the server's gitVersion, or fail in one line when the API server does not answer."""
    try:
        return client.VersionApi(api).get_code(_request_timeout=10).git_version
    except Exception as e:
        msg = kube.first_line(e)
        raise TargetError(f"API server of {where} is unreachable: {msg[:200]}") from None


def existing_cluster(kubeconfig: str, context: str | None) -> Cluster:
    path = Path(kubeconfig).expanduser().resolve()
    api = load_api(path, context)
    version = check_reachable(api, f"context {context!r}")
    return Cluster(kubeconfig=path, context=context, api=api, facts={"server_version": version})


SERVICEACCOUNT = Path("/var/run/secrets/kubernetes.io/serviceaccount")


def in_cluster_api() -> client.ApiClient:
    """The API as the pod's ServiceAccount sees it (the in-cluster runner)."""
    cfg = client.Configuration()
    try:
        kube_config.load_incluster_config(client_configuration=cfg)
    except kube_config.ConfigException as e:
        raise TargetError(f"--in-cluster: this is not a pod with a ServiceAccount token ({kube.first_line(e)})") from None
    return kube.ApiClient(cfg)


def in_cluster() -> Cluster:
    api = in_cluster_api()
    version = check_reachable(api, "the cluster this pod runs in")
    ns = (SERVICEACCOUNT / "namespace").read_text().strip() if (SERVICEACCOUNT / "namespace").is_file() else "?"
    return Cluster(kubeconfig=None, context=None, api=api,
                   facts={"server_version": version, "in_cluster_namespace": ns})


def _run(cmd: list, what: str, timeout: float = 900) -> str:
    try:
        r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise TargetError(f"timed out after {timeout:.0f} s: {what}") from None
    if r.returncode != 0:
        last = (r.stderr.strip() or r.stdout.strip()).splitlines()[-1:] or ["(no output)"]
        raise TargetError(f"{what} failed: {last[0][:300]}")
    return r.stdout


def image_present(image: str) -> bool:
    """Whether the local Docker daemon has the image."""
    try:
        return subprocess.run(["docker", "image", "inspect", image], capture_output=True,
                              timeout=DOCKER_TIMEOUT).returncode == 0
    except subprocess.TimeoutExpired:
        raise TargetError(f"timed out after {DOCKER_TIMEOUT:.0f} s: docker image inspect {image}") from None


def export_kubeconfig(kind_bin: Path, name: str, kubeconfig: Path) -> None:
    _run([kind_bin, "export", "kubeconfig", "--name", name, "--kubeconfig", kubeconfig], "kind export kubeconfig", 60)


def call_bounded(fn, timeout: float, what: str, binary: Path):
    """Run `fn` (a pytest-kind call, which starts `binary` without a deadline of its own) with one:
    past it, this process's `binary` children are killed and TargetError says so."""
    box: dict = {}

    def run():
        try:
            box["value"] = fn()
        except BaseException as e:  # noqa: BLE001 - handed to the caller below
            box["error"] = e
    t = threading.Thread(target=run, daemon=True, name="hnc-bounded")
    t.start()
    try:
        t.join(timeout)
    except KeyboardInterrupt:   # Ctrl-C or SIGTERM: the call's `binary` must not outlive this process
        _stop_children(binary)
        t.join(30)
        raise
    if t.is_alive():
        _stop_children(binary)
        t.join(30)
        raise TargetError(f"timed out after {timeout:.0f} s: {what} (stopped)")
    if "error" in box:
        raise box["error"]
    return box.get("value")


def _stop_children(binary: Path) -> None:
    for pid in _children_running(binary):
        try:
            os.kill(pid, 9)
        except ProcessLookupError:
            pass


def _children_running(binary: Path) -> list[int]:
    """This process's child processes that run `binary` (from /proc)."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            argv = (stat.parent / "cmdline").read_bytes().split(b"\0")[:2]
        except (OSError, IndexError, ValueError):
            continue
        # the binary itself, or a script run by its interpreter (argv[1])
        if ppid == os.getpid() and Path(binary).name in {Path(a.decode(errors="replace")).name for a in argv}:
            out.append(int(stat.parent.name))
    return out


def _registered(expected: list[str], core) -> str:
    n = len(core.list_node().items)
    return f"\n{n} of kind's {len(expected)} nodes registered ({', '.join(expected)})" if n < len(expected) else ""


def kind_node_names(cluster: Cluster) -> list[str]:
    """The Kubernetes nodes a kind cluster is made of: its node containers (`kind get nodes`), less an
    HA cluster's load balancer. Unreadable: none expected (the API's list stands alone)."""
    try:
        out = _run([cluster.kind_bin, "get", "nodes", "--name", cluster.kind_name], "kind get nodes", 60)
    except TargetError:
        return []
    return [n for n in out.split() if not n.endswith("-external-load-balancer")]


def kind_clusters(kind_bin: Path) -> list[str]:
    return _run([kind_bin, "get", "clusters"], "kind get clusters", 60).split()


def kind_cluster(name: str, *, image: str | None, kind_bin: Path, kubectl_bin: Path,
                 workdir: Path, workers: int = 2, pod_security_default: str = "baseline",
                 create_timeout: float = 600, keep: bool = False) -> Cluster:
    """Create the kind cluster `name`, or reuse it when it already exists (never recreate it).
    A cluster it creates is marked as this process's (owner.json, with `keep`, in its default_workdir), so that
    --cleanup can tell a cluster whose run was killed before its teardown."""
    from pytest_kind import KindCluster  # GPL-3.0+ dependency, used, not copied

    docker_available()
    workdir.mkdir(parents=True, exist_ok=True)
    kubeconfig = (workdir / "kubeconfig").resolve()
    existed = name in kind_clusters(kind_bin)
    if not existed and image and os.environ.get("HNC_OFFLINE") == "1" and not image_present(image):
        raise TargetError(f"node image {image} is not present locally "
                          "(offline: build it with scripts/offline/bootstrap.sh)")
    kc = KindCluster(name, kubeconfig=kubeconfig, image=image, kind_path=kind_bin, kubectl_path=kubectl_bin)
    if existed:
        # pytest-kind would leave an empty kubeconfig for an existing cluster: export it ourselves.
        with timeline.span("kind cluster reused: kubeconfig exported"):
            export_kubeconfig(kind_bin, name, kubeconfig)
    else:
        cfg = render_kind_config(workdir, workers, pod_security_default)
        mark_owned(name, keep)
        try:
            with timeline.span("kind create cluster"):
                call_bounded(lambda: kc.create(config_file=cfg), create_timeout, f"kind create cluster {name}", kind_bin)
        except subprocess.CalledProcessError:
            delete_unfinished(kind_bin, name)
            raise TargetError(f"kind create cluster {name} failed (kind's output is above)") from None
        except (TargetError, KeyboardInterrupt):   # timed out, Ctrl-C or SIGTERM: what kind made so far is this run's
            delete_unfinished(kind_bin, name)
            raise
    try:
        api = load_api(kubeconfig, None)
        cluster = Cluster(kubeconfig=kubeconfig, context=None, api=api, kind_name=name,
                          created_by_run=not existed, kind_bin=kind_bin)
        cluster.facts["server_version"] = check_reachable(api, f"kind cluster {name}")
    except (TargetError, KeyboardInterrupt):   # a cluster made but not reachable is not left behind either
        if not existed:
            delete_unfinished(kind_bin, name)
        raise
    cluster.facts["kind_cluster_reused"] = existed
    return cluster


def mark_owned(name: str, keep: bool) -> None:
    workdir = default_workdir(name)
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / OWNER_FILE).write_text(json.dumps({"cluster": name, "pid": os.getpid(), "keep": keep}) + "\n")


def forget_owned(name: str) -> None:
    (default_workdir(name) / OWNER_FILE).unlink(missing_ok=True)


def orphaned(owner: dict | None) -> bool:
    """Whether an owner.json says: made by a suite run, not to be kept, and that run's process is gone."""
    return bool(owner) and not owner.get("keep") and isinstance(owner.get("pid"), int) and not pid_alive(owner["pid"])


def read_owner(name: str) -> dict | None:
    try:
        return json.loads((default_workdir(name) / OWNER_FILE).read_text())
    except (OSError, ValueError):
        return None


def orphaned_kind_clusters(kind_bin: Path) -> list[str]:
    """kind clusters a suite run created and meant to delete, whose run ended without deleting them
    (killed with SIGKILL, or the machine's OOM killer): never a kept cluster, a live run's, or one
    the suite did not create."""
    return [n for n in kind_clusters(kind_bin) if orphaned(read_owner(n))]


def delete_orphaned_kind_clusters(kind_bin: Path) -> list[str]:
    """Delete the orphaned_kind_clusters; their names."""
    gone = []
    for name in orphaned_kind_clusters(kind_bin):
        _delete_cluster(kind_bin, name)
        forget_owned(name)
        gone.append(name)
    return gone


def _delete_cluster(kind_bin: Path, name: str, kubeconfig: Path | None = None) -> None:
    _run([kind_bin, "delete", "cluster", "--name", name, *(["--kubeconfig", kubeconfig] if kubeconfig else [])],
         f"kind delete cluster {name}", 300)


def _kind_nodes(kind_bin: Path, name: str) -> str:
    return _run([kind_bin, "get", "nodes", "--name", name], f"kind get nodes --name {name}", 60)


def delete_unfinished(kind_bin: Path, name: str) -> None:
    """Delete the cluster this run's `kind create` made but could not hand over (stopped, failed, or
    unreachable); a failure is said in one line (the caller's own error or interruption goes on)."""
    print(f"\nhostnet-conformance: deleting the kind cluster {name} this run could not finish", file=sys.stderr,
          flush=True)

    def deleted() -> bool:
        # a node container whose `docker run` was in flight when kind was stopped can appear after
        # the first delete listed the nodes: delete again until kind finds none
        _delete_cluster(kind_bin, name)
        return not _kind_nodes(kind_bin, name).split()
    try:
        wait_until(deleted, timeout=60, interval=2, what=f"kind cluster {name} to be deleted",
                   describe=lambda: _kind_nodes(kind_bin, name), stoppable=False)   # teardown's own wait
        forget_owned(name)
    except (TargetError, WaitTimeout) as e:
        print(f"hostnet-conformance: {kube.first_line(e)}; remove it with: kind delete cluster --name {name}",
              file=sys.stderr)


def state_of(c: Cluster) -> dict:
    return {"kubeconfig": str(c.kubeconfig) if c.kubeconfig else None, "context": c.context,
            "kind_name": c.kind_name, "facts": c.facts}


def attach(state: dict) -> Cluster:
    """The cluster another process (the pytest-xdist controller) opened; never owned, never deleted here."""
    path = Path(state["kubeconfig"]) if state["kubeconfig"] else None
    api = load_api(path, state["context"]) if path else in_cluster_api()
    c = Cluster(kubeconfig=path, context=state["context"], api=api,
                kind_name=state["kind_name"], created_by_run=False, facts=dict(state["facts"]))
    c.dns_known.set()   # the controller judged it before handing the cluster over
    return c


def delete_kind_cluster(cluster: Cluster) -> None:
    if cluster.kind_name and cluster.created_by_run:
        _delete_cluster(cluster.kind_bin, cluster.kind_name, cluster.kubeconfig)
        forget_owned(cluster.kind_name)


def start_loading_images(cluster: Cluster, images: list[str]) -> subprocess.Popen | None:
    """Start `kind load docker-image` for local images (kind skips those already on a node); it runs
    while the caller waits for the cluster to become ready. Finish with finish_loading_images()."""
    if not images or not cluster.kind_name:
        return None
    if not cluster.created_by_run:
        missing = images_missing_on_nodes(cluster.core.list_node().items, images)
        if not missing:   # an earlier run loaded them (the nodes say so): nothing to wait for
            cluster.facts["images_loaded"] = {"images": list(images), "how": "already on every node (node status)"}
            return None
    for image in images:
        if not image_present(image):
            raise TargetError(f"image {image} cannot be loaded: it is not in the local Docker daemon")
    cluster.facts["images_loaded"] = {"images": list(images), "how": "kind load docker-image"}
    proc = subprocess.Popen([str(cluster.kind_bin), "load", "docker-image", "--name", cluster.kind_name, *images],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    timeline.start("kind load docker-image")
    # its end, as it happens (the caller collects its output only after readiness)
    threading.Thread(target=lambda: (proc.wait(), timeline.end("kind load docker-image")), daemon=True).start()
    return proc


def images_missing_on_nodes(nodes: list, images: list[str]) -> list[str]:
    """The images that some node's status does not list (an image it leaves out is simply loaded again).
    A simulated node (kwok) lists none and `kind load` never reaches it: it is not asked (with 300 of
    them, every rerun loaded the images again, 4.7 s)."""
    nodes = [n for n in nodes if not sampling.simulated(n)]
    return [i for i in images if not nodes or not all(kube.image_on_node(n, i) for n in nodes)]


def finish_loading_images(proc: subprocess.Popen | None, timeout: float = 600) -> None:
    if proc is None:
        return
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise TargetError(f"timed out after {timeout:.0f} s: kind load docker-image (stopped)") from None
    if proc.returncode != 0:
        last = (out or "").strip().splitlines()[-1:] or ["(no output)"]
        raise TargetError(f"kind load docker-image failed: {last[0][:300]}")


def wait_ready(cluster: Cluster, timeout: float = 300, dns_timeout: float = 120) -> None:
    """Nodes Ready and the default ServiceAccount present (both needed by every claim); cluster DNS
    is awaited in a thread while it comes up (on a fresh cluster it trails the nodes by ~20 s) and
    recorded in cluster.facts['cluster_dns'], never fatal: cluster.await_dns() waits for that."""
    core, apps = cluster.core, cluster.apps

    # Ready, and the node lifecycle controller has lifted its not-ready taint (it lags the condition
    # by a moment on a fresh node; until then nothing new is placed there, and the suite would count
    # one worker too few)
    lagging = ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable")

    # a kind cluster's nodes are its node containers: every one must have registered (a worker whose
    # kubelet registers a moment after `kind create` returns would otherwise be judged, in that
    # moment, a not-ready node the run leaves out; the clean-clone CI saw one worker of two). Counted,
    # not named: a kubelet with --hostname-override registers under another name (flavour f)
    expected = kind_node_names(cluster) if cluster.kind_name and cluster.kind_bin else []

    def nodes_ready():
        nodes = core.list_node().items
        return nodes and len(nodes) >= len(expected) and all(
            kube.is_ready(n) and not any(t.key in lagging for t in (n.spec.taints or [])) for n in nodes)

    def describe_nodes():
        return "\n".join(
            f"node {n.metadata.name}: " + ", ".join(f"{c.type}={c.status}" for c in (n.status.conditions or []))
            + "".join(f", taint {t.key}:{t.effect}" for t in (n.spec.taints or []) if t.key in lagging)
            for n in core.list_node().items) + _registered(expected, core) or "no nodes registered"

    with timeline.span("nodes Ready"):
        wait_until(nodes_ready, timeout=timeout, what="all nodes Ready", describe=describe_nodes,
                   retry_on=(client.ApiException,))

    def default_sa():
        return any(sa.metadata.name == "default" for sa in core.list_namespaced_service_account("default").items)

    wait_until(default_sa, timeout=120, what="the default ServiceAccount", describe=lambda: "not created yet",
               retry_on=(client.ApiException,))

    # Cluster DNS is a precondition of some claims (C3), not of the run: wait for it while it
    # is coming up, stop at once when it cannot (scaled to zero), and never abort the run for it.
    facts = cluster.facts

    def dns_settled(ips):
        state = cluster_dns_state(core, apps, ips)
        return state if (state["ready"] and state["complete"]) or (not state["ready"] and state["settled"]) else None

    def judge_dns():
        timeline.start("cluster DNS ready")
        try:
            ips = kubelet_dns_addresses(cluster)   # where the kubelets send pods' DNS queries
            try:
                state = wait_until(lambda: dns_settled(ips), timeout=dns_timeout, what="cluster DNS ready endpoints",
                                   describe=lambda: cluster_dns_state(core, apps, ips)["why"],
                                   retry_on=(client.ApiException,))
            except WaitTimeout:
                state = cluster_dns_state(core, apps, ips)
            facts["cluster_dns"] = "ready" if state["ready"] else state["why"]
            facts["cluster_dns_service"] = state["service"] or "none"
        except Exception as e:  # noqa: BLE001 - recorded; C3 reads the live state itself
            facts["cluster_dns"] = f"not judged: {kube.first_line(e)}"
        finally:
            timeline.end("cluster DNS ready")
            cluster.dns_known.set()

    threading.Thread(target=judge_dns, daemon=True, name="hnc-dns").start()


# Where cluster DNS is looked for when no Service holds the kubelet's clusterDNS address (a node-local
# cache's, as NodeLocal DNSCache's 169.254.20.10, or a kubelet whose configz could not be read):
# kubeadm's label in kube-system, then the names distributions give the Service (OpenShift:
# openshift-dns/dns-default)
KUBE_DNS_LABEL = ("k8s-app", "kube-dns")
DNS_SERVICE_NAMES = ("kube-dns", "dns-default")


def _ip(text: str):
    """An address in one form whatever way it was written (IPv6 has many); text that is none stays text."""
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return text


def service_ips(svc) -> set:
    """A Service's cluster IPs (every family's), none for a headless one."""
    return {_ip(a) for a in [svc.spec.cluster_ip, *(svc.spec.cluster_ips or [])] if a and a != "None"}


def dns_addresses(kubelets: dict) -> list[str]:
    """The clusterDNS addresses of the kubelets' facts ({node: facts.Kubelet.to_dict()}), each once."""
    return list(dict.fromkeys(a for k in kubelets.values() for a in k.get("cluster_dns") or []))


def kubelet_dns_addresses(cluster: Cluster) -> list[str]:
    """The addresses the kubelets give pods as their nameserver: from the kubelet facts discovery read,
    else one Linux node's configz read now (wait_ready judges cluster DNS before discovery)."""
    known = cluster.facts.get("kubelet")
    if not known:
        linux = sorted(n.metadata.name for n in cluster.nodes() if kube.is_linux(n))
        known = {n: cluster_facts.read_kubelet(cluster.api, n).to_dict() for n in linux[:1]}
    return dns_addresses(known)


def pick_dns_service(services: list, dns_ips: list[str]) -> tuple:
    """Cluster DNS's Service among `services`, and how it was found, in words that follow its name:
    the one at the kubelet's clusterDNS address; else kube-system's k8s-app=kube-dns Service
    (kube-dns itself before a look-alike such as NodeLocal DNSCache's kube-dns-upstream); else one
    named kube-dns or dns-default, kube-system's first. (None, why) when there is none."""
    wanted = {_ip(a) for a in dns_ips}
    at = [s for s in services if service_ips(s) & wanted]
    if at:
        return at[0], f"at the kubelet's clusterDNS {', '.join(sorted(str(a) for a in service_ips(at[0]) & wanted))}"
    unknown = (f"the kubelet's clusterDNS {', '.join(dns_ips)} is no Service's address" if dns_ips
               else "the kubelet's clusterDNS is not known")
    key, value = KUBE_DNS_LABEL
    labelled = sorted((s for s in services if s.metadata.namespace == "kube-system"
                       and (s.metadata.labels or {}).get(key) == value),
                      key=lambda s: (s.metadata.name != "kube-dns", s.metadata.name))
    if labelled:
        return labelled[0], f"found by its label {key}={value}, as {unknown}"
    named = sorted((s for s in services if s.metadata.name in DNS_SERVICE_NAMES),
                   key=lambda s: (s.metadata.namespace != "kube-system", DNS_SERVICE_NAMES.index(s.metadata.name),
                                  s.metadata.namespace))
    if named:
        return named[0], f"found by its name, as {unknown} and kube-system has no {key}={value} Service"
    return None, (f"{unknown}, kube-system has no {key}={value} Service and none is named "
                  f"{' or '.join(DNS_SERVICE_NAMES)}")


def find_dns_service(core: client.CoreV1Api, dns_ips: list[str]) -> tuple:
    """pick_dns_service over kube-system's Services (one small list, where kubeadm, k3s and the
    managed clouds put it), then over every namespace's when kube-system's cannot decide: the
    kubelet's address is elsewhere (OpenShift), or nothing there is labelled or named as DNS."""
    svc, how = pick_dns_service(core.list_namespaced_service("kube-system").items, dns_ips)
    if svc is not None and (not dns_ips or service_ips(svc) & {_ip(a) for a in dns_ips}):
        return svc, how
    return pick_dns_service(core.list_service_for_all_namespaces().items, dns_ips)


def endpoint_counts(slices: list) -> tuple[int, int]:
    """(ready, not yet ready) endpoints of a Service's EndpointSlices. A ready condition left unset
    counts as ready (the API's advice for consumers); a terminating endpoint is neither."""
    ready = waiting = 0
    for sl in slices:
        for ep in sl.endpoints or []:
            cond = ep.conditions
            if cond is None or cond.ready is None or cond.ready:
                ready += 1
            elif not cond.terminating:
                waiting += 1
    return ready, waiting


def selects(selector: dict | None, labels: dict | None) -> bool:
    """Whether a Service's selector picks pods with these labels (an empty selector picks none)."""
    return bool(selector) and all((labels or {}).get(k) == v for k, v in selector.items())


def cluster_dns_state(core: client.CoreV1Api, apps: client.AppsV1Api, dns_ips: list[str] = ()) -> dict:
    """dns_state of cluster DNS's Service (find_dns_service: the one at the kubelets' clusterDNS
    `dns_ips`, else kube-dns's by label or name), read now."""
    svc, how = find_dns_service(core, list(dns_ips))
    if svc is None:
        return dns_state(None, how, [], [])
    ns, name, selector = svc.metadata.namespace, svc.metadata.name, svc.spec.selector
    slices = client.DiscoveryV1Api(core.api_client).list_namespaced_endpoint_slice(
        ns, label_selector=f"kubernetes.io/service-name={name}").items
    deps = [d for d in apps.list_namespaced_deployment(ns).items if selects(selector, d.spec.template.metadata.labels)]

    def pods() -> list:
        if not selector:   # a Service without a selector has no pods of its own
            return []
        return core.list_namespaced_pod(ns, label_selector=",".join(f"{k}={v}" for k, v in selector.items())).items
    return dns_state(svc, how, slices, deps, pods)


def dns_state(svc, how: str, slices: list, deps: list, pods=list) -> dict:
    """Whether cluster DNS's Service `svc` (found `how`) has ready endpoints in its EndpointSlices;
    `settled` when waiting cannot help (no such Service, or every Deployment behind it scaled to
    zero); `complete` once every endpoint is ready and every Deployment behind it available (the
    Deployments whose pods it selects: CoreDNS's; OpenShift runs a DaemonSet, whose pods the
    endpoints alone count), a fresh cluster being awaited until then (its claims and checks expect
    it). `service` names the Service and how it was found; `pods()` lists its pods, asked only to
    say why it has no ready endpoints."""
    if svc is None:
        return {"ready": False, "settled": True, "complete": False, "service": None,
                "why": f"no cluster DNS Service: {how}"}
    service = f"Service {svc.metadata.namespace}/{svc.metadata.name} {how}"
    ready, waiting = endpoint_counts(slices)
    complete = not waiting and all((d.status.available_replicas or 0) >= (d.spec.replicas or 0) for d in deps)
    if ready:
        return {"ready": True, "settled": True, "complete": complete, "service": service,
                "why": f"{ready} ready endpoints of {service}"}
    if deps and all((d.spec.replicas or 0) == 0 for d in deps):
        names = ", ".join(d.metadata.name for d in deps)
        return {"ready": False, "settled": True, "complete": False, "service": service,
                "why": f"cluster DNS has no ready endpoints: Deployment {names} is scaled to 0 replicas ({service})"}
    seen = "; ".join(f"{p.metadata.name} {p.status.phase}" for p in pods()) or "no DNS pods"
    return {"ready": False, "settled": False, "complete": False, "service": service,
            "why": f"cluster DNS has no ready endpoints ({seen}; {service})"}


# What the suite does, as (verb, resource, group, subresource): checked with SelfSubjectAccessReview
# before anything is made. deploy/runner.yaml's ClusterRole grants exactly these and OPTIONAL_ACCESS
# (tests/test_rbac.py holds them equal).
NEEDED_ACCESS = [
    ("create", "namespaces", "", ""), ("get", "namespaces", "", ""), ("list", "namespaces", "", ""),
    ("patch", "namespaces", "", ""), ("delete", "namespaces", "", ""),
    ("get", "nodes", "", ""), ("list", "nodes", "", ""),
    ("create", "pods", "", ""), ("get", "pods", "", ""), ("list", "pods", "", ""), ("patch", "pods", "", ""),
    ("deletecollection", "pods", "", ""),
    ("create", "pods", "", "exec"), ("get", "pods", "", "exec"), ("list", "events", "", ""),
    ("create", "services", "", ""), ("get", "services", "", ""), ("list", "services", "", ""),
    ("list", "serviceaccounts", "", ""),
    ("create", "daemonsets", "apps", ""), ("get", "daemonsets", "apps", ""), ("patch", "daemonsets", "apps", ""),
    ("list", "deployments", "apps", ""), ("list", "endpointslices", "discovery.k8s.io", ""),
    ("create", "networkpolicies", "networking.k8s.io", ""), ("list", "networkpolicies", "networking.k8s.io", ""),
    ("delete", "networkpolicies", "networking.k8s.io", ""),
]
# Used when granted, and said so when not: the kubelet's configz (else its documented defaults,
# recorded as such) and metrics, a crashed container's log (evidence only), and the run's watch of
# its own pods and DaemonSets (watching.py: without it the waits read the API, and the report says why),
# and what profile detection reads (profiles.read_signals: without it that signal is empty, never guessed).
OPTIONAL_ACCESS = [("get", "nodes", "", "proxy"), ("get", "pods", "", "log"), ("watch", "pods", "", ""),
                   ("list", "daemonsets", "apps", ""), ("watch", "daemonsets", "apps", ""),
                   ("list", "validatingwebhookconfigurations", "admissionregistration.k8s.io", ""),
                   ("list", "mutatingwebhookconfigurations", "admissionregistration.k8s.io", ""),
                   ("list", "customresourcedefinitions", "apiextensions.k8s.io", "")]


def missing_access(api: client.ApiClient) -> list[str]:
    """The verbs the suite needs that this identity lacks, as 'create pods/exec' strings."""
    authz = client.AuthorizationV1Api(api)

    def allowed(access) -> bool:
        verb, resource, group, sub = access
        review = client.V1SelfSubjectAccessReview(spec=client.V1SelfSubjectAccessReviewSpec(
            resource_attributes=client.V1ResourceAttributes(verb=verb, resource=resource, group=group,
                                                            subresource=sub or None)))
        return authz.create_self_subject_access_review(review).status.allowed

    answers = each(allowed, {a: a for a in NEEDED_ACCESS})   # all at once: one round trip each
    return [f"{verb} {resource}{'/' + sub if sub else ''}{' (' + group + ')' if group else ''}"
            for (verb, resource, group, sub) in NEEDED_ACCESS if not answers[(verb, resource, group, sub)]]


def gate(cluster: Cluster) -> None:
    """What every claim needs; anything else is a per-claim precondition. Raises TargetError."""
    try:
        missing = missing_access(cluster.api)
    except client.ApiException as e:
        raise TargetError(f"cannot check the suite's permissions: HTTP {e.status} {e.reason}") from None
    if missing:
        raise TargetError(f"this identity lacks the access the suite needs: {', '.join(missing)}")
    linux = [n.metadata.name for n in cluster.nodes()
             if kube.is_linux(n) and not n.spec.unschedulable]
    if not linux:
        raise TargetError("no schedulable Linux node: the claims are about Linux host networking")


def default_workdir(name: str) -> Path:
    base = Path(os.environ.get("HNC_STATE_DIR", Path(tempfile.gettempdir()) / "hostnet-conformance"))
    return base / name
