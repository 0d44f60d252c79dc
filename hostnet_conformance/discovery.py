"""What a run reads from the cluster before it judges anything: the nodes and their kubelets
(configz, or a node's kubelet config file read by its probe), what the admission gates refuse
(server-side dry runs of the vendor's Pod and of one Pod per host feature), and whether the
pod-network probe reaches every node's IP (the pod-network precondition of C2, C5 and C10).

Each function takes the run's World (world.py) as `w`; world.py imports this module, never the
reverse."""
from __future__ import annotations

from kubernetes import client

from . import facts as cluster_facts
from . import admission, kube, manifests, probes, sampling
from .environment import not_schedulable, schedulable
from .verdict import ClusterError
from .waiting import WaitTimeout, each, wait_until


def choose_sample(w, nodes: list) -> None:
    """The nodes the run judges by exec (sampling.choose over the schedulable Linux nodes that
    --node-selector selects, simulated ones never): w.workers, and env.judged_nodes unless that is
    every node of the cluster's. The report names them and why each was picked."""
    env = w.env
    schedulable = set(env.cluster.facts["schedulable_nodes"])
    candidates = [n for n in nodes if n.metadata.name in schedulable and sampling.selected(n, env.node_selector)
                  and not sampling.simulated(n)]
    if env.node_selector and not candidates:
        raise ClusterError(f"--node-selector {sampling.in_words(env.node_selector)} selects none of the "
                           f"{len(schedulable)} schedulable Linux nodes")
    sample = sampling.choose(candidates, env.nodes_asked)
    w.workers = sample.nodes
    fake = sum(1 for n in nodes if sampling.simulated(n))
    env.judged_nodes = set(sample.nodes) if env.node_selector or fake or not sample.everything else None
    env.cluster.facts["node_sample"] = sample.in_words()
    env.cluster.facts["node_sample_detail"] = sample.to_dict()
    if fake:
        env.cluster.facts["simulated_nodes"] = fake


def discover(w) -> dict:
    """Facts about the cluster that the report states and claims depend on."""
    from .environment import dns_facts
    c = w.env.cluster
    nodes = c.nodes()
    c.facts["non_linux_nodes"] = sorted(n.metadata.name for n in nodes if not kube.is_linux(n))
    c.facts["schedulable_nodes"] = schedulable(nodes)
    choose_sample(w, nodes)
    # each kubelet's own settings (configz through the API server), which C3, C4 and C11 judge by;
    # read first: cluster DNS's Service is the one at their clusterDNS address (dns_facts). On a
    # node sample, the sample's only: a node the run does not judge by exec is never asked (and a
    # simulated one has no kubelet to answer)
    judged = w.env.judged_nodes
    kubelets = {n.metadata.name: cluster_facts.read_kubelet(c.api, n.metadata.name).to_dict() for n in nodes
                if judged is None or n.metadata.name in judged}
    c.facts["kubelet"] = kubelets
    facts = {
        "nodes": len(nodes),
        "schedulable_nodes": schedulable(nodes),
        "not_schedulable": not_schedulable(nodes),
        "kubelet_versions": sorted({n.status.node_info.kubelet_version for n in nodes}),
        "container_runtimes": sorted({n.status.node_info.container_runtime_version for n in nodes}),
        "cluster_dns_ip": dns_facts(w.env)["dns_ip"],
        "kubelet": kubelets,
        "target": f"kind cluster {c.kind_name}" if c.kind_name else f"context {c.context}" if c.kubeconfig else
        f"in-cluster ServiceAccount (namespace {c.facts.get('in_cluster_namespace', '?')})",
    }
    facts.update(discover_admission(w))
    c.facts.update(facts)
    return facts


