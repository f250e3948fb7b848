"""The pytest side of the run report: hooks that feed a `Collector` and write the page at the end of the run.

Registered by harness.entry.pytest_plugin at configure time. Tests are written as before: the ScenarioRun a
test got from the `scenario` / `module_scenario` fixture is read at the end of the test's call (its verdicts
and load histories), the fixtures hand over the evidence folder, and outcomes come from the test reports.
Under pytest-xdist the controller names a folder for the workers' parts (`pytest_configure_node`), each
worker dumps its part there at its end, and the controller merges them and writes the page.
"""

from __future__ import annotations

import os
import platform
import shutil
import tempfile
import time
from collections.abc import Generator, Iterable
from pathlib import Path
from typing import Any

import pytest

from harness.descriptions import settings
from harness.descriptions.options import HarnessOptions
from harness.entry.run_report import Collector, outcome_of

REPORT_FLAG = "--run-report"
PARTS_KEY = "harness_report_parts"
NAME = "harness-run-report"


def add_option(group: Any) -> None:
    group.addoption(
        REPORT_FLAG,
        dest="harness_run_report",
        default=None,
        help="where the run report (one HTML file) is written; 'none' for no report "
        "(default: <evidence dir>/report.html); env HARNESS_RUN_REPORT",
    )


def report_path(config: pytest.Config, options: HarnessOptions) -> Path | None:
    given = config.getoption("harness_run_report", None) or os.environ.get("HARNESS_RUN_REPORT")
    if given and given.lower() == "none":
        return None
    return Path(given) if given else options.evidence_dir / "report.html"


def run_info(options: HarnessOptions, args: Iterable[str]) -> dict[str, Any]:
    """What ran: flavors, the mod_cluster release and commit (when a source is in use), the WildFly asked
    for (when WildFly runs), where, when. What the started components report (httpd's version, the WildFly
    or Tomcat server's) is added as tests run (`RunReportPlugin._scenario_runs`)."""
    from harness.flavors.httpd_modcluster.flavor import source_versions

    info: dict[str, Any] = {
        "balancer": options.balancer,
        "node flavor": options.node,
        "modcluster mode": options.modcluster_mode,
    }
    info.update(source_versions(options.modcluster_source))
    if options.node == "wildfly" or options.balancer == "undertow":
        info["wildfly"] = options.wildfly_archive or options.wildfly_version
    info.update(
        {
            "run id": settings.run_id(),
            "host": settings.hostname(),
            "python": platform.python_version(),
            "arguments": " ".join(args),
            "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        }
    )
    return info


class RunReportPlugin:
    def __init__(self, config: pytest.Config, options: HarnessOptions) -> None:
        self.config = config
        self.path = report_path(config, options)
        self.collector = Collector(info=run_info(options, config.invocation_params.args))
        self.worker: str | None = os.environ.get("PYTEST_XDIST_WORKER")
        workerinput = getattr(config, "workerinput", None)
        given = workerinput.get(PARTS_KEY) if isinstance(workerinput, dict) else None
        self.parts = Path(given) if given else None
        self._loads: set[int] = set()
        self.written: Path | None = None

    # --- xdist --------------------------------------------------------------------------------------------
    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        if self.parts is None:
            self.parts = Path(tempfile.mkdtemp(prefix="mc-harness-report-parts-"))
        node.workerinput[PARTS_KEY] = str(self.parts)

    # --- collecting ---------------------------------------------------------------------------------------
    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        if report.when == "call":
            try:
                self._scenario_runs(item)
            except Exception as exc:
                self.collector.entry(item.nodeid).message += f"\n(run report: {type(exc).__name__}: {exc})"
        return report

    def _scenario_runs(self, item: pytest.Item) -> None:
        from harness.run.scenario import ScenarioRun, cluster_versions

        for value in getattr(item, "funcargs", {}).values():
            if not isinstance(value, ScenarioRun):
                continue
            for cluster in value.clusters:  # what ran: httpd, mod_cluster commit, WildFly/Tomcat server
                for key, version in cluster_versions(cluster).items():
                    self.collector.info.setdefault(key, version)
            loads = [load for load in value.loads if id(load) not in self._loads]
            self._loads.update(id(load) for load in loads)
            self.collector.scenario(item.nodeid, id(value), value.verdicts, [value.history(load) for load in loads])

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        xfail = hasattr(report, "wasxfail")
        outcome = outcome_of(report.when, report.passed, report.failed, report.skipped, xfail)
        if report.skipped and isinstance(report.longrepr, tuple):
            message = str(report.longrepr[2])
        else:
            message = report.longreprtext if report.failed else ""
        self.collector.outcome(report.nodeid, report.when, outcome, report.duration, message)

    def evidence(self, nodeids: Iterable[str], folder: Path) -> None:
        self.collector.evidence(nodeids, folder)

    # --- the end --------------------------------------------------------------------------------------------
    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.worker is not None:
            if self.parts is not None:
                self.collector.dump_part(self.parts, self.worker)
            return
        if self.path is None:
            return
        from harness.entry import run_report_html

        if self.parts is not None:
            self.collector.load_parts(self.parts)
            shutil.rmtree(self.parts, ignore_errors=True)
        self.collector.info["finished"] = time.strftime("%Y-%m-%d %H:%M:%S %Z")
        self.collector.info["exit status"] = int(exitstatus)
        try:
            self.written = run_report_html.write(self.collector, self.path)
        except OSError as exc:
            print(f"[harness] run report not written: {REPORT_FLAG} {self.path}: {exc}")

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.written is not None:
            terminalreporter.write_line(f"[harness] run report: {self.written.resolve()}")


def plugin(config: pytest.Config) -> RunReportPlugin | None:
    found = config.pluginmanager.get_plugin(NAME)
    return found if isinstance(found, RunReportPlugin) else None
