"""pytest plugin: options, markers, engine gate, sweeping, and the base fixtures.

Tiers: tests without the `docker` marker are the unit tier (no engine needed). Tests marked `docker` need
an engine; without one they are reported as skipped with the reason, or fail the run under
`--require-docker` (what CI uses). A run where every selected test was skipped does not exit 0.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Generator, Iterator
from typing import Any

import pytest

from harness.descriptions import settings
from harness.descriptions.options import OPTIONS, HarnessOptions, OptionError
from harness.entry import run_report_plugin
from harness.entry.repro import PYTEST_OPTIONS as REPRO_OPTIONS
from harness.flavors import registry
from harness.flavors.httpd_modcluster.flavor import apply_default_source, source_for

# the flags whose accepted values are the registry's flavor names
_FLAVOR_CHOICES = {"--balancer": tuple(registry.BALANCERS), "--node-flavor": tuple(registry.NODES)}

MARKERS = {
    "docker": "needs a Docker engine (the docker tier)",
    "modcluster_source": "needs an httpd mod_cluster source (--modcluster-source / HARNESS_MODCLUSTER_SOURCE)",
    "slow": "takes more than about a minute",
    "long": "the long tier (many minutes): runs only with --long / HARNESS_LONG=1, skipped otherwise saying so",
    "flavors(balancer=None, node=None, reason='')": "run only for these flavors; others are skipped with the reason",
}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("modcluster-harness", "httpd + mod_cluster integration harness")
    for option in OPTIONS:
        choices = _FLAVOR_CHOICES.get(option.flag, option.choices)
        extra: dict[str, Any] = {"action": "store_true"} if option.is_flag else {"choices": choices}
        default = f" (default: {option.default})" if option.default else ""
        group.addoption(
            option.flag, dest=option.dest, default=None, help=f"{option.help}{default}; env {option.env}", **extra
        )
    run_report_plugin.add_option(group)
    for flag, dest, text in REPRO_OPTIONS:  # the reproduction test's (harness repro passes them)
        group.addoption(flag, dest=dest, default=None, type=int if flag == "--repro-repeat" else str, help=text)


def pytest_configure(config: pytest.Config) -> None:
    for name, text in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {text}")
    settings.configure_testcontainers()
    try:  # a bad HARNESS_* value or an input given but unusable: a usage error naming it, before any test
        options = HarnessOptions.from_pytest(config)
        options = _default_source(config, options)
        registry.validate_options(options)
    except OptionError as exc:
        raise pytest.UsageError(str(exc)) from exc
    config.stash[_OPTIONS] = options
    config.pluginmanager.register(run_report_plugin.RunReportPlugin(config, options), run_report_plugin.NAME)
    settings.set_progress_sink(lambda line: _live_line(config, line))
    if hasattr(signal, "SIGTERM"):
        signal.signal(signal.SIGTERM, _sigterm_as_interrupt)


def _default_source(config: pytest.Config, options: HarnessOptions) -> HarnessOptions:
    """The pinned mod_cluster release when no source is given and upstream answers (else one line saying
    so). Decided once: the choice goes to pytest-xdist workers through the environment."""
    if hasattr(config, "workerinput"):
        return apply_default_source(options, balancer_given=True, probe=lambda url: False)[0]
    given = config.getoption("harness_balancer") is not None or bool(os.environ.get("HARNESS_BALANCER"))
    chosen, note = apply_default_source(options, balancer_given=given)
    config.stash[_SOURCE_NOTE] = note
    if chosen.modcluster_source and chosen.modcluster_source != options.modcluster_source:
        os.environ["HARNESS_BALANCER"] = chosen.balancer
        os.environ["HARNESS_MODCLUSTER_SOURCE"] = chosen.modcluster_source
    return chosen


def pytest_report_header(config: pytest.Config) -> list[str]:
    """Say what is under test: flavors, and the mod_cluster source's release when one is given."""
    options = config.stash[_OPTIONS]
    lines = [config.stash.get(_SOURCE_NOTE, "")] if config.stash.get(_SOURCE_NOTE, "") else []
    lines += [
        f"harness run {settings.run_id()}: balancer={options.balancer} node={options.node} "
        f"wildfly={options.wildfly_version}"
    ]
    if options.modcluster_source:  # checked usable at configure time
        source = source_for(options.modcluster_source)
        lines.append(
            f"mod_cluster source: {source.release} commit {source.commit} (line {source.line}, "
            f"{source.build_method} build, mode {options.modcluster_mode}) from {options.modcluster_source}"
        )
    return lines


