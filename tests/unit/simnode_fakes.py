"""Test support for the sim node's unit tests: puts images/sim-node on sys.path and provides a scripted
in-process MCMP server (`FakeBalancer`) that answers like httpd (chunked 200s, 500 with Type/Mess then
close) and records every request. Local sockets only; no Docker.
"""

from __future__ import annotations

import socket
import socketserver
import sys
import threading
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl

SIM_ROOT = Path(__file__).resolve().parents[2] / "images" / "sim-node"
if str(SIM_ROOT) not in sys.path:
    sys.path.insert(0, str(SIM_ROOT))

from simnode.httpwire import parse_request  # noqa: E402


def ok_reply(body: str = "", *, content_type: bool = True) -> bytes:
    """A 200 the way httpd's mod_manager sends it (chunked, keep-alive)."""
    head = "HTTP/1.1 200 OK\r\nServer: fake\r\nTransfer-Encoding: chunked\r\n"
    if content_type and body:
        head += "Content-Type: text/plain\r\n"
    chunk = f"{len(body.encode()):x}\r\n{body}\r\n" if body else ""
    return (head + "\r\n" + chunk + "0\r\n\r\n").encode()


def error_reply(kind: str, message: str) -> bytes:
    """An MCMP error: 500 with the class in headers, then httpd closes the connection."""
    body = "<html><body>error</body></html>"
    return (
        f"HTTP/1.1 500 Internal Server Error\r\nVersion: 0.2.1\r\nType: {kind}\r\nMess: {message}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n{body}"
    ).encode()


def default_reply(command: str, params: dict[str, str]) -> bytes:
    route = params.get("JVMRoute", "")
    if command == "STATUS":
        return ok_reply(f"Type=STATUS-RSP&JVMRoute={route}&State=OK&id=42\n")
    if command == "STOP-APP":
        return ok_reply(
            f"Type=STOP-APP-RSP&JvmRoute={route}&Alias={params.get('Alias', '')[:-1]}"
            f"&Context={params.get('Context', '')}&Requests=0"
        )
    return ok_reply()


@dataclass(frozen=True)
class Seen:
    command: str
    target: str
    params: dict[str, str]
    raw: bytes
    connection: int


Reply = Callable[[str, dict[str, str]], bytes | None]


class FakeBalancer:
    """Scripted MCMP listener. `queue(command, reply_bytes, ...)` answers the next such commands; otherwise
    `default_reply`. A reply of b"" closes the connection without answering."""

    def __init__(self) -> None:
        self.requests: list[Seen] = []
        self._queued: dict[str, deque[bytes]] = defaultdict(deque)
        self._lock = threading.Lock()
        self._connections = 0
        fake = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                fake._serve(self.request)

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)

    def __enter__(self) -> FakeBalancer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def queue(self, command: str, *replies: bytes) -> None:
        with self._lock:
            self._queued[command].extend(replies)

    def commands(self) -> list[str]:
        return [seen.command for seen in self.requests]

    def _reply_for(self, command: str, params: dict[str, str]) -> bytes:
        with self._lock:
            if self._queued[command]:
                return self._queued[command].popleft()
        return default_reply(command, params)

    def _serve(self, sock: socket.socket) -> None:
        with self._lock:
            self._connections += 1
            connection = self._connections
        buffer = b""
        while True:
            parsed = parse_request(buffer)
            if parsed is None:
                try:
                    data = sock.recv(65536)
                except OSError:
                    return
                if not data:
                    return
                buffer += data
                continue
            request, consumed = parsed
            raw, buffer = buffer[:consumed], buffer[consumed:]
            params = dict(parse_qsl(request.body.decode(), keep_blank_values=True))
            self.requests.append(Seen(request.method, request.target, params, raw, connection))
            reply = self._reply_for(request.method, params)
            if reply:
                sock.sendall(reply)
            if not reply or not reply.startswith(b"HTTP/1.1 200"):
                sock.close()
                return
