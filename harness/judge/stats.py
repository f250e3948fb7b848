"""Goodness-of-fit statistics for the distribution checker, standard library only.

Pearson's chi-square test: with observed counts O_i of n sessions and expected shares p_i, the statistic
X² = Σ (O_i - n p_i)² / (n p_i) follows a chi-square law with k - 1 degrees of freedom when the shares hold;
its p-value is the regularized upper incomplete gamma Q((k-1)/2, X²/2).

Sample size: when the true shares are q_i instead, X² follows a noncentral chi-square law with noncentrality
λ = n w², w² = Σ (q_i - p_i)² / p_i (Cohen's effect size). `sessions_needed` is the least n at which the test
at level alpha rejects q with probability >= power.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

_EPS = 1e-15
_MAX_TERMS = 100_000


def gamma_q(a: float, x: float) -> float:
    """Q(a, x) = Γ(a, x) / Γ(a), the regularized upper incomplete gamma function (a > 0, x >= 0)."""
    if x <= 0:
        return 1.0
    log_prefix = a * math.log(x) - x - math.lgamma(a)
    if x < a + 1:
        return 1.0 - _lower_series(a, x, log_prefix)
    return _upper_fraction(a, x, log_prefix)


def _lower_series(a: float, x: float, log_prefix: float) -> float:
    """P(a, x) by its power series (converges fast for x < a + 1)."""
    term = total = 1.0 / a
    k = a
    for _ in range(_MAX_TERMS):
        k += 1
        term *= x / k
        total += term
        if abs(term) < abs(total) * _EPS:
            break
    return total * math.exp(log_prefix)


def _upper_fraction(a: float, x: float, log_prefix: float) -> float:
    """Q(a, x) by its continued fraction, modified Lentz (converges fast for x >= a + 1)."""
    tiny = 1e-300
    b = x + 1 - a
    c = 1 / tiny
    d = 1 / b
    h = d
    for i in range(1, _MAX_TERMS):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1 / d
        delta = d * c
        h *= delta
        if abs(delta - 1) < _EPS:
            break
    return math.exp(log_prefix) * h


def chi2_sf(x: float, df: int) -> float:
    """P(X >= x) for X chi-square with `df` degrees of freedom."""
    return gamma_q(df / 2, x / 2)


def chi2_isf(p: float, df: int) -> float:
    """The x with chi2_sf(x, df) = p (the critical value of a level-p test), by bisection."""
    lo, hi = 0.0, 1.0
    while chi2_sf(hi, df) > p:
        hi *= 2
    for _ in range(200):
        mid = (lo + hi) / 2
        if chi2_sf(mid, df) > p:
            lo = mid
        else:
            hi = mid
    return hi


def ncx2_sf(x: float, df: int, nc: float) -> float:
    """P(X >= x) for X noncentral chi-square (`df`, noncentrality `nc`): a Poisson(nc/2) mixture of
    central chi-square laws with df + 2j degrees of freedom."""
    half = nc / 2
    top = int(half + 12 * math.sqrt(half) + 40)
    total = 0.0
    for j in range(top + 1):
        weight = math.exp(-half + j * math.log(half) - math.lgamma(j + 1)) if half > 0 else float(j == 0)
        total += weight * chi2_sf(x, df + 2 * j)
    return min(total, 1.0)


def chi_square(observed: Sequence[int], shares: Sequence[float]) -> float:
    """Pearson's X² of counts against shares (shares > 0, summing to 1)."""
    n = sum(observed)
    return sum((o - n * p) ** 2 / (n * p) for o, p in zip(observed, shares))


def effect_size(shares: Sequence[float], alternative: Sequence[float]) -> float:
    """Cohen's w² = Σ (q_i - p_i)² / p_i of the alternative shares q against the expected shares p."""
    return sum((q - p) ** 2 / p for p, q in zip(shares, alternative))


def power(n: int, shares: Sequence[float], alternative: Sequence[float], alpha: float) -> float:
    """Probability that the level-alpha test on n sessions rejects `shares` when `alternative` holds."""
    df = len(shares) - 1
    return ncx2_sf(chi2_isf(alpha, df), df, n * effect_size(shares, alternative))


def sessions_needed(shares: Sequence[float], alternative: Sequence[float], alpha: float, wanted: float) -> int:
    """The least n at which the level-alpha test rejects `alternative` with probability >= `wanted`."""
    if len(shares) < 2:
        raise ValueError(f"shares: a goodness-of-fit test needs two or more nodes, got {len(shares)}")
    if effect_size(shares, alternative) <= 0:
        raise ValueError("alternative: equals the expected shares; no sample size tells them apart")
    hi = 1
    while power(hi, shares, alternative, alpha) < wanted:
        hi *= 2
    lo = hi // 2  # power(lo) < wanted (or lo == 0)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if power(mid, shares, alternative, alpha) >= wanted:
            hi = mid
        else:
            lo = mid
    return hi
