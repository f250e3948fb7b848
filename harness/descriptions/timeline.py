"""A reproduction's timeline: the steps that showed a field failure, in order, as data.

    wait_until  a named condition with a deadline: nodes_registered, node_up, node_down, node_gone, context,
                load (what the balancer says), requests (N more requests recorded), healthy (the cluster's gate)
    inject      a fault (harness.descriptions.faults); it stays active until its heal step (or the end)
    heal        ends an active fault, named by its id "KIND:TARGETS" ("kill:node1", "partition:node1,balancer")
    hold        seconds with load flowing
    mcmp        one raw MCMP message to the balancer (the MCMP toolkit), optionally expecting a reply status
    register_storm  many extra nodes registering at once over parallel MCMP connections; valid when every
                reply was 200 and DUMP lists each once (with status_rounds: and every later STATUS got 200)
    http        one GET through the balancer's proxy port, expecting a reply status (harness.descriptions.http_step)
    expect      expectation names (harness.descriptions.expectations) judged at that point

Each step is a frozen dataclass; in dicts (and YAML) a step is a mapping with one key, its verb:
`{"hold": 5}`, `{"inject": {"kind": "kill", "node": "node1"}}`, `{"heal": "kill:node1"}`,
`{"wait_until": {"condition": "node_down", "node": "node1", "timeout_s": 15}}`,
`{"mcmp": {"command": "STATUS", "params": {"JVMRoute": "node1", "Load": 10}, "expect_status": 200}}`,
`{"expect": ["sticky", "node_up:node1"]}`. `plan_timeline` checks a timeline against a topology's names
without running it (a heal without its inject, an unknown node) and says which faults stay active at the end.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from harness.descriptions.base import (
    SpecError,
    field_prefix,
    set_field,
    validate_bool,
    validate_choice,
    validate_int,
    validate_mapping,
    validate_name,
    validate_number,
    validate_path,
    validate_tuple,
)
from harness.descriptions.expectations import CONTEXT_STATES, parse_expectation
from harness.descriptions.faults import BALANCER, FaultSpec, fault_from_dict
from harness.descriptions.http_step import HttpGet
from harness.descriptions.step_base import Step as Step  # re-exported: the steps' base

_COMMAND_RE = re.compile(r"[A-Z][A-Z-]{0,31}")
_PARAM_RE = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")
MAX_HOLD_S = 3600.0


# condition -> (required fields, optional fields) besides timeout_s
CONDITIONS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "nodes_registered": ((), ("nodes",)),
    "node_up": (("node",), ()),
    "node_down": (("node",), ()),
    "node_gone": (("node",), ()),
    "context": (("node", "path"), ("status",)),
    "load": (("node", "load"), ()),
    "requests": (("count",), ()),
    "healthy": ((), ()),
}
_CONDITION_FIELDS = ("node", "nodes", "path", "status", "load", "count")


@dataclass(frozen=True)
class WaitUntil(Step):
    """Poll `condition` until it holds or `timeout_s` passes (then the step fails and the timeline stops).
    nodes_registered: `nodes` (default: every node); context: `status` ENABLED unless given."""

    verb: ClassVar[str] = "wait_until"
    condition: str
    node: str | None = None
    nodes: tuple[str, ...] = ()
    path: str | None = None
    status: str | None = None
    load: int | None = None
    count: int | None = None
    timeout_s: float = 30.0

    def __post_init__(self) -> None:
        validate_choice("condition", self.condition, tuple(CONDITIONS))
        required, optional = CONDITIONS[self.condition]
        for name in _CONDITION_FIELDS:
            given = getattr(self, name) not in (None, ())
            if name in required and not given:
                raise SpecError(name, f"{self.condition} needs {name}")
            if given and name not in required + optional:
                takes = ", ".join(required + optional) or "no field besides timeout_s"
                raise SpecError(name, f"{self.condition} does not take {name}; it takes {takes}")
        if self.node is not None:
            validate_name("node", self.node)
        set_field(self, "nodes", validate_tuple("nodes", self.nodes, validate_name, unique=True))
        if self.path is not None:
            validate_path("path", self.path)
        if self.status is not None:
            validate_choice("status", self.status, CONTEXT_STATES)
        if self.load is not None:
            validate_int("load", self.load, -1, 100)
        if self.count is not None:
            validate_int("count", self.count, 1, 1_000_000)
        set_field(self, "timeout_s", validate_number("timeout_s", self.timeout_s, 0.1, MAX_HOLD_S))

    def names(self) -> tuple[str, ...]:
        return ((self.node,) if self.node else ()) + self.nodes

    def describe(self) -> str:
        what = {
            "nodes_registered": f"nodes {', '.join(self.nodes) or '(all)'} registered",
            "node_up": f"{self.node} up",
            "node_down": f"{self.node} down",
            "node_gone": f"{self.node} gone from the balancer",
            "context": f"context {self.path} of {self.node} {self.status or 'ENABLED'}",
            "load": f"load {self.load} for {self.node}",
            "requests": f"{self.count} more requests recorded",
            "healthy": "the cluster healthy",
        }[self.condition]
        return f"wait until {what} (within {self.timeout_s:g} s)"

    def payload(self) -> Any:
        data: dict[str, Any] = {"condition": self.condition}
        for name in _CONDITION_FIELDS:
            value = getattr(self, name)
            if value not in (None, ()):
                data[name] = list(value) if isinstance(value, tuple) else value
        data["timeout_s"] = self.timeout_s
        return data


def fault_id(fault: FaultSpec) -> str:
    """How a heal step names an injected fault: "kill:node1", "partition:node1,balancer"."""
    return f"{fault.kind}:{','.join(fault.targets() or (BALANCER,))}"


@dataclass(frozen=True)
class Inject(Step):
    verb: ClassVar[str] = "inject"
    fault: FaultSpec

    def __post_init__(self) -> None:
        if not isinstance(self.fault, FaultSpec):
            raise SpecError("fault", f"got {self.fault!r}; expected a FaultSpec (Kill, Stop, Pause, ...)")

    @property
    def id(self) -> str:
        return fault_id(self.fault)

    def describe(self) -> str:
        return f"inject {self.fault.describe()} [{self.id}]"

    def payload(self) -> Any:
        return self.fault.to_dict()


@dataclass(frozen=True)
class Heal(Step):
    verb: ClassVar[str] = "heal"
    fault: str  # the id of an active injection

    def __post_init__(self) -> None:
        kind, colon, targets = self.fault.partition(":") if isinstance(self.fault, str) else ("", "", "")
        if not colon or not kind or not all(re.fullmatch(r"[A-Za-z0-9_-]+", t) for t in targets.split(",")):
            raise SpecError("fault", f"got {self.fault!r}; expected a fault id KIND:TARGETS such as 'kill:node1'")

    def describe(self) -> str:
        return f"heal {self.fault}"

    def payload(self) -> Any:
        return self.fault


@dataclass(frozen=True)
class Hold(Step):
    verb: ClassVar[str] = "hold"
    seconds: float

    def __post_init__(self) -> None:
        set_field(self, "seconds", validate_number("seconds", self.seconds, 0.01, MAX_HOLD_S))

    def describe(self) -> str:
        return f"hold {self.seconds:g} s"

    def payload(self) -> Any:
        return self.seconds


@dataclass(frozen=True)
class Mcmp(Step):
    """One MCMP request as the Java node sends it (`wildcard`: to "/*"); `expect_status` None: any reply."""

    verb: ClassVar[str] = "mcmp"
    command: str
    params: tuple[tuple[str, str], ...] = ()
    wildcard: bool = False
    expect_status: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.command, str) or not _COMMAND_RE.fullmatch(self.command):
            raise SpecError("command", f"got {self.command!r}; expected an MCMP command such as CONFIG, ENABLE-APP")
        params = self.params.items() if isinstance(self.params, Mapping) else self.params
        set_field(self, "params", validate_tuple("params", tuple(params), _validate_param))
        validate_bool("wildcard", self.wildcard)
        if self.expect_status is not None:
            validate_int("expect_status", self.expect_status, 100, 599)

    def describe(self) -> str:
        body = "&".join(f"{k}={v}" for k, v in self.params)
        expect = f", expecting {self.expect_status}" if self.expect_status is not None else ""
        return f"MCMP {self.command} {'/*' if self.wildcard else '/'} {body}{expect}".replace("  ", " ")

    def payload(self) -> Any:
        data: dict[str, Any] = {"command": self.command, "params": dict(self.params)}
        if self.wildcard:
            data["wildcard"] = True
        if self.expect_status is not None:
            data["expect_status"] = self.expect_status
        return data


@dataclass(frozen=True)
class RegisterStorm(Step):
    """`nodes` extra nodes (JVMRoutes storm001, ...) registering at once over `connections` parallel MCMP
    connections: CONFIG, then ENABLE-APP of each context (harness.protocol.mcmp_storm). Its verdict is valid
    when every reply was 200 and DUMP then lists each node once with its own id. Raise Maxnode (and Maxhost,
    Maxcontext) in the topology's balancer to fit them."""

    verb: ClassVar[str] = "register_storm"
    nodes: int
    connections: int = 50
    contexts: tuple[str, ...] = ("/app",)
    status_rounds: int = 0  # then that many rounds of STATUS from every storm node, each answered 200
    status_interval_s: float = 10.0
    status_timeout_s: float | None = None  # a STATUS unanswered this long counts as no reply (default: 10 s)

    def __post_init__(self) -> None:
        validate_int("nodes", self.nodes, 1, 5000)
        validate_int("connections", self.connections, 1, 500)
        contexts = (self.contexts,) if isinstance(self.contexts, str) else self.contexts
        set_field(self, "contexts", validate_tuple("contexts", contexts, validate_path, non_empty=True))
        validate_int("status_rounds", self.status_rounds, 0, 100)
        set_field(self, "status_interval_s", validate_number("status_interval_s", self.status_interval_s, 0, 600))
        if self.status_timeout_s is not None:
            set_field(self, "status_timeout_s", validate_number("status_timeout_s", self.status_timeout_s, 0.1, 600))

    def describe(self) -> str:
        text = f"register_storm of {self.nodes} nodes over {self.connections} connections ({', '.join(self.contexts)})"
        if self.status_rounds:
            text += f", then {self.status_rounds} rounds of STATUS every {self.status_interval_s:g} s"
            if self.status_timeout_s is not None:
                text += f" (each answered within {self.status_timeout_s:g} s)"
        return text

    def payload(self) -> Any:
        data: dict[str, Any] = {"nodes": self.nodes, "connections": self.connections, "contexts": list(self.contexts)}
        if self.status_rounds:
            data.update(status_rounds=self.status_rounds, status_interval_s=self.status_interval_s)
        if self.status_timeout_s is not None:
            data["status_timeout_s"] = self.status_timeout_s
        return data


