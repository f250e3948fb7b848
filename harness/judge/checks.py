"""Pure checkers: judge a recorded `History` (or a log text) and return a `Verdict`: valid, invalid, or
unknown when the record holds too little evidence to tell (Jepsen's three answers).

Arguments are checked at the call, before any history is read: a bound that is NaN, infinite or negative
(or otherwise out of range) raises ValueError naming the argument. While judging a checker never raises: an
unexpected exception becomes an invalid verdict carrying the exception text. Only the test asserts, e.g.
`assert all_valid(verdicts), format_verdicts(verdicts)`.

Missing evidence is never valid: each checker takes the minimum evidence it needs (sessions judged, moved
sessions, requests inside each fault window, sessions for a distribution) and answers unknown below it.
A violation found is invalid whatever the amount of evidence.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from harness.judge.bounds import validate_bound, validate_count
from harness.judge.distribution import (
    check_distribution,
    distribution_sessions_needed,
    first_nodes,
)
from harness.judge.history import FaultWindow, History, RequestRecord
from harness.judge.verdict import (
    OUTCOMES,
    Outcome,
    Verdict,
    all_valid,
    format_verdicts,
    invalid,
    never_raises,
    unknown,
    valid,
)

BALANCER_TARGET = "balancer"  # the window target of a fault on the balancer itself
MAX_LISTED = 30  # offenders listed in details; the count is always complete


def _brief(record: RequestRecord) -> dict[str, Any]:
    return {
        "t": round(record.t, 3),
        "user": record.user,
        "session": record.session,
        "route": record.route,
        "node": record.node,
        "status": record.status,
        "error": record.error,
    }


def _listed(items: list[Any]) -> list[Any]:
    return items[:MAX_LISTED]


# --- sticky sessions -----------------------------------------------------------------------------------


def check_sticky_sessions(
    history: History, *, faulted_nodes_grace_s: float = 5.0, min_sessions: int = 1, min_moved: int = 0
) -> Verdict:
    """No session changes node, unless it leaves a node that was faulted (the request overlaps a window
    whose targets include that node, extended by the grace), and then at most once per window. A window on
    the balancer alone (a restart loses its node table) covers every node: each session may move once in it.

    Evidence: at least `min_sessions` sessions with two served requests, and at least `min_moved` moves
    excused by a fault (give it where the fault must move sessions); below either the verdict is unknown.
    """
    grace = validate_bound("faulted_nodes_grace_s", faulted_nodes_grace_s)
    return _sticky(
        history, grace, validate_count("min_sessions", min_sessions, lo=1), validate_count("min_moved", min_moved)
    )


@never_raises("sticky_sessions")
def _sticky(history: History, grace_s: float, min_sessions: int, min_moved: int) -> Verdict:
    offenders: list[dict[str, Any]] = []
    excused = 0
    judged = 0
    for session, records in history.by_session().items():
        served = [r for r in records if r.node is not None]
        judged += len(served) > 1
        used: set[int] = set()
        for prev, cur in zip(served, served[1:]):
            if cur.node == prev.node:
                continue
            assert prev.node is not None
            reason = _excuse(history.windows, prev.node, cur, grace_s, used)
            if reason is None:
                excused += 1
                continue
            move = {"session": session, "user": cur.user, "t": round(cur.t, 3), "from": prev.node}
            offenders.append({**move, "to": cur.node, "reason": reason})
    details: dict[str, Any] = {
        "sessions_judged": judged,
        "min_sessions": min_sessions,
        "excused_moves": excused,
        "min_moved": min_moved,
        "offending_moves": len(offenders),
        "offenders": _listed(offenders),
    }
    name = "sticky_sessions"
    if offenders:
        sessions = len({o["session"] for o in offenders})
        return invalid(name, details, f"{len(offenders)} move(s) in {sessions} session(s) not explained by a fault")
    if judged < min_sessions:
        return unknown(name, details, f"{judged} session(s) with two served requests, need {min_sessions}")
    if excused < min_moved:
        return unknown(
            name,
            details,
            f"{excused} session move(s) excused by a fault, need {min_moved}: the fault moved no session as expected",
        )
    return valid(name, details, f"{judged} sessions stuck ({excused} excused fault moves)")


def covers_node(window: FaultWindow, node: str) -> bool:
    """The window excuses a move away from `node`: it targets the node, or the balancer alone."""
    return window.touches(node) or window.targets == (BALANCER_TARGET,)


def _excuse(
    windows: Iterable[FaultWindow], left: str, record: RequestRecord, grace_s: float, used: set[int]
) -> str | None:
    """None when a window on the left node explains the move (and marks it used), else the reason why not."""
    matching = [
        i for i, w in enumerate(windows) if covers_node(w, left) and w.overlaps(record.t, record.t_end, grace_s)
    ]
    if not matching:
        return f"no fault on {left} around the move"
    for index in matching:
        if index not in used:
            used.add(index)
            return None
    return f"moved again within fault window(s) {matching} on {left}"


# --- failover ------------------------------------------------------------------------------------------


def check_failover_within(history: History, window: FaultWindow, max_s: float, *, min_sessions: int = 1) -> Verdict:
    """Sessions last served by a faulted node (a node among the window's targets) before the window starts
    are served successfully (2xx/3xx, no error) by a node outside the targets within `max_s` seconds of the
    start, measured to the end of that first request. A failed reply from another node is no failover.

    Evidence: at least `min_sessions` such sessions sent a request after the start; below, unknown.
    """
    nodes = tuple(t for t in window.targets if t != BALANCER_TARGET)
    if not nodes:
        raise ValueError(f"window: a failover needs a faulted node among the targets, got {window.targets!r}")
    return _failover(
        history, window, nodes, validate_bound("max_s", max_s), validate_count("min_sessions", min_sessions, lo=1)
    )


@never_raises("failover_within")
def _failover(
    history: History, window: FaultWindow, nodes: tuple[str, ...], max_s: float, min_sessions: int
) -> Verdict:
    start = window.start
    times: dict[str, float] = {}
    stuck: list[dict[str, Any]] = []
    unobserved = 0
    for session, records in history.by_session().items():
        before = [r for r in records if r.t < start and r.node is not None]
        if not before or before[-1].node not in nodes:
            continue
        after = [r for r in records if r.t_end >= start]
        if not after:
            unobserved += 1
            continue
        moved = next((r for r in after if r.ok and r.node is not None and r.node not in nodes), None)
        if moved is None:
            stuck.append({"session": session, "user": after[0].user, "last": _brief(after[-1])})
        else:
            times[session] = round(moved.t_end - start, 3)
    measured = max(times.values()) if times else None
    details: dict[str, Any] = {
        "targets": list(nodes),
        "window_start": start,
        "max_s": max_s,
        "measured_max_s": measured,
        "per_session_s": dict(sorted(times.items(), key=lambda kv: -kv[1])[:MAX_LISTED]),
        "sessions_failed_over": len(times),
        "sessions_not_failed_over": len(stuck),
        "not_failed_over": _listed(stuck),
        "sessions_unobserved": unobserved,
        "min_sessions": min_sessions,
    }
    name, where = "failover_within", ",".join(nodes)
    if stuck:
        return invalid(name, details, f"{len(stuck)} session(s) of {where} never reached another node")
    if measured is not None and measured > max_s:
        return invalid(name, details, f"failover took {measured:.3f} s > {max_s:g} s")
    if len(times) < min_sessions:
        return unknown(
            name,
            details,
            f"{len(times)} session(s) of {where} sent a request after the fault started, need {min_sessions}",
        )
    return valid(name, details, f"{len(times)} sessions of {where} failed over in <= {measured:.3f} s")


# --- error budget --------------------------------------------------------------------------------------


def _budget(name: str, budget: object) -> int | float:
    """An int count (>= 0) or a float ratio in [0, 1] of failed requests allowed."""
    if isinstance(budget, int) and not isinstance(budget, bool):
        return validate_count(name, budget)
    if not isinstance(budget, float):
        raise ValueError(f"{name}: a budget is an int count or a float ratio in [0, 1], got {budget!r}")
    return validate_bound(name, budget, hi=1.0)


def _within(budget: int | float, failed: int, total: int) -> bool:
    if isinstance(budget, int):
        return failed <= budget
    return total == 0 or failed / total <= budget


def check_error_budget(
    history: History,
    *,
    outside_windows: int | float,
    inside_windows: int | float,
    grace_s: float,
    min_per_window: int = 1,
) -> Verdict:
    """Failed requests (status 0 or >= 500, or an error) within budget, counted apart inside fault windows
    (extended by `grace_s`) and outside. A budget is an int (most failures allowed) or a float (largest
    failed ratio).

    Evidence: some request at all, and at least `min_per_window` requests overlapping each fault window
    itself (the fault happened under load); below, unknown.
    """
    budgets = {
        "outside": _budget("outside_windows", outside_windows),
        "inside": _budget("inside_windows", inside_windows),
    }
    return _error_budget(
        history, budgets, validate_bound("grace_s", grace_s), validate_count("min_per_window", min_per_window)
    )


@never_raises("error_budget")
def _error_budget(history: History, budgets: dict[str, int | float], grace_s: float, min_per_window: int) -> Verdict:
    zones: dict[str, list[RequestRecord]] = {"inside": [], "outside": []}
    for record in history.records:
        inside = any(w.overlaps(record.t, record.t_end, grace_s) for w in history.windows)
        zones["inside" if inside else "outside"].append(record)
    details: dict[str, Any] = {}
    broken: list[str] = []
    for zone, budget in budgets.items():
        records = zones[zone]
        failed = [r for r in records if r.failed]
        ratio = len(failed) / len(records) if records else 0.0
        details[zone] = {"requests": len(records), "failed": len(failed), "ratio": round(ratio, 4), "budget": budget}
        details[f"failed_{zone}"] = _listed([_brief(r) for r in failed])
        if not _within(budget, len(failed), len(records)):
            broken.append(f"{len(failed)}/{len(records)} failed {zone} windows (budget {budget})")
    per_window = [sum(w.overlaps(r.t, r.t_end) for r in history.records) for w in history.windows]
    details["requests_per_window"] = per_window
    details["min_per_window"] = min_per_window
    short = [i for i, count in enumerate(per_window) if count < min_per_window]
    name = "error_budget"
    if broken:
        return invalid(name, details, "; ".join(broken))
    if not history.records:
        return unknown(name, details, "no requests recorded: nothing to judge")
    if short:
        return unknown(
            name,
            details,
            f"fault window(s) {short} overlap fewer than {min_per_window} request(s): the fault was not under load",
        )
    summary = f"outside {details['outside']['failed']} failed, inside {details['inside']['failed']} failed"
    return valid(name, details, summary)


# --- every node served, status after, log ---------------------------------------------------------------


def check_every_node_served(history: History, nodes: Iterable[str], *, after: float | None = None) -> Verdict:
    """Each named node answered at least one request successfully (2xx/3xx, no error), counting only the
    requests started at or after `after` when given (a node serves again after a fault healed).

    Evidence: some request in that span; none at all is unknown.
    """
    wanted = list(nodes)
    if not wanted:
        raise ValueError("nodes: no node names given")
    since = validate_bound("after", after) if after is not None else None
    return _every_node_served(history, wanted, since)


@never_raises("every_node_served")
def _every_node_served(history: History, wanted: list[str], after: float | None) -> Verdict:
    records = [r for r in history.records if after is None or r.t >= after]
    served = {name: 0 for name in wanted}
    for record in records:
        if record.ok and record.node in served:
            served[record.node] += 1
    missing = [name for name, count in served.items() if count == 0]
    details: dict[str, Any] = {
        "served": served,
        "missing": missing,
        "after": after,
        "requests": len(records),
        "seen_nodes": sorted({r.node for r in records if r.node is not None}),
    }
    name = "every_node_served"
    span = "" if after is None else f" at or after {after}"
    if not records:
        return unknown(name, details, f"no request started{span}: nothing to judge")
    if missing:
        return invalid(name, details, f"never served successfully{span}: {', '.join(missing)}")
    return valid(name, details, f"all {len(wanted)} nodes served{span}")


def check_no_status_after(history: History, status: int, t: float) -> Verdict:
    """No request that started at or after `t` got `status`. Evidence: some request then; else unknown."""
    code = int(validate_bound("status", status, integer=True, hi=599))
    return _no_status_after(history, code, validate_bound("t", t))


@never_raises("no_status_after")
def _no_status_after(history: History, status: int, t: float) -> Verdict:
    later = [r for r in history.records if r.t >= t]
    hits = [r for r in later if r.status == status]
    details: dict[str, Any] = {
        "status": status,
        "after": t,
        "requests_after": len(later),
        "hits": len(hits),
        "offenders": _listed([_brief(r) for r in hits]),
    }
    name = "no_status_after"
    if hits:
        summary = f"{len(hits)}/{len(later)} requests got {status}, first {hits[0].t - t:.3f} s after"
        return invalid(name, details, summary)
    if not later:
        return unknown(name, details, f"no request started at or after {t}: nothing to judge")
    return valid(name, details, f"none of {len(later)} requests got {status}")


@never_raises("log_free_of")
def check_log_free_of(text: str, pattern: str | re.Pattern[str]) -> Verdict:
    """No line of `text` matches the regular expression `pattern` (re.search per line); an empty text is
    unknown (a log that was not collected proves nothing). A bad pattern is an invalid verdict."""
    regex = re.compile(pattern) if isinstance(pattern, str) else pattern
    lines = text.splitlines()
    hits = [{"line": number, "text": line[:300]} for number, line in enumerate(lines, start=1) if regex.search(line)]
    details: dict[str, Any] = {
        "pattern": regex.pattern,
        "lines": len(lines),
        "count": len(hits),
        "matches": _listed(hits),
    }
    name = "log_free_of"
    if hits:
        return invalid(name, details, f"{len(hits)} line(s) match {regex.pattern!r}, first at line {hits[0]['line']}")
    if not lines:
        return unknown(name, details, "empty log: nothing to judge")
    return valid(name, details, f"no line matches {regex.pattern!r}")


__all__ = [
    "OUTCOMES",
    "Outcome",
    "Verdict",
    "all_valid",
    "check_distribution",
    "check_error_budget",
    "check_every_node_served",
    "check_failover_within",
    "check_log_free_of",
    "check_no_status_after",
    "check_sticky_sessions",
    "covers_node",
    "distribution_sessions_needed",
    "first_nodes",
    "format_verdicts",
]
