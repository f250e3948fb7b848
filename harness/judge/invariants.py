"""Invariants over the balancer's sampled view (harness.judge.samples) and the request history. Pure checkers
in the style of harness.judge.checks: bounds are checked at the call (ValueError), judging never raises, and
missing evidence is unknown, never valid.

- `check_served_by_registered`: every successful request was answered by a node the balancer had registered,
  up, with the request's context ENABLED (DISABLED for a sticky request: existing sessions stay), judged from
  the nearest poll that ended before the request started and the nearest that started after it ended; a
  violation only when both say the node could not serve (one that says it could: ambiguous, excused).
- `check_converges_within`: after the last fault window closed, the view reaches the expected state (every
  node registered, up, each of its contexts in its status) within `max_s` and stays there to the last poll.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.judge.bounds import validate_bound, validate_count
from harness.judge.history import FaultWindow, History
from harness.judge.samples import SERVING, BalancerSample
from harness.judge.verdict import Verdict, invalid, never_raises, unknown, valid

MAX_LISTED = 30
# httpd: a child killed by a signal (AH00051 with a core, AH00052 without), a child's fatal error (AH00050);
# a segfault reported by a shell or the kernel; a JVM crash (Undertow, WildFly).
CHILD_CRASH = r"AH0005[012]|exit\ssignal|Segmentation\sfault|A\sfatal\serror\shas\sbeen\sdetected"


# --- served by a registered node -----------------------------------------------------------------------


def check_served_by_registered(history: History, samples: Sequence[BalancerSample], *, min_requests: int = 10,
                               min_samples: int = 2) -> Verdict:  # fmt: skip
    """Successful requests were answered by nodes the balancer's view let serve them (module docstring).

    Evidence: at least `min_samples` successful polls during the requests' span and `min_requests`
    successful requests with a node judged from both neighbouring polls; below, unknown."""
    least = validate_count("min_requests", min_requests, lo=1)
    return _served(history, list(samples), least, validate_count("min_samples", min_samples, lo=1))


@never_raises("served_by_registered")
def _served(history: History, samples: list[BalancerSample], min_requests: int, min_samples: int) -> Verdict:
    polls = sorted(samples, key=lambda s: s.t_start)
    ends, starts = [s.t_end for s in polls], [s.t_start for s in polls]
    served = [r for r in history.records if r.ok and r.node is not None]
    span = (min(r.t for r in served), max(r.t_end for r in served)) if served else (0.0, 0.0)
    during = sum(s.ok and s.t_start <= span[1] and s.t_end >= span[0] for s in polls)
    judged = ambiguous = unjudged = sticky_disabled = 0
    offenders: list[dict[str, Any]] = []
    for record in served:
        assert record.node is not None
        i, j = bisect.bisect_right(ends, record.t) - 1, bisect.bisect_left(starts, record.t_end)
        before, after = (polls[i] if i >= 0 else None), (polls[j] if j < len(polls) else None)
        if before is None or after is None or not before.ok or not after.ok:
            unjudged += 1
            continue
        sticky = record.route == record.node
        views = [s.view_of(record.node, record.path, sticky) for s in (before, after)]
        judged += 1
        if SERVING in views:
            ambiguous += views[0] != views[1]
            sticky_disabled += sticky and any(s.view_of(record.node, record.path) != SERVING for s in (before, after))
            continue
        offenders.append({"t": round(record.t, 3), "t_end": round(record.t_end, 3), "node": record.node,
                          "path": record.path, "user": record.user, "status": record.status,
                          "before": [round(before.t_end, 3), views[0]],
                          "after": [round(after.t_start, 3), views[1]]})  # fmt: skip
    details: dict[str, Any] = {
        "requests_ok": len(served),
        "requests_judged": judged,
        "requests_unjudged": unjudged,
        "ambiguous_excused": ambiguous,
        "sticky_on_disabled": sticky_disabled,
        "samples": len(polls),
        "samples_during_load": during,
        "failed_samples": sum(not s.ok for s in polls),
        "violations": len(offenders),
        "offenders": offenders[:MAX_LISTED],
    }
    name = "served_by_registered"
    if offenders:
        first = offenders[0]
        summary = f"{len(offenders)} request(s) served by a node the balancer did not route to; first {first['node']}"
        return invalid(name, details, f"{summary} at {first['t']} ({first['before'][1]} before and after)")
    if during < min_samples:
        return unknown(name, details, f"{during} balancer sample(s) during the load, need {min_samples}")
    if judged < min_requests:
        return unknown(name, details, f"{judged} request(s) judged between two samples, need {min_requests}")
    return valid(name, details, f"{judged} requests served by registered nodes ({ambiguous} ambiguous, excused)")


# --- convergence after the last heal -------------------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    """The state a node should reach in the balancer's view: registered, `up` (None: either), contexts."""

    up: bool | None = True
    contexts: Mapping[str, str] = field(default_factory=dict)


