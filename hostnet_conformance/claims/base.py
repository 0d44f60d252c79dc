"""What every claim module shares: the observe-then-judge protocol, a Verdict from the failures a
judge found, and the rule that a GET the suite could not make decides nothing (ERROR).

A claim's observation (`observe`) only reads the cluster, waits, and acts on the suite's own
objects; it returns JSON facts: API objects as the API serves them, exec and GET results with their
mode. What it could not observe (a wait that ran out, an exec or API error, the suite's own pod
failing) is recorded in the cluster's words, never raised past it. The claim's `judge` is a pure
function of the facts and the only place PASS and FAIL are decided; `judged` turns a recorded
observation into the Verdict: ERROR for what was not observed, NOT APPLICABLE for a missing
precondition. Every observation of a run is kept (RECORDED) and written to the report directory
(observations.json), so a verdict can be judged again from what was seen, and unit tests judge
recorded observations (tests/data/observations/)."""
from __future__ import annotations

import threading
import time
from typing import Any, Callable

from kubernetes import client

from .. import kube, probes
from ..signals import TerminalSignal
from ..verdict import ClusterError, ControlInconclusive, NotApplicable, Verdict
from ..waiting import WaitTimeout

# observation key -> the observation, as recorded in this process (observations.json)
RECORDED: dict[str, dict] = {}
_recorded_lock = threading.Lock()
# what an unobserved observation's kind raises when judged
_RAISES = {"control_inconclusive": ControlInconclusive}


def observe(key: str, claim: str, fn: Callable[..., dict], *args: Any, **kwargs: Any) -> dict:
    """Run `fn` (a claim's observe function) and record what it saw: {"claim", "key", "facts",
    "duration_s"}; or, in its place, "unobserved" {"kind", "message"} (the cluster's words) or
    "not_applicable" (the missing precondition)."""
    t0 = time.monotonic()
    obs: dict[str, Any] = {"claim": claim, "key": key}
    try:
        obs["facts"] = fn(*args, **kwargs)
    except WaitTimeout as e:
        obs["unobserved"] = {"kind": "timeout", "message": e.in_words()}
    except NotApplicable as e:
        obs["not_applicable"] = str(e)
    except (ClusterError, TerminalSignal) as e:
        obs["unobserved"] = {"kind": getattr(e, "code", "cluster_error"), "message": " ".join(str(e).split())}
    except client.ApiException as e:
        obs["unobserved"] = {"kind": "api_error",
                             "message": f"the API answered HTTP {e.status} {e.reason}: {kube.api_message(e)}"}
    obs["duration_s"] = round(time.monotonic() - t0, 2)
    # a run on a node sample (--nodes, --node-selector: environment.Env.judged_nodes) says which
    # nodes its per-node checks ran on (exec, node probes, its own DaemonSets) in every claim's evidence
    sample = next((a.judged_nodes for a in args if getattr(a, "judged_nodes", None) is not None), None)
    if sample is not None:
        obs["node_sample"] = sorted(sample)
    with _recorded_lock:
        RECORDED[key] = obs
    return obs


# a judge of parts (C6) composes its Verdict itself, each part's Verdict in its `parts`
Judge = Callable[[dict], tuple[list, dict, str] | Verdict]


def judged(obs: dict, judge: Judge) -> Verdict:
    """The Verdict of a recorded observation: `judge(facts)` gives (failures, evidence, summary),
    or the Verdict itself (timed here); what was not observed is ERROR (ClusterError, its message
    the cluster's words), a missing precondition NOT APPLICABLE."""
    if "unobserved" in obs:
        u = obs["unobserved"]
        raise _RAISES.get(u.get("kind"), ClusterError)(u["message"])
    if "not_applicable" in obs:
        raise NotApplicable(obs["not_applicable"])
    judgement = judge(obs["facts"])
    if isinstance(judgement, Verdict):
        judgement.duration_s = obs.get("duration_s", 0.0)
        if "node_sample" in obs:
            judgement.evidence["node_sample"] = obs["node_sample"]
        return judgement
    failures, evidence, summary = judgement
    if "node_sample" in obs:
        evidence = {**evidence, "node_sample": obs["node_sample"]}
    return decided(obs["claim"], failures, evidence, summary, obs.get("duration_s", 0.0))


def run(key: str, claim: str, judge: Judge, fn: Callable[..., dict], *args: Any, **kwargs: Any) -> Verdict:
    """Observe, record, judge: what an observer (scenarios.observer) returns for its test."""
    return judged(observe(key, claim, fn, *args, **kwargs), judge)


def serialize(obj: Any) -> Any:
    """An API object (or list of them) as the API serves it: plain JSON, without managedFields
    (who wrote which field; no judge reads them, and they are most of an object's size)."""
    data = client.ApiClient().sanitize_for_serialization(obj)
    for item in data if isinstance(data, list) else [data]:
        if isinstance(item, dict):
            (item.get("metadata") or {}).pop("managedFields", None)
    return data


# (code, message) or (code, message, mode): the code names what was observed, the message quotes
# it, the mode says how a GET that decided it ended (probes.get_mode)
Failure = tuple[str, str] | tuple[str, str, str]


def decided(claim: str, failures: list[Failure | str], evidence: dict, ok_reason: str, duration_s: float) -> Verdict:
    """The judge's Verdict: passed when there are no failures; otherwise the reason is the messages
    joined by "; ", `codes` the failures' codes in order (a plain string gets the code "failed")
    and `modes` their modes ("" where none)."""
    triples = [(f + ("",))[:3] if isinstance(f, tuple) else ("failed", f, "") for f in failures]
    passed = not triples
    return Verdict(claim, passed, ok_reason if passed else "; ".join(m for _, m, _ in triples), evidence,
                   duration_s, [c for c, _, _ in triples], [m for _, _, m in triples])


def said(r: dict) -> str:
    """What an exec printed, in one line: its stderr, else its stdout (200 characters at most)."""
    return " ".join((r.get("stderr") or r.get("stdout") or "no output").split())[:200]


def exec_failed(what: str, r: dict, any_exit: bool = True) -> None:
    """An exec (recorded as {"rc", "stdout", "stderr"}; rc -1: no exit status) that delivered no exit
    status, or with `any_exit` exited non-zero, observed nothing: ERROR `<what> <how>: <what it said>`."""
    if r["rc"] < 0 or (any_exit and r["rc"] != 0):
        how = "delivered no exit status" if r["rc"] < 0 else f"exited {r['rc']}"
        raise ClusterError(f"{what} {how}: {said(r)}")


def kept_get(url: str, r: dict) -> dict:
    """A GET's answer with its URL, the body cut to 200 characters: the judge reads whether it
    answered and how, and a whole metrics page would make every recorded observation hundreds of
    kilobytes."""
    return {"url": url, **r, "body": (r.get("body") or "")[:200]}


def unobserved(claim: str, what: str, r: dict) -> None:
    """A GET the suite could not make (the exec delivered no exit status) observed nothing: ERROR."""
    if r.get("mode") == probes.EXEC_ERROR:
        raise ClusterError(f"{claim}: {what}: the exec into the suite's probe failed: {r.get('error') or 'no output'}")


def scheduled(p):
    """The pod's PodScheduled condition, or None while the scheduler has not answered."""
    return next((c for c in p.status.conditions or [] if c.type == "PodScheduled"), None)
