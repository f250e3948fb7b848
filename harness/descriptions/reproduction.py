"""A field failure as data (etcd's Regression list, Jepsen's test map): `Reproduction`.

    key          the issue it reproduces ("MODCLUSTER-785")
    summary      one line: what goes wrong
    topology     `ReproTopology`: node count and the BalancerSpec / NodeSpec fields that matter (any httpd
                 directive through `overlay`, `max_node`, `enable_ws_tunnel`, the MPM shape `mpm`, ...); the
                 flavors are the run's (--balancer, --node-flavor), never written here
    load         a LoadProfile (None: no load; then nothing may look at the request history)
    timeline     the steps (harness.descriptions.timeline); `faults=(...)` is the short form: each fault
                 injected, held 5 s, healed, 50 more requests (expanded here, `faults` is then empty)
    checks       expectation names judged at the end (harness.descriptions.expectations)
    repeats      runs in fresh clusters, for timing-dependent bugs; the verdict says how many failed
    applies      `Where` it applies (balancer / node flavor, mode, mod_cluster line, release range);
                 elsewhere it is skipped with the reason
    known_broken `KnownBroken(where, reason)`: runs there as a strict xfail (the fix shows as XPASS)
    observed     `Observation(build, verdict, date, note)`: first bad / first good builds seen
    notes        free text

Pure: validated at construction (errors name the field: `timeline[2].inject.kind`), `to_dict()` and
`reproduction_from_dict()` round-trip, YAML files are read by `harness.descriptions.repro_yaml`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.descriptions.base import (
    SpecError,
    field_prefix,
    fields_to_dict,
    leaf_from_dict,
    set_field,
    validate_int,
    validate_mapping,
    validate_token,
    validate_tuple,
)
from harness.descriptions.expectations import SAMPLES, looks_at, needs_history, nodes_named, parse_expectation
from harness.descriptions.faults import BALANCER, FaultSpec, fault_from_dict
from harness.descriptions.repro_topology import ReproTopology, repro_topology_from_dict
from harness.descriptions.timeline import (
    Expect,
    Heal,
    Inject,
    Mcmp,
    RegisterStorm,
    Step,
    WaitUntil,
    timeline_from_dict,
    timeline_from_faults,
)
from harness.descriptions.topology import LoadProfile
from harness.descriptions.where import KnownBroken, Observation, RunFacts, Where, known_broken_from_dict

__all__ = [
    "FORMAT_VERSION", "KnownBroken", "Observation", "Plan", "ReproTopology", "Reproduction", "RunFacts", "Where",
    "plan_timeline", "reproduction_from_dict",
]  # fmt: skip

MAX_REPEATS = 1000
FORMAT_VERSION = 2  # `version:` of a file (optional); the first format was the Reproduction of topology.py
_NODE_SET = ("name", "flavor")  # NodeSpec fields the run sets


@dataclass(frozen=True)
class Reproduction:
    """A field failure as data; see the module docstring for the fields."""

    key: str
    topology: ReproTopology = field(default_factory=ReproTopology)
    summary: str = ""
    load: LoadProfile | None = field(default_factory=LoadProfile)
    timeline: tuple[Step, ...] = ()
    checks: tuple[str, ...] = ()
    repeats: int = 1
    applies: Where = field(default_factory=Where)
    known_broken: tuple[KnownBroken, ...] = ()
    observed: tuple[Observation, ...] = ()
    notes: str = ""
    faults: tuple[FaultSpec, ...] = ()  # the short form of `timeline`; expanded at construction, then ()

    def __post_init__(self) -> None:
        validate_token("key", self.key, 100)
        _instance("topology", self.topology, ReproTopology)
        if self.load is not None:
            _instance("load", self.load, LoadProfile)
        faults = validate_tuple("faults", self.faults, lambda f, v: _instance(f, v, FaultSpec))
        if faults and self.timeline:
            raise SpecError("faults", "give the short form (faults) or a timeline, not both")
        if faults:
            set_field(self, "timeline", timeline_from_faults(faults))
            set_field(self, "faults", ())
        set_field(self, "timeline", validate_tuple("timeline", self.timeline, lambda f, v: _instance(f, v, Step)))
        set_field(self, "checks", validate_tuple("checks", self.checks, _check))
        validate_int("repeats", self.repeats, 1, MAX_REPEATS)
        _instance("applies", self.applies, Where)
        set_field(self, "known_broken", validate_tuple("known_broken", self.known_broken, _known_broken))
        set_field(self, "observed", validate_tuple("observed", self.observed, _observation))
        for name in ("summary", "notes"):
            if not isinstance(getattr(self, name), str):
                raise SpecError(name, f"got {getattr(self, name)!r}; expected a string")
        self._validate_timeline()

    def _validate_timeline(self) -> None:
        plan = plan_timeline(self.timeline, self.topology.node_names)
        check_failover_has_fault(self.checks, plan.faults_a_node, "checks", "the timeline faults no node")
        names = self.topology.node_names + ("balancer",) + mcmp_routes(self.timeline)
        for i, name in enumerate(self.checks):
            for node in nodes_named(*parse_expectation(name)):
                if node not in names:
                    raise SpecError(f"checks[{i}]", f"{name!r}: unknown node {node!r}; nodes: {', '.join(names)}")
        if not self.checks and not any(_judges(s) for s in self.timeline):
            raise SpecError(
                "checks",
                "empty, and no step of the timeline gives a verdict (expect, register_storm, mcmp with "
                "expect_status): nothing would be judged",
            )
        if self.load is None:
            self._validate_without_load()

    def _validate_without_load(self) -> None:
        for i, name in enumerate(self.checks):
            if needs_history(parse_expectation(name)[0]):
                raise SpecError(f"checks[{i}]", f"{name!r} judges the request history; this reproduction has no load")
        for i, step in enumerate(self.timeline):
            if isinstance(step, WaitUntil) and step.condition == "requests":
                raise SpecError(f"timeline[{i}].wait_until", "requests are only recorded with a load")
            if isinstance(step, Expect):
                for j, name in enumerate(step.checks):
                    if needs_history(parse_expectation(name)[0]):
                        raise SpecError(f"timeline[{i}].expect[{j}]", f"{name!r} judges the request history; no load")

    def where_broken(self, facts: RunFacts) -> str | None:
        """The reason this reproduction is expected to fail in the run `facts` describes, or None."""
        return next((k.reason for k in self.known_broken if k.where.mismatch(facts) is None), None)

    def to_dict(self) -> dict[str, Any]:
        data = fields_to_dict(self)
        del data["faults"]  # always () once expanded
        return data


@dataclass(frozen=True)
class Plan:
    """A timeline checked against a topology: the fault ids active before each step, those still active at
    the end (healed then, in reverse order), and whether any step faults a node."""

    active_before: tuple[tuple[str, ...], ...]
    left_active: tuple[str, ...]
    faults_a_node: bool


def plan_timeline(steps: Sequence[Step], names: Sequence[str], field: str = "timeline") -> Plan:
    """Check every step's names and heals in order; SpecError naming `timeline[i].VERB` otherwise."""
    known = tuple(dict.fromkeys((*names, BALANCER, *mcmp_routes(steps))))
    active: list[str] = []
    before: list[tuple[str, ...]] = []
    faulted = False
    for i, step in enumerate(steps):
        where = f"{field}[{i}].{step.verb}"
        before.append(tuple(active))
        for name in _names_of(step):
            if name not in known:
                label = step.id if isinstance(step, Inject) else step.describe()
                raise SpecError(where, f"{label}: unknown name {name!r}; known: {', '.join(known)}")
        if isinstance(step, Inject):
            if step.id in active:
                raise SpecError(where, f"{step.id} is already active (injected earlier, not healed yet)")
            active.append(step.id)
            faulted = faulted or any(t != BALANCER for t in step.fault.targets())
        elif isinstance(step, Heal):
            if step.fault not in active:
                now = ", ".join(active) or "none"
                raise SpecError(where, f"{step.fault!r} is not active here; active faults: {now}")
            active.remove(step.fault)
        elif isinstance(step, Expect):
            for j, name in enumerate(step.checks):
                if looks_at(parse_expectation(name)[0]) == SAMPLES:
                    raise SpecError(f"{where}[{j}]", f"{name!r} judges the whole run's samples: name it in checks")
            check_failover_has_fault(step.checks, faulted, where, "no fault on a node before this step")
    return Plan(tuple(before), tuple(active), faulted)


