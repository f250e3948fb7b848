"""The one place that waits. Poll a named condition with a deadline; never sleep to wait elsewhere.

A timeout says what was waited for, how long, and what was last seen, so a failed wait in a CI log
is enough to start debugging.
"""

from __future__ import annotations

import time
from typing import Callable, Optional, TypeVar

T = TypeVar("T")


class WaitTimeout(TimeoutError):
    """A named condition did not hold before its deadline."""

    def __init__(self, what: str, timeout: float, last_seen: str, hint: str = "") -> None:
        self.what = what
        self.timeout = timeout
        self.last_seen = last_seen
        message = f"timed out after {timeout:.1f}s waiting for {what}; last seen: {last_seen}"
        if hint:
            message += f" (check: {hint})"
        super().__init__(message)


def wait_until(
    probe: Callable[[], Optional[T]],
    *,
    timeout: float,
    what: str,
    interval: float = 0.1,
    describe: Optional[Callable[[], str]] = None,
    hint: str = "",
) -> T:
    """Call `probe` until it returns something truthy; return that value.

    `probe` may raise: the exception text becomes what was last seen, and polling goes on.
    `describe`, when given, is called once at timeout to say what the world looked like.
    """
    deadline = time.monotonic() + timeout
    last = "nothing yet"
    while True:
        try:
            value = probe()
            if value:
                return value
            last = repr(value)
        except Exception as exc:  # noqa: BLE001 - a probe failing is an observation, not an error
            last = f"{type(exc).__name__}: {exc}"
        if time.monotonic() >= deadline:
            if describe is not None:
                try:
                    last = describe()
                except Exception as exc:  # noqa: BLE001
                    last = f"{last} (describe failed: {exc})"
            raise WaitTimeout(what, timeout, last, hint)
        time.sleep(min(interval, max(0.0, deadline - time.monotonic())))


def hold(seconds: float) -> None:
    """A deliberate hold (keep load running during a phase), not a wait for a condition."""
    if seconds > 0:
        time.sleep(seconds)


class Deadline:
    """A deadline shared by several waits: `remaining()` shrinks as time passes."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._end = time.monotonic() + timeout

    def remaining(self) -> float:
        return max(0.0, self._end - time.monotonic())

    def expired(self) -> bool:
        return self.remaining() <= 0.0
