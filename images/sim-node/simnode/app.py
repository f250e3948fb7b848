"""The web application every sim node serves, per the harness's wire contract for backend nodes.

For each context (default "/app"), any request to <context> or below answers 200 with header
`X-Harness-Node: <node>` and JSON {"node", "session", "counter", "path"}. A session is created on the
first request (cookie `JSESSIONID=<id>.<node>; Path=<context>`); a known session comes back by cookie or by
the `;jsessionid=<id>.<route>` path parameter and its counter grows per request. `OPTIONS *` answers 200.
Faults shape the answer: freeze (never), delay, 5xx. Pure apart from the clock-free session ids.
"""

from __future__ import annotations

import collections
import json
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass

from simnode.faults import Faults
from simnode.httpwire import Request, Response

SESSION_LIMIT = 20000  # per node and context; the oldest session is dropped beyond it
COOKIE = "JSESSIONID"
PATH_PARAM = ";jsessionid="


def split_target(target: str) -> tuple[str, str | None]:
    """(path without query and without the `;jsessionid=` parameter, that parameter's value or None)."""
    path = target.split("?", 1)[0].split("#", 1)[0]
    index = path.find(PATH_PARAM)
    if index < 0:
        return path, None
    rest = path[index + len(PATH_PARAM) :]
    end = min((i for i in (rest.find(";"), rest.find("/")) if i >= 0), default=len(rest))
    return path[:index] + rest[end:], rest[:end] or None


def match_context(contexts: tuple[str, ...], path: str) -> str | None:
    """The longest context that is a whole-segment prefix of `path` ("/app" serves /app/x, not /appx)."""
    best: str | None = None
    for context in contexts:
        hit = context == "/" or path == context or path.startswith(context + "/")
        if hit and (best is None or len(context) > len(best)):
            best = context
    return best


def cookie_values(cookie_headers: list[str], name: str = COOKIE) -> list[str]:
    """Every value of cookie `name` in the Cookie headers, in order."""
    values = []
    for header in cookie_headers:
        for part in header.split(";"):
            key, sep, value = part.strip().partition("=")
            if sep and key == name:
                values.append(value.strip().strip('"'))
    return values


def session_id_of(value: str) -> str:
    """The id part of `<id>.<route>` (text before the last '.'); the whole value when there is no route."""
    return value.rpartition(".")[0] or value


@dataclass
class Session:
    id: str
    counter: int = 0


class SessionStore:
    """Sessions of one node, per context. Touched by the HTTP loop thread only."""

    def __init__(self, limit: int = SESSION_LIMIT) -> None:
        self.limit = limit
        self._by_context: dict[str, collections.OrderedDict[str, Session]] = {}
        self.created = 0

    def find(self, context: str, candidates: list[str]) -> Session | None:
        table = self._by_context.get(context)
        if not table:
            return None
        for value in candidates:
            session = table.get(session_id_of(value))
            if session is not None:
                table.move_to_end(session.id)
                return session
        return None

    def create(self, context: str) -> Session:
        table = self._by_context.setdefault(context, collections.OrderedDict())
        session = Session(secrets.token_hex(16).upper())
        table[session.id] = session
        if len(table) > self.limit:
            table.popitem(last=False)
        self.created += 1
        return session

    def count(self) -> int:
        return sum(len(t) for t in self._by_context.values())


class AppState:
    """What the HTTP side of one node needs; `faults` is swapped whole (a frozen dataclass)."""

    def __init__(self, name: str, contexts: tuple[str, ...], faults: Faults | None = None) -> None:
        self.name = name
        self.contexts = contexts
        self.faults = faults or Faults()
        self.sessions = SessionStore()
        self.active: dict[str, int] = {c: 0 for c in contexts}
        self.served = 0
        self.options_probes = 0
        self.statuses: collections.Counter[int] = collections.Counter()
        self.changed = threading.Condition()  # notified when a request ends (drain waits on it)

    def active_requests(self, context: str | None = None) -> int:
        return sum(self.active.values()) if context is None else self.active.get(context, 0)

    def _ended(self, context: str | None) -> Callable[[], None]:
        def done() -> None:
            if context is not None:
                self.active[context] = max(0, self.active.get(context, 0) - 1)
            with self.changed:
                self.changed.notify_all()

        return done


def _json(status: int, node: str, payload: dict[str, object], extra: tuple[tuple[str, str], ...] = ()) -> Response:
    body = json.dumps(payload, separators=(",", ":")).encode()
    headers = (("X-Harness-Node", node), ("Content-Type", "application/json")) + extra
    return Response(status, headers, body)


def _shape(response: Response, faults: Faults, done: Callable[[], None]) -> Response:
    return Response(
        response.status,
        response.headers,
        response.body,
        delay_s=faults.delay_ms / 1000.0,
        never=faults.freeze,
        close=response.close,
        done=done,
    )


def handle(app: AppState, request: Request) -> Response:
    """Answer one request to this node."""
    faults = app.faults
    if request.target == "*":
        app.options_probes += 1
        allow = (("X-Harness-Node", app.name), ("Allow", "GET, HEAD, POST, PUT, DELETE, OPTIONS"))
        return _shape(
            Response(200, allow) if request.method == "OPTIONS" else Response(400, allow), faults, app._ended(None)
        )
    path, path_session = split_target(request.target)
    context = match_context(app.contexts, path)
    if context is None:
        response = _json(404, app.name, {"node": app.name, "error": "no context", "path": path})
        return _count(app, _shape(response, faults, app._ended(None)))
    app.active[context] += 1
    done = app._ended(context)
    if faults.error is not None:
        response = _json(faults.error, app.name, {"node": app.name, "error": faults.error, "path": path})
        return _count(app, _shape(response, faults, done))
    candidates = ([path_session] if path_session else []) + cookie_values(request.header_all("cookie"))
    session = app.sessions.find(context, candidates)
    extra: tuple[tuple[str, str], ...] = ()
    if session is None:
        session = app.sessions.create(context)
        extra = (("Set-Cookie", f"{COOKIE}={session.id}.{app.name}; Path={context}"),)
    session.counter += 1
    payload = {"node": app.name, "session": session.id, "counter": session.counter, "path": path}
    return _count(app, _shape(_json(200, app.name, payload, extra), faults, done))


def _count(app: AppState, response: Response) -> Response:
    app.served += 1
    app.statuses[response.status] += 1
    return response
