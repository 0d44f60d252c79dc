"""Where the suite's files are: inside the package when installed from the wheel
(hostnet_conformance/suites, hostnet_conformance/fixtures), at the checkout's top level otherwise
(suites/, fixtures/; pyproject.toml maps them into the package)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
FIXTURES = PACKAGE / "fixtures" if (PACKAGE / "fixtures").is_dir() else PACKAGE.parent / "fixtures"


def suites_dir() -> Path:
    """The conformance suite's test modules."""
    if (PACKAGE / "suites").is_dir():
        return PACKAGE / "suites"
    try:
        spec = importlib.util.find_spec("hostnet_conformance.suites")   # an editable install maps it
    except ImportError:
        spec = None
    if spec and spec.submodule_search_locations:
        return Path(list(spec.submodule_search_locations)[0]).resolve()
    return PACKAGE.parent / "suites"
