"""Before the run deploys its shared DaemonSets: each image the suite runs is on every Linux node
or pulled there now (else the kubelet's words for why not), and the pods of earlier runs that may
still hold the vendor's port 20000 are gone.

preflight_images takes the run's World (world.py) as `w`; world.py imports this module, never the
reverse."""
from __future__ import annotations

from kubernetes import client

from . import kube, manifests, signals
from .environment import Env
from .host_ports import pod_host_ports
from .manifests import VENDOR_PORT
from .waiting import WaitTimeout, wait_until


def pull_state(pod) -> str | None:
    """'pulled', 'not pullable: <the kubelet's words>', or None while the pull is still going on."""
    for cs in pod.status.container_statuses or []:
        waiting = cs.state.waiting if cs.state else None
        if waiting and waiting.reason in signals.IMAGE_PULL:
            return f"not pullable: {waiting.reason}: {' '.join((waiting.message or '').split())[:300]}"
        if cs.image_id or (cs.state and (cs.state.running or cs.state.terminated)):
            return "pulled"   # the container exists, so its image is on the node
    return "pulled" if pod.status.phase in ("Succeeded", "Failed") else None


def preflight_images(w, nodes: list, timeout: float = 180) -> dict:
    """Before any claim waits on them: each image the suite runs, on each Linux node, either
    present (the node's status lists it) or pulled now by a pod that only has to start (bound to
    the node, never restarted). A node that cannot pull it says why in the kubelet's words. On a
    cluster whose nodes hold the images, as the offline kind cluster's do, no pod is made.
    Returns {image: {node: 'present' | 'pulled' | 'not pullable: ...'}} (facts['images_on_nodes'])."""
    env = w.env
    images = [env.exporter_image, env.probe_image]
    # each image as its workloads pull it (a manifest may say Never: then nothing is asked of a registry)
    policy = {env.exporter_image: w.vendor_ds()["spec"]["template"]["spec"]["containers"][0].get(
                  "imagePullPolicy", "IfNotPresent"),
              env.probe_image: manifests.load("probe-pod")["spec"]["containers"][0].get("imagePullPolicy",
                                                                                       "IfNotPresent")}
    state = {i: {n.metadata.name: "present" if kube.image_on_node(n, i) else None for n in nodes if kube.is_linux(n)}
             for i in images}
    missing = [(i, node) for i in images for node, st in state[i].items() if st is None]
    if missing:
        ns = w.ns("image-preflight")
        pods = {}
        for k, (image, node) in enumerate(missing):
            name = f"pull-{k}-{node}"[:63].rstrip("-")
            kube.create(env.cluster.api, ns, {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": {
                "nodeName": node, "restartPolicy": "Never", "tolerations": [{"operator": "Exists"}],
                "automountServiceAccountToken": False,
                "containers": [{"name": "pull", "image": image, "imagePullPolicy": policy[image],
                                "command": ["true"]}]}}, env.run_id)
            pods[name] = (image, node)

        def all_known():
            for name, (image, node) in pods.items():
                if state[image][node] is None:
                    state[image][node] = pull_state(env.core.read_namespaced_pod(name, ns))
            return all(state[i][n] for i, n in pods.values())

        try:
            wait_until(all_known, timeout=timeout, what="the suite's images pulled on every node",
                       describe=lambda: "; ".join(f"{n}: {i} still pulling" for i, n in pods.values()
                                                 if state[i][n] is None), retry_on=(client.ApiException,))
        except WaitTimeout:
            for image, node in pods.values():
                state[image][node] = state[image][node] or f"not pullable: still pulling after {timeout:.0f}s"
    env.cluster.facts["images_on_nodes"] = state
    return state


def unpullable(state: dict, image: str) -> str | None:
    """Why some node cannot run `image` (the preflight's words), or None."""
    bad = [f"node {node}: {st}" for node, st in state.get(image, {}).items() if str(st).startswith("not pullable")]
    return f"image {image} cannot be pulled: " + "; ".join(bad) if bad else None


def await_earlier_runs(env: Env, timeout: float = 120) -> None:
    """Pods of earlier runs that are still terminating may hold port 20000, the vendor's port, which
    every run uses: deploying before they are gone would look like a port conflict. Wait for those
    pods only (the suite's own namespaces, by label), not for whole namespaces to finish terminating:
    every other port the run uses is chosen free of what any pod, terminating or not, declares and of
    what the nodes listen on (host_ports.choose_ports)."""
    selector = f"{kube.LABEL_MANAGED}={kube.MANAGED_VALUE}"

    def holding():
        out = []
        for n in env.core.list_namespace(label_selector=selector).items:
            if n.status.phase != "Terminating" or (n.metadata.labels or {}).get(kube.LABEL_RUN) == env.run_id:
                continue
            for p in env.core.list_namespaced_pod(n.metadata.name).items:
                # a pod never bound to a node, or one that ended, holds no port
                if p.spec.node_name and p.status.phase not in ("Failed", "Succeeded") and \
                        VENDOR_PORT in pod_host_ports(p):
                    out.append(f"{n.metadata.name}/{p.metadata.name}")
        return out

    wait_until(lambda: not holding(), timeout=timeout, interval=0.5,
               what=f"pods of earlier runs holding port {VENDOR_PORT} to be gone",
               describe=lambda: "still there: " + " ".join(holding()), retry_on=(client.ApiException,))
