"""The run's timeline (report.json `timeline`) and the critical path benchmark.py prints from it."""
from hostnet_conformance import timeline


def _span(name, start, end):
    return {"name": name, "start_s": start, "end_s": end, "duration_s": None if end is None else end - start}


def test_the_critical_path_walks_back_from_the_span_that_ended_last():
    spans = [_span("create", 0, 30), _span("load images", 31, 35), _span("nodes Ready", 31, 50),
             _span("world", 50, 60), _span("observe c8", 60, 70), _span("observe c10", 60, 80),
             _span("unfinished", 61, None)]
    assert [s["name"] for s in timeline.critical_path(spans)] == ["create", "nodes Ready", "world", "observe c10"]
    assert timeline.critical_path([]) == []


def test_spans_record_start_and_end_in_seconds_since_the_process_started():
    timeline.start("hnc-test span")
    timeline.end("hnc-test span")
    with timeline.span("hnc-test with"):
        pass
    got = {s["name"]: s for s in timeline.snapshot()}
    for name in ("hnc-test span", "hnc-test with"):
        s = got[name]
        assert 0 <= s["start_s"] <= s["end_s"] and s["duration_s"] == round(s["end_s"] - s["start_s"], 2)
