"""A fake backend node for Docker-free tests: the node wire contract served by a thread of this process.

For context /app (and any path under it) `FakeNode` answers 200 with `X-Harness-Node: <name>` and the JSON
body {"node", "session", "counter", "path"}; the first request of a session sets `JSESSIONID=<id>.<name>`
(Path=/app) and the counter counts the session's requests. Other paths answer 404. Misbehaviour:

- `failing = True` (or GET /_fake/fail-on, undone by /_fake/fail-off): every request answers 503 without
  the node header;
- /boom/...: 503 without the node header;
- /drop/...: the connection is closed without an answer (counted in `drops`);
- `closed_port()`: a local port nothing listens on (connection refused).

`python -m tests.unit.fake_node NAME` serves one on an ephemeral port (printed on the first line) until
killed, for benchmarks that want the node in another process.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import uuid
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

CONTEXT = "/app"
FAIL_ON, FAIL_OFF = "/_fake/fail-on", "/_fake/fail-off"


class FakeNode(ThreadingHTTPServer):
    """One fake node on 127.0.0.1 (ephemeral port). `start()` serves it from a daemon thread."""

    daemon_threads = True

    def __init__(self, name: str, *, quiet_errors: bool = False) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.name = name
        self.failing = False
        self.quiet_errors = quiet_errors  # clients that reset their connections when they stop (wrk, Locust)
        self.sessions: dict[str, int] = {}
        self.served: list[tuple[str, int]] = []  # (session, counter) in answer order
        self.drops = 0
        self.lock = threading.Lock()

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeNode:
        threading.Thread(target=self.serve_forever, name=f"fake-{self.name}", daemon=True).start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()

    def __enter__(self) -> FakeNode:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not self.quiet_errors:
            super().handle_error(request, client_address)

    def answer(self, path: str, cookie_header: str | None) -> tuple[int, dict[str, str], bytes]:
        """(status, headers, body) for a GET of `path` (the switches and /drop are the handler's)."""
        if self.failing or path.startswith("/boom"):
            return 503, {}, b"service unavailable"
        if path != CONTEXT and not path.startswith(CONTEXT + "/"):
            return 404, {}, b"not found"
        cookie = SimpleCookie(cookie_header or "")
        session = cookie["JSESSIONID"].value.rpartition(".")[0] if "JSESSIONID" in cookie else ""
        headers = {"X-Harness-Node": self.name, "Content-Type": "application/json"}
        with self.lock:
            if session not in self.sessions:
                session = uuid.uuid4().hex[:16].upper()
                self.sessions[session] = 0
                headers["Set-Cookie"] = f"JSESSIONID={session}.{self.name}; Path={CONTEXT}"
            self.sessions[session] += 1
            counter = self.sessions[session]
            self.served.append((session, counter))
        body = {"node": self.name, "session": session, "counter": counter, "path": path}
        return 200, headers, json.dumps(body).encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes: avoid 40 ms delayed-ACK stalls
    server: FakeNode

    def do_GET(self) -> None:
        node = self.server
        if self.path in (FAIL_ON, FAIL_OFF):
            node.failing = self.path == FAIL_ON
            self._send(204, {}, b"")
        elif self.path.startswith("/drop"):
            with node.lock:
                node.drops += 1
            self.close_connection = True
        else:
            self._send(*node.answer(self.path, self.headers.get("Cookie")))

    def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def closed_port() -> int:
    """A local port that refuses connections (bound once, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def main(argv: list[str]) -> None:
    if len(argv) != 1:
        raise SystemExit("usage: python -m tests.unit.fake_node NODE_NAME")
    node = FakeNode(argv[0], quiet_errors=True)
    print(node.port, flush=True)
    node.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1:])
