"""The run deploys only what the selected claims observe: every shared DaemonSet a test uses
(ds_of) and every scenario it asks for (world.scenario) must belong to that test's claim, or a
selection such as `-m C1` would leave the test without its workload. Static (ast) scans of suites/."""
from __future__ import annotations

import ast
import inspect
import re
import sys
from pathlib import Path

from hostnet_conformance import scenarios
from hostnet_conformance.verdict import CLAIMS
from hostnet_conformance.world import VARIANT_CLAIMS

ROOT = Path(__file__).resolve().parent.parent
SUITES = sorted((ROOT / "suites").glob("*.py"))


def _uses():
    """(test name, its claim markers, the shared DaemonSets it names), per test; the helpers and
    module fixtures it requests count as its own."""
    out = []
    for path in SUITES:
        text = path.read_text()
        tree = ast.parse(text)
        funcs = {f.name: f for f in tree.body if isinstance(f, ast.FunctionDef)}

        def names(f, pattern):
            return set(re.findall(pattern, ast.get_source_segment(text, f)))
        for f in funcs.values():
            if not f.name.startswith("test_"):
                continue
            claims = {d.attr for d in f.decorator_list if isinstance(d, ast.Attribute) and re.fullmatch(r"C\d+", d.attr)}
            variants = names(f, r'ds_of\(world, "([a-z-]+)"\)')
            for arg in f.args.args:   # helpers and module fixtures this test requests
                if arg.arg in funcs:
                    variants |= names(funcs[arg.arg], r'ds_of\(world, "([a-z-]+)"\)')
            for helper in names(f, r"\b(_[a-z_]+)\(world"):
                if helper in funcs:
                    variants |= names(funcs[helper], r'ds_of\(w(?:orld)?, "([a-z-]+)"\)')
            out.append((f"{path.name}::{f.name}", claims, variants))
    return out


def _observer_uses():
    """(observation key, {its claim}, the shared DaemonSets it names), per registered observation;
    the module helpers it calls with the world count as its own."""
    out = []
    for o in _load_suites().values():
        src = inspect.getsource(o.fn)
        mod = inspect.getmodule(o.fn)
        variants = set(re.findall(r'ds_of\(world, "([a-z-]+)"\)', src))
        for helper in re.findall(r"\b(_[a-z0-9_]+)\(world", src):
            fn = getattr(mod, helper, None)
            if callable(fn):
                variants |= set(re.findall(r'ds_of\(w(?:orld)?, "([a-z-]+)"\)', inspect.getsource(fn)))
        out.append((f"observation {o.key}", {o.claim}, variants))
    return out


def test_every_shared_daemonset_a_test_uses_is_deployed_for_its_claim():
    uses = _uses() + _observer_uses()
    assert sum(bool(v) for _, _, v in uses) >= 15
    for name, claims, variants in uses:
        for v in variants:
            assert v in VARIANT_CLAIMS, f"{name}: unknown shared DaemonSet {v!r}"
            assert claims & VARIANT_CLAIMS[v], f"{name} ({claims}) uses {v!r}, deployed only for {VARIANT_CLAIMS[v]}"


def _load_suites():
    """Import suites/ (which registers their observations), once."""
    import importlib.util
    for path in SUITES:
        name = f"_hnc_suite_{path.stem}"
        if name not in sys.modules:
            spec = importlib.util.spec_from_file_location(name, path)
            mod = importlib.util.module_from_spec(spec)
            sys.modules[name] = mod
            spec.loader.exec_module(mod)
    return scenarios.OBSERVERS


def test_every_observation_a_test_asks_for_belongs_to_its_claim_and_each_scenario_to_its_observations():
    observers = _load_suites()
    asked = set()
    for claim in CLAIMS.values():   # the claims' tests, made from the registry
        for key in [t.observation for t in claim.tests] + [claim.control_observation(c) for c in claim.controls]:
            assert key in observers, f"{claim.id}: no observation {key!r}"
            assert observers[key].claim == claim.id, f"{claim.id} asks for {key!r} of {observers[key].claim}"
            asked.add(key)
    for path in SUITES:
        text = path.read_text()
        for f in ast.parse(text).body:
            if not (isinstance(f, ast.FunctionDef) and f.name.startswith("test_")):
                continue
            claims = {d.attr for d in f.decorator_list
                      if isinstance(d, ast.Attribute) and re.fullmatch(r"C\d+", d.attr)} or {"cluster"}
            src = ast.get_source_segment(text, f)
            keys = set(re.findall(r'world\.observed\("([a-z0-9 -]+)"\)', src))
            keys |= {f"{prefix}{v}" for prefix in re.findall(r'world\.observed\(f"([a-z0-9-]+)\{client\}"\)', src)
                     for v in ("pod", "host-network pod")}
            for k in keys:
                assert k in observers, f"{path.name}::{f.name}: no observation {k!r}"
                assert observers[k].claim in claims, f"{path.name}::{f.name} ({claims}) asks for {k!r} of {observers[k].claim}"
                asked.add(k)
    # the observations of other observations (C6's, C10's set-up) count as asked for
    inner = {k for o in observers.values() for k in re.findall(r'observed\("([a-z0-9 -]+)"\)', inspect.getsource(o.fn))}
    assert set(observers) - asked - inner == set(), "observations no test asks for"
    made = set()
    for o in observers.values():
        for k in re.findall(r'world\.scenario\("([a-z0-9-]+)"\)', inspect.getsource(o.fn)):
            assert scenarios.SCENARIOS[k].claim == o.claim, f"observation {o.key} ({o.claim}) makes {k!r}"
            made.add(k)
    made |= {"c5", "c5-control"}   # C5's two observations share _c5(world, key)
    assert made == set(scenarios.SCENARIOS), f"scenarios no observation makes: {set(scenarios.SCENARIOS) - made}"


def test_the_wave_has_two_phases_and_selection_picks_by_claim():
    first = {s.key for s in scenarios.selected(None, after_vendor=False)}
    second = {s.key for s in scenarios.selected(None, after_vendor=True)}
    assert second == {"c7"} and not first & second   # it takes 20000 from the vendor's pods
    assert "c7-kubelet" not in first   # its test makes it, after C7's DaemonSet verdict
    assert {s.key for s in scenarios.selected({"C8"}, after_vendor=False)} == {"c8", "c8-control"}
    assert scenarios.selected({"C1"}, after_vendor=False) == [] == scenarios.selected(set(), after_vendor=True)
