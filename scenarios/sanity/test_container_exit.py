"""Sanity of waits on containers that exit, and of reading files from stopped containers (docker tier).

Setup: the small `probe` image, one private network, a `Resources` scope per test (the `resources` fixture).
Steps: (1) start a probe container whose command prints two lines, waits a second and exits 3; wait (60 s
deadline) for a TCP port on it that never opens, with `abort=container_alive`: the wait must end within a few
seconds with ContainerExited saying "exit code 3" and carrying the printed lines. (2) a container writes a
file and exits 3; `docker exec` into it fails (409, not running) while `read_container_file` (the archive
API) still returns the file.
"""

from __future__ import annotations

import socket
import time
from typing import Any

import docker.errors
import pytest

from harness.machinery.containers import ContainerExited, container_alive, container_ip, exec_in, read_container_file
from harness.machinery.resources import Resources
from harness.machinery.waiting import wait_until

pytestmark = pytest.mark.docker

WAIT_TIMEOUT_S = 60.0


def _shell(scope: Resources, image: str, name: str, script: str, network: Any = None) -> Any:
    return scope.container(image, name=name, role="probe", network=network, command=["sh", "-c", script])


def _exited(container: Any) -> bool:
    sdk = container.get_wrapped_container()
    sdk.reload()
    return sdk.status == "exited"


def test_wait_on_a_container_that_exits_fails_fast_with_exit_code_and_log(
    resources: Resources, build_image: Any
) -> None:
    image = build_image("probe")
    net = resources.network("exit")
    container = _shell(
        resources,
        image,
        "exits3",
        "echo 'probe: bad option --frobnicate'; echo 'probe: giving up'; sleep 1; exit 3",
        net,
    )
    address = container_ip(container, net.name)

    def port_open() -> bool:
        with socket.create_connection((address, 7777), timeout=1):
            return True

    started = time.monotonic()
    with pytest.raises(ContainerExited) as err:
        wait_until(
            port_open,
            timeout=WAIT_TIMEOUT_S,
            interval=0.1,
            what="port 7777 on the probe to open",
            abort=lambda: container_alive(container),
        )
    elapsed = time.monotonic() - started
    print(f"\n[sanity] exited container reported after {elapsed:.2f}s (wait timeout {WAIT_TIMEOUT_S:.0f}s)")
    message = str(err.value)
    assert elapsed < 10, f"the wait took {elapsed:.1f}s; an exited container must end it at once"
    assert err.value.exit_code == 3 and "exit code 3" in message
    assert "probe: bad option --frobnicate" in message and "probe: giving up" in message


def test_files_are_read_from_a_stopped_container(resources: Resources, build_image: Any) -> None:
    image = build_image("probe")
    container = _shell(
        resources,
        image,
        "wrote-and-exited",
        "mkdir -p /var/log/x && echo 'AH00526: Invalid command EnableMCMPReceive' > /var/log/x/error_log; exit 3",
    )
    wait_until(lambda: _exited(container), timeout=30, interval=0.1, what="the probe container to exit")
    with pytest.raises(docker.errors.APIError, match="not running"):
        exec_in(container, ["cat", "/var/log/x/error_log"])  # what reading files with `docker exec` did
    data = read_container_file(container, "/var/log/x/error_log")
    assert data == b"AH00526: Invalid command EnableMCMPReceive\n"
