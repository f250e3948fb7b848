"""Root conftest: thin on purpose. It only registers the harness's pytest plugin."""

pytest_plugins = ["harness.entry.pytest_plugin"]
