"""Expectation names (harness.descriptions.expectations) turned into checker verdicts. Pure: the history, the
balancer snapshot and the logs are handed in (each only fetched when a name looks at it).

History names call the judge's checkers (harness.judge.checks); state names judge one `BalancerState`; log
names run `check_log_free_of` over the balancer's log texts; sample names judge the balancer's sampled view
(harness.judge.invariants; `sample_verdict`, handed the samples by the final checks). A name that cannot be
judged (no snapshot, no log, no samples) is an unknown verdict, never valid.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from harness.descriptions.expectations import HISTORY, LOG, NODE, SAMPLES, STATE, looks_at, parse_expectation
from harness.descriptions.faults import BALANCER
from harness.judge.backend_reuse import check_backend_reuse
from harness.judge.checks import (
    Verdict,
    check_error_budget,
    check_every_node_served,
    check_failover_within,
    check_log_free_of,
    check_no_status_after,
    check_sticky_sessions,
)
from harness.judge.history import FaultWindow, History
from harness.judge.invariants import (
    CHILD_CRASH,
    Expected,
    check_converges_within,
    check_served_by_registered,
)
from harness.judge.samples import BalancerSample
from harness.machinery.contracts import BalancerState

GRACE_S = 2.0


def history_verdicts(kind: str, argument: Any, history: History, nodes: Sequence[str]) -> list[Verdict]:
    """The verdicts of one history expectation (failover_within: one per window on a node)."""
    windows = list(history.windows)
    node_windows = [w for w in windows if any(t != BALANCER for t in w.targets)]
    last_end = max((w.end or w.start for w in windows), default=0.0)
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


def state_verdict(kind: str, argument: Any, state: BalancerState) -> Verdict:
    """One state expectation over one snapshot."""
    node = argument if isinstance(argument, str) else argument[0]
    name = f"{kind}:{node}"
    seen = state.node(node)
    details: dict[str, Any] = {"node": node, "balancer": state.summary()}
    if kind == "not_registered":
        return Verdict(name, seen is None, details, f"{node} {'not ' if seen is None else ''}registered")
    if seen is None:
        return Verdict(name, "invalid", details, f"{node} is not registered with the balancer")
    if kind == "registered":
        return Verdict(name, "valid", details, f"{node} registered")
    if kind in ("node_up", "node_down"):
        if seen.up is None:
            return Verdict(name, "unknown", details, "this balancer flavor does not say whether a node is up")
        wanted = kind == "node_up"
        return Verdict(name, seen.up is wanted, details, f"{node} is {'up' if seen.up else 'down (NOTOK)'}")
    if kind == "context":
        _, path, status = argument
        actual = seen.contexts.get(path, "absent")
        details.update(path=path, wanted=status, actual=actual)
        return Verdict(f"{name}{path}", actual == status, details, f"context {path} of {node} is {actual}")
    load = argument[1]
    details.update(wanted=load, actual=seen.load)
    if seen.load is None:
        return Verdict(name, "unknown", details, "this balancer flavor does not report a node's load")
    return Verdict(name, seen.load == load, details, f"{node} has load {seen.load} (wanted {load})")


def log_verdict(pattern: str, logs: Mapping[str, str], name: str = "") -> Verdict:
    """No line of the balancer's logs matches; no log at all is unknown. `name`: the verdict's, if not
    log_free_of's."""
    text = "\n".join(logs.values())
    verdict = check_log_free_of(text, pattern)
    details = {**verdict.details, "files": sorted(logs)}
    return Verdict(name or verdict.name, verdict.outcome, details, verdict.summary)


def sample_verdict(
    kind: str,
    argument: Any,
    samples: Sequence[BalancerSample],
    *,
    history: History | None,
    windows: Sequence[FaultWindow],
    expected: Mapping[str, Expected],
) -> Verdict:
    """One expectation over the balancer's samples (served_by_registered also over the history)."""
    if kind == "served_by_registered":
        if history is None:
            return Verdict(kind, "unknown", {}, "no load: no request history")
        return check_served_by_registered(history, samples)
    return check_converges_within(samples, windows, expected, argument)


def judge_names(
    names: Sequence[str],
    *,
    nodes: Sequence[str],
    history: Callable[[], History | None],
    state: Callable[[], BalancerState],
    logs: Callable[[], Mapping[str, str]],
    node_http: Callable[[str], Mapping[str, Any] | None] = lambda _node: None,
) -> list[Verdict]:
    """Every name's verdicts, in order. `history` None (no load): history names are unknown; a snapshot or log
    that cannot be read makes its names unknown, with the error. `node_http(node)` is the node's own HTTP
    counters (None when its flavor keeps none)."""
    fetched: dict[str, Any] = {}

    def get(what: str, fetch: Callable[[], Any]) -> Any:
        if what not in fetched:
            try:
                fetched[what] = fetch()
            except Exception as exc:
                fetched[what] = exc
        return fetched[what]

    verdicts: list[Verdict] = []
    for name in names:
        kind, argument = parse_expectation(name)
        source = looks_at(kind)
        if source == NODE:
            node, ratio = argument
            counters = get(f"node {node}", lambda: node_http(node))
            if isinstance(counters, Exception):
                verdicts.append(
                    Verdict(name, "unknown", {"error": str(counters)}, f"could not read {node}: {counters!r}")
                )
            else:
                verdicts.append(check_backend_reuse(node, counters, ratio))
            continue
        if source == SAMPLES:
            why = "the balancer's samples are judged in the final checks only"
            verdicts.append(Verdict(name, "unknown", {}, why))
            continue
        seen = get(source, {HISTORY: history, STATE: state, LOG: logs}[source])
        if isinstance(seen, Exception) or seen is None:
            why = f"could not read the {source}: {seen!r}" if seen is not None else "no load: no request history"
            verdicts.append(Verdict(name, "unknown", {"error": str(seen)}, why))
        elif source == HISTORY:
            verdicts.extend(history_verdicts(kind, argument, seen, nodes))
        elif source == STATE:
            verdicts.append(state_verdict(kind, argument, seen))
        elif kind == "no_child_crash":
            verdicts.append(log_verdict(CHILD_CRASH, seen, kind))
        else:
            verdicts.append(log_verdict(argument, seen))
    return verdicts


def labelled(prefix: str, verdicts: Sequence[Verdict]) -> list[Verdict]:
    """The same verdicts named "PREFIX NAME" (the step or run they belong to)."""
    return [Verdict(f"{prefix} {v.name}", v.outcome, v.details, v.summary) for v in verdicts]


def outcome_of(verdicts: Sequence[Verdict]) -> str:
    """valid when every verdict is (and there is one), invalid when any is, else unknown."""
    if any(v.invalid for v in verdicts):
        return "invalid"
    if verdicts and all(v.valid for v in verdicts):
        return "valid"
    return "unknown"


__all__ = [
    "GRACE_S",
    "history_verdicts",
    "judge_names",
    "labelled",
    "log_verdict",
    "outcome_of",
    "sample_verdict",
    "state_verdict",
]