@dataclass(frozen=True)
class Expect(Step):
    verb: ClassVar[str] = "expect"
    checks: tuple[str, ...]

    def __post_init__(self) -> None:
        checks = (self.checks,) if isinstance(self.checks, str) else self.checks
        set_field(self, "checks", validate_tuple("checks", checks, _validate_check, non_empty=True))

    def describe(self) -> str:
        return "expect " + ", ".join(self.checks)

    def payload(self) -> Any:
        return list(self.checks)


STEP_TYPES: dict[str, type[Step]] = {
    cls.verb: cls for cls in (WaitUntil, Inject, Heal, Hold, Mcmp, RegisterStorm, HttpGet, Expect)
}


def step_from_dict(data: object, field: str) -> Step:
    """`{verb: payload}` as a Step; errors name `field.verb.FIELD`."""
    if not isinstance(data, Mapping) or len(data) != 1:
        raise SpecError(field, f"got {data!r}; expected a mapping with one key, the verb: {', '.join(STEP_TYPES)}")
    ((verb, payload),) = data.items()
    if verb not in STEP_TYPES:
        raise SpecError(field, f"unknown step {verb!r}; known: {', '.join(STEP_TYPES)}")
    where = f"{field}.{verb}"
    if verb == "inject":
        return Inject(fault_from_dict(payload, where))
    with field_prefix(where):
        if verb == "heal":
            return Heal(payload)
        if verb == "hold":
            return Hold(payload)
        if verb == "expect":
            return Expect(payload)
    cls = STEP_TYPES[verb]
    values = validate_mapping(where, payload, cls, ignore=())
    if verb == "mcmp" and isinstance(payload, Mapping) and "params" in payload:
        values["params"] = _params_from_dict(payload["params"], f"{where}.params")
    missing = [f.name for f in dataclasses.fields(cls) if f.name not in values and _required(f)]
    if missing:
        raise SpecError(f"{where}.{missing[0]}", f"missing; {verb} needs {', '.join(missing)}")
    with field_prefix(where):
        return cls(**values)