def _live_line(config: pytest.Config, line: str) -> None:
    """Write past output capture, like live logging does, so long builds show progress as they go."""
    capture = config.pluginmanager.getplugin("capturemanager")
    reporter = config.pluginmanager.getplugin("terminalreporter")
    if capture is None or reporter is None:
        print(line, file=sys.__stderr__, flush=True)
        return
    with capture.global_and_fixture_disabled():
        reporter.write_line(line)


def _sigterm_as_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


_OPTIONS = pytest.StashKey[HarnessOptions]()
_SOURCE_NOTE = pytest.StashKey[str]()
_ENGINE = pytest.StashKey[tuple[object | None, str]]()


def _engine_state(config: pytest.Config) -> tuple[object | None, str]:
    """(docker client, "") or (None, reason), probed once per session."""
    if _ENGINE not in config.stash:
        from harness.machinery import engine

        info, reason = engine.probe()
        config.stash[_ENGINE] = (engine.client() if info else None, reason)
    return config.stash[_ENGINE]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    options = config.stash[_OPTIONS]
    docker_items = [item for item in items if item.get_closest_marker("docker")]
    for item in items:
        _apply_flavor_marker(item, options)
        if item.get_closest_marker("long") and not options.long:
            item.add_marker(pytest.mark.skip(reason="long tier: run with --long (or HARNESS_LONG=1)"))
    if not docker_items:
        return
    client, reason = _engine_state(config)
    if client is None:
        message = f"no Docker engine answers ({reason}); run `harness engine ensure` (root) or start Docker"
        if options.require_docker:
            raise pytest.UsageError(f"--require-docker: {message}")
        for item in docker_items:
            item.add_marker(pytest.mark.skip(reason=message))
        return
    if not options.no_sweep:
        from harness.machinery import resources

        report = resources.sweep(client)
        if report.containers or report.networks or report.temp_dirs:
            print(f"\n[harness] sweep of earlier killed runs: {report}")


def _apply_flavor_marker(item: pytest.Item, options: HarnessOptions) -> None:
    marker = item.get_closest_marker("flavors")
    if marker is None:
        return
    balancers, nodes = marker.kwargs.get("balancer"), marker.kwargs.get("node")
    reason = marker.kwargs.get("reason", "")
    if balancers and options.balancer not in _as_tuple(balancers):
        item.add_marker(pytest.mark.skip(reason=f"not for balancer flavor {options.balancer}: {reason}"))
    if nodes and options.node not in _as_tuple(nodes):
        item.add_marker(pytest.mark.skip(reason=f"not for node flavor {options.node}: {reason}"))


