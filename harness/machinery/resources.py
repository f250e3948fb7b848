"""Labelled Docker resources with guaranteed cleanup, and the sweeper for leftovers of killed runs.

Every network, container and temp folder carries the run id, the creating process's pid and that
process's start time. A `Resources` scope undoes what it made in reverse order, best effort, keeping the
first error. `sweep()` removes whatever belongs to processes that are gone (pid reuse is detected by
comparing process start times), so a run killed with SIGKILL leaves nothing behind for long.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker
import docker.errors
from docker.models.containers import Container
from docker.models.networks import Network
from docker.types import EndpointConfig, IPAMConfig, IPAMPool
from testcontainers.core.container import DockerContainer

from harness.descriptions import settings

LABEL_PID_START = f"{settings.LABEL_PREFIX}.pid-start"
TEMP_PREFIX = "mc-harness-"
SUBNET_POOL = ipaddress.ip_network("10.213.0.0/16")


def process_start(pid: int) -> str:
    """The kernel's start time of `pid` (clock ticks since boot) or "" when unknown/gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rsplit(")", 1)[1].split()[19]


_SELF_START = process_start(os.getpid())


def labels(**extra: str) -> dict[str, str]:
    return {**settings.run_labels(**extra), LABEL_PID_START: _SELF_START}


def owner_alive(object_labels: dict[str, str]) -> bool:
    """True while the process that created an object still runs (on this host)."""
    if object_labels.get(settings.LABEL_HOST) != settings.hostname():
        return True  # another machine's object: not ours to judge
    try:
        pid = int(object_labels.get(settings.LABEL_PID, "0"))
    except ValueError:
        return False
    if pid <= 0:
        return False
    start = process_start(pid)
    return bool(start) and start == object_labels.get(LABEL_PID_START, start)


class TeardownError(RuntimeError):
    pass


class ContainerStartError(RuntimeError):
    pass


def _log_tail(container: DockerContainer, lines: int = 40) -> str:
    try:
        wrapped = container.get_wrapped_container()
        return wrapped.logs(tail=lines).decode(errors="replace") if wrapped is not None else "(not created)"
    except Exception as exc:
        return f"(no log: {exc})"


@dataclass
class Resources:
    """One cleanup scope (a topology, a test). `close()` undoes everything in reverse order."""

    client: docker.DockerClient
    scope: str = "scope"
    keep: bool = False  # objects outlive this process (harness up): labelled keep, swept only with --all/--run
    _undo: list[tuple[str, Callable[[], None]]] = field(default_factory=list)

    def _labels(self, role: str, name: str) -> dict[str, str]:
        extra = {"role": role, "name": name, "scope": self.scope}
        return {**labels(**extra), **({settings.LABEL_KEEP: "true"} if self.keep else {})}

    def defer(self, description: str, undo: Callable[[], None]) -> None:
        self._undo.append((description, undo))

    def network(self, hint: str) -> Network:
        """A private bridge network with its own /24 (so containers can keep pinned addresses)."""
        name = f"mch-{settings.run_id()}-{hint}"
        for attempt in range(1, 6):  # another process may take the same free /24 at the same moment
            subnet = _free_subnet(self.client, skip=attempt - 1)
            ipam = IPAMConfig(pool_configs=[IPAMPool(subnet=str(subnet), gateway=str(next(subnet.hosts())))])
            try:
                net = self.client.networks.create(
                    name, driver="bridge", ipam=ipam, labels=self._labels("network", hint)
                )
                break
            except docker.errors.APIError as exc:
                if "overlaps" not in str(exc) or attempt == 5:
                    raise
        self.defer(f"network {name}", lambda: _remove_network(net))
        return net

    def container(
        self,
        image: str,
        *,
        name: str,
        role: str,
        network: Network | None = None,
        alias: str | Sequence[str] | None = None,
        ipv4: str | None = None,
        env: dict[str, str] | None = None,
        command: str | list[str] | None = None,
        wait: Any = None,
        files: dict[str, bytes] | None = None,
        **kwargs: Any,
    ) -> DockerContainer:
        """Start a labelled container (testcontainers), attached to `network` under `alias` (one or several).

        `files` maps paths inside the container to contents copied in before the main process starts.
        """
        container = DockerContainer(image)
        container.with_name(f"mch-{settings.run_id()}-{self.scope}-{name}")
        for key, value in (env or {}).items():
            container.with_env(key, value)
        if command is not None:
            container.with_command(command)
        run_kwargs: dict[str, Any] = {"labels": self._labels(role, name), "init": True, **kwargs}
        if network is not None:
            aliases = [alias] if isinstance(alias, str) else list(alias or [name])
            endpoint = EndpointConfig("1.41", aliases=aliases, ipv4_address=ipv4)
            run_kwargs.update(network=network.name, networking_config={network.name: endpoint})
        container.with_kwargs(**run_kwargs)
        if wait is not None:
            container.waiting_for(wait)
        for path, content in (files or {}).items():
            container.with_copy_into_container(content, path)
        self.defer(f"container {name}", lambda: _remove_container(container))
        try:
            container.start()
        except Exception as exc:
            raise ContainerStartError(
                f"container {name} ({image}) did not start: {exc}\n--- its log ---\n{_log_tail(container)}"
            ) from exc
        return container

    def temp_dir(self, hint: str) -> Path:
        path = make_temp_dir(hint)
        self.defer(f"temp dir {path}", lambda: shutil.rmtree(path, ignore_errors=True))
        return path

    def close(self) -> None:
        """Undo in reverse order; every undo runs; the first error is raised at the end."""
        first: BaseException | None = None
        while self._undo:
            description, undo = self._undo.pop()
            try:
                undo()
            except Exception as exc:
                if first is None:
                    first = TeardownError(f"teardown of {description} failed: {exc}")
                    first.__cause__ = exc
        if first is not None:
            raise first

    def __enter__(self) -> Resources:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _remove_container(container: DockerContainer) -> None:
    wrapped = container.get_wrapped_container() if container._container is not None else None
    if wrapped is None:
        return
    try:
        wrapped.remove(force=True, v=True)
    except docker.errors.NotFound:
        pass


