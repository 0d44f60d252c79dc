"""The suite's pytest plugin, one module per job. Registered through the `pytest11` entry point
`hostnet_conformance.plugin` (pyproject.toml); a checkout that is not installed loads it from its
conftest.py under the same name, so it is never registered twice.

- state:       the run's shared state, and what the other modules ask of an item or the config
- options:     command-line options, their validation, markers from the claims registry
- target:      the cluster (created, reused or existing), the world, xdist's shared set-up
- verdicts:    each test's outcome as PASS / FAIL / NOT APPLICABLE / ERROR, in the cluster's words
- reports:     the verdict table, report.md / report.json / report.html, the run's timeline
- selection:   --claims
- baseline:    --baseline, --baseline-strict, --rerun-failed
- progress:    each claim's verdict and the run's phase as they come, also with -q
- diagnostics: what a failing test's namespaces and nodes show, attached to its report
- cleanup:     --cleanup, and SIGTERM ending the run like Ctrl-C
"""
pytest_plugins = [f"hostnet_conformance.plugin.{m}" for m in
                  ("options", "target", "verdicts", "reports", "selection", "baseline", "progress",
                   "diagnostics", "cleanup")]
