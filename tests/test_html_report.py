"""report.html rendered from a recorded report.json (a full run on the offline kind cluster,
2026-11-30: 15 PASS, every negative control passing) and from a failing variant of it."""
from __future__ import annotations

import copy
import json
import re
from html import escape
from pathlib import Path

from hostnet_conformance.html_report import diagnostics_name, render_html
from hostnet_conformance.verdict import CLAIMS

RECORDED = Path(__file__).resolve().parent / "data" / "report" / "report-kind-2026-11-30.json"


def recorded() -> dict:
    return json.loads(RECORDED.read_text())


def test_every_claim_with_its_sentence_verdict_and_controls():
    page = render_html(recorded())
    assert [c["id"] for c in recorded()["claims"]] == [c for c in CLAIMS if not CLAIMS[c].extra]
    for c in recorded()["claims"]:   # the sentence the run's report carries
        row = page[page.index(f'<tr id="{c["id"]}">'):]
        row = row[:row.index('<tr id="C', 5)] if c["id"] != "C15" else row
        assert f'<b>{c["id"]}</b>' in row and escape(c["sentence"]) in row
        assert ">PASS</span>" in row
    assert page.count("negative control</td>") == sum(
        t["kind"] == "negative_control" for c in recorded()["claims"] for t in c["tests"])


def test_self_contained():
    page = render_html(recorded())
    assert not re.search(r"<script|<link|<img|<iframe|\bsrc=|@import|url\(", page, re.I)
    assert "<style>" in page and page.startswith("<!DOCTYPE html>")


def test_capabilities_and_timeline():
    data = recorded()
    page = render_html(data)
    for key in ("server_version", "cluster_dns", "networkpolicy_enforced", "vendor_port_20000"):
        assert f"<td>{key}</td>" in page
    assert "world: shared DaemonSets and the wave applied" in page and "observe c10" in page


def test_a_failure_links_its_diagnostics_and_says_why_in_the_clusters_words():
    data = copy.deepcopy(recorded())
    c3 = next(c for c in data["claims"] if c["id"] == "C3")
    c3["verdict"], c3["reason"] = "FAIL", "cluster DNS has no ready endpoints: Deployment coredns is scaled to 0 replicas"
    test = c3["tests"][0]
    test["status"], test["outcome"] = "FAIL", "failed"
    test["verdict"]["reason"] = c3["reason"]
    name = diagnostics_name(test["nodeid"])
    page = render_html(data, {name})
    assert f'<a href="diagnostics/{name}">diagnostics</a>' in page
    assert ">FAIL</span>" in page and "Deployment coredns is scaled to 0 replicas" in page
    assert render_html(data).count("diagnostics</a>") == 0   # no file, no link


def test_html_in_the_clusters_words_is_escaped():
    data = copy.deepcopy(recorded())
    data["claims"][0]["reason"] = "<script>alert(1)</script>"
    page = render_html(data)
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
