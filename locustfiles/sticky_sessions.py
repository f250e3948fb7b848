"""Sticky-session load: each simulated user GETs one path with its own cookie jar and records every request.

Runs in its own process (`locust -f ... --headless`); it imports nothing from the harness. Every request,
success or failure (HTTP >= 400, connection errors as status 0), becomes one JSON line in $HARNESS_HISTORY
with exactly the fields of `harness.judge.history.RequestRecord` (that module documents their meaning).

Environment:
  HARNESS_HISTORY   file to append JSON lines to (required)
  HARNESS_PATH      path to GET (default "/app/")
  HARNESS_WAIT_MIN, HARNESS_WAIT_MAX   think time in seconds between requests (default 0.5 and 1.0)
  HARNESS_TIMEOUT_S connect and read timeout in seconds (default 10)
  HARNESS_USER_PREFIX   prefix of user ids (default "u")
  HARNESS_USER_START, HARNESS_USER_STEP   this process numbers its users START, START+STEP, ... (default 1
                    and 1): the harness gives process i of N the start i+1 and the step N, so user ids stay
                    unique across the processes of a run
  HARNESS_COOKIE    session cookie name (default "JSESSIONID")
"""

from __future__ import annotations

import itertools
import json
import os
import time
from http.cookiejar import Cookie, CookieJar
from typing import IO, Any

import geventhttpclient.client as _ghc_client
from locust import FastHttpUser, between, events, task

HISTORY = os.environ.get("HARNESS_HISTORY", "")
if not HISTORY:
    raise SystemExit("locustfiles/sticky_sessions.py: set HARNESS_HISTORY to the JSONL file to write")
PATH = os.environ.get("HARNESS_PATH", "/app/")
WAIT_MIN = float(os.environ.get("HARNESS_WAIT_MIN", "0.5"))
WAIT_MAX = float(os.environ.get("HARNESS_WAIT_MAX", "1.0"))
TIMEOUT_S = float(os.environ.get("HARNESS_TIMEOUT_S", "10"))
USER_PREFIX = os.environ.get("HARNESS_USER_PREFIX", "u")
USER_START = int(os.environ.get("HARNESS_USER_START", "1"))
USER_STEP = int(os.environ.get("HARNESS_USER_STEP", "1"))
COOKIE = os.environ.get("HARNESS_COOKIE", "JSESSIONID")

# geventhttpclient silently resends an idempotent request when the connection closes before an answer
# (meant for stale keep-alive sockets). A balancer that drops a connection mid-request must show up in the
# history as an error, not be hidden by a resend: turn that resend off (Locust's own max_retries is 0).
if hasattr(_ghc_client, "_may_retry_after_send_error"):
    _ghc_client._may_retry_after_send_error = lambda method: False

_user_numbers = itertools.count(USER_START, USER_STEP)
_out: IO[str] | None = None


def _writer() -> IO[str]:
    """One line-buffered append handle per process, opened on first use (a master process never writes)."""
    global _out
    if _out is None:
        _out = open(HISTORY, "a", buffering=1, encoding="utf-8")
    return _out


@events.quitting.add_listener
def _flush(**_kwargs: Any) -> None:
    """Every line is flushed as written (line buffering); the handle stays open until the process exits, so a
    user still finishing its request at quit writes its line instead of failing on a closed file."""
    if _out is not None:
        _out.flush()


def _path_matches(cookie_path: str, path: str) -> bool:
    """RFC 6265 path-match: the cookie path is the request path, or a prefix ending at a '/'."""
    return path == cookie_path or path.startswith(cookie_path if cookie_path.endswith("/") else cookie_path + "/")


def _session_cookie(jar: CookieJar, path: str) -> tuple[str | None, str | None]:
    """(session id, route) of the session cookie that applies to `path`, the most specific path winning."""
    best: Cookie | None = None
    for cookie in jar:
        if cookie.name != COOKIE or cookie.value is None or not _path_matches(cookie.path or "/", path):
            continue
        if best is None or len(cookie.path or "/") > len(best.path or "/"):
            best = cookie
    if best is None or best.value is None:
        return None, None
    session, dot, route = best.value.rpartition(".")
    return (session, route or None) if dot else (best.value, None)


class StickyUser(FastHttpUser):
    wait_time = between(WAIT_MIN, WAIT_MAX)
    max_retries = 0
    concurrency = 1
    network_timeout = TIMEOUT_S
    connection_timeout = TIMEOUT_S

    def on_start(self) -> None:
        self.user_id = f"{USER_PREFIX}{next(_user_numbers)}"

    @task
    def get_page(self) -> None:
        session, route = _session_cookie(self.client.cookiejar, PATH)
        t = time.time()
        start = time.perf_counter()
        with self.client.get(PATH, name=PATH, catch_response=True) as response:
            latency_ms = (time.perf_counter() - start) * 1000
            status, error = _outcome(response)
            new_session, new_route = _session_cookie(self.client.cookiejar, PATH)
            line = {
                "t": t,
                "t_end": t + latency_ms / 1000,
                "user": self.user_id,
                "session": session if session is not None else new_session,
                "route": route,
                "new_route": new_route,
                "node": _header(response, "X-Harness-Node"),
                "status": status,
                "latency_ms": round(latency_ms, 3),
                "error": error,
                "path": PATH,
            }
            # Recorded before Locust counts it (when the block ends), with no greenlet switch in between: a
            # user stopped at quit can never leave a request counted by Locust but missing from the history.
            _writer().write(json.dumps(line) + "\n")
            if error is None:
                response.success()
            else:
                response.failure(error)


def _outcome(response: Any) -> tuple[int, str | None]:
    """(status, error text): status 0 when no complete response arrived (connect/read error, broken body)."""
    status = int(getattr(response, "status_code", 0) or 0)
    problem = response.request_meta.get("exception") if status else getattr(response, "error", None)
    if status == 0 or (problem is not None and status < 400):
        where = f" after HTTP {status}" if status else ""
        return 0, f"{problem or 'no response'!r}{where}"
    if status >= 400:
        return status, f"HTTP {status}"
    return status, None


def _header(response: Any, name: str) -> str | None:
    headers = getattr(response, "headers", None)
    value = headers.get(name) if headers is not None else None
    if isinstance(value, list):
        return ",".join(value)
    return value
