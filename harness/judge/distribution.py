"""The distribution checker: do sessions spread over nodes like the load factors say?

A goodness-of-fit test (Pearson's chi-square, `stats`) with its significance `alpha` stated in the verdict,
and a sample-size rule: with fewer sessions than the test needs to tell the expected shares from an
`alternative` (default: an even split) with the given power, the verdict is unknown, not valid.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.judge import stats
from harness.judge.bounds import validate_bound
from harness.judge.history import History
from harness.judge.verdict import Verdict, invalid, never_raises, unknown, valid


def _shares(name: str, factors: Mapping[str, float]) -> dict[str, float]:
    """Factors -> shares summing to 1; each factor a finite number >= 0, the sum positive."""
    if not isinstance(factors, Mapping):
        raise ValueError(f"{name}: expected a mapping of node name to load factor, got {factors!r}")
    checked = {node: validate_bound(f"{name}[{node!r}]", value) for node, value in factors.items()}
    total = sum(checked.values())
    if total <= 0:
        raise ValueError(f"{name}: load factors need a positive sum, got {dict(factors)}")
    return {node: value / total for node, value in checked.items()}


def check_distribution(
    history: History,
    expected: Mapping[str, float],
    *,
    alpha: float = 0.01,
    power: float = 0.8,
    alternative: Mapping[str, float] | None = None,
) -> Verdict:
    """Sessions spread over nodes like the `expected` load factors: Pearson's chi-square goodness-of-fit
    test at level `alpha` on the first node of each session (sessions, not requests, are the unit).

    Evidence: the test needs `sessions_needed` sessions, the least number at which it rejects the
    `alternative` shares (default: an even split over the expected nodes) with probability >= `power`;
    with fewer sessions the verdict is unknown. A session on a node expected to get none is invalid.
    """
    shares = _shares("expected", expected)
    positive = {node: share for node, share in shares.items() if share > 0}
    if len(positive) < 2:
        raise ValueError(
            f"expected: a distribution needs two or more nodes with a positive factor, got {dict(expected)}"
        )
    validate_bound("alpha", alpha, lo_open=True, hi=0.5)
    validate_bound("power", power, lo=alpha, lo_open=True, hi=0.999)
    wanted = _shares("alternative", alternative) if alternative is not None else {n: 1.0 for n in positive}
    if set(wanted) != set(positive):
        raise ValueError(f"alternative: needs the nodes {sorted(positive)}, got {sorted(wanted)}")
    even = sum(wanted.values())
    wanted = {node: wanted[node] / even for node in positive}
    needed = stats.sessions_needed(list(positive.values()), list(wanted.values()), alpha, power)
    return _distribution(history, shares, wanted, alpha, power, needed)


def first_nodes(history: History) -> dict[str, str]:
    """Session -> the node of its first answered request (the one that created it)."""
    firsts: dict[str, str] = {}
    for session, records in history.by_session().items():
        node = next(
            (
                r.node if r.node is not None else r.new_route
                for r in records
                if r.node is not None or r.new_route is not None
            ),
            None,
        )
        if node is not None:
            firsts[session] = node
    return firsts


@never_raises("distribution")
def _distribution(
    history: History, shares: dict[str, float], alternative: dict[str, float], alpha: float, power: float, needed: int
) -> Verdict:
    counts = {node: 0 for node in shares}
    for node in first_nodes(history).values():
        counts[node] = counts.get(node, 0) + 1
    total = sum(counts.values())
    rows = {
        node: {
            "sessions": count,
            "share": round(count / total, 4) if total else 0.0,
            "expected": round(shares.get(node, 0.0), 4),
        }
        for node, count in sorted(counts.items())
    }
    tested = [node for node in shares if shares[node] > 0]
    statistic = stats.chi_square([counts[n] for n in tested], [shares[n] for n in tested]) if total else 0.0
    p_value = stats.chi2_sf(statistic, len(tested) - 1) if total else 1.0
    details: dict[str, Any] = {
        "sessions": total,
        "sessions_needed": needed,
        "alpha": alpha,
        "power": power,
        "alternative": {n: round(s, 4) for n, s in alternative.items()},
        "chi_square": round(statistic, 4),
        "df": len(tested) - 1,
        "p_value": p_value,
        "per_node": rows,
    }
    name = "distribution"
    unexpected = sorted(node for node, count in counts.items() if count and shares.get(node, 0.0) == 0)
    if unexpected:
        return invalid(name, details, f"sessions on node(s) expected to get none: {', '.join(unexpected)}")
    if total < needed:
        return unknown(
            name,
            details,
            f"{total} session(s), need {needed} for a test at alpha={alpha:g} that "
            f"tells the alternative apart with power {power:g}",
        )
    text = ", ".join(f"{n} {r['share']:.3f}/{r['expected']:.3f}" for n, r in rows.items())
    if p_value < alpha:
        return invalid(
            name,
            details,
            f"{total} sessions do not fit the load factors (chi-square "
            f"{statistic:.2f}, p={p_value:.2g} < alpha={alpha:g}): {text}",
        )
    return valid(name, details, f"{total} sessions fit the load factors (p={p_value:.2g} >= alpha={alpha:g}): {text}")


def distribution_sessions_needed(
    expected: Mapping[str, float],
    *,
    alpha: float = 0.01,
    power: float = 0.8,
    alternative: Mapping[str, float] | None = None,
) -> int:
    """The sessions `check_distribution` needs with these arguments (plan a scenario's users by it)."""
    verdict = check_distribution(History([]), expected, alpha=alpha, power=power, alternative=alternative)
    return int(verdict.details["sessions_needed"])
