"""The reproduction runner: a field bug written as a `Reproduction` record, run as a scenario.

Steps: start the topology, start the load and wait for a steady state, then each fault in turn inside its
scoped block (held for `hold_s` while load flows), then more load after healing; finally the named
expectations are turned into checker verdicts over the recorded history.

Expectation names (the `expectations` field of a Reproduction), each with the evidence it needs (below it
the verdict is unknown, which fails the reproduction):
    sticky                    no session changes node unless its node was faulted (then once); >= 1 session
    moved:<n>                 as sticky, and at least <n> session moves excused by a fault (the fault moved them)
    failover_within:<s>       sessions of each faulted node served elsewhere within <s> seconds; >= 1 session
    no_errors                 no failed request at all (status 0 or >= 500); each window overlaps a request
    no_errors_outside_windows no failed request outside fault windows (plus a 2 s grace); likewise
    every_node_served         every node of the topology served requests
    serves_after_faults       every node of the topology served successfully after the last window closed
    no_status:<code>          no reply with this status after the last window closed; >= 1 request then
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from harness.descriptions.faults import BALANCER
from harness.descriptions.topology import Reproduction
from harness.judge.checks import (
    Verdict,
    check_error_budget,
    check_every_node_served,
    check_failover_within,
    check_no_status_after,
    check_sticky_sessions,
)
from harness.judge.history import History
from harness.machinery.waiting import hold

GRACE_S = 2.0


class UnknownExpectation(ValueError):
    pass


def _seconds(text: str) -> float:
    value = float(text)
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"got {value}; expected a finite number of seconds >= 0")
    return value


def _count(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(f"got {value}; expected a count >= 1")
    return value


def _status(text: str) -> int:
    value = int(text)
    if not 100 <= value <= 599:
        raise ValueError(f"got {value}; expected an HTTP status 100..599")
    return value


# name -> (argument converter or None, an example of the argument)
ARGUMENTS: dict[str, tuple[Callable[[str], Any] | None, str]] = {
    "sticky": (None, ""),
    "moved": (_count, "1"),
    "failover_within": (_seconds, "10"),
    "no_errors": (None, ""),
    "no_errors_outside_windows": (None, ""),
    "every_node_served": (None, ""),
    "serves_after_faults": (None, ""),
    "no_status": (_status, "503"),
}


def parse_expectation(name: str) -> tuple[str, Any]:
    """(kind, argument) of an expectation name, or UnknownExpectation naming the accepted forms."""
    kind, _, text = name.partition(":")
    if kind not in ARGUMENTS:
        raise UnknownExpectation(f"expectation {name!r}: known names are {', '.join(ARGUMENTS)}")
    convert, example = ARGUMENTS[kind]
    if convert is None:
        if text:
            raise UnknownExpectation(f"expectation {name!r}: {kind} takes no argument")
        return kind, None
    try:
        return kind, convert(text)
    except ValueError as exc:
        raise UnknownExpectation(
            f"expectation {name!r}: {kind} needs an argument as in {kind}:{example} ({exc})"
        ) from None


def validate_reproduction(repro: Reproduction) -> Reproduction:
    """`repro` itself once every expectation parses (and a failover has a faulted node); else
    UnknownExpectation naming `expectations[i]`. Run it where reproductions are built (the catalogue)."""
    node_faults = [f for f in repro.faults if any(t != BALANCER for t in f.targets())]
    for index, name in enumerate(repro.expectations):
        try:
            kind, _ = parse_expectation(name)
        except UnknownExpectation as exc:
            raise UnknownExpectation(f"{repro.issue}: expectations[{index}]: {exc}") from None
        if kind == "failover_within" and not node_faults:
            raise UnknownExpectation(f"{repro.issue}: expectations[{index}]: {name!r} needs a fault on a node")
    return repro


def _expectation(name: str, history: History, repro: Reproduction) -> list[Verdict]:
    kind, argument = parse_expectation(name)
    windows = list(history.windows)
    node_windows = [w for w in windows if any(t != BALANCER for t in w.targets)]
    last_end = max((w.end or w.start for w in windows), default=0.0)
    nodes = list(repro.topology.node_names)
    builders: dict[str, Callable[[], list[Verdict]]] = {
        "sticky": lambda: [check_sticky_sessions(history, faulted_nodes_grace_s=GRACE_S)],
        "moved": lambda: [check_sticky_sessions(history, faulted_nodes_grace_s=GRACE_S, min_moved=argument)],
        "failover_within": lambda: (
            [check_failover_within(history, w, argument) for w in node_windows]
            or [Verdict("failover_within", "unknown", {"windows": len(windows)}, "no fault window on a node")]
        ),
        "no_errors": lambda: [check_error_budget(history, outside_windows=0, inside_windows=0, grace_s=0)],
        "no_errors_outside_windows": lambda: [
            check_error_budget(history, outside_windows=0, inside_windows=1.0, grace_s=GRACE_S)
        ],
        "every_node_served": lambda: [check_every_node_served(history, nodes)],
        "serves_after_faults": lambda: [check_every_node_served(history, nodes, after=last_end)],
        "no_status": lambda: [check_no_status_after(history, argument, last_end)],
    }
    return builders[kind]()


def check_expectations(repro: Reproduction, history: History) -> list[Verdict]:
    """Pure: the verdicts a reproduction's expectations give over a history."""
    verdicts: list[Verdict] = []
    for name in repro.expectations:
        verdicts.extend(_expectation(name, history, repro))
    return verdicts


def run_reproduction(
    scenario: Any, repro: Reproduction, *, hold_s: float = 5.0, settle_requests: int = 50
) -> list[Verdict]:
    """Run `repro` in a ScenarioRun and return the verdicts (recorded for the evidence)."""
    validate_reproduction(repro)  # fail fast on a typo, before any container starts
    cluster = scenario.cluster(repro.topology, faults=repro.faults)
    load = scenario.load(cluster, repro.load)
    load.wait_for_steady_state(timeout=60, window_s=2.0, min_rps=1.0, max_error_rate=0.0)
    for fault in repro.faults:
        with scenario.fault(cluster, fault):
            hold(hold_s)
        load.wait_for_records(len(load.records()) + settle_requests, timeout=60)
    verdicts: list[Verdict] = scenario.judge(*check_expectations(repro, scenario.history(load)))
    return verdicts
