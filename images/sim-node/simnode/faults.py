"""How the sim node holds the harness's fault vocabulary (harness.descriptions.faults, shipped into the image).

One vocabulary: the FaultSpecs of `NODE_PROGRAM_FAULTS`. They reach the node two ways, both parsed by the
harness's own code: start words in `NodeSpec.faults` ("no_status", "slowness:delay_ms=500", "kill@3";
harness.descriptions.fault_words) and FaultSpec dicts posted to the control endpoint (POST /fault, `fault_from_dict`).

Toggles (`Faults`, one frozen value per node, swapped whole; its fields are the sim's switches):
  freeze -> freeze               slowness -> delay_ms            error_replies -> error (5xx)
  report_load -> load            no_status -> no_status          flap -> flap (up_s, down_s)
  no_sticky_force -> no_sticky_force
Events (kill, exit, reregister) are carried out by the runtime.

Pure: no sockets, no clocks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

from harness.descriptions.base import SpecError
from harness.descriptions.faults import (
    NODE_PROGRAM_FAULTS,
    TOGGLE_FAULTS,
    ErrorReplies,
    FaultSpec,
    Flap,
    Freeze,
    NodeFault,
    NoStatus,
    NoStickyForce,
    ReportLoad,
    Slowness,
    fault_from_dict,
)


@dataclass(frozen=True)
class Faults:
    freeze: bool = False
    delay_ms: int = 0
    error: int | None = None
    load: int | None = None
    no_status: bool = False
    flap: tuple[float, float] | None = None
    no_sticky_force: bool = False

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["flap"] = list(self.flap) if self.flap else None
        return data

    @property
    def active(self) -> list[str]:
        """The kinds of the toggles that are on (differ from a healthy node)."""
        return [kind for kind, (name, _) in _TOGGLES.items() if getattr(self, name) != getattr(HEALTHY, name)]


HEALTHY = Faults()
# kind -> (the Faults field it switches, its value while the fault is on)
_TOGGLES: dict[str, tuple[str, Callable[[Any], object]]] = {
    Freeze.kind: ("freeze", lambda f: True),
    Slowness.kind: ("delay_ms", lambda f: f.delay_ms),
    ErrorReplies.kind: ("error", lambda f: f.status),
    ReportLoad.kind: ("load", lambda f: f.load),
    NoStatus.kind: ("no_status", lambda f: True),
    Flap.kind: ("flap", lambda f: (f.up_s, f.down_s)),
    NoStickyForce.kind: ("no_sticky_force", lambda f: True),
}
assert tuple(_TOGGLES) == TOGGLE_FAULTS, "every toggle of the vocabulary has a switch here"


def is_toggle(fault: FaultSpec) -> bool:
    return fault.kind in _TOGGLES


def switched(current: Faults, fault: FaultSpec, on: bool) -> Faults:
    """`current` with `fault`'s switch on (its value) or off (healthy)."""
    name, value = _TOGGLES[fault.kind]
    change: dict[str, Any] = {name: value(fault) if on else getattr(HEALTHY, name)}
    return replace(current, **change)


def initial_faults(toggles: tuple[FaultSpec, ...]) -> Faults:
    faults = HEALTHY
    for fault in toggles:
        faults = switched(faults, fault, True)
    return faults


def parse_fault(field: str, data: object, nodes: tuple[str, ...]) -> NodeFault:
    """A posted FaultSpec dict: a node-program fault of one of this process's nodes."""
    fault = fault_from_dict(data, field)
    if fault.kind not in NODE_PROGRAM_FAULTS or not isinstance(fault, NodeFault):
        raise SpecError(f"{field}.kind", f"got {fault.kind!r}; the sim applies {', '.join(NODE_PROGRAM_FAULTS)}")
    if fault.node not in nodes:
        raise SpecError(f"{field}.node", f"no node {fault.node!r} here; nodes: {', '.join(nodes)}")
    return fault


def parse_fault_body(body: Mapping[str, object], nodes: tuple[str, ...]) -> tuple[list[NodeFault], list[NodeFault]]:
    """POST /fault {"apply": [FaultSpec dict, ...], "heal": [...]} -> (to apply, to heal)."""
    for key in body:
        if key not in ("apply", "heal", "clear", "node"):
            raise SpecError(str(key), "unknown field; accepted: apply, heal, clear, node")
    out: list[list[NodeFault]] = []
    for key in ("apply", "heal"):
        items = body.get(key, [])
        if not isinstance(items, list):
            raise SpecError(key, f"got {items!r}; expected a list of FaultSpec dicts")
        out.append([parse_fault(f"{key}[{i}]", item, nodes) for i, item in enumerate(items)])
    return out[0], out[1]
