"""Whether a reused kind cluster still needs `kind load`, decided on a recorded node's status.images
(the offline kind cluster, Kubernetes v1.34.4, 2026-11-30: every node lists the suite's two images)."""
from __future__ import annotations

import json
from pathlib import Path

from kubernetes import client

from hostnet_conformance.cluster import images_missing_on_nodes

NODE = Path(__file__).resolve().parent / "data" / "facts" / "node-images-kind-worker.json"
IMAGES = ["prom/node-exporter:v1.8.2", "busybox:1.36.1"]


def node(images: list[dict] | None = None) -> client.V1Node:
    raw = json.loads(NODE.read_text())
    if images is not None:
        raw["status"]["images"] = images
    return client.ApiClient()._ApiClient__deserialize(raw, "V1Node")


def test_recorded_node_lists_both_images():
    assert images_missing_on_nodes([node(), node()], IMAGES) == []


def test_one_node_without_an_image_means_loading():
    bare = node([i for i in json.loads(NODE.read_text())["status"]["images"]
                 if not any("busybox" in n for n in i["names"])])
    assert images_missing_on_nodes([node(), bare], IMAGES) == ["busybox:1.36.1"]


def test_another_tag_is_not_the_image():
    assert images_missing_on_nodes([node()], ["busybox:1.37.0"]) == ["busybox:1.37.0"]


def test_no_nodes_or_no_images_listed_means_loading():
    assert images_missing_on_nodes([], IMAGES) == IMAGES
    assert images_missing_on_nodes([node([])], IMAGES) == IMAGES


SIGNALS = Path(__file__).resolve().parent / "data" / "signals"


def pod(name: str) -> client.V1Pod:
    return client.ApiClient()._ApiClient__deserialize(json.loads((SIGNALS / name).read_text()), "V1Pod")


def test_preflight_reads_a_pull_the_kubelet_refused_in_its_words():
    from hostnet_conformance.preflight import pull_state
    st = pull_state(pod("pod-image-never-pull.json"))
    assert st.startswith("not pullable: ErrImageNeverPull: "), st


def test_preflight_counts_a_started_or_crashed_container_as_pulled():
    from hostnet_conformance.preflight import pull_state
    assert pull_state(pod("pod-running.json")) == "pulled"
    assert pull_state(pod("pod-crash-loop.json")) == "pulled"   # it ran: its image is on the node
    assert pull_state(pod("pod-unschedulable.json")) is None   # nothing to say yet


def test_unpullable_names_each_node_and_the_kubelets_words():
    from hostnet_conformance.preflight import unpullable
    state = {"img:1": {"w1": "present", "w2": "not pullable: ErrImagePull: pull access denied"}}
    assert unpullable(state, "img:1") == "image img:1 cannot be pulled: node w2: not pullable: ErrImagePull: " \
                                        "pull access denied"
    assert unpullable({"img:1": {"w1": "pulled"}}, "img:1") is None


def test_a_simulated_node_listing_no_image_does_not_mean_loading():
    fake = node([])
    fake.metadata.annotations = {"kwok.x-k8s.io/node": "fake"}
    assert images_missing_on_nodes([node(), fake], IMAGES) == []
    assert images_missing_on_nodes([fake], IMAGES) == IMAGES   # no real node: nothing says they are there
