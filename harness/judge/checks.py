"""Pure checkers: judge a recorded `History` (or a log text) and return a `Verdict`.

Checkers never raise: an unexpected exception (or a bad argument) becomes an invalid verdict carrying the
exception text. Only the test asserts, e.g. `assert verdict.valid, verdict`.

A checker with nothing to judge (no session, no request after the given time, no new session) returns an
invalid verdict saying so: a check that passes on an empty record hides a broken load or a broken cookie.
"""

from __future__ import annotations

import functools
import json
import re
import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ParamSpec

from harness.judge.history import FaultWindow, History, RequestRecord

BALANCER_TARGET = "balancer"  # the window target of a fault on the balancer itself
MAX_LISTED = 30  # offenders listed in details; the count is always complete
_DETAIL_CHARS = 1500  # per detail in str(verdict)


@dataclass(frozen=True)
class Verdict:
    name: str
    valid: bool
    details: dict[str, Any] = field(default_factory=dict)
    summary: str = ""

    def __str__(self) -> str:
        lines = [f"[{'VALID' if self.valid else 'INVALID'}] {self.name}: {self.summary}"]
        for key, value in self.details.items():
            text = json.dumps(value, default=str) if not isinstance(value, str) else value
            if len(text) > _DETAIL_CHARS:
                text = text[:_DETAIL_CHARS] + f"... ({len(text)} chars)"
            lines.append(f"    {key}: {text}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "valid": self.valid, "summary": self.summary, "details": self.details}


def all_valid(verdicts: Iterable[Verdict]) -> bool:
    return all(v.valid for v in verdicts)


def format_verdicts(verdicts: Iterable[Verdict]) -> str:
    """Every verdict, invalid ones first, for one assertion message."""
    return "\n".join(str(v) for v in sorted(verdicts, key=lambda v: v.valid))


P = ParamSpec("P")


def _never_raises(name: str) -> Callable[[Callable[P, Verdict]], Callable[P, Verdict]]:
    def decorate(check: Callable[P, Verdict]) -> Callable[P, Verdict]:
        @functools.wraps(check)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> Verdict:
            try:
                return check(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - a checker reports, the test asserts
                return Verdict(
                    name,
                    False,
                    {"exception": repr(exc), "traceback": traceback.format_exc(limit=5)},
                    f"checker failed: {type(exc).__name__}: {exc}",
                )

        return guarded

    return decorate


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


@_never_raises("sticky_sessions")
def check_sticky_sessions(history: History, *, faulted_nodes_grace_s: float = 5.0) -> Verdict:
    """No session changes node, unless it leaves a node that was faulted (the request overlaps a window
    targeting that node, extended by the grace), and then at most once per window. A window targeting the
    balancer (a restart loses its node table) covers every node: each session may move once in it."""
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
            reason = _excuse(history.windows, prev.node, cur, faulted_nodes_grace_s, used)
            if reason is None:
                excused += 1
                continue
            move = {"session": session, "user": cur.user, "t": round(cur.t, 3), "from": prev.node}
            offenders.append({**move, "to": cur.node, "reason": reason})
    details: dict[str, Any] = {
        "sessions_judged": judged,
        "excused_moves": excused,
        "offending_moves": len(offenders),
        "offenders": _listed(offenders),
    }
    if judged == 0:
        return Verdict("sticky_sessions", False, details, "no session with two served requests: nothing to judge")
    if offenders:
        sessions = len({o["session"] for o in offenders})
        summary = f"{len(offenders)} move(s) in {sessions} session(s) not explained by a fault"
        return Verdict("sticky_sessions", False, details, summary)
    return Verdict("sticky_sessions", True, details, f"{judged} sessions stuck ({excused} excused fault moves)")


def _excuse(
    windows: Iterable[FaultWindow], left: str, record: RequestRecord, grace_s: float, used: set[int]
) -> str | None:
    """None when a window on the left node explains the move (and marks it used), else the reason why not."""
    matching = [i for i, w in enumerate(windows)
                if w.target in (left, BALANCER_TARGET) and w.overlaps(record.t, record.t_end, grace_s)]
    if not matching:
        return f"no fault on {left} around the move"
    for index in matching:
        if index not in used:
            used.add(index)
            return None
    return f"moved again within fault window(s) {matching} on {left}"


@_never_raises("failover_within")
def check_failover_within(history: History, window: FaultWindow, max_s: float) -> Verdict:
    """Sessions last served by the faulted node before the window starts are served (successfully) by another
    node within `max_s` seconds of the start, measured to the end of that first request."""
    target, start = window.target, window.start
    times: dict[str, float] = {}
    stuck: list[dict[str, Any]] = []
    unobserved = 0
    for session, records in history.by_session().items():
        before = [r for r in records if r.t < start and r.node is not None]
        if not before or before[-1].node != target:
            continue
        after = [r for r in records if r.t_end >= start]
        if not after:
            unobserved += 1
            continue
        moved = next((r for r in after if r.ok and r.node not in (None, target)), None)
        if moved is None:
            stuck.append({"session": session, "user": after[0].user, "last": _brief(after[-1])})
        else:
            times[session] = round(moved.t_end - start, 3)
    measured = max(times.values()) if times else None
    details: dict[str, Any] = {
        "target": target,
        "window_start": start,
        "max_s": max_s,
        "measured_max_s": measured,
        "per_session_s": dict(sorted(times.items(), key=lambda kv: -kv[1])[:MAX_LISTED]),
        "sessions_failed_over": len(times),
        "sessions_not_failed_over": len(stuck),
        "not_failed_over": _listed(stuck),
        "sessions_unobserved": unobserved,
    }
    name = "failover_within"
    if not times and not stuck:
        return Verdict(name, False, details, f"no session of {target} sent a request after the fault started")
    if stuck:
        return Verdict(name, False, details, f"{len(stuck)} session(s) of {target} never reached another node")
    assert measured is not None
    if measured > max_s:
        return Verdict(name, False, details, f"failover took {measured:.3f} s > {max_s} s")
    return Verdict(name, True, details, f"{len(times)} sessions of {target} failed over in <= {measured:.3f} s")


def _budget_ok(budget: int | float, failed: int, total: int) -> bool:
    if isinstance(budget, bool) or not isinstance(budget, (int, float)) or budget < 0:
        raise ValueError(f"a budget is an int count or a float ratio in [0, 1], got {budget!r}")
    if isinstance(budget, int):
        return failed <= budget
    if budget > 1:
        raise ValueError(f"a float budget is a ratio in [0, 1], got {budget!r}")
    return total == 0 or failed / total <= budget


@_never_raises("error_budget")
def check_error_budget(
    history: History, *, outside_windows: int | float, inside_windows: int | float, grace_s: float
) -> Verdict:
    """Failed requests (status 0 or >= 500) within budget, counted apart inside fault windows (extended by
    `grace_s`) and outside. A budget is an int (most failures allowed) or a float (largest failed ratio)."""
    zones: dict[str, list[RequestRecord]] = {"inside": [], "outside": []}
    for record in history.records:
        inside = any(w.overlaps(record.t, record.t_end, grace_s) for w in history.windows)
        zones["inside" if inside else "outside"].append(record)
    details: dict[str, Any] = {}
    broken: list[str] = []
    for zone, budget in (("outside", outside_windows), ("inside", inside_windows)):
        records = zones[zone]
        failed = [r for r in records if r.failed]
        ratio = len(failed) / len(records) if records else 0.0
        details[zone] = {"requests": len(records), "failed": len(failed), "ratio": round(ratio, 4), "budget": budget}
        details[f"failed_{zone}"] = _listed([_brief(r) for r in failed])
        if not _budget_ok(budget, len(failed), len(records)):
            broken.append(f"{len(failed)}/{len(records)} failed {zone} windows (budget {budget})")
    if not history.records:
        return Verdict("error_budget", False, details, "no requests recorded: nothing to judge")
    if broken:
        return Verdict("error_budget", False, details, "; ".join(broken))
    summary = f"outside {details['outside']['failed']} failed, inside {details['inside']['failed']} failed"
    return Verdict("error_budget", True, details, summary)


@_never_raises("distribution")
def check_distribution(history: History, expected: Mapping[str, float], tolerance: float) -> Verdict:
    """The share of NEW sessions created by each node is within `tolerance` (absolute share) of its share of
    the expected load factors. Nodes creating sessions but missing from `expected` expect 0."""
    if any(v < 0 for v in expected.values()) or sum(expected.values()) <= 0:
        raise ValueError(f"expected load factors must be >= 0 with a positive sum, got {dict(expected)}")
    counts: dict[str, int] = {name: 0 for name in expected}
    for record in history.records:
        if record.is_new_session:
            node = record.node if record.node is not None else record.new_route
            assert node is not None
            counts[node] = counts.get(node, 0) + 1
    total = sum(counts.values())
    factor_sum = sum(expected.values())
    rows: dict[str, dict[str, float]] = {}
    for node, count in sorted(counts.items()):
        share = count / total if total else 0.0
        want = expected.get(node, 0.0) / factor_sum
        rows[node] = {"new_sessions": count, "share": round(share, 4), "expected": round(want, 4)}
    off = {n: r for n, r in rows.items() if abs(r["share"] - r["expected"]) > tolerance}
    details: dict[str, Any] = {"new_sessions": total, "tolerance": tolerance, "per_node": rows}
    if total == 0:
        return Verdict("distribution", False, details, "no new session recorded: nothing to judge")
    if off:
        text = ", ".join(f"{n} {r['share']:.3f} vs {r['expected']:.3f}" for n, r in off.items())
        return Verdict("distribution", False, details, f"share off by more than {tolerance}: {text}")
    return Verdict("distribution", True, details, f"{total} new sessions within {tolerance} of the load factors")


@_never_raises("every_node_served")
def check_every_node_served(history: History, nodes: Iterable[str]) -> Verdict:
    """Each named node answered at least one request successfully."""
    wanted = list(nodes)
    if not wanted:
        raise ValueError("no node names given")
    served = {name: 0 for name in wanted}
    for record in history.records:
        if record.ok and record.node in served:
            served[record.node] += 1
    missing = [name for name, count in served.items() if count == 0]
    details: dict[str, Any] = {"served": served, "missing": missing, "seen_nodes": history.nodes()}
    if missing:
        return Verdict("every_node_served", False, details, f"never served successfully: {', '.join(missing)}")
    return Verdict("every_node_served", True, details, f"all {len(wanted)} nodes served")


@_never_raises("no_status_after")
def check_no_status_after(history: History, status: int, t: float) -> Verdict:
    """No request that started at or after `t` got `status`."""
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
    if not later:
        return Verdict(name, False, details, f"no request started at or after {t}: nothing to judge")
    if hits:
        summary = f"{len(hits)}/{len(later)} requests got {status}, first {hits[0].t - t:.3f} s after"
        return Verdict(name, False, details, summary)
    return Verdict(name, True, details, f"none of {len(later)} requests got {status}")


@_never_raises("log_free_of")
def check_log_free_of(text: str, pattern: str | re.Pattern[str]) -> Verdict:
    """No line of `text` matches the regular expression `pattern` (re.search per line)."""
    regex = re.compile(pattern) if isinstance(pattern, str) else pattern
    hits = [
        {"line": number, "text": line[:300]}
        for number, line in enumerate(text.splitlines(), start=1)
        if regex.search(line)
    ]
    details: dict[str, Any] = {"pattern": regex.pattern, "count": len(hits), "matches": _listed(hits)}
    if hits:
        summary = f"{len(hits)} line(s) match {regex.pattern!r}, first at line {hits[0]['line']}"
        return Verdict("log_free_of", False, details, summary)
    return Verdict("log_free_of", True, details, f"no line matches {regex.pattern!r}")


__all__ = [
    "Verdict",
    "all_valid",
    "format_verdicts",
    "check_sticky_sessions",
    "check_failover_within",
    "check_error_budget",
    "check_distribution",
    "check_every_node_served",
    "check_no_status_after",
    "check_log_free_of",
]
