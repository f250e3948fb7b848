"""Fault descriptions: pure data naming what to break. `harness.faults` applies and heals them.

Verbs mean one thing each (HOUSE rule 9): `Stop` graceful, `Kill` SIGKILL to the server process (container
and address stay), `Pause` frozen, `Remove` container gone, `Partition` network cut between two names.
Node fields hold stable node names ("node1"); "balancer" names the balancer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from harness.spec.base import (
    SpecError,
    check_bool,
    check_choice,
    check_int,
    check_mapping,
    check_name,
    check_number,
    fields_to_dict,
    field_prefix,
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
class _NodeFault(FaultSpec):
    node: str

    def __post_init__(self) -> None:
        check_name("node", self.node)

    def targets(self) -> tuple[str, ...]:
        return (self.node,)


@dataclass(frozen=True)
class Kill(_NodeFault):
    kind: ClassVar[str] = "kill"

    def describe(self) -> str:
        return f"kill {self.node} (SIGKILL to the server process; container and address stay)"


@dataclass(frozen=True)
class Stop(_NodeFault):
    kind: ClassVar[str] = "stop"
    timeout_s: float = 10.0

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "timeout_s", check_number("timeout_s", self.timeout_s, 0))

    def describe(self) -> str:
        return f"stop {self.node} gracefully (timeout {self.timeout_s:g} s)"


@dataclass(frozen=True)
class Pause(_NodeFault):
    kind: ClassVar[str] = "pause"

    def describe(self) -> str:
        return f"pause {self.node} (processes frozen; connects succeed, reads hang)"


@dataclass(frozen=True)
class Remove(_NodeFault):
    kind: ClassVar[str] = "remove"

    def describe(self) -> str:
        return f"remove {self.node} (container gone)"


@dataclass(frozen=True)
class Slowness(_NodeFault):
    kind: ClassVar[str] = "slowness"
    delay_ms: int = 1000

    def __post_init__(self) -> None:
        super().__post_init__()
        check_int("delay_ms", self.delay_ms, 1)

    def describe(self) -> str:
        return f"slow {self.node} down by {self.delay_ms} ms per request"


@dataclass(frozen=True)
class Partition(FaultSpec):
    """Cut the network between `a` and `b` (default: a node and the balancer)."""

    kind: ClassVar[str] = "partition"
    a: str
    b: str = BALANCER
    mode: str = "disconnect"

    def __post_init__(self) -> None:
        check_name("a", self.a)
        check_name("b", self.b)
        if self.a == self.b:
            raise SpecError("b", f"got {self.b!r}; a partition needs two different names")
        check_choice("mode", self.mode, PARTITION_MODES)

    def targets(self) -> tuple[str, ...]:
        return (self.a, self.b)

    def describe(self) -> str:
        return f"partition {self.a} from {self.b} ({self.mode})"


@dataclass(frozen=True)
class BalancerRestart(FaultSpec):
    kind: ClassVar[str] = "balancer_restart"
    graceful: bool = True

    def __post_init__(self) -> None:
        check_bool("graceful", self.graceful)

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
    cls.kind: cls for cls in (Kill, Stop, Pause, Remove, Slowness, Partition, BalancerRestart, AdvertiseBlocked)
}


def fault_from_dict(data: object, field: str = "fault") -> FaultSpec:
    """Inverse of `FaultSpec.to_dict()`: the "kind" tag picks the class."""
    kind = data.get("kind") if isinstance(data, dict) else None
    if not isinstance(kind, str) or kind not in FAULT_TYPES:
        raise SpecError(f"{field}.kind", f"got {kind!r}; accepted values: {', '.join(FAULT_TYPES)}")
    cls = FAULT_TYPES[kind]
    values = check_mapping(field, data, cls)
    with field_prefix(field):
        return cls(**values)
