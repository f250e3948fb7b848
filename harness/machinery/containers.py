"""What the live cluster needs from a node of any flavor, and the container-level operations they share.

Fault verbs mean one thing each (HOUSE rule 9): `stop` is graceful (the server leaves the balancer),
`kill` is SIGKILL to the server process (container and address stay), `pause`/`resume` freeze the whole
container, `remove` deletes the container. Flavors implement `stop`, `kill`, `start` and `wait_ready`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional, Protocol, runtime_checkable

from harness.spec.node import NodeSpec


@runtime_checkable
class NodeHandle(Protocol):
    name: str
    spec: NodeSpec
    container: Any  # testcontainers DockerContainer

    @property
    def ip(self) -> str: ...

    def stop(self, timeout: float = 10.0) -> None: ...

    def kill(self) -> None: ...

    def start(self) -> None: ...

    def wait_ready(self, timeout: float = 60.0) -> None: ...

    def logs(self) -> str: ...

    def evidence_files(self) -> dict[str, str]: ...


def wrapped(container: Any) -> Any:
    return container.get_wrapped_container()


def container_ip(container: Any, network_name: str) -> str:
    """The container's address on the named network (reloaded from the engine)."""
    sdk = wrapped(container)
    sdk.reload()
    address = (sdk.attrs["NetworkSettings"]["Networks"].get(network_name) or {}).get("IPAddress")
    if not address:
        raise RuntimeError(f"container {sdk.name} has no address on network {network_name}")
    return str(address)


def container_logs(container: Any, tail: Optional[int] = None) -> str:
    try:
        data = wrapped(container).logs(tail=tail if tail is not None else "all")
        return data.decode(errors="replace")
    except Exception as exc:  # noqa: BLE001 - a removed container has no logs; say so
        return f"(no logs: {exc})"


def exec_in(container: Any, command: list[str]) -> tuple[int, str]:
    code, output = wrapped(container).exec_run(command)
    return int(code), output.decode(errors="replace")


@dataclass
class NodeRecord:
    """The cluster's bookkeeping for one node: its handle, address and what was done to it."""

    handle: NodeHandle
    ip: str
    faults: list[str] = field(default_factory=list)
