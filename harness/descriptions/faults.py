"""Fault descriptions: pure data naming what to break. `harness.run.faults` applies and heals them.

Verbs mean one thing each (HOUSE rule 9): `Stop` graceful, `Kill` SIGKILL to the server process (container
and address stay), `Pause` frozen, `Remove` container gone, `Partition` network cut between two names.
Node fields hold stable node names ("node1"); "balancer" names the balancer.

Which flavor takes which fault is the flavor's to declare (`harness.flavors`: `faults`), checked before a
fault is applied.
The sim node's own faults (`Freeze`, `Slowness`, `ErrorReplies`, `ReportLoad`, `NoStatus`, `Flap`,
`NoStickyForce`, `Exit`, `Reregister`, and `Kill`) are also what a sim node takes from start: the words of
`NodeSpec.faults` are these kinds and fields (`harness.descriptions.fault_words`, one parser for both).

Standard library only: the sim-node image ships this module (and validates with it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from harness.descriptions.base import (
    SpecError,
    field_prefix,
    fields_to_dict,
    set_field,
    validate_bool,
    validate_choice,
    validate_int,
    validate_mapping,
    validate_name,
    validate_number,
    validate_port,
    validate_token,
)

BALANCER = "balancer"
PARTITION_MODES = ("disconnect", "iptables")


@dataclass(frozen=True)
class FaultSpec:
    """Base of every fault description. `kind` tags it in dicts; `targets()` lists the names it touches."""

    kind: ClassVar[str] = "fault"

    def describe(self) -> str:
        raise NotImplementedError

    def targets(self) -> tuple[str, ...]:
        return ()

    def to_dict(self) -> dict[str, Any]:
        return fields_to_dict(self, kind=self.kind)


@dataclass(frozen=True)
class NodeFault(FaultSpec):
    """A fault of one node (`node`: its stable name)."""

    node: str

    def __post_init__(self) -> None:
        validate_name("node", self.node)

    def targets(self) -> tuple[str, ...]:
        return (self.node,)


@dataclass(frozen=True)
class Kill(NodeFault):
    kind: ClassVar[str] = "kill"

    def describe(self) -> str:
        return f"kill {self.node} (SIGKILL to the server process; container and address stay)"


@dataclass(frozen=True)
class Stop(NodeFault):
    kind: ClassVar[str] = "stop"
    timeout_s: float = 10.0

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "timeout_s", validate_number("timeout_s", self.timeout_s, 0))

    def describe(self) -> str:
        return f"stop {self.node} gracefully (timeout {self.timeout_s:g} s)"


@dataclass(frozen=True)
class Pause(NodeFault):
    kind: ClassVar[str] = "pause"

    def describe(self) -> str:
        return f"pause {self.node} (processes frozen; connects succeed, reads hang)"


@dataclass(frozen=True)
class Remove(NodeFault):
    kind: ClassVar[str] = "remove"

    def describe(self) -> str:
        return f"remove {self.node} (container gone)"


@dataclass(frozen=True)
class Slowness(NodeFault):
    """Every HTTP answer `delay_ms` late (the sim delays its own replies: this kernel has no netem)."""

    kind: ClassVar[str] = "slowness"
    delay_ms: int = 1000

    def __post_init__(self) -> None:
        super().__post_init__()
        validate_int("delay_ms", self.delay_ms, 1, 3_600_000)

    def describe(self) -> str:
        return f"slow {self.node} down by {self.delay_ms} ms per request"


@dataclass(frozen=True)
class Freeze(NodeFault):
    kind: ClassVar[str] = "freeze"

    def describe(self) -> str:
        return f"freeze {self.node}'s HTTP side (connects and reads succeed, no answer ever)"


@dataclass(frozen=True)
class ErrorReplies(NodeFault):
    kind: ClassVar[str] = "error_replies"
    status: int = 503

    def __post_init__(self) -> None:
        super().__post_init__()
        validate_int("status", self.status, 500, 599)

    def describe(self) -> str:
        return f"{self.node} answers its context requests with {self.status} (OPTIONS * still 200)"


@dataclass(frozen=True)
class ReportLoad(NodeFault):
    """STATUS carries Load=`load` instead of the node's own load (-1 broken, 0 standby); heal: its own again."""

    kind: ClassVar[str] = "report_load"
    load: int = 0

    def __post_init__(self) -> None:
        super().__post_init__()
        validate_int("load", self.load, -1, 100)

    def describe(self) -> str:
        return f"{self.node} reports Load={self.load} in STATUS"


@dataclass(frozen=True)
class NoStatus(NodeFault):
    kind: ClassVar[str] = "no_status"

    def describe(self) -> str:
        return f"{self.node} sends no STATUS"


