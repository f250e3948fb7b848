"""Container checks without Docker: a fake SDK container that exits, and files read from a stopped one.

Covers `containers.container_alive` / `ContainerExited`, `read_container_file` (the archive API, which works
on stopped containers where `docker exec` answers 409), and the start waits of the httpd, sim and WildFly
flavors failing at once, with the exit code and the log tail, when their container exits.
"""

from __future__ import annotations

import io
import tarfile
import time
from pathlib import Path
from typing import Any, cast

import docker.errors
import pytest

from harness.descriptions.balancer import BalancerSpec
from harness.flavors.httpd_modcluster.balancer import BalancerStartError, HttpdBalancer, wait_ready
from harness.flavors.httpd_modcluster.capabilities import ModClusterBuild
from harness.flavors.httpd_modcluster.source import ModClusterSource
from harness.flavors.sim.node import SimContainer, SimNodeControl, SimNodeError
from harness.flavors.wildfly.dist import ServerConfig
from harness.flavors.wildfly.node import WildflyServer, WildflyServerError
from harness.machinery.containers import (
    ContainerExited,
    ContainerFileError,
    container_alive,
    container_file_text,
    container_ip,
    read_container_file,
)

EXIT_LOG = b"AH00526: Syntax error on line 12 of /etc/httpd-harness/httpd.conf:\nInvalid command 'EnableMCMPReceive'\n"


def _tar(path: str, data: bytes) -> list[bytes]:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo(Path(path).name)
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    raw = buffer.getvalue()
    return [raw[:512], raw[512:]]


class FakeSdkContainer:
    """The parts of docker.models.containers.Container the harness uses; `exec_run` fails like a stopped one."""

    def __init__(
        self,
        status: str = "running",
        exit_code: int = 0,
        logs: bytes = b"",
        files: dict[str, bytes] | None = None,
        removed: bool = False,
        exec_code: int = 0,
    ) -> None:
        self.name = "mch-test-balancer"
        self.exec_code = exec_code
        self.status, self.exit_code, self._logs = status, exit_code, logs
        self.files, self.removed = files or {}, removed
        self.reloads = 0
        self.attrs: dict[str, Any] = {}

    def reload(self) -> None:
        self.reloads += 1
        if self.removed:
            raise docker.errors.NotFound("No such container: mch-test-balancer")
        networks = {} if self.status == "exited" else {"net": {"IPAddress": "10.0.0.2"}}
        self.attrs = {
            "State": {"Status": self.status, "ExitCode": self.exit_code},
            "NetworkSettings": {"Networks": networks},
        }

    def logs(self, tail: Any = "all", **_: Any) -> bytes:
        lines = self._logs.splitlines(keepends=True)
        return b"".join(lines if tail == "all" else lines[-int(tail) :])

    def get_archive(self, path: str) -> tuple[list[bytes], dict[str, Any]]:
        if path not in self.files:
            raise docker.errors.NotFound(f"Could not find the file {path} in container {self.name}")
        return _tar(path, self.files[path]), {"name": Path(path).name}

    def exec_run(self, command: list[str]) -> tuple[int, bytes]:
        if self.status != "running":
            raise docker.errors.APIError(f"409 Client Error: container {self.name} is not running")
        return self.exec_code, b"starting\n"


class FakeTestcontainer:
    def __init__(self, inner: FakeSdkContainer) -> None:
        self.inner = inner

    def get_wrapped_container(self) -> FakeSdkContainer:
        return self.inner


def _exited(**files: bytes) -> FakeTestcontainer:
    return FakeTestcontainer(
        FakeSdkContainer(
            "exited",
            3,
            b"start-httpd: checking\n" + EXIT_LOG,
            {f"/var/log/httpd-harness/{k}": v for k, v in files.items()},
        )
    )


def test_a_running_container_is_alive() -> None:
    container_alive(FakeTestcontainer(FakeSdkContainer()))


def test_an_exited_container_says_its_exit_code_and_log_tail() -> None:
    with pytest.raises(ContainerExited) as err:
        container_alive(_exited(), tail=2)
    assert err.value.exit_code == 3 and err.value.name == "mch-test-balancer"
    assert "exit code 3" in str(err.value) and "Invalid command 'EnableMCMPReceive'" in str(err.value)
    assert "checking" not in err.value.log_tail  # only the tail


def test_a_removed_container_is_reported_without_exit_code() -> None:
    with pytest.raises(ContainerExited, match="removed"):
        container_alive(FakeSdkContainer(removed=True))


