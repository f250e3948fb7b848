"""Random fault schedules for `harness explore`, as data: `Schedule`, `generate`, `to_timeline`.

A schedule is a list of `Event`s: a fault injected `at_s` seconds after the start and healed `duration_s`
later. Events overlap (several nodes faulted at once: one node, a minority, all), but one target carries at
most one fault at a time, and a balancer fault (a restart) overlaps nothing. `generate(seed, ...)` draws one
from a fault vocabulary with `random.Random(seed)`: the same seed and vocabulary give the same schedule.
`to_timeline` turns it into reproduction steps (inject, hold, heal, then load to settle), so a schedule
runs, and is saved, as any reproduction does.

Pure: no clock, no I/O.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from harness.descriptions.base import SpecError, set_field, validate_int, validate_number
from harness.descriptions.faults import (
    BALANCER,
    BalancerRestart,
    ErrorReplies,
    FaultSpec,
    Flap,
    Freeze,
    Kill,
    NoStatus,
    Partition,
    Pause,
    Remove,
    ReportLoad,
    Slowness,
    Stop,
)
from harness.descriptions.timeline import Heal, Hold, Inject, Step, WaitUntil

MAX_EVENTS = 64
SETTLE_REQUESTS = 50

# kind -> how to draw one fault of that kind on a node (the balancer's faults take "balancer")
Builder = Callable[[str, random.Random], FaultSpec]
NODE_BUILDERS: dict[str, Builder] = {
    "kill": lambda node, rng: Kill(node),
    "stop": lambda node, rng: Stop(node, timeout_s=float(rng.choice((2, 5, 10)))),
    "pause": lambda node, rng: Pause(node),
    "remove": lambda node, rng: Remove(node),
    "partition": lambda node, rng: Partition(node, BALANCER, mode=rng.choice(("disconnect", "iptables"))),
    "slowness": lambda node, rng: Slowness(node, delay_ms=rng.choice((200, 1000, 3000))),
    "freeze": lambda node, rng: Freeze(node),
    "error_replies": lambda node, rng: ErrorReplies(node, status=rng.choice((500, 503))),
    "flap": lambda node, rng: Flap(node, up_s=rng.choice((0.5, 1.0)), down_s=rng.choice((0.5, 1.0))),
    "no_status": lambda node, rng: NoStatus(node),
    "report_load": lambda node, rng: ReportLoad(node, load=rng.choice((-1, 0, 1, 100))),
}
BALANCER_BUILDERS: dict[str, Builder] = {
    "balancer_restart": lambda node, rng: BalancerRestart(graceful=rng.random() < 0.5),
}
SCOPES = (("one", 0.6), ("minority", 0.25), ("all", 0.15))


@dataclass(frozen=True)
class Event:
    """`fault` injected `at_s` seconds after the schedule starts, healed `duration_s` later."""

    at_s: float
    duration_s: float
    fault: FaultSpec

    def __post_init__(self) -> None:
        set_field(self, "at_s", round(validate_number("at_s", self.at_s, 0, 3600), 2))
        set_field(self, "duration_s", round(validate_number("duration_s", self.duration_s, 0.1, 3600), 2))
        if not isinstance(self.fault, FaultSpec):
            raise SpecError("fault", f"got {self.fault!r}; expected a FaultSpec")

    @property
    def end_s(self) -> float:
        return self.at_s + self.duration_s

    @property
    def targets(self) -> tuple[str, ...]:
        return self.fault.targets() or (BALANCER,)

    def describe(self) -> str:
        return f"{self.at_s:g}+{self.duration_s:g}s {self.fault.describe()}"


@dataclass(frozen=True)
class Schedule:
    """The events of one exploration run over node1..node`nodes`; `settle_s` of load after the last heal."""

    seed: int
    nodes: int
    events: tuple[Event, ...]
    settle_s: float = 5.0

    def __post_init__(self) -> None:
        validate_int("seed", self.seed, 0)
        validate_int("nodes", self.nodes, 1, 100)
        if len(self.events) > MAX_EVENTS:
            raise SpecError("events", f"got {len(self.events)}; at most {MAX_EVENTS}")
        set_field(self, "events", tuple(sorted(self.events, key=lambda e: (e.at_s, e.targets))))
        set_field(self, "settle_s", validate_number("settle_s", self.settle_s, 0, 600))
        names = {f"node{i}" for i in range(1, self.nodes + 1)} | {BALANCER}
        for index, event in enumerate(self.events):
            unknown = [t for t in event.targets if t not in names]
            if unknown:
                raise SpecError(f"events[{index}].fault", f"targets {', '.join(unknown)}: no such node")
        clash = overlap(self.events)
        if clash:
            raise SpecError("events", clash)

    @property
    def span_s(self) -> float:
        return max((e.end_s for e in self.events), default=0.0)

    def size(self) -> tuple[int, float, int, float]:
        """What shrinking makes smaller, most important first: events, fault-seconds, nodes, span."""
        return (len(self.events), round(sum(e.duration_s for e in self.events), 2), self.nodes, self.span_s)

    def describe(self) -> str:
        lines = [f"seed {self.seed}, {self.nodes} node(s), {len(self.events)} fault(s) over {self.span_s:g} s"]
        return "\n".join(lines + [f"  {e.describe()}" for e in self.events])

    def with_events(self, events: Sequence[Event]) -> Schedule:
        return replace(self, events=tuple(events))


def overlap(events: Sequence[Event]) -> str:
    """Why these events cannot run together ("" when they can): a node faulted twice at once, or a fault of
    the balancer alone (a restart) overlapping any other. A partition's balancer side is not the balancer's
    own fault: partitions of two nodes from it overlap."""
    for i, a in enumerate(events):
        for b in events[i + 1 :]:
            if a.at_s >= b.end_s or b.at_s >= a.end_s:
                continue
            if a.targets == (BALANCER,) or b.targets == (BALANCER,):
                return f"{a.describe()} overlaps {b.describe()}: a balancer fault overlaps nothing"
            shared = (set(a.targets) & set(b.targets)) - {BALANCER}
            if shared:
                return f"{a.describe()} overlaps {b.describe()} on {', '.join(sorted(shared))}"
    return ""


def generate(
    seed: int,
    nodes: int,
    kinds: Sequence[str],
    *,
    max_faults: int = 4,
    span_s: float = 30.0,
    durations: tuple[float, float] = (1.0, 8.0),
    settle_s: float = 5.0,
) -> Schedule:
    """One schedule drawn from `kinds` (names of NODE_BUILDERS / BALANCER_BUILDERS) with Random(seed)."""
    unknown = [k for k in kinds if k not in NODE_BUILDERS and k not in BALANCER_BUILDERS]
    if unknown or not kinds:
        accepted = ", ".join([*NODE_BUILDERS, *BALANCER_BUILDERS])
        raise SpecError("faults", f"got {', '.join(unknown) or 'none'}; accepted kinds: {accepted}")
    validate_int("max_faults", max_faults, 1, 16)
    rng = random.Random(seed)
    events: list[Event] = []
    for _ in range(rng.randint(1, max_faults)):
        kind = rng.choice(list(kinds))
        at_s = round(rng.uniform(0, span_s), 1)
        duration = round(rng.uniform(*durations), 1)
        if kind in BALANCER_BUILDERS:
            group = [Event(at_s, duration, BALANCER_BUILDERS[kind](BALANCER, rng))]
        else:
            targets = _scope(rng, nodes)
            group = [Event(at_s, duration, NODE_BUILDERS[kind](node, rng)) for node in targets]
        if not overlap(events + group):
            events += group
    return Schedule(seed, nodes, tuple(events), settle_s)


def _scope(rng: random.Random, nodes: int) -> list[str]:
    """One node, a minority, or all of them, at random."""
    names = [f"node{i}" for i in range(1, nodes + 1)]
    scope = rng.choices([s for s, _ in SCOPES], weights=[w for _, w in SCOPES])[0]
    count = {"one": 1, "minority": max(1, (nodes - 1) // 2), "all": nodes}[scope]
    return sorted(rng.sample(names, count))


def to_timeline(schedule: Schedule, *, settle_requests: int = SETTLE_REQUESTS) -> tuple[Step, ...]:
    """Reproduction steps: holds between the injects and heals (heals first at equal times), then
    `settle_s` of load and `settle_requests` more requests."""
    points: list[tuple[float, int, Step]] = []
    for event in schedule.events:
        inject = Inject(event.fault)
        points += [(event.at_s, 1, inject), (event.end_s, 0, Heal(inject.id))]
    steps: list[Step] = []
    now = 0.0
    for at, _, step in sorted(points, key=lambda p: (p[0], p[1])):
        if at - now >= 0.05:
            steps.append(Hold(round(at - now, 2)))
            now = at
        steps.append(step)
    if schedule.settle_s > 0:
        steps.append(Hold(schedule.settle_s))
    steps.append(WaitUntil("requests", count=settle_requests, timeout_s=60))
    return tuple(steps)


def rename_nodes(schedule: Schedule) -> Schedule:
    """The same schedule on as few nodes as it faults: the faulted nodes become node1..nodeK in order
    (at least one node stays)."""
    used = sorted({t for e in schedule.events for t in e.targets if t != BALANCER}, key=_node_number)
    mapping = {old: f"node{i}" for i, old in enumerate(used, 1)}
    events = [replace(e, fault=_renamed(e.fault, mapping)) for e in schedule.events]
    return Schedule(schedule.seed, max(1, len(used)), tuple(events), schedule.settle_s)


def _renamed(fault: FaultSpec, mapping: Mapping[str, str]) -> FaultSpec:
    changes = {
        f: mapping[v] for f in ("node", "a", "b") if isinstance(v := getattr(fault, f, None), str) and v in mapping
    }
    return replace(fault, **changes) if changes else fault


def _node_number(name: str) -> int:
    return int(name[4:]) if name.startswith("node") and name[4:].isdigit() else 0
