"""Container-level operations every flavor shares: the SDK object, its address, its logs, a command in it."""

from __future__ import annotations

from typing import Any, Optional


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