def discover_admission(w) -> dict:
    """Server-side dry runs, all at once: the vendor's host-network Pod in a namespace without Pod
    Security labels (the cluster's default level), and in one labelled privileged (what the suite's
    own deployments need) the vendor's Pod and one Pod per host feature with only that feature
    (manifests.host_feature_pods). Each answer names the gate that refused, if any. When the
    vendor's Pod is refused, admission.Admission decides which features it must do without: the
    claims that need one are NOT APPLICABLE (world.require_features) and the others are judged on the
    vendor's DaemonSet without them (World.vendor_ds). When no host-network pod can be admitted at
    all, `w.blocked` says by which gate, and every claim that needs one is NOT APPLICABLE."""
    pod = kube.owned(manifests.pod_from_daemonset(w.vendor_ds(as_written=True), "admission-dry-run"), w.env.run_id)
    privileged_ns = w.ns("admission-privileged")
    asks = {"unlabelled": (w.ns("admission-default", psa=None), pod), "vendor": (privileged_ns, pod),
            **{f: (privileged_ns, p) for f, p in manifests.host_feature_pods(pod).items()}}
    got = each(lambda ask: admission.dry_run_pod(w.env.core, *ask), asks)
    unlabelled = got.pop("unlabelled")
    adm = admission.Admission(vendor=got.pop("vendor"), by_feature=got)
    if adm.refused and adm.by_feature.get(manifests.HOST_NETWORK) is None:
        # a variant is judged only if it is admitted itself
        variant = manifests.without_host_features(pod, adm.refused)
        adm = admission.Admission(adm.vendor, adm.by_feature, admission.dry_run_pod(w.env.core, privileged_ns, variant))
    # Pod Security runs before ValidatingAdmissionPolicy and the webhooks (kube-apiserver's plugin
    # order), so when another gate answered, Pod Security had admitted the pod
    default = unlabelled.level if unlabelled and unlabelled.kind == admission.POD_SECURITY else "privileged"
    w.blocked = adm.blocked.to_dict() if adm.blocked else None
    return {
        "pod_security_default": default,
        "admission": {
            "namespace without Pod Security labels": str(unlabelled) if unlabelled else "admitted",
            "namespace labelled privileged": str(adm.vendor) if adm.vendor else "admitted",
        },
        "admission_by_feature": adm.by_feature_words(),
        # what the vendor's DaemonSet and the pods made from it do without (World.vendor_ds)
        "host_features_refused": {} if adm.blocked else {f: g.to_dict() for f, g in adm.refused.items()},
        "judged_on_variant": adm.judged_on(),
    }


def refused_features(w) -> dict[str, admission.Gate]:
    """{feature: the gate refusing it} that the run's host-network pods do without (discover_admission)."""
    return {f: admission.Gate(**g) for f, g in (w.env.cluster.facts.get("host_features_refused") or {}).items()}


def host_network_gate(w) -> admission.Gate | None:
    return admission.Gate(**w.blocked) if w.blocked else None


def kubelet_from_node_files(w) -> None:
    """For each node whose configz could not be read, its kubelet config file, read by its probe."""
    facts = w.env.cluster.facts.get("kubelet") or {}
    for node, k in facts.items():
        probe = w.node_probes.get(node)
        if not k["source"].startswith("defaults") or probe is None:
            continue
        why = k["source"].split(": ", 1)[-1]
        for path in cluster_facts.KUBELET_CONFIG_FILES:
            r = probe.run(w.env.core, "cat", "/host" + path)
            if r.ok and r.stdout.strip():
                try:
                    facts[node] = cluster_facts.parse_config_file(r.stdout, path, why).to_dict()
                    break
                except ValueError:
                    continue


def pod_network_state(w, settle: float = 30) -> dict:
    """Pod networking as C2, C5 and C10 use it: the pod-network probe GETs each node's IP (the
    hostNetwork probe there answers "ok"). Returns {node: error} for the nodes it cannot reach.
    A node that does not answer is asked again for up to `settle` s: on a fresh cluster the CNI's
    routes to some node can trail the first pods by seconds (seen: the control plane, 3 s timeouts)."""
    port = w.ports.port_for("probe-http")
    urls = {n.metadata.name: probes.url(kube.node_internal_ip(n), port)
            for n in w.env.cluster.nodes() if n.metadata.name in w.node_probes}
    failing: dict = {}

    def all_reached():
        # the probe as it is (World.pod_probe waits for this very check to end)
        got = probes.http_get_many(w.env.core, w._pod_probe, {n: urls[n] for n in failing or urls}, timeout=3)
        failing.clear()
        failing.update({node: f"{urls[node]}: {r['error'] or r['body'][:80] or 'no answer'}"
                        for node, r in sorted(got.items()) if not (r["ok"] and r["body"].strip() == "ok")})
        return not failing

    try:
        wait_until(all_reached, timeout=settle, interval=1.0, what="the pod-network probe to reach every node",
                   describe=lambda: "; ".join(failing.values()), retry_on=(client.ApiException,))
    except WaitTimeout:
        pass
    return dict(failing)