@dataclass(frozen=True)
class Flap(NodeFault):
    """The HTTP listener up `up_s`, closed `down_s` (connects refused, requests in progress answered), repeat."""

    kind: ClassVar[str] = "flap"
    up_s: float = 1.0
    down_s: float = 1.0

    def __post_init__(self) -> None:
        super().__post_init__()
        set_field(self, "up_s", validate_number("up_s", self.up_s, 0.01, 86400))
        set_field(self, "down_s", validate_number("down_s", self.down_s, 0.01, 86400))

    def describe(self) -> str:
        return f"flap {self.node}'s listener (up {self.up_s:g} s, down {self.down_s:g} s)"


@dataclass(frozen=True)
class NoStickyForce(NodeFault):
    """CONFIG leaves StickySessionForce out (httpd then defaults to yes). Applied or healed at run time, the
    node registers again at once so the balancer sees the change."""

    kind: ClassVar[str] = "no_sticky_force"

    def describe(self) -> str:
        return f"{self.node} registers without StickySessionForce"


@dataclass(frozen=True)
class Exit(NodeFault):
    """The whole node process exits at once with `code` (every node of that container; the container stops).
    Heal: the container starts again at the same address."""

    kind: ClassVar[str] = "exit"
    code: int = 137

    def __post_init__(self) -> None:
        super().__post_init__()
        validate_int("code", self.code, 0, 255)

    def describe(self) -> str:
        return f"the process of {self.node} exits at once with code {self.code}"


@dataclass(frozen=True)
class Reregister(NodeFault):
    """Register again as a fresh node, under the same JVMRoute, from `port` and/or `host` (None: unchanged).
    Heal: register again from the node's own port and address."""

    kind: ClassVar[str] = "reregister"
    port: int | None = None
    host: str | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.port is not None:
            validate_port("port", self.port)
        if self.host is not None:
            validate_token("host", self.host)
            if "," in self.host or "@" in self.host:
                raise SpecError("host", f"got {self.host!r}; expected an address or host name")

    def describe(self) -> str:
        where = ", ".join(f"{k} {v}" for k, v in (("port", self.port), ("host", self.host)) if v is not None)
        return f"{self.node} registers again as a fresh node ({where or 'same port and host'})"


@dataclass(frozen=True)
class Partition(FaultSpec):
    """Cut the network between `a` and `b` (default: a node and the balancer)."""

    kind: ClassVar[str] = "partition"
    a: str
    b: str = BALANCER
    mode: str = "disconnect"

    def __post_init__(self) -> None:
        validate_name("a", self.a)
        validate_name("b", self.b)
        if self.a == self.b:
            raise SpecError("b", f"got {self.b!r}; a partition needs two different names")
        validate_choice("mode", self.mode, PARTITION_MODES)

    def targets(self) -> tuple[str, ...]:
        return (self.a, self.b)

    def describe(self) -> str:
        return f"partition {self.a} from {self.b} ({self.mode})"


@dataclass(frozen=True)
class BalancerRestart(FaultSpec):
    kind: ClassVar[str] = "balancer_restart"
    graceful: bool = True

    def __post_init__(self) -> None:
        validate_bool("graceful", self.graceful)

    def targets(self) -> tuple[str, ...]:
        return (BALANCER,)

    def describe(self) -> str:
        return "restart the balancer " + ("gracefully" if self.graceful else "hard (stop, then start)")


@dataclass(frozen=True)
class AdvertiseBlocked(FaultSpec):
    kind: ClassVar[str] = "advertise_blocked"

    def targets(self) -> tuple[str, ...]:
        return (BALANCER,)

    def describe(self) -> str:
        return "block the balancer's advertise datagrams"


FAULT_TYPES: dict[str, type[FaultSpec]] = {
    cls.kind: cls
    for cls in (
        Kill,
        Stop,
        Pause,
        Remove,
        Slowness,
        Partition,
        BalancerRestart,
        AdvertiseBlocked,
        Freeze,
        ErrorReplies,
        ReportLoad,
        NoStatus,
        Flap,
        NoStickyForce,
        Exit,
        Reregister,
    )
}
# The faults a node program applies to itself: at run time (the sim's control endpoint takes their dicts) and
# from start (NodeSpec.faults words). Kill here is the sim's in-process crash.
NODE_PROGRAM_FAULTS: dict[str, type[NodeFault]] = {
    cls.kind: cls
    for cls in (Freeze, Slowness, ErrorReplies, ReportLoad, NoStatus, Flap, NoStickyForce, Kill, Exit, Reregister)
}
# Toggles stay on until healed; the others are events (Kill, Exit, Reregister).
TOGGLE_FAULTS = ("freeze", "slowness", "error_replies", "report_load", "no_status", "flap", "no_sticky_force")


def fault_from_dict(data: object, field: str = "fault") -> FaultSpec:
    """Inverse of `FaultSpec.to_dict()`: the "kind" tag picks the class."""
    kind = data.get("kind") if isinstance(data, dict) else None
    if not isinstance(kind, str) or kind not in FAULT_TYPES:
        raise SpecError(f"{field}.kind", f"got {kind!r}; accepted values: {', '.join(FAULT_TYPES)}")
    cls = FAULT_TYPES[kind]
    values = validate_mapping(field, data, cls)
    with field_prefix(field):
        return cls(**values)
