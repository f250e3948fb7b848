"""Unit tier: reproductions as data and their expectations judged over saved histories (no Docker)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.judge.history import load_history
from harness.run.reproduction import UnknownExpectation, check_expectations, parse_expectation
from harness.spec.topology import Kill, Reproduction, Topology, reproduction_from_dict

DATA = Path(__file__).parent / "data" / "histories"


def _repro(*expectations: str) -> Reproduction:
    return Reproduction("demo", Topology.simple("demo", 3), faults=(Kill("node1"),), expectations=expectations)


def _history(name: str):  # type: ignore[no-untyped-def]
    windows = DATA / f"{name}.windows.jsonl"
    return load_history(DATA / f"{name}.jsonl", windows if windows.exists() else None)


@pytest.mark.parametrize("name, expected", [
    ("sticky", ("sticky", None)), ("failover_within:7.5", ("failover_within", 7.5)), ("no_status:503", ("no_status", 503)),
])
def test_expectations_parse(name: str, expected: tuple[str, object]) -> None:
    assert parse_expectation(name) == expected


@pytest.mark.parametrize("name, fragment", [
    ("stickyy", "accepted names"), ("failover_within", "float argument"), ("failover_within:soon", "float"),
    ("sticky:3", "takes no argument"),
])
def test_bad_expectations_are_named(name: str, fragment: str) -> None:
    with pytest.raises(UnknownExpectation) as err:
        parse_expectation(name)
    assert name in str(err.value) and fragment in str(err.value)


def test_failover_history_meets_the_expectations() -> None:
    verdicts = check_expectations(_repro("sticky", "failover_within:10", "no_errors_outside_windows"),
                                  _history("kill_failover"))
    assert len(verdicts) == 3 and all(v.valid for v in verdicts), [str(v) for v in verdicts]


def test_sessions_moving_without_fault_break_the_sticky_expectation() -> None:
    verdicts = check_expectations(_repro("sticky"), _history("moved_without_fault"))
    assert not verdicts[0].valid


def test_stuck_sessions_break_the_failover_expectation() -> None:
    verdicts = check_expectations(_repro("failover_within:10"), _history("kill_stuck"))
    assert verdicts and not any(v.valid for v in verdicts)


def test_reproduction_round_trips_as_data() -> None:
    repro = _repro("sticky", "failover_within:10")
    assert reproduction_from_dict(repro.to_dict()) == repro
