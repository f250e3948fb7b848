"""Unit tier for the foundation: options, waiting, image hashing, ownership of labelled objects, sources."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from harness.descriptions import settings
from harness.descriptions.options import HarnessOptions, OptionError
from harness.entry.cli import build_parser
from harness.flavors.httpd_modcluster import source as modcluster_source
from harness.machinery import images, resources
from harness.machinery.waiting import WaitTimeout, wait_until

ROOT = settings.PROJECT_ROOT


# --- options ---------------------------------------------------------------------------------------------
def test_unknown_option_value_names_option_and_accepted_values() -> None:
    from harness.flavors import registry

    with pytest.raises(OptionError) as err:
        registry.validate_options(HarnessOptions.from_values({"harness_balancer": "nginx"}))
    assert "--balancer" in str(err.value) and "httpd-modcluster" in str(err.value) and "'nginx'" in str(err.value)


def test_options_come_from_environment_when_not_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HARNESS_NODE_FLAVOR", "wildfly")
    monkeypatch.setenv("HARNESS_KEEP_ON_FAILURE", "1")
    options = HarnessOptions.from_values({})
    assert options.node == "wildfly" and options.keep_on_failure is True and options.balancer == "undertow"


def test_pytest_rejects_unknown_flavor_naming_the_option() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--balancer",
            "nginx",
            "--collect-only",
            "-q",
            "tests/unit/test_foundation.py",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "--balancer" in result.stderr and "invalid choice" in result.stderr


# --- waiting ---------------------------------------------------------------------------------------------
def test_wait_until_returns_the_value() -> None:
    calls = iter([None, 0, "ready"])
    assert wait_until(lambda: next(calls), timeout=5, interval=0.001, what="x") == "ready"


def test_wait_timeout_says_what_and_last_seen() -> None:
    def probe() -> None:
        raise ConnectionError("refused on 6666")

    with pytest.raises(WaitTimeout) as err:
        wait_until(probe, timeout=0.05, interval=0.01, what="balancer to answer", hint="error_log")
    message = str(err.value)
    assert "balancer to answer" in message and "refused on 6666" in message and "error_log" in message
    assert isinstance(err.value.__cause__, ConnectionError)  # raised from the last transient exception


def test_a_non_transient_probe_error_is_raised_at_once() -> None:
    calls = []

    def probe() -> None:
        calls.append(1)
        raise KeyError("servers")

    started = time.monotonic()
    with pytest.raises(KeyError) as err:
        wait_until(probe, timeout=30, interval=0.01, what="advertise servers listed")
    assert time.monotonic() - started < 1 and len(calls) == 1
    assert any("advertise servers listed" in note for note in err.value.__notes__)


def _sequence(*outcomes: object) -> Callable[[], object]:
    """A probe that raises or returns each outcome in turn (the last one from then on)."""
    queue = list(outcomes)

    def probe() -> object:
        outcome = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    return probe


def test_transient_errors_are_retried_and_declared_by_the_probe() -> None:
    default = _sequence(
        ConnectionRefusedError("refused"),
        requests.ConnectionError("reset"),
        requests.ReadTimeout("slow"),
        TimeoutError("socket"),
        "ready",
    )
    assert wait_until(default, timeout=5, interval=0.001, what="x") == "ready"
    declared = _sequence(LookupError("not listed yet"), "ready")
    assert wait_until(declared, timeout=5, interval=0.001, what="x", transient=(LookupError,)) == "ready"
    with pytest.raises(ConnectionRefusedError):  # transient=() declares nothing transient
        wait_until(_sequence(ConnectionRefusedError("refused"), "ready"), timeout=5, what="x", transient=())


def test_timeout_names_the_last_exception_even_after_a_falsy_value() -> None:
    probe = _sequence(TimeoutError("read timed out after 2s"), None)
    with pytest.raises(WaitTimeout) as err:
        wait_until(probe, timeout=0.05, interval=0.01, what="node1 up", describe=lambda: "node1[DOWN]")
    message = str(err.value)
    assert "node1[DOWN]" in message and "TimeoutError: read timed out after 2s" in message


class _Gone(RuntimeError):
    pass


def test_abort_ends_the_wait_at_once() -> None:
    polls: list[int] = []

    def abort() -> None:
        if len(polls) >= 2:
            raise _Gone("container exited (exit code 3)")

    def probe() -> None:
        polls.append(1)
        raise ConnectionRefusedError("refused")

    started = time.monotonic()
    with pytest.raises(_Gone, match="exit code 3"):
        wait_until(probe, timeout=30, interval=0.01, what="x", abort=abort)
    assert time.monotonic() - started < 1 and len(polls) == 2


def test_abort_explains_a_non_transient_probe_error() -> None:
    exited = [False]

    def abort() -> None:
        if exited[0]:
            raise _Gone("container exited (exit code 3)")

    def probe() -> None:
        exited[0] = True  # the container died while the probe ran
        raise OSError("409 container is not running")

    with pytest.raises(_Gone) as err:
        wait_until(probe, timeout=30, what="x", abort=abort)
    assert isinstance(err.value.__context__, OSError)


# --- images ----------------------------------------------------------------------------------------------
def test_context_hash_changes_with_content_args_and_base(tmp_path: Path) -> None:
    extra = tmp_path / "native"
    extra.mkdir()
    (extra / "a.c").write_text("int a;")
    request = images.ImageRequest("probe", {}, {"src/native": extra})
    first = images.context_hash(request, "base1")
    assert images.context_hash(request, "base1") == first
    assert images.context_hash(request, "base2") != first
    assert images.context_hash(images.ImageRequest("probe", {"X": "1"}, {"src/native": extra}), "base1") != first
    (extra / "a.c").write_text("int b;")
    assert images.context_hash(request, "base1") != first


def test_context_skips_vcs_and_build_folders(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("x")
    (tmp_path / "keep.c").write_text("x")
    names = [arc for arc, _ in images._context_entries(images.ImageRequest("probe", {}, {"src": tmp_path}))]
    assert "src/keep.c" in names and not any(".git" in n for n in names)


def test_unknown_image_names_known_ones() -> None:
    with pytest.raises(ValueError) as err:
        images.ImageRequest("nope")
    assert "images/nope/Dockerfile" in str(err.value) and "probe" in str(err.value)


def test_missing_extra_entry_is_named(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError) as err:
        images.ImageRequest("probe", {}, {"src/native": tmp_path / "absent"})
    assert "src/native" in str(err.value)


# --- ownership of labelled objects -------------------------------------------------------------------------
def test_owner_alive_for_this_process_and_dead_for_a_finished_one() -> None:
    assert resources.owner_alive(resources.labels())
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    dead = {**resources.labels(), settings.LABEL_PID: str(child.pid)}
    assert not resources.owner_alive(dead)


def test_pid_reuse_is_detected_by_start_time() -> None:
    reused = {**resources.labels(), resources.LABEL_PID_START: "1"}
    assert not resources.owner_alive(reused)


def test_objects_of_other_hosts_are_left_alone() -> None:
    assert resources.owner_alive(
        {**resources.labels(), settings.LABEL_HOST: "some-other-host", settings.LABEL_PID: "1"}
    )


def test_temp_dirs_of_dead_runs_are_swept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(resources.tempfile, "gettempdir", lambda: str(tmp_path))
    monkeypatch.setattr(resources.tempfile, "tempdir", str(tmp_path))
    mine = resources.make_temp_dir("mine")
    dead = tmp_path / f"{resources.TEMP_PREFIX}deadrun-x-1"
    dead.mkdir()
    (dead / ".owner").write_text(f"{settings.hostname()} 999999999 12345\n")
    removed = resources._sweep_temp_dirs(everything=False, run=None)
    assert str(dead) in removed and mine.exists()


# --- mod_cluster sources ---------------------------------------------------------------------------------
def _fake_tree(root: Path, line: str, release: str) -> Path:
    native = root / "native"
    (native / "mod_manager").mkdir(parents=True)
    (native / "include").mkdir()
    (native / "CMakeLists.txt").write_text("project(x)")
    (native / ("mod_cluster_slotmem" if line == "1.3" else "balancers")).mkdir()
    (native / "include" / "mod_proxy_cluster.h").write_text(f'#define MOD_CLUSTER_EXPOSED_VERSION "{release}"\n')
    return root


def test_source_layouts_and_versions_are_recognised(tmp_path: Path) -> None:
    old = modcluster_source.resolve(str(_fake_tree(tmp_path / "a", "1.3", "mod_cluster/1.3.20.Final")))
    new = modcluster_source.resolve(str(_fake_tree(tmp_path / "b", "2.x", "mod_proxy_cluster/2.0.0.Dev")))
    assert (old.line, old.version) == ("1.3", (1, 3, 20)) and not old.supports_mode("lbmethod_cluster")
    assert (new.line, new.version) == ("2.x", (2, 0, 0)) and new.supports_mode("lbmethod_cluster")


def test_missing_source_names_the_option() -> None:
    with pytest.raises(modcluster_source.SourceError) as err:
        modcluster_source.resolve(None)
    assert "--modcluster-source" in str(err.value) and "HARNESS_MODCLUSTER_SOURCE" in str(err.value)


def test_not_a_mod_cluster_tree_names_path_and_expectation(tmp_path: Path) -> None:
    with pytest.raises(modcluster_source.SourceError) as err:
        modcluster_source.resolve(str(tmp_path))
    assert str(tmp_path) in str(err.value) and "native/CMakeLists.txt" in str(err.value)


def test_nonexistent_path_is_named() -> None:
    with pytest.raises(modcluster_source.SourceError) as err:
        modcluster_source.resolve("/no/such/checkout")
    assert "/no/such/checkout" in str(err.value)


def test_archive_source_is_unpacked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tarfile

    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path / "cache"))
    tree = _fake_tree(tmp_path / "mod_cluster-1.3.22.Final", "1.3", "mod_cluster/1.3.22.Final")
    archive = tmp_path / "src.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(tree, arcname=tree.name)
    source = modcluster_source.resolve(str(archive))
    assert source.version == (1, 3, 22) and source.native.is_dir()


# --- entry points ----------------------------------------------------------------------------------------
def test_cli_help_lists_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for command in ("engine", "images", "sweep"):
        assert command in out


def test_bootstrap_rejects_unknown_job() -> None:
    result = subprocess.run(["bash", str(ROOT / "harness" / "bootstrap.sh"), "deploy"], capture_output=True, text=True)
    assert result.returncode == 2 and "suite, tests, setup" in result.stderr


def test_run_id_is_in_every_label() -> None:
    made = resources.labels(role="node", name="node1")
    assert made[settings.LABEL_RUN] == settings.run_id() and made[settings.LABEL_PID] == str(os.getpid())
    assert made[f"{settings.LABEL_PREFIX}.name"] == "node1"


# --- tiers: skipped is never success ---------------------------------------------------------------------
DOCKER_TEST = """
import pytest

