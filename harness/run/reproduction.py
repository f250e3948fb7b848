"""The reproduction runner: a field bug written as a `Reproduction` record, run as a scenario.

Steps: start the topology, start the load and wait for a steady state, then each fault in turn inside its
scoped block (held for `hold_s` while load flows), then more load after healing; finally the named
expectations are turned into checker verdicts over the recorded history.

Expectation names (the `expectations` field of a Reproduction):
    sticky                    no session changes node unless its node was faulted (then once)
    failover_within:<s>       sessions of each faulted node served elsewhere within <s> seconds
    no_errors                 no failed request at all (status 0 or >= 500)
    no_errors_outside_windows no failed request outside fault windows (plus a 2 s grace)
    every_node_served         every node of the topology served requests
    no_status:<code>          no reply with this status after the last window closed
"""

from __future__ import annotations

from typing import Any, Callable

from harness.judge.checks import (Verdict, check_error_budget, check_every_node_served, check_failover_within,
                            check_no_status_after, check_sticky_sessions)
from harness.judge.history import History
from harness.spec.topology import Reproduction
from harness.machinery.waiting import hold

GRACE_S = 2.0


class UnknownExpectation(ValueError):
    pass


ARGUMENTS: dict[str, Any] = {"sticky": None, "failover_within": float, "no_errors": None,
                             "no_errors_outside_windows": None, "every_node_served": None, "no_status": int}


def parse_expectation(name: str) -> tuple[str, Any]:
    """(kind, argument) of an expectation name, or UnknownExpectation naming the accepted forms."""
    kind, _, text = name.partition(":")
    if kind not in ARGUMENTS:
        raise UnknownExpectation(f"expectation {name!r}: accepted names are {', '.join(ARGUMENTS)}")
    convert = ARGUMENTS[kind]
    if convert is None:
        if text:
            raise UnknownExpectation(f"expectation {name!r}: {kind} takes no argument")
        return kind, None
    try:
        return kind, convert(text)
    except ValueError:
        raise UnknownExpectation(f"expectation {name!r}: {kind} needs a {convert.__name__} argument, "
                                 f"as in {kind}:10") from None


def _expectation(name: str, history: History, repro: Reproduction) -> list[Verdict]:
    kind, argument = parse_expectation(name)
    windows = list(history.windows)
    last_end = max((w.end or w.start for w in windows), default=0.0)
    builders: dict[str, Callable[[], list[Verdict]]] = {
        "sticky": lambda: [check_sticky_sessions(history, faulted_nodes_grace_s=GRACE_S)],
        "failover_within": lambda: [check_failover_within(history, w, argument) for w in windows],
        "no_errors": lambda: [check_error_budget(history, outside_windows=0, inside_windows=0, grace_s=0)],
        "no_errors_outside_windows": lambda: [check_error_budget(history, outside_windows=0,
                                                                 inside_windows=1.0, grace_s=GRACE_S)],
        "every_node_served": lambda: [check_every_node_served(history, list(repro.topology.node_names))],
        "no_status": lambda: [check_no_status_after(history, argument, last_end)],
    }
    return builders[kind]()


def check_expectations(repro: Reproduction, history: History) -> list[Verdict]:
    """Pure: the verdicts a reproduction's expectations give over a history."""
    verdicts: list[Verdict] = []
    for name in repro.expectations:
        verdicts.extend(_expectation(name, history, repro))
    return verdicts


def run_reproduction(scenario: Any, repro: Reproduction, *, hold_s: float = 5.0,
                     settle_requests: int = 50) -> list[Verdict]:
    """Run `repro` in a ScenarioRun and return the verdicts (recorded for the evidence)."""
    for name in repro.expectations:  # fail fast on a typo, before any container starts
        parse_expectation(name)
    cluster = scenario.cluster(repro.topology, faults=repro.faults)
    load = scenario.load(cluster, repro.load)
    load.wait_for_steady_state(timeout=60, window_s=2.0, min_rps=1.0, max_error_rate=0.0)
    for fault in repro.faults:
        with scenario.fault(cluster, fault):
            hold(hold_s)
        load.wait_for_records(len(load.records()) + settle_requests, timeout=60)
    return scenario.judge(*check_expectations(repro, scenario.history(load)))