def mcmp_routes(steps: Sequence[Step]) -> tuple[str, ...]:
    """The JVMRoutes the timeline's MCMP messages name (nodes registered by hand, which checks may name)."""
    return tuple(dict.fromkeys(v for s in steps if isinstance(s, Mcmp) for k, v in s.params if k.lower() == "jvmroute"))


def check_failover_has_fault(checks: Sequence[str], faulted: bool, field: str, why: str) -> None:
    """failover_within judges the windows of faulted nodes: without one it can only be unknown."""
    for j, name in enumerate(checks):
        if parse_expectation(name)[0] == "failover_within" and not faulted:
            raise SpecError(f"{field}[{j}]", f"{name!r} needs a fault on a node ({why})")


def _names_of(step: Step) -> tuple[str, ...]:
    """The topology names a step refers to (a raw MCMP message may name any JVMRoute: not checked)."""
    if isinstance(step, Inject):
        return step.fault.targets()
    if isinstance(step, WaitUntil):
        return step.names()
    if isinstance(step, Expect):
        return tuple(n for name in step.checks for n in nodes_named(*parse_expectation(name)))
    return ()


def reproduction_from_dict(data: object, field: str = "") -> Reproduction:
    """Inverse of `Reproduction.to_dict()`, also the shape of a YAML file; errors name the field path."""
    values = validate_mapping(field, data, Reproduction, ignore=("version",))
    raw = data if isinstance(data, Mapping) else {}
    prefix = f"{field}." if field else ""
    if raw.get("version", FORMAT_VERSION) != FORMAT_VERSION:
        raise SpecError(f"{prefix}version", f"got {raw['version']!r}; this harness reads version {FORMAT_VERSION}")
    if "topology" in values:
        values["topology"] = repro_topology_from_dict(raw["topology"], f"{prefix}topology")
    if values.get("load") is not None:
        values["load"] = leaf_from_dict(LoadProfile, raw["load"], f"{prefix}load")
    if "timeline" in values:
        values["timeline"] = timeline_from_dict(raw["timeline"], f"{prefix}timeline")
    if "faults" in values:
        values["faults"] = tuple(fault_from_dict(f, f"{prefix}faults[{i}]") for i, f in enumerate(_list(raw, "faults")))
    if "applies" in values:
        values["applies"] = leaf_from_dict(Where, raw["applies"] or {}, f"{prefix}applies")
    if "known_broken" in values:
        values["known_broken"] = tuple(
            known_broken_from_dict(k, f"{prefix}known_broken[{i}]") for i, k in enumerate(_list(raw, "known_broken"))
        )
    if "observed" in values:
        values["observed"] = tuple(
            leaf_from_dict(Observation, o, f"{prefix}observed[{i}]") for i, o in enumerate(_list(raw, "observed"))
        )
    with field_prefix(field) if field else contextlib.nullcontext():
        return Reproduction(**values)


# ---- helpers -----------------------------------------------------------------------------------------


def _list(raw: Mapping[str, Any], name: str) -> list[Any]:
    value = raw[name]
    if value is None:
        return []
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise SpecError(name, f"got {value!r}; expected a list")
    return list(value)


def _instance(field: str, value: object, cls: type) -> Any:
    if not isinstance(value, cls):
        raise SpecError(field, f"got {value!r}; expected a {cls.__name__}")
    return value


def _check(field: str, value: object) -> str:
    parse_expectation(value, field)
    return str(value)


def _known_broken(field: str, value: object) -> KnownBroken:
    return _instance(field, value, KnownBroken)  # type: ignore[no-any-return]


def _observation(field: str, value: object) -> Observation:
    return _instance(field, value, Observation)  # type: ignore[no-any-return]


def _judges(step: Step) -> bool:
    """Does this step give a verdict of its own?"""
    return isinstance(step, (Expect, RegisterStorm)) or (isinstance(step, Mcmp) and step.expect_status is not None)
