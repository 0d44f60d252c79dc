"""The claims' tests, made from the claims registry (verdict.CLAIMS): each claim test records its
observation's Verdict and asserts it passed; each negative control records its observation's
Verdict and demands the failure its spec names (code and mode), per part where it judges two.
The observations are registered by hostnet_conformance/claims/cN.py; in one process they all
start at once, each in a thread, as soon as the shared objects they read are made."""
import pytest

from hostnet_conformance import claims
from hostnet_conformance.verdict import CLAIMS, expect_control

claims.load_all()


def _claim_test(claim, spec):
    def test(world, record):
        v = record(world.observed(spec.observation))
        assert v.passed, v.reason
    return _named(test, claim, spec.name, spec.doc, spec.markers)


def _control_test(claim, name, controls):
    def test(world, record):
        v = record(world.observed(claim.control_observation(controls[0])))
        parts = getattr(v, "parts", {})
        for ctl in controls:
            expect_control(parts[ctl.part] if ctl.part else v, name, ctl.part)
    doc = f"Negative control of {claim.id}: " + "; ".join(f"{c.setup} must fail with {c.code}" for c in controls)
    return _named(test, claim, name, doc, ("negative_control",))


def _named(fn, claim, name, doc, markers):
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    for m in (claim.id, *markers):
        fn = getattr(pytest.mark, m)(fn)
    return fn


for _claim in CLAIMS.values():
    for _spec in _claim.tests:
        globals()[_spec.name] = _claim_test(_claim, _spec)
    for _name in dict.fromkeys(c.test for c in _claim.controls):
        globals()[_name] = _control_test(_claim, _name, [c for c in _claim.controls if c.test == _name])
