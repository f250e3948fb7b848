"""The Docker engine: find one that answers, or (root on Debian) install and start Debian's docker.io.

Used by the bootstrap (`harness engine ensure`) and by the pytest plugin (which never installs anything:
with no engine the docker tier is skipped with the reason).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import docker

from harness.machinery.waiting import WaitTimeout, wait_until

DOCKERD_LOG = Path("/var/log/harness-dockerd.log")


class EngineUnavailable(RuntimeError):
    """No Docker engine answers, and the harness may not (or cannot) start one."""


@dataclass(frozen=True)
class EngineInfo:
    server_version: str
    api_version: str
    storage_driver: str


def _client(timeout: int = 10) -> docker.DockerClient:
    return docker.from_env(timeout=timeout)


def probe() -> tuple[EngineInfo | None, str]:
    """(info, "") when an engine answers, else (None, the reason)."""
    try:
        client = _client(timeout=5)
        info = client.info()
        version = client.version()
        client.close()
        return EngineInfo(info.get("ServerVersion", "?"), version.get("ApiVersion", "?"), info.get("Driver", "?")), ""
    except Exception as exc:
        return None, f"{type(exc).__name__}: {exc}"


def client() -> docker.DockerClient:
    """A client to an engine that answers, or EngineUnavailable with the reason and what to do."""
    info, reason = probe()
    if info is None:
        raise EngineUnavailable(
            f"no Docker engine answers ({reason}). Start one, or run `harness engine ensure` as root on "
            "Debian/Ubuntu to install docker.io and start dockerd."
        )
    return _client(timeout=300)


def _say(message: str) -> None:
    print(f"[harness engine] {message}", file=sys.stderr, flush=True)


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _install_docker_io() -> None:
    if not shutil.which("apt-get"):
        raise EngineUnavailable("no Docker engine answers and apt-get is missing: install Docker for your system")
    _say("installing Debian's docker.io (apt-get) ...")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "docker.io", "iptables"]):
        result = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if result.returncode != 0:
            raise EngineUnavailable(f"`{' '.join(cmd)}` failed ({result.returncode}): {result.stderr[-2000:]}")


def _start_dockerd() -> None:
    dockerd = shutil.which("dockerd")
    if dockerd is None:
        raise EngineUnavailable("dockerd is not installed after installing docker.io")
    _say(f"starting dockerd in the background (log: {DOCKERD_LOG}) ...")
    log = open(DOCKERD_LOG, "ab")
    subprocess.Popen([dockerd], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)


def ensure(timeout: float = 120.0) -> EngineInfo:
    """An engine that answers: the one already there, or docker.io installed and started (root only)."""
    info, reason = probe()
    if info is not None:
        return info
    if not _is_root():
        raise EngineUnavailable(
            f"no Docker engine answers ({reason}) and this user is not root. Do one of: start Docker "
            "(e.g. `sudo systemctl start docker`), add yourself to the docker group, or rerun as root on "
            "Debian/Ubuntu so the harness installs docker.io and starts dockerd."
        )
    if not shutil.which("dockerd"):
        _install_docker_io()
    _start_dockerd()
    try:
        found = wait_until(
            lambda: probe()[0],
            timeout=timeout,
            what="dockerd to answer `docker info`",
            interval=0.5,
            describe=lambda: probe()[1] + f"; dockerd log tail: {_log_tail()}",
            transient=(),  # probe() turns every failure into its reason
        )
    except WaitTimeout as exc:
        raise EngineUnavailable(str(exc)) from exc
    _say(f"engine {found.server_version} (API {found.api_version}, {found.storage_driver}) answers")
    return found


def _log_tail(lines: int = 5) -> str:
    try:
        return " | ".join(DOCKERD_LOG.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