@pytest.mark.docker
def test_needs_engine(docker_client):
    assert docker_client.ping()
"""


def _pytest_in(folder: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:locust", "-p", "harness.entry.pytest_plugin", "-rs", "-q", *args],
        cwd=folder,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
    )


def test_no_engine_skips_docker_tier_with_reason_and_is_not_success(tmp_path: Path) -> None:
    (tmp_path / "test_d.py").write_text(DOCKER_TEST)
    result = _pytest_in(tmp_path, env={"DOCKER_HOST": "unix:///nonexistent.sock"})
    assert "no Docker engine answers" in result.stdout, result.stdout
    assert result.returncode == 5, result.stdout  # every selected test skipped: not a success


def test_require_docker_fails_without_engine(tmp_path: Path) -> None:
    (tmp_path / "test_d.py").write_text(DOCKER_TEST)
    result = _pytest_in(tmp_path, "--require-docker", env={"DOCKER_HOST": "unix:///nonexistent.sock"})
    assert result.returncode not in (0, 5) and "--require-docker" in result.stderr + result.stdout


def test_selecting_no_test_is_not_success(tmp_path: Path) -> None:
    (tmp_path / "test_d.py").write_text("def test_x():\n    assert True\n")
    result = _pytest_in(tmp_path, "-k", "nothing_matches")
    assert result.returncode == 5
