"""The one place that waits. Poll a named condition with a deadline; never sleep to wait elsewhere.

A timeout says what was waited for, how long, and what was last seen (the last transient exception
included), so a failed wait in a CI log is enough to start debugging.

A probe declares which exceptions are transient (`transient=`; by default connection errors and timeouts,
as testcontainers' wait strategies do): those are observations and polling goes on. Anything else is a bug
or a dead end and is raised at once, the probe's own exception, not after the whole timeout. An `abort`
check (e.g. `containers.container_alive`) runs before every probe and raises to end the wait early: a
container that exited while awaited fails with its exit code instead of waiting out the deadline.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import requests

T = TypeVar("T")

Transient = tuple[type[BaseException], ...]

# What a probe talking to something that is still starting sees: refused/reset connections and timeouts
# (requests' own ConnectionError and Timeout derive from OSError, not from the builtin ConnectionError).
DEFAULT_TRANSIENT: Transient = (ConnectionError, TimeoutError, requests.ConnectionError, requests.Timeout)


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
    probe: Callable[[], T | None],
    *,
    timeout: float,
    what: str,
    interval: float = 0.1,
    describe: Callable[[], str] | None = None,
    hint: str = "",
    transient: Transient = DEFAULT_TRANSIENT,
    abort: Callable[[], None] | None = None,
) -> T:
    """Call `probe` until it returns something truthy; return that value.

    An exception of a `transient` type becomes what was last seen, and polling goes on; any other exception
    is raised at once (after `abort` had its say: a dead container explains a failed probe best).
    `abort`, when given, runs before every probe and raises to end the wait (its exception propagates).
    `describe`, when given, is called once at timeout to say what the world looked like. The timeout is
    raised from the last transient exception, if any.
    """
    deadline = time.monotonic() + timeout
    last = "nothing yet"
    last_exc: BaseException | None = None
    while True:
        if abort is not None:
            abort()
        try:
            value = probe()
            if value:
                return value
            last = repr(value)
        except transient as exc:
            last_exc = exc
            last = _text(exc)
        except Exception as exc:
            if abort is not None:
                abort()
            exc.add_note(f"raised by the probe while waiting for {what} (not declared transient)")
            raise
        if time.monotonic() >= deadline:
            raise _timeout(what, timeout, last, last_exc, describe, hint)
        time.sleep(min(interval, max(0.0, deadline - time.monotonic())))


def _text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _timeout(
    what: str, timeout: float, last: str, last_exc: BaseException | None, describe: Callable[[], str] | None, hint: str
) -> WaitTimeout:
    if last_exc is not None and last != _text(last_exc):
        last = f"{last} (last exception: {_text(last_exc)})"
    if describe is not None:
        try:
            seen = describe()
            last = f"{seen} (probe: {last})" if last_exc is not None else seen
        except Exception as exc:
            last = f"{last} (describe failed: {exc})"
    error = WaitTimeout(what, timeout, last, hint)
    error.__cause__ = last_exc
    return error


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
