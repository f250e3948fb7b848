"""The `Verdict` of a checker: valid, invalid or unknown (not enough evidence to tell), as Jepsen's
checkers answer. `valid` is True only for a valid verdict: unknown never passes by accident.

A checker never raises while judging: an exception becomes an invalid verdict carrying its text. Its
arguments are checked first, at the call, and a bad one raises ValueError naming it (see `bounds`).
"""

from __future__ import annotations

import functools
import json
import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, ParamSpec

Outcome = Literal["valid", "invalid", "unknown"]
OUTCOMES: tuple[Outcome, ...] = ("valid", "invalid", "unknown")
_ORDER = {"invalid": 0, "unknown": 1, "valid": 2}  # the order verdicts are listed in
_DETAIL_CHARS = 1500  # per detail in str(verdict)


@dataclass(frozen=True, init=False)
class Verdict:
    name: str
    outcome: Outcome
    details: dict[str, Any]
    summary: str

    def __init__(
        self, name: str, outcome: Outcome | bool, details: Mapping[str, Any] | None = None, summary: str = ""
    ) -> None:
        """`outcome` is one of OUTCOMES; a bool is read as valid (True) or invalid (False)."""
        if isinstance(outcome, bool):
            outcome = "valid" if outcome else "invalid"
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome: expected one of {', '.join(OUTCOMES)}, got {outcome!r}")
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "outcome", outcome)
        object.__setattr__(self, "details", dict(details or {}))
        object.__setattr__(self, "summary", summary)

    @property
    def valid(self) -> bool:
        return self.outcome == "valid"

    @property
    def invalid(self) -> bool:
        return self.outcome == "invalid"

    @property
    def unknown(self) -> bool:
        return self.outcome == "unknown"

    def __str__(self) -> str:
        lines = [f"[{self.outcome.upper()}] {self.name}: {self.summary}"]
        for key, value in self.details.items():
            text = json.dumps(value, default=str) if not isinstance(value, str) else value
            if len(text) > _DETAIL_CHARS:
                text = text[:_DETAIL_CHARS] + f"... ({len(text)} chars)"
            lines.append(f"    {key}: {text}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "outcome": self.outcome,
            "valid": self.valid,
            "summary": self.summary,
            "details": self.details,
        }


def valid(name: str, details: Mapping[str, Any], summary: str) -> Verdict:
    return Verdict(name, "valid", details, summary)


def invalid(name: str, details: Mapping[str, Any], summary: str) -> Verdict:
    return Verdict(name, "invalid", details, summary)


def unknown(name: str, details: Mapping[str, Any], summary: str) -> Verdict:
    return Verdict(name, "unknown", details, summary)


def all_valid(verdicts: Iterable[Verdict], *, unknown_ok: Iterable[str] = ()) -> bool:
    """Every verdict valid; a verdict named in `unknown_ok` may also be unknown (the test says so)."""
    allowed = set(unknown_ok)
    return all(v.valid or (v.unknown and v.name in allowed) for v in verdicts)


def format_verdicts(verdicts: Iterable[Verdict]) -> str:
    """Every verdict, invalid ones first, then unknown, then valid, for one assertion message."""
    return "\n".join(str(v) for v in sorted(verdicts, key=lambda v: _ORDER[v.outcome]))


P = ParamSpec("P")


def never_raises(name: str) -> Callable[[Callable[P, Verdict]], Callable[P, Verdict]]:
    """Turn an exception raised while judging into an invalid verdict (argument checks run before)."""

    def decorate(check: Callable[P, Verdict]) -> Callable[P, Verdict]:
        @functools.wraps(check)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> Verdict:
            try:
                return check(*args, **kwargs)
            except Exception as exc:
                details = {"exception": repr(exc), "traceback": traceback.format_exc(limit=5)}
                return invalid(name, details, f"checker failed: {type(exc).__name__}: {exc}")

        return guarded

    return decorate
