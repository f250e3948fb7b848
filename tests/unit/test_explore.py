"""Unit tier: the explorer's schedules (seeded, overlap rules, timelines), the shrinker against oracles, and the
explorer's loop over a fake runner (signatures, shrinking, the saved file, the summary). No Docker."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.descriptions.base import SpecError
from harness.descriptions.faults import BalancerRestart, Kill, Partition, Pause
from harness.descriptions.options import HarnessOptions
from harness.descriptions.repro_yaml import reproduction_from_yaml
from harness.descriptions.schedule import Event, Schedule, generate, overlap, rename_nodes, to_timeline
from harness.descriptions.timeline import Heal, Hold, Inject, WaitUntil
from harness.entry.repro import ReproOutcome, RunResult
from harness.judge.verdict import Verdict
from harness.run.explore import ExploreConfig, Explorer, fault_kinds, signature
from harness.run.explore_shrink import candidates, shrink

KINDS = ("kill", "stop", "pause", "partition", "balancer_restart")


# --- schedules ---------------------------------------------------------------------------------------------
def test_the_same_seed_gives_the_same_schedule_and_seeds_differ() -> None:
    a, b = generate(7, 3, KINDS), generate(7, 3, KINDS)
    assert a == b
    assert len({generate(s, 3, KINDS).describe().split("\n", 1)[1] for s in range(20)}) > 10


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 10**6), st.integers(1, 6), st.integers(1, 8))
def test_generated_schedules_never_fault_a_target_twice_at_once_nor_overlap_a_balancer_fault(
    seed: int, nodes: int, max_faults: int
) -> None:
    schedule = generate(seed, nodes, KINDS, max_faults=max_faults)
    assert 1 <= len(schedule.events) <= max_faults * nodes
    assert overlap(schedule.events) == ""
    assert {t for e in schedule.events for t in e.targets} <= {f"node{i}" for i in range(1, nodes + 1)} | {"balancer"}
    timeline = to_timeline(schedule)
    active: set[str] = set()
    for step in timeline:  # every inject is healed, never twice at once
        if isinstance(step, Inject):
            assert step.id not in active
            active.add(step.id)
        elif isinstance(step, Heal):
            active.remove(step.fault)
    assert not active and isinstance(timeline[-1], WaitUntil)


def test_a_timeline_holds_between_the_moments_and_heals_first_at_equal_times() -> None:
    schedule = Schedule(1, 2, (Event(2, 3, Kill("node1")), Event(5, 1, Pause("node1")), Event(3, 4, Kill("node2"))))
    steps = to_timeline(schedule)
    names = {
        Inject: lambda s: f"inject {s.id}",
        Heal: lambda s: f"heal {s.fault}",
        Hold: lambda s: f"hold {s.seconds:g}",
    }
    assert [names.get(type(s), lambda s: s.verb)(s) for s in steps] == [
        "hold 2", "inject kill:node1", "hold 1", "inject kill:node2", "hold 2", "heal kill:node1",
        "inject pause:node1", "hold 1", "heal pause:node1", "hold 1", "heal kill:node2", "hold 5", "wait_until",
    ]  # fmt: skip


def test_bad_schedules_are_refused_naming_the_field() -> None:
    with pytest.raises(SpecError, match="events.*node1"):
        Schedule(1, 2, (Event(0, 5, Kill("node1")), Event(1, 1, Pause("node1"))))
    with pytest.raises(SpecError, match="balancer fault overlaps nothing"):
        Schedule(1, 2, (Event(0, 5, Kill("node1")), Event(1, 1, BalancerRestart())))
    with pytest.raises(SpecError, match=r"events\[0\].fault.*node3: no such node"):
        Schedule(1, 2, (Event(0, 5, Kill("node3")),))
    with pytest.raises(SpecError, match="faults.*bogus"):
        generate(1, 2, ("kill", "bogus"))
    with pytest.raises(SpecError, match="duration_s"):
        Event(0, 0, Kill("node1"))


def test_renaming_keeps_only_the_faulted_nodes() -> None:
    schedule = Schedule(1, 5, (Event(0, 1, Kill("node4")), Event(0, 1, Partition("node2")), Event(2, 1, Kill("node4"))))
    renamed = rename_nodes(schedule)
    assert renamed.nodes == 2
    assert [e.targets for e in renamed.events] == [("node1", "balancer"), ("node2",), ("node2",)]


# --- shrinking ---------------------------------------------------------------------------------------------
def _big() -> Schedule:
    return Schedule(
        3,
        4,
        (
            Event(1, 6, Kill("node1")),
            Event(1, 6, Kill("node2")),
            Event(9, 4, Pause("node3")),
            Event(9, 4, Partition("node4")),
            Event(20, 2, BalancerRestart()),
        ),
    )


def test_every_candidate_is_smaller_and_valid() -> None:
    schedule = _big()
    for _, candidate in candidates(schedule):
        assert candidate.size() < schedule.size() and overlap(candidate.events) == ""


def test_shrinking_finds_the_one_event_that_matters() -> None:
    def fails(s: Schedule) -> bool:  # the bug: a pause of any node
        return any(isinstance(e.fault, Pause) for e in s.events)

    shrunk, log = shrink(_big(), fails)
    assert [type(e.fault) for e in shrunk.events] == [Pause]
    assert shrunk.nodes == 1 and shrunk.events[0].targets == ("node1",)
    assert shrunk.events[0].duration_s == 0.5 and shrunk.events[0].at_s < 1  # as short and early as it goes
    assert "no smaller candidate fails" in log.stopped and log.steps


def test_shrinking_keeps_an_interaction_of_two_faults() -> None:
    def fails(s: Schedule) -> bool:  # the bug: two nodes down at once for at least 2 s
        kills = [e for e in s.events if isinstance(e.fault, Kill)]
        return any(a is not b and min(a.end_s, b.end_s) - max(a.at_s, b.at_s) >= 2 for a in kills for b in kills)

    shrunk, _ = shrink(_big(), fails)
    assert sorted(e.fault.kind for e in shrunk.events) == ["kill", "kill"] and shrunk.nodes == 2
    assert all(2 <= e.duration_s < 6 for e in shrunk.events)


def test_shrinking_stops_at_its_budget_with_a_failing_schedule() -> None:
    calls: list[Schedule] = []

    def fails(s: Schedule) -> bool:
        calls.append(s)
        return True

    shrunk, log = shrink(_big(), fails, max_runs=3)
    assert log.runs == 3 == len(calls) and "budget" in log.stopped and shrunk is calls[-1]
    ticks = iter(range(100))
    shrunk, log = shrink(_big(), fails, max_seconds=2.5, clock=lambda: float(next(ticks)))
    assert log.runs == 2 and "budget" in log.stopped


# --- the explorer's loop over a fake runner ----------------------------------------------------------------
def _outcome(invalid: tuple[str, ...], outcome: str | None = None) -> ReproOutcome:
    verdicts = tuple(Verdict(n, "invalid", {}, "broken") for n in invalid) + (Verdict("sticky_sessions", "valid"),)
    word = outcome or ("invalid" if invalid else "valid")
    return ReproOutcome("k", word, runs=(RunResult(1, word, verdicts),))


class _FakeRun:
    """A runner whose cluster breaks `no_errors_outside_windows` whenever a node is paused 1 s or longer."""

    def __init__(self) -> None:
        self.calls: list[Any] = []

    def __call__(self, entry: Any, options: Any, repeat: Any, **kwargs: Any) -> ReproOutcome:
        self.calls.append((entry, repeat, kwargs["folder"]))
        if isinstance(entry, Path):
            repro = reproduction_from_yaml(entry.read_text(encoding="utf-8"), str(entry))
        else:
            repro = entry
        steps = list(repro.timeline)
        paused = any(
            isinstance(s, Inject) and s.fault.kind == "pause" and isinstance(n, Hold) and n.seconds >= 1
            for s, n in zip(steps, steps[1:])
        )
        if any(isinstance(s, Inject) and s.fault.kind == "stop" for s in steps):
            return _outcome((), "error")
        runs = repeat or 1
        word = ("timeline[3] no_errors_outside_windows",) if paused else ()
        return ReproOutcome("k", "invalid" if paused else "valid", runs=tuple(_outcome(word).runs[0:1]) * runs)


def test_the_explorer_finds_shrinks_saves_and_confirms_a_violation(tmp_path: Path) -> None:
    run = _FakeRun()
    options = HarnessOptions(evidence_dir=tmp_path)
    config = ExploreConfig(
        options, tmp_path / "x", seed=10, max_schedules=12, kinds=("kill", "pause", "stop"), confirm=2
    )
    result = Explorer(config, run).explore()
    explored = [r for r in result.runs if r["phase"] == "explore"]
    assert len(explored) == 12 and result.found, [r["faults"] for r in explored]
    found = result.found[0]
    assert found.signature == ("no_errors_outside_windows",)
    assert [e.fault.kind for e in found.shrunk.events] == ["pause"] and found.shrunk.nodes == 1
    assert found.confirm_runs == 2 == found.confirm_failed
    text = found.file.read_text(encoding="utf-8")
    assert f"--seed {found.seed}" in text and "Original schedule" in text
    saved = reproduction_from_yaml(text, str(found.file))
    assert saved.key == f"explore-seed-{found.seed}" and "pause" in [
        s.payload()["kind"] for s in saved.timeline if isinstance(s, Inject)
    ]
    summary = json.loads((tmp_path / "x" / "explore.json").read_text())
    assert summary["figures"]["schedules"] == 12 and summary["figures"]["violations"] == len(result.found)
    assert (
        summary["figures"]["errors"] == sum(r["outcome"] == "error" for r in explored) > 0
    )  # stops: errors, not violations
    assert all(r["outcome"] != "error" or not r["broken"] for r in summary["runs"])


def test_signatures_strip_step_prefixes_and_arguments() -> None:
    outcome = _outcome(("timeline[7] heal kill:node1", "no_errors_outside_windows", "end heal pause:node2", "repeats"))
    assert signature(outcome) == ("heal", "no_errors_outside_windows")


def test_fault_kinds_follow_the_flavors_and_refuse_what_they_do_not_take() -> None:
    sim = fault_kinds(HarnessOptions())
    assert {"kill", "pause", "freeze", "slowness", "balancer_restart"} <= set(sim)
    wildfly = fault_kinds(HarnessOptions(node="wildfly"))
    assert "freeze" not in wildfly and "kill" in wildfly
    with pytest.raises(SpecError, match="--faults.*freeze.*not taken"):
        fault_kinds(HarnessOptions(node="wildfly"), ("kill", "freeze"))


def test_the_cli_topology_option_is_typed_and_checked_before_anything_starts() -> None:
    from harness.entry.cli_explore import topology_fields

    mpm = "{start_servers: 1, server_limit: 1, threads_per_child: 25, max_request_workers: 25}"
    fields = topology_fields(f"{{node: {{sticky_session: false}}, balancer: {{mpm: {mpm}}}}}")
    assert fields["node"] == {"sticky_session": False} and type(fields["balancer"]["mpm"]).__name__ == "MpmSpec"
    with pytest.raises(SpecError, match="node.sticky_sesion"):
        topology_fields("{node: {sticky_sesion: false}}")
    with pytest.raises(SpecError, match="topology.nodes.*--nodes"):
        topology_fields("{nodes: 2}")
    assert topology_fields(None) == {}


def test_a_violation_seen_once_is_saved_but_not_shrunk(tmp_path: Path) -> None:
    answers = iter([_outcome(("no_errors_outside_windows",))])

    def run(entry: Any, options: Any, repeat: Any, **kwargs: Any) -> ReproOutcome:
        return next(answers, _outcome(()))

    config = ExploreConfig(HarnessOptions(), tmp_path, seed=5, max_schedules=1, kinds=("kill",), confirm=1)
    result = Explorer(config, run).explore()
    found = result.found[0]
    assert found.shrunk == found.original and "did not fail again" in found.log.stopped
    assert found.confirm_failed == 0 and found.file.is_file()
    assert [r["phase"] for r in result.runs] == ["explore", "shrink"]
