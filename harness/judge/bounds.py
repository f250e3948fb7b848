"""Argument checks for checkers and steady-state probes: a bound that is NaN, infinite, negative or of the
wrong type is refused at the call, before any history is read, with a ValueError naming the argument."""

from __future__ import annotations

import math


def validate_bound(
    name: str, value: object, *, lo: float = 0.0, hi: float = math.inf, lo_open: bool = False, integer: bool = False
) -> float:
    """`value` as a float: a finite int or float (never bool) in [lo, hi] (or (lo, hi] with `lo_open`)."""
    kind = "an int" if integer else "a number"
    accepted = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, accepted):
        raise ValueError(f"{name}: expected {kind}, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{name}: expected a finite number, got {value!r}")
    below = number <= lo if lo_open else number < lo
    if below or number > hi:
        left = "(" if lo_open else "["
        right = f"{hi:g}]" if math.isfinite(hi) else "inf)"
        raise ValueError(f"{name}: expected {kind} in {left}{lo:g}, {right}, got {value!r}")
    return number


def validate_count(name: str, value: object, *, lo: int = 0) -> int:
    """`value` as an int >= lo (a minimum of evidence: sessions, requests, moves)."""
    return int(validate_bound(name, value, lo=lo, integer=True))
