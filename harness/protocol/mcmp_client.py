"""MCMP keep-alive client: speaks to the balancer's MCMP listener the way the Java node does.

`McmpConnection` sends one request at a time over HTTP/1.1 keep-alive (`User-Agent:
ClusterListener/1.0`) and retries once on a fresh connection when the server closed an idle one;
`McmpClient` adds the typed MCMP verbs; `McmpExchange` keeps the raw bytes of one round trip.
Requests and replies are encoded and parsed by `harness.mcmp`.

Standard library only: this module also ships into the simulated-node image.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from harness.protocol.mcmp import (
    McmpProtocolError,
    McmpResponse,
    Params,
    build_raw_request,
    build_request,
    decode_reply,
    reply_complete,
)

_Conn = TypeVar("_Conn", bound="McmpConnection")


class McmpTransportError(OSError):
    """Connecting, sending or receiving failed (refused, reset, timeout)."""


@dataclass(frozen=True)
class McmpExchange:
    """The raw bytes of one request and its reply (for transcripts)."""

    request: bytes
    reply: bytes

    @property
    def command(self) -> str:
        return self.request.split(b" ", 1)[0].decode("latin-1")

    def as_record(self) -> dict[str, str]:
        """JSON-ready form (one line of a `.jsonl` transcript); bytes kept exactly via latin-1."""
        return {"request": self.request.decode("latin-1"), "reply": self.reply.decode("latin-1")}

    @classmethod
    def from_record(cls, record: Mapping[str, str]) -> McmpExchange:
        return cls(record["request"].encode("latin-1"), record["reply"].encode("latin-1"))


class McmpConnection:
    """A keep-alive MCMP client socket. Never raises on HTTP errors; raises McmpTransportError."""

    def __init__(self, host: str, port: int, timeout: float = 5.0) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout
        self.last_exchange: McmpExchange | None = None
        self.connects = 0  # how many TCP connections were opened (tests and transcripts)
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()

    @property
    def host_header(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    def __enter__(self: _Conn) -> _Conn:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            try:
                sock.close()
            except OSError:
                pass

    def send(
        self, command: str, params: Params = (), *, wildcard: bool = False, accept_xml: bool = False
    ) -> McmpResponse:
        """Send one MCMP request and return the reply (any status)."""
        request = build_request(command, params, wildcard=wildcard, host=self.host_header, accept_xml=accept_xml)
        with self._lock:
            return self._exchange(command, request)

    def send_raw(self, command: str, body: str, *, target: str = "/", accept_xml: bool = False) -> McmpResponse:
        """Send `body` exactly as given (see `build_raw_request`) and return the reply (any status)."""
        request = build_raw_request(command, body, target=target, host=self.host_header, accept_xml=accept_xml)
        with self._lock:
            return self._exchange(command, request)

    def _exchange(self, command: str, request: bytes) -> McmpResponse:
        reused = self._sock is not None
        try:
            try:
                data, eof = self._roundtrip(request)
            except (_StaleConnection, ConnectionResetError, BrokenPipeError):
                if not reused:
                    raise
                self.close()  # the server closed the idle keep-alive connection: retry once, fresh
                data, eof = self._roundtrip(request)
        except McmpProtocolError as exc:
            self.close()
            self.last_exchange = McmpExchange(request, exc.raw)
            raise
        except (OSError, _StaleConnection) as exc:
            self.close()
            raise McmpTransportError(f"MCMP {command} to {self.host}:{self.port} failed: {exc!r}") from exc
        return self._finish(request, data, eof)

    def _finish(self, request: bytes, data: bytes, eof: bool) -> McmpResponse:
        self.last_exchange = McmpExchange(request, data)
        decoded = decode_reply(data, closed=eof)
        if decoded is None:
            self.close()
            raise McmpProtocolError("incomplete HTTP reply (connection closed)", data)
        response, keep_alive = decoded
        if not keep_alive:
            self.close()
        return response

    def _roundtrip(self, request: bytes) -> tuple[bytes, bool]:
        if self._sock is None:
            self._sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
            self.connects += 1
        self._sock.sendall(request)
        return self._read_reply(self._sock)

    @staticmethod
    def _read_reply(sock: socket.socket) -> tuple[bytes, bool]:
        """(reply bytes, True when the reply ended with the connection closing)."""
        data = b""
        while not reply_complete(data):
            chunk = sock.recv(65536)
            if not chunk:
                if not data:
                    raise _StaleConnection("connection closed before any reply byte")
                return data, True
            data += chunk
        return data, False


class _StaleConnection(Exception):
    pass


def _aliases(aliases: str | Sequence[str]) -> str:
    return aliases if isinstance(aliases, str) else ",".join(aliases)


def _context(path: str) -> str:
    return path or "/"  # the Java node sends "/" for the root context


class McmpClient(McmpConnection):
    """Typed MCMP verbs; parameter order as the Java node sends them (JVMRoute first)."""

    def config(self, route: str, **params: str | int) -> McmpResponse:
        return self.send("CONFIG", [("JVMRoute", route)] + [(k, str(v)) for k, v in params.items()])

    def _app(self, command: str, route: str, context: str, aliases: str | Sequence[str]) -> McmpResponse:
        return self.send(command, [("JVMRoute", route), ("Alias", _aliases(aliases)), ("Context", _context(context))])

    def enable_app(self, route: str, context: str, aliases: str | Sequence[str]) -> McmpResponse:
        return self._app("ENABLE-APP", route, context, aliases)

    def disable_app(self, route: str, context: str, aliases: str | Sequence[str]) -> McmpResponse:
        return self._app("DISABLE-APP", route, context, aliases)

    def stop_app(self, route: str, context: str, aliases: str | Sequence[str]) -> McmpResponse:
        return self._app("STOP-APP", route, context, aliases)

    def remove_app(self, route: str, context: str, aliases: str | Sequence[str]) -> McmpResponse:
        return self._app("REMOVE-APP", route, context, aliases)

    def enable_node(self, route: str) -> McmpResponse:
        return self.send("ENABLE-APP", [("JVMRoute", route)], wildcard=True)

    def disable_node(self, route: str) -> McmpResponse:
        return self.send("DISABLE-APP", [("JVMRoute", route)], wildcard=True)

    def stop_node(self, route: str) -> McmpResponse:
        return self.send("STOP-APP", [("JVMRoute", route)], wildcard=True)

    def remove_node(self, route: str) -> McmpResponse:
        return self.send("REMOVE-APP", [("JVMRoute", route)], wildcard=True)

    def status(self, route: str, load: int | str) -> McmpResponse:
        return self.send("STATUS", [("JVMRoute", route), ("Load", str(load))])

    def ping(
        self, route: str | None = None, *, scheme: str | None = None, host: str | None = None, port: int | None = None
    ) -> McmpResponse:
        params = [("JVMRoute", route)] if route is not None else []
        extra = {"Host": host, "Port": None if port is None else str(port), "Scheme": scheme}
        params += [(k, v) for k, v in sorted(extra.items()) if v is not None]
        return self.send("PING", params)

    def info(self, xml: bool = False) -> McmpResponse:
        return self.send("INFO", accept_xml=xml)

    def dump(self, xml: bool = False) -> McmpResponse:
        return self.send("DUMP", wildcard=True, accept_xml=xml)  # the Java node sends DUMP to "/*"

    def version(self) -> McmpResponse:
        return self.send("VERSION")


__all__ = ["McmpClient", "McmpConnection", "McmpExchange", "McmpTransportError"]
