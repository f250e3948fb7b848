"""Fault words: a node's start-time faults (`NodeSpec.faults`) written as text, one word per fault.

    KIND[:FIELD=VALUE[,FIELD=VALUE...]][@SECONDS]

KIND and FIELD are a `NODE_PROGRAM_FAULTS` kind and the fields of its FaultSpec (the node is implicit):
"freeze", "slowness:delay_ms=500", "error_replies:status=503", "report_load:load=-1", "no_status",
"flap:up_s=2,down_s=1", "no_sticky_force", "kill@3", "exit:code=137@9", "reregister:port=8181@2".
A toggle without @ is on from the start; with @S it is switched on S seconds after start. An event (kill,
exit, reregister) happens S seconds after start; without @ a kill or exit happens at once, a reregister
after the node's status interval.

Pure, standard library only (shipped into the sim-node image, whose configuration is checked with it).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from harness.descriptions.base import SpecError, field_prefix, validate_number
from harness.descriptions.faults import NODE_PROGRAM_FAULTS, FaultSpec, NodeFault

GRAMMAR = "KIND[:FIELD=VALUE,...][@SECONDS]"


@dataclass(frozen=True)
class StartFault:
    """One parsed word: the fault and when it starts (None: at start; see the module docstring)."""

    fault: NodeFault
    after_s: float | None = None


def parse_fault_word(field: str, word: object, node: str) -> StartFault:
    """One word for node `node`; a SpecError names `field` (or `field.FIELD` for a bad value)."""
    if not isinstance(word, str) or not word:
        raise SpecError(field, f"got {word!r}; expected a fault word {GRAMMAR} ({', '.join(NODE_PROGRAM_FAULTS)})")
    text, at, after_text = word.partition("@")
    after = validate_number(field, _number(field, after_text), 0, 86400) if at else None
    kind, colon, params_text = text.partition(":")
    cls = NODE_PROGRAM_FAULTS.get(kind)
    if cls is None:
        raise SpecError(field, f"unknown fault {kind!r} in {word!r}; accepted: {', '.join(NODE_PROGRAM_FAULTS)}")
    values: dict[str, object] = {}
    for item in params_text.split(",") if colon else ():
        name, eq, value = item.partition("=")
        types = _field_types(cls)
        if not eq or name not in types:
            raise SpecError(field, f"got {item!r} in {word!r}; {kind} takes {_accepted(cls)}")
        if name in values:
            raise SpecError(f"{field}.{name}", f"given twice in {word!r}")
        values[name] = _value(f"{field}.{name}", value, types[name])
    with field_prefix(field):
        return StartFault(cls(node=node, **values), after)


def parse_fault_words(field: str, words: tuple[object, ...], node: str) -> tuple[StartFault, ...]:
    """Every word of `NodeSpec.faults`; a kind given twice is refused (which one would win?)."""
    parsed: list[StartFault] = []
    for i, word in enumerate(words):
        start = parse_fault_word(f"{field}[{i}]", word, node)
        if any(p.fault.kind == start.fault.kind for p in parsed):
            raise SpecError(f"{field}[{i}]", f"fault {start.fault.kind!r} given twice; give each kind once")
        parsed.append(start)
    return tuple(parsed)


def fault_word(fault: FaultSpec, after_s: float | None = None) -> str:
    """The word for `fault` (inverse of parse_fault_word; fields left at their default are left out)."""
    if fault.kind not in NODE_PROGRAM_FAULTS:
        raise SpecError("kind", f"got {fault.kind!r}; start faults: {', '.join(NODE_PROGRAM_FAULTS)}")
    params = [
        f"{f.name}={_text(getattr(fault, f.name))}"
        for f in dataclasses.fields(fault)
        if f.name != "node" and getattr(fault, f.name) != f.default
    ]
    at = f"@{_text(float(after_s))}" if after_s is not None else ""
    return fault.kind + (":" + ",".join(params) if params else "") + at


def _field_types(cls: type[NodeFault]) -> dict[str, str]:
    return {f.name: str(f.type) for f in dataclasses.fields(cls) if f.name != "node"}


def _accepted(cls: type[NodeFault]) -> str:
    names = list(_field_types(cls))
    return ("FIELD=VALUE of " + ", ".join(names)) if names else "no fields"


def _value(field: str, text: str, annotation: str) -> object:
    if "bool" in annotation:
        if text not in ("true", "false"):
            raise SpecError(field, f"got {text!r}; accepted values: true, false")
        return text == "true"
    if "int" in annotation:
        try:
            return int(text)
        except ValueError:
            raise SpecError(field, f"got {text!r}; expected an integer") from None
    if "float" in annotation:
        return _number(field, text)
    return text


def _number(field: str, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise SpecError(field, f"got {text!r}; expected a number") from None


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):  # the shortest text that reads back as the same float; "2" for 2.0
        return f"{value:.0f}" if value.is_integer() and abs(value) < 1e15 else repr(value)
    return str(value)
