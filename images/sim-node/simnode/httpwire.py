"""HTTP/1.1 messages for the sim node's server: incremental request parsing and response encoding. Pure.

`parse_request(buffer)` returns `(Request, consumed)` once a whole request (head and body, by
Content-Length or chunked) is in the buffer, None while it is incomplete, and raises `HttpParseError`
(with the status to answer) for a malformed one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formatdate

MAX_HEAD = 64 * 1024
MAX_BODY = 10 * 1024 * 1024
_METHOD = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
REASONS = {
    200: "OK",
    202: "Accepted",
    204: "No Content",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Payload Too Large",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    501: "Not Implemented",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class HttpParseError(ValueError):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Request:
    method: str
    target: str
    version: str
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((v for k, v in self.headers if k.lower() == wanted), None)

    def header_all(self, name: str) -> list[str]:
        wanted = name.lower()
        return [v for k, v in self.headers if k.lower() == wanted]

    @property
    def keep_alive(self) -> bool:
        tokens = {t.strip().lower() for v in self.header_all("connection") for t in v.split(",")}
        if self.version == "HTTP/1.0":
            return "keep-alive" in tokens
        return "close" not in tokens


@dataclass(frozen=True)
class Response:
    """What a handler answers. `delay_s` holds the answer back; `never` holds it forever (a frozen node).

    `done` is called once the answer left (or the connection died first): the request is over.
    """

    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    delay_s: float = 0.0
    never: bool = False
    close: bool = False
    done: Callable[[], None] | None = field(default=None, compare=False)


def _find_head_end(buffer: bytes | bytearray) -> tuple[int, int]:
    end = buffer.find(b"\r\n\r\n")
    if end >= 0:
        return end, 4
    end = buffer.find(b"\n\n")
    return (end, 2) if end >= 0 else (-1, 0)


def _parse_head(text: str) -> tuple[str, str, str, tuple[tuple[str, str], ...]]:
    lines = text.replace("\r\n", "\n").split("\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not _METHOD.fullmatch(parts[0]) or not parts[1]:
        raise HttpParseError(400, f"bad request line {lines[0][:100]!r}")
    method, target, version = parts
    if version not in ("HTTP/1.1", "HTTP/1.0"):
        raise HttpParseError(400, f"unsupported HTTP version {version[:20]!r}")
    headers = []
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip():
            raise HttpParseError(400, f"bad header line {line[:100]!r}")
        headers.append((name, value.strip()))
    return method, target, version, tuple(headers)


def _dechunk(buffer: bytes | bytearray, pos: int) -> tuple[bytes, int] | None:
    body = bytearray()
    while True:
        eol = buffer.find(b"\n", pos)
        if eol < 0:
            return None
        size_text = bytes(buffer[pos:eol]).split(b";")[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise HttpParseError(400, f"bad chunk size {size_text[:20]!r}") from None
        pos = eol + 1
        if size == 0:
            while True:  # trailers up to the empty line
                eol = buffer.find(b"\n", pos)
                if eol < 0:
                    return None
                line, pos = buffer[pos:eol].strip(), eol + 1
                if not line:
                    return bytes(body), pos
        if len(body) + size > MAX_BODY:
            raise HttpParseError(413, "chunked body too large")
        if len(buffer) < pos + size + 1:
            return None
        body += buffer[pos : pos + size]
        eol = buffer.find(b"\n", pos + size)
        if eol < 0:
            return None
        pos = eol + 1


def parse_request(buffer: bytes | bytearray) -> tuple[Request, int] | None:
    """One complete request from the front of `buffer`: (request, bytes consumed), or None if incomplete."""
    if buffer.startswith(b"\r\n"):  # tolerate stray CRLF between pipelined requests (RFC 9112 2.2)
        return _shifted(buffer, 2)
    end, sep = _find_head_end(buffer)
    if end < 0:
        if len(buffer) > MAX_HEAD:
            raise HttpParseError(431, f"request head longer than {MAX_HEAD} bytes")
        return None
    method, target, version, headers = _parse_head(bytes(buffer[:end]).decode("latin-1"))
    request = Request(method, target, version, headers)
    start = end + sep
    if "chunked" in (request.header("transfer-encoding") or "").lower():
        decoded = _dechunk(buffer, start)
        if decoded is None:
            return None
        return Request(method, target, version, headers, decoded[0]), decoded[1]
    length_text = request.header("content-length") or "0"
    if not length_text.isdigit():
        raise HttpParseError(400, f"bad Content-Length {length_text[:20]!r}")
    length = int(length_text)
    if length > MAX_BODY:
        raise HttpParseError(413, f"body of {length} bytes is too large")
    if len(buffer) < start + length:
        return None
    return Request(method, target, version, headers, bytes(buffer[start : start + length])), start + length


def _shifted(buffer: bytes | bytearray, skip: int) -> tuple[Request, int] | None:
    parsed = parse_request(buffer[skip:])
    return None if parsed is None else (parsed[0], parsed[1] + skip)


def encode_response(response: Response, *, head_only: bool, keep_alive: bool, version: str = "HTTP/1.1") -> bytes:
    """Status line, headers (plus Date, Content-Length, Connection) and body."""
    lines = [
        f"HTTP/1.1 {response.status} {REASONS.get(response.status, 'Unknown')}",
        f"Date: {formatdate(usegmt=True)}",
    ]
    lines += [f"{name}: {value}" for name, value in response.headers]
    lines.append(f"Content-Length: {len(response.body)}")
    if not keep_alive:
        lines.append("Connection: close")
    elif version == "HTTP/1.0":
        lines.append("Connection: keep-alive")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return head if head_only else head + response.body
