"""The `http` timeline step: parsed from data with errors naming the field, and run against a real local
HTTP server (harness.run.repro_http)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from harness.descriptions.base import SpecError
from harness.descriptions.http_step import HttpGet
from harness.descriptions.timeline import step_from_dict
from harness.run.repro_http import get_status


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        status = {"/app/": 200, "/moved": 302}.get(self.path, 404)
        body = f"status {status}".encode()
        self.send_response(status)
        if status == 302:
            self.send_header("Location", "/app/")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_http_step_from_dict_and_back() -> None:
    step = step_from_dict({"http": {"path": "/nomatch/", "expect_status": 404}}, "timeline[1]")
    assert step == HttpGet("/nomatch/", 404)
    assert step.to_dict() == {"http": {"path": "/nomatch/", "expect_status": 404}}
    assert "expecting 404" in step.describe()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"path": "nomatch", "expect_status": 404}, r"timeline\[1\]\.http\.path"),
        ({"path": "/x", "expect_status": 99}, r"timeline\[1\]\.http\.expect_status"),
        ({"path": "/x", "expect_status": "404"}, r"timeline\[1\]\.http\.expect_status"),
        ({"path": "/x"}, r"timeline\[1\]\.http"),
        ({"path": "/x", "expect_status": 404, "method": "POST"}, r"timeline\[1\]\.http"),
    ],
)
def test_http_step_bad_input_names_the_field(payload: dict[str, object], field: str) -> None:
    with pytest.raises(SpecError, match=field):
        step_from_dict({"http": payload}, "timeline[1]")


def test_get_status_valid_when_the_status_matches(server: str) -> None:
    verdict = get_status(f"{server}/nomatch/", 404, "timeline[1] http GET /nomatch/")
    assert verdict.valid and verdict.details["status"] == 404 and "answered 404" in verdict.summary
    assert verdict.details["body"] == "status 404"


def test_get_status_invalid_for_another_status_and_no_redirect_followed(server: str) -> None:
    verdict = get_status(f"{server}/app/", 404, "t")
    assert verdict.invalid and verdict.details["status"] == 200 and "(expected 404)" in verdict.summary
    moved = get_status(f"{server}/moved", 200, "t")
    assert moved.invalid and moved.details["status"] == 302


def test_get_status_invalid_without_a_reply() -> None:
    with socket.socket() as sock:  # a port nothing listens on: bound, never listening
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        verdict = get_status(f"http://127.0.0.1:{port}/x", 404, "t", timeout_s=2)
    assert verdict.invalid and "no reply" in verdict.summary and "ConnectionError" in verdict.details["error"]