def expected_enabled(nodes: Mapping[str, Iterable[str]]) -> dict[str, Expected]:
    """Every node up with each of its context paths ENABLED: a healthy cluster's view."""
    return {name: Expected(True, {path: "ENABLED" for path in paths}) for name, paths in nodes.items()}


def differences(sample: BalancerSample, expected: Mapping[str, Expected]) -> list[str]:
    """What a successful sample shows that differs from `expected` (empty: it matches). A node whose up/down
    the flavor cannot tell (None) is not counted against it."""
    seen = sample.nodes or {}
    found = []
    for name, want in expected.items():
        node = seen.get(name)
        if node is None:
            found.append(f"{name} not registered")
            continue
        if want.up is not None and node.up is not None and node.up != want.up:
            found.append(f"{name} {'up' if node.up else 'down'}")
        for path, status in want.contexts.items():
            actual = node.contexts.get(path, "absent")
            if actual != status:
                found.append(f"{name}{path} {actual}")
    return found


def check_converges_within(samples: Sequence[BalancerSample], windows: Sequence[FaultWindow],
                           expected: Mapping[str, Expected], max_s: float) -> Verdict:  # fmt: skip
    """After the last window closed, a poll matches `expected` within `max_s` s (its end, from the close) and
    every later successful poll does too. Evidence: a closed window, a successful poll after it, and (while
    not converged) polls up to `max_s` after it; below, unknown."""
    if not expected:
        raise ValueError("expected: no node named")
    return _converges(list(samples), list(windows), dict(expected), validate_bound("max_s", max_s))


@never_raises("converges_within")
def _converges(
    samples: list[BalancerSample], windows: list[FaultWindow], expected: dict[str, Expected], max_s: float
) -> Verdict:
    name = f"converges_within:{max_s:g}"
    details: dict[str, Any] = {"max_s": max_s, "windows": len(windows), "expected": sorted(expected)}
    if not windows or any(w.end is None for w in windows):
        open_ = sum(w.end is None for w in windows)
        return unknown(name, details, f"no fault window closed ({len(windows)} windows, {open_} open)")
    healed = max(w.end for w in windows if w.end is not None)
    after = sorted((s for s in samples if s.t_start >= healed), key=lambda s: s.t_start)
    polls = [s for s in after if s.ok]
    details.update(healed_at=healed, samples_after=len(after), failed_after=len(after) - len(polls))
    if not polls:
        return unknown(name, details, "no successful balancer sample after the last window closed")
    misses = [differences(s, expected) for s in polls]
    bad = [i for i, m in enumerate(misses) if m]
    last = polls[-1]
    details["last_sample"] = {"t_start": round(last.t_start, 3), "seen": last.summary(), "differs": misses[-1]}
    first_ok = next((i for i, m in enumerate(misses) if not m), None)
    details["first_match_s"] = None if first_ok is None else round(polls[first_ok].t_end - healed, 3)
    if bad and bad[-1] == len(polls) - 1:
        if last.t_start - healed < max_s:
            return unknown(name, details, f"not converged yet when sampling stopped {last.t_start - healed:.2f} s "
                           f"after the heal (bound {max_s:g} s): {', '.join(misses[-1])}")  # fmt: skip
        return invalid(name, details, f"not converged {last.t_start - healed:.2f} s after the last heal; last "
                       f"sample: {', '.join(misses[-1])}")  # fmt: skip
    settled = polls[bad[-1] + 1] if bad else polls[0]
    measured = settled.t_end - healed
    details["converged_s"] = round(measured, 3)
    if bad and first_ok is not None and first_ok < bad[-1]:
        lapse = polls[bad[-1]]
        details["relapse"] = {"t_start": round(lapse.t_start, 3), "differs": misses[bad[-1]]}
    if measured > max_s:
        again = " (it matched, then left the state again)" if "relapse" in details else ""
        return invalid(name, details, f"converged {measured:.2f} s after the last heal > {max_s:g} s{again}")
    return valid(name, details, f"converged {measured:.2f} s after the last heal, stayed to the end")


__all__ = [
    "CHILD_CRASH",
    "Expected",
    "check_converges_within",
    "check_served_by_registered",
    "differences",
    "expected_enabled",
]
