"""The plugin's signal handler and preloading are for runs of the suite only: which pytest
arguments name it, also when the suite comes from another checkout than the plugin's install."""
from __future__ import annotations

import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from hostnet_conformance.plugin.state import SUITE_MODULES, suite_requested

ROOT = Path(__file__).resolve().parents[1]


def config(args, cwd):
    return SimpleNamespace(args=[str(a) for a in args], invocation_params=SimpleNamespace(dir=cwd))


@pytest.fixture
def other_checkout(tmp_path):
    """A copy of the suite's test modules, as another checkout has them."""
    suites = tmp_path / "elsewhere" / "suites"
    suites.mkdir(parents=True)
    for m in SUITE_MODULES:
        shutil.copy(ROOT / "suites" / m, suites / m)
    return suites


@pytest.mark.parametrize("args", [["suites"], ["suites/test_claims.py::test_c7_claim"], ["."]])
def test_the_plugins_own_suite(args):
    assert suite_requested(config(args, ROOT))


def test_the_suite_of_another_checkout(other_checkout, tmp_path):
    assert suite_requested(config([other_checkout], tmp_path))
    assert suite_requested(config(["suites/test_claims.py"], other_checkout.parent))
    assert suite_requested(config(["."], other_checkout.parent))


def test_not_the_projects_own_tests_or_an_unrelated_directory(tmp_path):
    assert not suite_requested(config(["tests"], ROOT))
    (tmp_path / "suites").mkdir()
    (tmp_path / "suites" / "test_claims.py").write_text("")
    assert not suite_requested(config([tmp_path / "suites"], tmp_path))
