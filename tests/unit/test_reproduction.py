"""Unit tier: expectation names parsed, judged over saved histories, and the catalogue's promises (no Docker)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.descriptions.base import SpecError
from harness.descriptions.expectations import ARGUMENTS, UnknownExpectation, parse_expectation
from harness.descriptions.faults import BalancerRestart, Kill, Pause, Stop
from harness.descriptions.reproduction import Reproduction, RunFacts
from harness.descriptions.timeline import Expect, Inject
from harness.judge.checks import Verdict
from harness.judge.history import History, load_history
from harness.run.repro_checks import judge_names
from scenarios.reproductions.catalogue import catalogue

DATA = Path(__file__).parent / "data" / "histories"
NODES = ("node1", "node2", "node3")


def _history(name: str) -> History:
    windows = DATA / f"{name}.windows.jsonl"
    return load_history(DATA / f"{name}.jsonl", windows if windows.exists() else None)


def _verdicts(checks: tuple[str, ...], name: str, nodes: tuple[str, ...] = NODES) -> list[Verdict]:
    def no_state() -> None:
        raise AssertionError("not asked")

    history = _history(name)
    return judge_names(checks, nodes=nodes, history=lambda: history, state=no_state, logs=no_state)  # type: ignore[arg-type]


def _outcomes(checks: tuple[str, ...], name: str, nodes: tuple[str, ...] = ("node1", "node2")) -> list[str]:
    return [v.outcome for v in _verdicts(checks, name, nodes)]


@pytest.mark.parametrize(
    "name, expected",
    [
        ("sticky", ("sticky", None)),
        ("failover_within:7.5", ("failover_within", 7.5)),
        ("no_status:503", ("no_status", 503)),
        ("moved:2", ("moved", 2)),
        ("serves_after_faults", ("serves_after_faults", None)),
        ("failover_within:0", ("failover_within", 0.0)),
        ("node_down:node1", ("node_down", "node1")),
        ("context:node2:/app:DISABLED", ("context", ("node2", "/app", "DISABLED"))),
        ("context:node2:/:STOPPED", ("context", ("node2", "/", "STOPPED"))),
        ("load:node1:-1", ("load", ("node1", -1))),
        ("log_free_of:AH0005[0-9]", ("log_free_of", "AH0005[0-9]")),
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
        ("node_up:no de", "node_up:node1"),
        ("context:node1:/app:GONE", "NODE:/PATH:STATUS"),
        ("context:node1,/app,ENABLED", "NODE:/PATH:STATUS"),
        ("load:node1:101", "-1..100"),
        ("log_free_of:(", "not a regular expression"),
    ],
)
def test_bad_expectations_are_named(name: str, fragment: str) -> None:
    with pytest.raises(UnknownExpectation) as err:
        parse_expectation(name, "checks[3]")
    assert err.value.field == "checks[3]" and name in str(err.value) and fragment in str(err.value)


def test_an_unknown_expectation_is_refused_when_the_reproduction_is_built() -> None:
    with pytest.raises(UnknownExpectation) as err:
        Reproduction("demo", faults=(Kill("node1"),), checks=("sticky", "stickiness"))
    assert err.value.field == "checks[1]"
    assert "expectation 'stickiness': known names are " + ", ".join(ARGUMENTS) in str(err.value)


def test_failover_needs_a_fault_on_a_node_at_the_end_and_at_each_expect() -> None:
    with pytest.raises(SpecError, match=r"checks\[0\]: 'failover_within:10' needs a fault on a node"):
        Reproduction("demo", faults=(BalancerRestart(),), checks=("failover_within:10",))
    Reproduction("demo", faults=(BalancerRestart(),), checks=("sticky",))
    with pytest.raises(SpecError, match=r"timeline\[0\]\.expect\[1\]: .*no fault on a node before"):
        Reproduction("demo", timeline=(Expect(("sticky", "failover_within:5")), Inject(Kill("node1"))))


def test_failover_history_meets_the_expectations() -> None:
    verdicts = _verdicts(("sticky", "failover_within:10", "no_errors_outside_windows"), "kill_failover")
    assert len(verdicts) == 3 and all(v.valid for v in verdicts), [str(v) for v in verdicts]


def test_sessions_moving_without_fault_break_the_sticky_expectation() -> None:
    assert _verdicts(("sticky",), "moved_without_fault")[0].invalid


def test_stuck_sessions_break_the_failover_expectation() -> None:
    verdicts = _verdicts(("failover_within:10",), "kill_stuck")
    assert verdicts and all(v.invalid for v in verdicts)


def test_failover_without_a_window_on_a_node_is_unknown() -> None:
    verdicts = _verdicts(("failover_within:10",), "steady")
    assert [v.outcome for v in verdicts] == ["unknown"] and "no fault window on a node" in verdicts[0].summary


def test_a_history_that_cannot_be_read_is_unknown_never_valid() -> None:
    def broken() -> History:
        raise OSError("history.jsonl vanished")

    verdicts = judge_names(("sticky",), nodes=NODES, history=broken, state=broken, logs=broken)  # type: ignore[arg-type]
    assert [v.outcome for v in verdicts] == ["unknown"] and "vanished" in verdicts[0].summary


# --- the catalogue's promises, both ways ---------------------------------------------------------------


def _entry(key: str) -> Reproduction:
    return next(r for r in catalogue() if r.key == key)


def test_the_catalogue_is_validated_as_it_is_built_python_and_yaml_entries() -> None:
    keys = [r.key for r in catalogue()]
    python = ["graceful-stop-loses-no-request", "lbmethod-graceful-stop-with-maxattempts", "frozen-node-recovers"]
    assert keys[:3] == python  # the Python entries, then the YAML files by name
    assert {"kill-under-load-fails-over", "register-storm-500"} <= set(keys[3:]) and len(set(keys)) == len(keys)


def test_graceful_stop_promises_no_failed_request_under_load_and_moved_sessions() -> None:
    repro = _entry("graceful-stop-loses-no-request")
    assert isinstance(repro.timeline[0], Inject) and isinstance(repro.timeline[0].fault, Stop)
    assert _outcomes(repro.checks, "graceful_clean") == ["valid", "valid"]  # node1's sessions moved, nothing failed
    assert _outcomes(repro.checks, "graceful_503") == ["valid", "invalid"]  # one 503 inside the stop window
    assert _outcomes(repro.checks, "graceful_idle") == ["unknown", "unknown"]  # no load in the window, no move
    assert _verdicts(repro.checks, "graceful_503")[1].details["failed_inside"][0]["status"] == 503


def test_frozen_node_promises_the_node_serves_again_after_the_thaw() -> None:
    repro = _entry("frozen-node-recovers")
    assert isinstance(repro.timeline[0], Inject) and isinstance(repro.timeline[0].fault, Pause)
    assert _outcomes(repro.checks, "frozen_back") == ["valid", "valid"]
    never = _verdicts(repro.checks, "frozen_never_back", ("node1", "node2"))
    assert [v.outcome for v in never] == ["valid", "invalid"] and never[1].details["missing"] == ["node1"]
    assert _outcomes(repro.checks, "frozen_no_load_after") == ["valid", "unknown"]


def test_kill_promises_failover_and_both_nodes() -> None:
    repro = _entry("kill-under-load-fails-over")  # the YAML entry
    assert _outcomes(repro.checks, "kill_failover") == ["valid", "valid", "valid", "valid"]
    assert "invalid" in _outcomes(repro.checks, "kill_stuck")


def test_known_broken_still_marks_the_graceful_stop_of_lbmethod_cluster() -> None:
    repro = _entry("graceful-stop-loses-no-request")
    broken = RunFacts("httpd-modcluster", "sim", "lbmethod_cluster", "2.x", "mod_proxy_cluster/2.0.0.Dev")
    reason = repro.where_broken(broken)
    assert reason is not None and "503" in reason
    assert repro.where_broken(RunFacts("undertow", "sim")) is None
    assert repro.where_broken(RunFacts("httpd-modcluster", "sim", "proxy_cluster", "2.x", "x/2.0.0")) is None
    assert _entry("frozen-node-recovers").where_broken(broken) is None


def test_the_rate_reproductions_outside_the_catalogue_are_valid_files() -> None:
    """scenarios/reproductions/rates/ holds probabilistic failures run by hand (harness repro FILE): each one
    must still read, with its observations, and none may be in the catalogue the suite runs."""
    from pathlib import Path

    from harness.descriptions.repro_yaml import load_reproduction_yaml

    folder = Path(__file__).resolve().parents[2] / "scenarios" / "reproductions" / "rates"
    entries = [load_reproduction_yaml(path) for path in sorted(folder.glob("*.yaml"))]
    assert entries and all(entry.observed and entry.repeats >= 3 for entry in entries)
    assert not {entry.key for entry in entries} & {r.key for r in catalogue()}
