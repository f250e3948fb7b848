"""Container-level operations every flavor shares: the SDK object, its address, its logs, a command in it."""

from __future__ import annotations

import io
import tarfile
from typing import Any

import docker.errors

GONE_STATES = ("exited", "dead")
LOG_TAIL_LINES = 40


def wrapped(container: Any) -> Any:
    return container.get_wrapped_container()


class ContainerExited(RuntimeError):
    """A container that was awaited (or used) is not running any more: its exit code and log tail say why."""

    def __init__(self, name: str, exit_code: int | None, log_tail: str, status: str = "exited") -> None:
        self.name = name
        self.exit_code = exit_code
        self.log_tail = log_tail
        self.status = status
        code = "unknown exit code" if exit_code is None else f"exit code {exit_code}"
        super().__init__(f"container {name} {status} ({code}); its log tail:\n{log_tail}")


class ContainerFileError(RuntimeError):
    """A file could not be read from a container (missing, not a regular file, container gone)."""


def _sdk(container: Any) -> Any:
    """The docker SDK container behind a testcontainers DockerContainer (or the SDK container itself)."""
    get = getattr(container, "get_wrapped_container", None)
    return get() if callable(get) else container


def _name(sdk: Any) -> str:
    return str(getattr(sdk, "name", None) or "?")


def container_alive(container: Any, tail: int = LOG_TAIL_LINES) -> None:
    """Raise ContainerExited (exit code, log tail) unless the container still runs; an `abort=` for waits."""
    sdk = _sdk(container)
    try:
        sdk.reload()
    except docker.errors.NotFound:
        raise ContainerExited(_name(sdk), None, "(container removed)", "removed") from None
    if sdk.status in GONE_STATES:
        code = (sdk.attrs.get("State") or {}).get("ExitCode")
        raise ContainerExited(
            _name(sdk), None if code is None else int(code), container_logs(sdk, tail).rstrip(), sdk.status
        )


def container_ip(container: Any, network_name: str) -> str:
    """The container's address on the named network (reloaded from the engine); ContainerExited when the
    container is gone (an exited container has no address)."""
    sdk = _sdk(container)
    sdk.reload()
    address = (sdk.attrs["NetworkSettings"]["Networks"].get(network_name) or {}).get("IPAddress")
    if not address:
        container_alive(sdk)
        raise RuntimeError(f"container {sdk.name} has no address on network {network_name}")
    return str(address)


def read_container_file(container: Any, path: str) -> bytes:
    """The bytes of one regular file inside a container, running or stopped (the Docker archive API, as
    `docker cp`; never `docker exec`). ContainerFileError names the path and the container."""
    sdk = _sdk(container)
    try:
        chunks, _stat = sdk.get_archive(path)
        data = b"".join(chunks)
    except docker.errors.APIError as exc:
        raise ContainerFileError(f"cannot read {path} from container {_name(sdk)}: {exc}") from exc
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        member = next((m for m in archive.getmembers() if m.isfile()), None)
        handle = archive.extractfile(member) if member is not None else None
        if handle is None:
            raise ContainerFileError(f"{path} in container {_name(sdk)} is not a regular file")
        return handle.read()


def container_file_text(container: Any, path: str, tail: int | None = None) -> str:
    """A text file from a container (running or stopped), or its last `tail` lines; never raises: a file
    that cannot be read says so, for error messages and evidence."""
    try:
        text = read_container_file(container, path).decode(errors="replace")
    except Exception as exc:
        return f"({exc})" if isinstance(exc, ContainerFileError) else f"(cannot read {path}: {exc})"
    return text if tail is None else "\n".join(text.splitlines()[-tail:])


def container_logs(container: Any, tail: int | None = None) -> str:
    try:
        data = _sdk(container).logs(tail=tail if tail is not None else "all")
        return str(data.decode(errors="replace"))
    except Exception as exc:
        return f"(no logs: {exc})"


def exec_in(container: Any, command: list[str]) -> tuple[int, str]:
    code, output = wrapped(container).exec_run(command)
    return int(code), output.decode(errors="replace")
