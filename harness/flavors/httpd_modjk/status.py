"""mod_jk's status worker read as data: its properties output (`?mime=prop`) parsed into workers, and the
member workers mapped onto the harness's node states. Pure: text in, data out.

The output is `worker.<name>.<property>=<value>` lines; each lb member's block is introduced by a
`worker.<lb>.balance_workers=<member>` line. A member's `state` is OK, OK/IDLE, N/A (never used), BUSY, ERR,
ERR/REC (recovering), ERR/PRB (probing), ERR/LOC, ERR/FRC...; its `activation` ACT, DIS or STP.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from harness.machinery.contracts import NodeState

ACTIVATION_STATUS = {"ACT": "ENABLED", "DIS": "DISABLED", "STP": "STOPPED"}
ACTIVATION_CODES = {"active": 0, "disabled": 1, "stopped": 2}  # the status worker's `vwa` values


class StatusParseError(ValueError):
    """The status worker's reply is not its properties output (the message quotes the offending line)."""


@dataclass(frozen=True)
class JkStatus:
    """Workers by name (property -> value), the lb workers' member lists, and the globals."""

    workers: dict[str, dict[str, str]]
    members: dict[str, tuple[str, ...]] = field(default_factory=dict)
    globals: dict[str, str] = field(default_factory=dict)

    @property
    def version(self) -> str:
        return self.globals.get("jk_version", "")

    def member(self, name: str) -> dict[str, str]:
        return self.workers.get(name, {})


def parse_status(text: str, *, listing: bool = True) -> JkStatus:
    """`listing`: the reply must list the workers (a `cmd=list` reply; an update's reply has only a result)."""
    workers: dict[str, dict[str, str]] = {}
    members: dict[str, list[str]] = {}
    globals_: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.startswith("worker."):
            raise StatusParseError(f"line {number}: {line[:120]!r} is not worker.<name>.<property>=<value>")
        parts = key[len("worker.") :].split(".")
        if len(parts) == 1:
            globals_[parts[0]] = value
            continue
        name, prop = parts[0], ".".join(parts[1:])
        if name == "result":
            globals_[f"result.{prop}"] = value
        elif prop == "balance_workers":
            members.setdefault(name, []).append(value)
        else:
            workers.setdefault(name, {})[prop] = value
    if listing and "list" not in globals_:
        raise StatusParseError("no worker.list line: not the status worker's properties output (mime=prop)")
    return JkStatus(workers, {lb: tuple(names) for lb, names in members.items()}, globals_)


def state_up(state: str) -> bool | None:
    """OK*, BUSY: up; ERR*: down; N/A (never used yet) and anything else: unknown."""
    if state.startswith("OK") or state == "BUSY":
        return True
    if state.startswith("ERR"):
        return False
    return None


def node_states(
    status: JkStatus, lb: str, contexts: dict[str, tuple[str, ...]], names: dict[str, str] | None = None
) -> dict[str, NodeState]:
    """The members of `lb` as node states, keyed by node name (`names`: worker name -> node name; default the
    worker name). Each node's contexts (`contexts`: node name -> paths, the JkMounts) carry its activation:
    ACT ENABLED, DIS DISABLED, STP STOPPED."""
    nodes: dict[str, NodeState] = {}
    for worker in status.members.get(lb, ()):
        props = status.member(worker)
        node = (names or {}).get(worker, worker)
        activation = props.get("activation", "")
        path_status = ACTIVATION_STATUS.get(activation, activation or "?")
        port = props.get("port", "")
        detail = {
            key: props.get(key, "")
            for key in (
                "state",
                "activation",
                "lbfactor",
                "route",
                "ping_mode",
                "elected",
                "sessions",
                "errors",
                "busy",
                "address",
            )
        }
        nodes[node] = NodeState(
            node,
            state_up(props.get("state", "")),
            None,
            {path: path_status for path in contexts.get(node, ())},
            props.get("host", ""),
            int(port) if port.isdigit() else None,
            {"worker": worker, **detail},
        )
    return nodes