def _as_tuple(value: Any) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Remove anything of this run still present (interrupted runs), and refuse all-skipped success."""
    state = session.config.stash.get(_ENGINE, (None, ""))
    if state[0] is not None:
        from harness.machinery import resources

        resources.sweep(state[0], run=settings.run_id())
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None or exitstatus != 0:
        return
    ran = sum(len(reporter.stats.get(key, [])) for key in ("passed", "failed", "error", "xfailed", "xpassed"))
    skipped = len(reporter.stats.get("skipped", []))
    if ran == 0 and skipped > 0:
        reporter.write_line(f"[harness] every selected test ({skipped}) was skipped: this is not a success", red=True)
        session.exitstatus = pytest.ExitCode.NO_TESTS_COLLECTED


@pytest.fixture(scope="session")
def harness_options(pytestconfig: pytest.Config) -> HarnessOptions:
    return pytestconfig.stash[_OPTIONS]


@pytest.fixture(scope="session")
def docker_client(pytestconfig: pytest.Config) -> Any:
    client, reason = _engine_state(pytestconfig)
    if client is None:
        pytest.skip(f"no Docker engine answers ({reason})")
    return client


@pytest.fixture(scope="session")
def build_image(docker_client: Any) -> Callable[..., str]:
    """`build_image("probe", build_args={...}, extra={...})` -> tag; each image built at most once."""
    from harness.machinery import images

    def _build(name: str, build_args: dict[str, str] | None = None, extra: dict[str, Any] | None = None) -> str:
        return images.build(docker_client, images.ImageRequest(name, build_args or {}, extra or {}))

    return _build


@pytest.fixture(scope="session")
def modcluster_source(harness_options: HarnessOptions) -> Any:
    """The httpd mod_cluster source tree, or a skip naming --modcluster-source / HARNESS_MODCLUSTER_SOURCE."""
    from harness.flavors.base import FlavorUnavailable

    try:
        return source_for(harness_options.modcluster_source)
    except FlavorUnavailable as exc:
        pytest.skip(str(exc))


@pytest.fixture
def resources(docker_client: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A cleanup scope for one test: networks, containers and temp dirs made here are removed after it."""
    from harness.machinery.resources import Resources

    scope = Resources(docker_client, scope=_short(request.node.name))
    try:
        yield scope
    finally:
        scope.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    item.stash.setdefault(_REPORTS, {})[report.when] = report
    return report


_REPORTS = pytest.StashKey[dict[str, Any]]()


def _failed(item: pytest.Item) -> bool:
    reports = item.stash.get(_REPORTS, {})
    return any(r.failed for r in reports.values())


@pytest.fixture
def scenario(docker_client: Any, harness_options: HarnessOptions, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A ScenarioRun: `scenario.cluster(topology)`, `scenario.load(cluster)`, `scenario.fault(cluster, spec)`,
    `scenario.judge(*verdicts)`. Evidence is collected before teardown when the test fails."""
    from harness.run.scenario import ScenarioRun

    run = ScenarioRun(docker_client, harness_options, request.node.nodeid, on_unavailable=pytest.skip)
    yield run
    folder = run.finish(failed=_failed(request.node))
    if folder is not None:
        print(f"\n[harness] evidence: {folder}")
        _report_evidence(request.config, [request.node.nodeid], folder)


@pytest.fixture(scope="module")
def module_scenario(
    docker_client: Any, harness_options: HarnessOptions, request: pytest.FixtureRequest
) -> Iterator[Any]:
    """One ScenarioRun shared by the tests of a module, for topologies slow to start (WildFly): the same
    clusters, loads, fault windows and keep-on-failure as `scenario`; evidence is collected once, after the
    module's last test, when any of its tests failed (folder named by the module)."""
    from harness.run.scenario import ScenarioRun

    run = ScenarioRun(docker_client, harness_options, request.node.nodeid, on_unavailable=pytest.skip)
    yield run
    prefix = request.node.nodeid + "::"
    failed = any(_failed(item) for item in request.session.items if item.nodeid.startswith(prefix))
    folder = run.finish(failed=failed)
    if folder is not None:
        print(f"\n[harness] evidence: {folder}")
        _report_evidence(
            request.config, [i.nodeid for i in request.session.items if i.nodeid.startswith(prefix)], folder
        )


def _report_evidence(config: pytest.Config, nodeids: list[str], folder: Any) -> None:
    """The run report links each test to its evidence folder."""
    report = run_report_plugin.plugin(config)
    if report is not None:
        report.evidence(nodeids, folder)


def _short(name: str) -> str:
    cleaned = "".join(ch if ch.isalnum() else "-" for ch in name.lower()).strip("-")
    return cleaned[:24] or "test"
