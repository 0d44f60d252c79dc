"""The suite's pytest wiring is the plugin hostnet_conformance.plugin. An installed project (pip
install -e ., as scripts/install-python-deps.sh does) registers it through its pytest11 entry point
of the same name; this line loads it in a checkout that is not installed, and is a no-op otherwise."""
pytest_plugins = ["hostnet_conformance.plugin"]
