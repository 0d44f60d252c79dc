"""The conformance suite: one module per area, one test per claim and per negative control.
Installed, it is hostnet_conformance.suites (pyproject.toml maps suites/ into the package)."""
