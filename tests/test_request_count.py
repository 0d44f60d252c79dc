"""The report's api_requests: every request the suite's API client sends, counted by method."""
from __future__ import annotations


def test_every_request_through_the_suites_client_is_counted_by_method(monkeypatch):
    from kubernetes import client as k8s
    from hostnet_conformance import kube
    monkeypatch.setattr(k8s.ApiClient, "call_api", lambda self, method, url, *a, **k: type("R", (), {"read": lambda s: b""})())
    api = kube.ApiClient(k8s.Configuration())
    before = kube.request_count()
    api.call_api("GET", "https://x/api/v1/nodes")
    api.call_api("GET", "https://x/api/v1/pods")
    api.call_api("POST", "https://x/api/v1/namespaces")
    after = kube.request_count()
    assert after.get("GET", 0) - before.get("GET", 0) == 2 and after.get("POST", 0) - before.get("POST", 0) == 1
    assert after["total"] - before["total"] == 3