def test_an_exited_container_has_no_address_and_says_why() -> None:
    with pytest.raises(ContainerExited, match="exit code 3"):
        container_ip(_exited(), "net")
    assert container_ip(FakeTestcontainer(FakeSdkContainer()), "net") == "10.0.0.2"


def test_files_are_read_from_a_stopped_container() -> None:
    container = _exited(error_log=b"[core:emerg] line 1\n[core:emerg] line 2\n[core:emerg] line 3\n")
    assert read_container_file(container, "/var/log/httpd-harness/error_log").startswith(b"[core:emerg] line 1")
    assert container_file_text(container, "/var/log/httpd-harness/error_log", tail=1) == "[core:emerg] line 3"
    with pytest.raises(ContainerFileError, match="/var/log/httpd-harness/access_log"):
        read_container_file(container, "/var/log/httpd-harness/access_log")
    assert "access_log" in container_file_text(container, "/var/log/httpd-harness/access_log")


def _httpd(container: FakeTestcontainer) -> HttpdBalancer:
    source = ModClusterSource(Path("/nowhere"), "2.x", "mod_proxy_cluster/2.0.0.Dev", "test", commit="c" * 40)
    return HttpdBalancer(
        container=container,
        spec=BalancerSpec(),
        source=source,
        build=ModClusterBuild.of("2.x", ["EnableMCMPReceive"]),
        ip="127.0.0.1",
        config="Listen 8000\nEnableMCMPReceive\n",
    )


def test_httpd_that_started_then_ended_fails_the_wait_at_once_with_its_error_log() -> None:
    """The container runs (its main process follows the log) but httpd's processes are gone after the start
    script marked the start: the wait ends at once, naming release and commit, with the error_log tail."""
    error_log = b"[proxy_cluster:emerg] AH00020: slotmem provider not found\n"
    inner = FakeSdkContainer(files={"/var/log/httpd-harness/error_log": error_log}, exec_code=1)
    started = time.monotonic()
    with pytest.raises(BalancerStartError) as err:
        wait_ready(_httpd(FakeTestcontainer(inner)), timeout=30)
    message = str(err.value)
    assert time.monotonic() - started < 2
    assert "did not stay up" in message and "slotmem provider not found" in message
    assert "mod_proxy_cluster/2.0.0.Dev @ cccccccccccc" in message and "--- httpd.conf ---" in message


def test_httpd_start_wait_fails_at_once_with_exit_code_and_error_log() -> None:
    container = _exited(
        error_log=b"[mpm_event:notice] AH00489: resuming normal operations\n"
        b"[core:emerg] AH00020: Configuration Failed, exiting\n"
    )
    balancer = _httpd(container)
    started = time.monotonic()
    with pytest.raises(BalancerStartError) as err:
        wait_ready(balancer, timeout=30)
    message = str(err.value)
    assert time.monotonic() - started < 2
    assert "exit code 3" in message and "Invalid command 'EnableMCMPReceive'" in message
    assert "AH00020: Configuration Failed" in message and "--- httpd.conf ---" in message
    assert "409" not in message


def test_sim_start_wait_fails_at_once_with_exit_code() -> None:
    container = FakeTestcontainer(FakeSdkContainer("exited", 3, b"simnode: bad spec: nodes[0].route\n"))
    group = SimContainer("node1", container, (), "127.0.0.1", SimNodeControl("127.0.0.1", 9))
    started = time.monotonic()
    with pytest.raises(SimNodeError, match="exit code 3") as err:
        group.wait_ready(timeout=30)
    assert time.monotonic() - started < 2 and "bad spec: nodes[0].route" in str(err.value)


def test_wildfly_start_wait_fails_at_once_with_exit_code_and_console_log() -> None:
    inner = FakeSdkContainer(
        "exited",
        3,
        b"wildfly-ctl: keep: no console log\n",
        {"/opt/harness/log/console.log": b"WFLYCTL0013: Operation failed\n"},
    )
    server = WildflyServer("node1", FakeTestcontainer(inner), cast(ServerConfig, None), address="127.0.0.1")
    started = time.monotonic()
    with pytest.raises(WildflyServerError, match="exit code 3") as err:
        server.wait_for_started(timeout=30)
    assert time.monotonic() - started < 2 and "no console log" in str(err.value)
    assert server.log_tail() == "WFLYCTL0013: Operation failed"  # read from the stopped container