def _remove_network(net: Network) -> None:
    try:
        net.reload()
        for attached in net.containers:
            net.disconnect(attached, force=True)
        net.remove()
    except docker.errors.NotFound:
        pass


def _free_subnet(client: docker.DockerClient, skip: int = 0) -> ipaddress.IPv4Network:
    """The first free /24 of the pool after skipping `skip` free ones (a retry after a race takes the next)."""
    used = []
    for net in client.networks.list():
        for cfg in (net.attrs.get("IPAM") or {}).get("Config") or []:
            if cfg.get("Subnet"):
                try:
                    used.append(ipaddress.ip_network(cfg["Subnet"]))
                except ValueError:
                    continue
    for candidate in SUBNET_POOL.subnets(new_prefix=24):
        if not any(candidate.overlaps(u) for u in used):
            if skip == 0:
                return candidate  # type: ignore[return-value]
            skip -= 1
    raise RuntimeError(f"no free /24 left in {SUBNET_POOL}: run `harness sweep`")


def make_temp_dir(hint: str) -> Path:
    path = Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{settings.run_id()}-{hint}-"))
    (path / ".owner").write_text(f"{settings.hostname()} {os.getpid()} {_SELF_START}\n")
    return path


@dataclass(frozen=True)
class SweepReport:
    containers: list[str]
    networks: list[str]
    temp_dirs: list[str]

    def __str__(self) -> str:
        return (
            f"removed {len(self.containers)} containers, {len(self.networks)} networks, {len(self.temp_dirs)} temp dirs"
        )


def sweep(client: docker.DockerClient, *, everything: bool = False, run: str | None = None) -> SweepReport:
    """Remove labelled objects whose creating process is gone (or all of them / one run's)."""

    def doomed(object_labels: dict[str, str]) -> bool:
        if run is not None:
            return object_labels.get(settings.LABEL_RUN) == run
        if everything:
            return True
        if object_labels.get(settings.LABEL_KEEP) == "true":
            return False
        return not owner_alive(object_labels)

    flt = {"label": f"{settings.LABEL_MANAGED}=true"}
    gone_containers = []  # ignore_removed: another session may remove one between the list and its inspect
    for container in client.containers.list(all=True, filters=flt, ignore_removed=True):
        if doomed(container.labels):
            _remove_quietly(container)
            gone_containers.append(container.name)
    gone_networks = []
    for net in client.networks.list(filters=flt):
        if doomed(net.attrs.get("Labels") or {}):
            _remove_network(net)
            gone_networks.append(net.name)
    return SweepReport(gone_containers, gone_networks, _sweep_temp_dirs(everything, run))


def _remove_quietly(container: Container) -> None:
    try:
        container.remove(force=True, v=True)
    except docker.errors.NotFound:
        pass


def _sweep_temp_dirs(everything: bool, run: str | None) -> list[str]:
    removed = []
    for path in Path(tempfile.gettempdir()).glob(f"{TEMP_PREFIX}*"):
        try:
            host, pid, start = (path / ".owner").read_text().split()
        except (OSError, ValueError):
            continue
        owner = {settings.LABEL_HOST: host, settings.LABEL_PID: pid, LABEL_PID_START: start}
        mine = run is not None and path.name.startswith(f"{TEMP_PREFIX}{run}-")
        if mine or everything or (run is None and not owner_alive(owner)):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(str(path))
    return removed


def leftovers(client: docker.DockerClient) -> tuple[list[str], list[str]]:
    """Names of every labelled container and network still present (for checks and `harness sweep --check`)."""
    flt = {"label": f"{settings.LABEL_MANAGED}=true"}
    return (
        [c.name for c in client.containers.list(all=True, filters=flt, ignore_removed=True)],
        [n.name for n in client.networks.list(filters=flt)],
    )
