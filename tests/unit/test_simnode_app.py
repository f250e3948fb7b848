"""The web application of a sim node: the harness's backend wire contract, sessions and routes, and how
faults shape the answers."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import tests.unit.simnode_fakes  # noqa: F401 - puts simnode on sys.path
from simnode.app import AppState, cookie_values, handle, match_context, session_id_of, split_target
from simnode.faults import Faults
from simnode.httpwire import Request

Answer = tuple[int, dict[str, str], dict[str, Any]]


def get(app: AppState, target: str, cookie: str | None = None, method: str = "GET") -> Answer:
    headers = (("Cookie", cookie),) if cookie else ()
    response = handle(app, Request(method, target, "HTTP/1.1", headers))
    if response.done:
        response.done()
    body = json.loads(response.body) if response.body else {}
    return response.status, dict(response.headers), body


def test_first_request_creates_a_session_with_the_route_and_context_path() -> None:
    app = AppState("node1", ("/app",))
    status, headers, body = get(app, "/app/")
    assert status == 200 and headers["X-Harness-Node"] == "node1"
    session = body["session"]
    assert headers["Set-Cookie"] == f"JSESSIONID={session}.node1; Path=/app"
    assert body == {"node": "node1", "session": session, "counter": 1, "path": "/app/"}


def test_the_session_comes_back_by_cookie_and_by_path_parameter() -> None:
    app = AppState("node1", ("/app",))
    session = get(app, "/app/")[2]["session"]
    status, headers, body = get(app, "/app/page?x=1", cookie=f"other=1; JSESSIONID={session}.node1")
    assert body["counter"] == 2 and "Set-Cookie" not in headers and body["path"] == "/app/page"
    body = get(app, f"/app/page;jsessionid={session}.node1?y=2")[2]
    assert body == {"node": "node1", "session": session, "counter": 3, "path": "/app/page"}


def test_an_unknown_session_or_a_query_parameter_makes_a_new_session() -> None:
    app = AppState("node1", ("/app",))
    first = get(app, "/app/")[2]["session"]
    status, headers, body = get(app, "/app/", cookie="JSESSIONID=FROMELSEWHERE.node2")
    assert body["session"] != first and body["counter"] == 1 and headers["Set-Cookie"].endswith(".node1; Path=/app")
    assert get(app, f"/app/?jsessionid={first}.node1")[2]["counter"] == 1, "a query parameter is not a session"


def test_sessions_are_per_context() -> None:
    app = AppState("node1", ("/a", "/b"))
    session = get(app, "/a/")[2]["session"]
    body = get(app, "/b/", cookie=f"JSESSIONID={session}.node1")[2]
    assert body["session"] != session


def test_no_context_is_a_404_naming_the_node() -> None:
    status, headers, body = get(AppState("node1", ("/app",)), "/appx")
    assert status == 404 and headers["X-Harness-Node"] == "node1" and body["error"] == "no context"


def test_options_star_is_answered() -> None:
    app = AppState("node1", ("/app",))
    response = handle(app, Request("OPTIONS", "*", "HTTP/1.1"))
    assert response.status == 200 and "OPTIONS" in dict(response.headers)["Allow"] and app.options_probes == 1
    app.faults = Faults(error=503)
    assert handle(app, Request("OPTIONS", "*", "HTTP/1.1")).status == 200, "the connector still answers"


def test_faults_shape_the_answer() -> None:
    app = AppState("node1", ("/app",))
    app.faults = Faults(error=503)
    status, headers, body = get(app, "/app/")
    assert status == 503 and headers["X-Harness-Node"] == "node1" and body["error"] == 503
    app.faults = Faults(delay_ms=1500)
    assert handle(app, Request("GET", "/app/", "HTTP/1.1")).delay_s == 1.5
    app.faults = Faults(freeze=True)
    assert handle(app, Request("GET", "/app/", "HTTP/1.1")).never


def test_requests_in_progress_are_counted_until_done() -> None:
    app = AppState("node1", ("/app",))
    first = handle(app, Request("GET", "/app/", "HTTP/1.1"))
    handle(app, Request("GET", "/app/", "HTTP/1.1"))
    assert app.active_requests("/app") == 2
    assert first.done is not None
    first.done()
    assert app.active_requests() == 1 and app.served == 2


@pytest.mark.parametrize(
    "target, path, session",
    [
        ("/app/x;jsessionid=AB.node1", "/app/x", "AB.node1"),
        ("/app;jsessionid=AB.node1/y?z", "/app/y", "AB.node1"),
        ("/app/x;jsessionid=AB.n1;other=1", "/app/x;other=1", "AB.n1"),
        ("/app/x?jsessionid=AB.node1", "/app/x", None),
        ("/app/;jsessionid=", "/app/", None),
    ],
)
def test_split_target(target: str, path: str, session: str | None) -> None:
    assert split_target(target) == (path, session)


@pytest.mark.parametrize(
    "path, expected",
    [("/app", "/app"), ("/app/x", "/app"), ("/appx", "/"), ("/app/sub/x", "/app/sub"), ("/other", "/")],
)
def test_context_match_is_by_whole_segments_longest_first(path: str, expected: str) -> None:
    assert match_context(("/", "/app", "/app/sub"), path) == expected
    assert match_context(("/app",), "/appx") is None


def test_cookie_values_and_session_ids() -> None:
    assert cookie_values(["a=1; JSESSIONID=X.node1", 'JSESSIONID="Y.node2"']) == ["X.node1", "Y.node2"]
    assert session_id_of("ABC.node1") == "ABC" and session_id_of("a.b.node1") == "a.b"
    assert session_id_of("NOROUTE") == "NOROUTE"


@given(st.text(alphabet="/abc;=.?x", max_size=30))
def test_any_target_is_answered_without_error(target: str) -> None:
    app = AppState("node1", ("/", "/a"))
    response = handle(app, Request("GET", "/" + target, "HTTP/1.1"))
    assert response.status in (200, 404) and dict(response.headers)["X-Harness-Node"] == "node1"


def test_the_session_table_is_bounded() -> None:
    app = AppState("node1", ("/app",))
    app.sessions.limit = 3
    for _ in range(5):
        get(app, "/app/")
    assert app.sessions.count() == 3 and app.sessions.created == 5