def _required(f: dataclasses.Field[Any]) -> bool:
    return f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING


def timeline_from_dict(data: object, field: str = "timeline") -> tuple[Step, ...]:
    if isinstance(data, (str, bytes)) or not isinstance(data, (list, tuple)):
        raise SpecError(field, f"got {data!r}; expected a list of steps")
    return tuple(step_from_dict(item, f"{field}[{i}]") for i, item in enumerate(data))


def timeline_from_faults(
    faults: Sequence[FaultSpec], *, hold_s: float = 5.0, settle_requests: int = 50
) -> tuple[Step, ...]:
    """The short form: each fault injected, held `hold_s` with load flowing, healed, then `settle_requests`
    more requests before the next."""
    steps: list[Step] = []
    for fault in faults:
        inject = Inject(fault)
        steps += [inject, Hold(hold_s), Heal(inject.id), WaitUntil("requests", count=settle_requests, timeout_s=60)]
    return tuple(steps)


def _validate_check(field: str, value: object) -> str:
    parse_expectation(value, field)
    return str(value)


def _validate_param(field: str, value: object) -> tuple[str, str]:
    if not isinstance(value, tuple) or len(value) != 2:
        raise SpecError(field, f"got {value!r}; expected a (name, value) pair")
    name, text = value
    if not isinstance(name, str) or not _PARAM_RE.fullmatch(name):
        raise SpecError(field, f"got {name!r}; expected an MCMP parameter name such as JVMRoute, Context")
    return name, _param_text(f"{field}.{name}", text)


def _param_text(field: str, value: object) -> str:
    if isinstance(value, bool):
        raise SpecError(field, f"got {value!r}; YAML reads unquoted yes/no/on/off as booleans: quote it ('No')")
    if isinstance(value, (int, float)):
        return str(value)
    if not isinstance(value, str) or any(c in value for c in "\r\n"):
        raise SpecError(field, f"got {value!r}; expected a text value without line breaks")
    return value


def _params_from_dict(data: object, field: str) -> tuple[tuple[str, str], ...]:
    if not isinstance(data, Mapping):
        raise SpecError(field, f"got {data!r}; expected a mapping of MCMP parameter names to values")
    return tuple(_validate_param(f"{field}", (k, v)) for k, v in data.items())
