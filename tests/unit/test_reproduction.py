"""Unit tier: reproductions as data and their expectations judged over saved histories (no Docker)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.descriptions.options import HarnessOptions
from harness.descriptions.topology import (
    BalancerRestart,
    Kill,
    Pause,
    Reproduction,
    Stop,
    Topology,
    reproduction_from_dict,
)
from harness.judge.history import History, load_history
from harness.run.reproduction import (
    ARGUMENTS,
    UnknownExpectation,
    check_expectations,
    parse_expectation,
    validate_reproduction,
)
from scenarios.reproductions.catalogue import catalogue, known_broken

DATA = Path(__file__).parent / "data" / "histories"


def _repro(*expectations: str, fault: object = None) -> Reproduction:
    return Reproduction(
        "demo",
        Topology.simple("demo", 3),
        faults=(fault or Kill("node1"),),  # type: ignore[arg-type]
        expectations=expectations,
    )


def _history(name: str) -> History:
    windows = DATA / f"{name}.windows.jsonl"
    return load_history(DATA / f"{name}.jsonl", windows if windows.exists() else None)


def _outcomes(repro: Reproduction, name: str) -> list[str]:
    return [v.outcome for v in check_expectations(repro, _history(name))]


@pytest.mark.parametrize(
    "name, expected",
    [
        ("sticky", ("sticky", None)),
        ("failover_within:7.5", ("failover_within", 7.5)),
        ("no_status:503", ("no_status", 503)),
        ("moved:2", ("moved", 2)),
        ("serves_after_faults", ("serves_after_faults", None)),
        ("failover_within:0", ("failover_within", 0.0)),
    ],
)
def test_expectations_parse(name: str, expected: tuple[str, object]) -> None:
    assert parse_expectation(name) == expected


@pytest.mark.parametrize(
    "name, fragment",
    [
        ("stickyy", "known names are sticky, moved"),
        ("failover_within", "failover_within:10"),
        ("failover_within:soon", "failover_within:10"),
        ("sticky:3", "takes no argument"),
        ("failover_within:nan", "finite"),
        ("failover_within:inf", "finite"),
        ("failover_within:-1", ">= 0"),
        ("moved:0", ">= 1"),
        ("moved:1.5", "moved:1"),
        ("no_status:42", "100..599"),
        ("no_status:nan", "no_status:503"),
    ],
)
def test_bad_expectations_are_named(name: str, fragment: str) -> None:
    with pytest.raises(UnknownExpectation) as err:
        parse_expectation(name)
    assert name in str(err.value) and fragment in str(err.value)


def test_an_unknown_expectation_is_refused_when_the_reproduction_is_validated() -> None:
    with pytest.raises(UnknownExpectation) as err:
        validate_reproduction(_repro("sticky", "stickiness"))
    text = str(err.value)
    assert "demo: expectations[1]: expectation 'stickiness'" in text
    assert "known names are " + ", ".join(ARGUMENTS) in text
    with pytest.raises(UnknownExpectation, match="finite"):
        validate_reproduction(_repro("failover_within:nan"))
    repro = _repro("sticky", "failover_within:10")
    assert validate_reproduction(repro) is repro


def test_a_failover_expectation_needs_a_fault_on_a_node() -> None:
    with pytest.raises(UnknownExpectation, match="needs a fault on a node"):
        validate_reproduction(_repro("failover_within:10", fault=BalancerRestart()))
    validate_reproduction(_repro("sticky", fault=BalancerRestart()))


def test_the_catalogue_is_validated_as_it_is_built() -> None:
    issues = [r.issue for r in catalogue("undertow", "sim")]
    assert issues == ["kill-under-load-fails-over", "graceful-stop-loses-no-request", "frozen-node-recovers"]
    for repro in catalogue("httpd-modcluster", "wildfly"):
        assert validate_reproduction(repro) is repro


def test_failover_history_meets_the_expectations() -> None:
    verdicts = check_expectations(
        _repro("sticky", "failover_within:10", "no_errors_outside_windows"), _history("kill_failover")
    )
    assert len(verdicts) == 3 and all(v.valid for v in verdicts), [str(v) for v in verdicts]


def test_sessions_moving_without_fault_break_the_sticky_expectation() -> None:
    verdicts = check_expectations(_repro("sticky"), _history("moved_without_fault"))
    assert verdicts[0].invalid


def test_stuck_sessions_break_the_failover_expectation() -> None:
    verdicts = check_expectations(_repro("failover_within:10"), _history("kill_stuck"))
    assert verdicts and all(v.invalid for v in verdicts)


def test_failover_without_a_window_on_a_node_is_unknown() -> None:
    verdicts = check_expectations(_repro("failover_within:10"), _history("steady"))
    assert [v.outcome for v in verdicts] == ["unknown"] and "no fault window on a node" in verdicts[0].summary


def test_reproduction_round_trips_as_data() -> None:
    repro = _repro("sticky", "failover_within:10")
    assert reproduction_from_dict(repro.to_dict()) == repro


# --- the catalogue's promises, both ways ---------------------------------------------------------------


def _entry(issue: str) -> Reproduction:
    repro = next(r for r in catalogue("undertow", "sim") if r.issue == issue)
    return Reproduction(repro.issue, Topology.simple("demo", 2), faults=repro.faults, expectations=repro.expectations)


def test_graceful_stop_promises_no_failed_request_under_load_and_moved_sessions() -> None:
    repro = _entry("graceful-stop-loses-no-request")
    assert isinstance(repro.faults[0], Stop)
    assert _outcomes(repro, "graceful_clean") == ["valid", "valid"]  # node1's sessions moved, nothing failed
    assert _outcomes(repro, "graceful_503") == ["valid", "invalid"]  # one 503 inside the stop window
    assert _outcomes(repro, "graceful_idle") == ["unknown", "unknown"]  # no load in the window, no move
    verdict = check_expectations(repro, _history("graceful_503"))[1]
    assert verdict.details["failed_inside"][0]["status"] == 503


def test_frozen_node_promises_the_node_serves_again_after_the_thaw() -> None:
    repro = _entry("frozen-node-recovers")
    assert isinstance(repro.faults[0], Pause)
    assert _outcomes(repro, "frozen_back") == ["valid", "valid"]
    never = check_expectations(repro, _history("frozen_never_back"))
    assert [v.outcome for v in never] == ["valid", "invalid"] and never[1].details["missing"] == ["node1"]
    assert _outcomes(repro, "frozen_no_load_after") == ["valid", "unknown"]


def test_kill_promises_failover_and_both_nodes() -> None:
    repro = _entry("kill-under-load-fails-over")
    assert _outcomes(repro, "kill_failover") == ["valid", "valid", "valid", "valid"]
    assert "invalid" in _outcomes(repro, "kill_stuck")


def test_known_broken_still_marks_the_graceful_stop_of_lbmethod_cluster() -> None:
    broken = HarnessOptions(balancer="httpd-modcluster", modcluster_mode="lbmethod_cluster")
    assert known_broken("graceful-stop-loses-no-request", broken) is not None
    assert "503" in str(known_broken("graceful-stop-loses-no-request", broken))
    assert known_broken("graceful-stop-loses-no-request", HarnessOptions(balancer="undertow")) is None
    assert known_broken("frozen-node-recovers", broken) is None
