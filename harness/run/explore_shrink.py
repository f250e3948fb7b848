"""Shrinking a failing schedule: smaller candidates tried in order, the first that still fails kept.

`shrink(schedule, fails, budget)` is greedy, as QuickCheck's and Hypothesis' shrinkers are: from the current
failing schedule it proposes smaller ones (`candidates`), runs `fails` on each in order, moves to the first
that still fails the same way, and starts again from there; it stops when no candidate fails or the
budget (runs or seconds) is spent. Candidates, largest cut first:
  1. drop half of the fault groups, then each group (a group: the events injected at the same moment);
  2. drop single events;
  3. the faulted nodes renamed node1..nodeK and the others removed (fewer nodes);
  4. every fault half as long (down to 0.5 s), then each one;
  5. the quiet time before the first fault and between faults halved.
Each candidate is strictly smaller by `Schedule.size()`, so shrinking ends.

Pure apart from `fails` (the caller's oracle) and the clock it is given.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

from harness.descriptions.base import SpecError
from harness.descriptions.schedule import Event, Schedule, overlap, rename_nodes

MIN_DURATION_S = 0.5


@dataclass
class ShrinkLog:
    """What shrinking did: every candidate tried, in order, with its answer."""

    tried: list[tuple[str, bool]] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)  # the accepted ones
    stopped: str = ""

    @property
    def runs(self) -> int:
        return len(self.tried)


def shrink(
    schedule: Schedule,
    fails: Callable[[Schedule], bool],
    *,
    max_runs: int = 40,
    max_seconds: float = 3600.0,
    clock: Callable[[], float] = time.monotonic,
) -> tuple[Schedule, ShrinkLog]:
    """The smallest failing schedule found from `schedule` (assumed failing) and the log of the search."""
    log = ShrinkLog()
    deadline = clock() + max_seconds
    current = schedule
    while True:
        for label, candidate in candidates(current):
            if log.runs >= max_runs or clock() >= deadline:
                log.stopped = f"budget spent ({log.runs} runs)"
                return current, log
            failed = fails(candidate)
            log.tried.append((label, failed))
            if failed:
                log.steps.append(label)
                current = candidate
                break
        else:
            log.stopped = f"no smaller candidate fails ({log.runs} runs)"
            return current, log


def candidates(schedule: Schedule) -> Iterator[tuple[str, Schedule]]:
    """Smaller variants of `schedule`, largest cut first; each strictly smaller by `size()` and valid."""
    size = schedule.size()
    for label, events, nodes in _variants(schedule):
        try:
            candidate = replace(schedule, events=tuple(events), nodes=nodes)
        except SpecError:
            continue
        if candidate.size() < size and not overlap(candidate.events):
            yield label, candidate


def _variants(schedule: Schedule) -> Iterator[tuple[str, list[Event], int]]:
    events, nodes = list(schedule.events), schedule.nodes
    groups = _groups(events)
    if len(groups) > 1:
        half = len(groups) // 2
        yield "drop the later fault groups", [e for g in groups[:half] for e in g], nodes
        yield "drop the earlier fault groups", [e for g in groups[half:] for e in g], nodes
    for index, group in enumerate(groups):
        if len(groups) > 1:
            yield f"drop fault group {index + 1} ({group[0].fault.kind})", _without(events, group), nodes
    for event in events:
        if len(events) > 1:
            yield f"drop {event.describe()}", _without(events, [event]), nodes
    renamed = rename_nodes(schedule)
    if renamed.nodes < nodes:
        yield f"{renamed.nodes} node(s) instead of {nodes}", list(renamed.events), renamed.nodes
    shorter = [replace(e, duration_s=max(MIN_DURATION_S, round(e.duration_s / 2, 1))) for e in events]
    if any(a.duration_s != b.duration_s for a, b in zip(shorter, events)):
        yield "every fault half as long", shorter, nodes
    for index, event in enumerate(events):
        halved = max(MIN_DURATION_S, round(event.duration_s / 2, 1))
        if halved < event.duration_s:
            yield f"{event.fault.kind} {event.targets[0]} half as long", _replace_at(events, index, halved), nodes
    compressed = _compress(events)
    if compressed != events:
        yield "quiet time halved", compressed, nodes


def _groups(events: list[Event]) -> list[list[Event]]:
    groups: dict[tuple[float, str], list[Event]] = {}
    for event in events:
        groups.setdefault((event.at_s, event.fault.kind), []).append(event)
    return [groups[k] for k in sorted(groups)]


def _without(events: list[Event], drop: list[Event]) -> list[Event]:
    return [e for e in events if all(e is not d for d in drop)]


def _replace_at(events: list[Event], index: int, duration: float) -> list[Event]:
    return [replace(e, duration_s=duration) if i == index else e for i, e in enumerate(events)]


def _compress(events: list[Event]) -> list[Event]:
    """The gaps where nothing is faulted (and the lead-in) halved; overlaps and order kept."""
    out: list[Event] = []
    shift = 0.0
    busy_until = 0.0
    for event in sorted(events, key=lambda e: e.at_s):
        gap = event.at_s - busy_until
        if gap > 0.2:
            shift += round(gap / 2, 1)
        out.append(replace(event, at_s=round(event.at_s - shift, 1)))
        busy_until = max(busy_until, event.end_s)
    return out
