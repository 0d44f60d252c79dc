"""Every claim's judge on recorded observations (tests/data/observations/cN/*.json): each file holds
an observation as claims/base.observe records it (most taken from a real run's observations.json,
some edited to show what a deviating cluster gives) and what judging it must give:

  {"expect": {"outcome": "PASS" | "FAIL" | "ERROR" | "NOT APPLICABLE",
              "codes": [...], "modes": [...],            FAIL: the failures' codes (and modes), in order
              "control": "test_...", "part": "pod",      a negative control this observation must satisfy
              "reason": "words"},                        a phrase the reason (or the error) must contain
   "observation": {...}}

Each claim must have a PASS, a FAIL, each of its controls, a wait that ran out and an exec error
(both ERROR; a claim that
execs nothing has an API error instead). Tag a case whose facts hold the exec error "tags": ["exec_error"]."""
from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

from hostnet_conformance.claims import base
from hostnet_conformance.verdict import CLAIMS, ClusterError, NotApplicable, expect_control

DATA = Path(__file__).parent / "data" / "observations"
CASES = sorted(DATA.glob("[cx]*/*.json"))


def _judge(obs: dict, control: bool = False):
    """The claim's judge; a control's own where the module has one (X2's set-up serves both tests)."""
    mod = importlib.import_module(f"hostnet_conformance.claims.{obs['claim'].lower()}")
    return base.judged(obs, getattr(mod, "judge_control", mod.judge) if control else mod.judge)


@pytest.mark.parametrize("path", CASES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_a_recorded_observation_is_judged_as_recorded(path):
    case = json.loads(path.read_text())
    want, obs = case["expect"], case["observation"]
    assert obs["claim"].lower() == path.parent.name
    outcome = want["outcome"]
    if outcome in ("ERROR", "NOT APPLICABLE"):
        with pytest.raises(ClusterError if outcome == "ERROR" else NotApplicable) as e:
            _judge(obs, "control" in want)
        assert want.get("reason", "") in str(e.value)
        assert str(e.value).strip(), "an ERROR must say what was seen"
        return
    v = _judge(obs, "control" in want)
    assert v.outcome == outcome, v.reason
    assert want.get("reason", "") in v.reason
    if outcome == "FAIL":
        assert v.codes == want["codes"], v.reason
        if "modes" in want:
            assert v.modes == want["modes"]
    if "control" in want:
        # a control judging two parts (C6) demands each failure of its own part, as the suite does
        expect_control(v.parts[want["part"]] if "part" in want else v, want["control"], want.get("part"))


def _cases_of(claim_id: str) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((DATA / claim_id.lower()).glob("*.json"))]


@pytest.mark.parametrize("claim_id", list(CLAIMS))
def test_every_claim_has_a_pass_a_fail_each_control_a_timeout_and_an_exec_error(claim_id):
    cases = _cases_of(claim_id)
    wants = [c["expect"] for c in cases]
    assert any(w["outcome"] == "PASS" for w in wants), f"{claim_id}: no PASS"
    assert any(w["outcome"] == "FAIL" and "control" not in w for w in wants), f"{claim_id}: no FAIL"
    for ctl in CLAIMS[claim_id].controls:
        assert any(w.get("control") == ctl.test and w.get("part") == ctl.part for w in wants), \
            f"{claim_id}: no recorded observation for the control {ctl.test} {ctl.part or ''}"
    timeouts = [c for c in cases if (c["observation"].get("unobserved") or {}).get("kind") == "timeout"]
    assert timeouts and all(c["expect"]["outcome"] == "ERROR" for c in timeouts), f"{claim_id}: no timeout"
    # an exec that delivered no exit status, in the facts (a GET's mode) or in place of them; a claim
    # that execs nothing has an API error instead
    execs = [c for c in cases if "exec_error" in c["expect"].get("tags", []) or
             (c["observation"].get("unobserved") or {}).get("kind") in ("exec_error", "api_error")]
    assert execs and all(c["expect"]["outcome"] == "ERROR" for c in execs), f"{claim_id}: no exec error"
