"""Whether a reused kind cluster still needs `kind load`, decided on a recorded node's status.images
(the offline kind cluster, Kubernetes v1.34.4, 2026-11-30: every node lists the suite's two images)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from kubernetes import client

from hostnet_conformance.cluster import full_image_ref, images_missing_on_nodes

NODE = Path(__file__).resolve().parent / "data" / "facts" / "node-images-kind-worker.json"
IMAGES = ["prom/node-exporter:v1.8.2", "busybox:1.36.1"]


def node(images: list[dict] | None = None) -> client.V1Node:
    raw = json.loads(NODE.read_text())
    if images is not None:
        raw["status"]["images"] = images
    return client.ApiClient()._ApiClient__deserialize(raw, "V1Node")


@pytest.mark.parametrize("ref,full", [
    ("busybox:1.36.1", "docker.io/library/busybox:1.36.1"),
    ("prom/node-exporter:v1.8.2", "docker.io/prom/node-exporter:v1.8.2"),
    ("quay.io/prometheus/node-exporter:v1.8.2", "quay.io/prometheus/node-exporter:v1.8.2"),
    ("localhost:5000/busybox:1", "localhost:5000/busybox:1"),
    ("localhost/busybox:1", "localhost/busybox:1"),
])
def test_full_image_ref(ref, full):
    assert full_image_ref(ref) == full


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
