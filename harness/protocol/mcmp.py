"""MCMP (mod_cluster management protocol) codec: requests, replies and typed reply helpers.

Pure functions: `encode_body`, `build_request`, `java_config_params`, `parse_response` (plus
`reply_complete` / `decode_reply` for a reader of a keep-alive stream) and the typed reply helpers.
The socket client lives in `harness.mcmp_client`.

Standard library only: this module also ships into the simulated-node image.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Union
from urllib.parse import quote_plus

COMMANDS: tuple[str, ...] = (
    "CONFIG",
    "ENABLE-APP",
    "DISABLE-APP",
    "STOP-APP",
    "REMOVE-APP",
    "STATUS",
    "INFO",
    "DUMP",
    "PING",
    "VERSION",
)
USER_AGENT = "ClusterListener/1.0"

Params = Union[Sequence[tuple[str, str]], Mapping[str, str]]


class McmpProtocolError(ValueError):
    """A reply that is not HTTP. `raw` holds the bytes received."""

    def __init__(self, message: str, raw: bytes = b"") -> None:
        super().__init__(f"{message} (raw reply, {len(raw)} bytes: {raw[:200]!r})")
        self.raw = raw


# ----------------------------------------------------------------------------------------- requests


def _java_urlencode(text: str) -> str:
    # java.net.URLEncoder: keeps A-Z a-z 0-9 . - * _ ; space -> '+'; everything else %XX (UTF-8).
    return quote_plus(text, safe="*").replace("~", "%7E")


def _pairs(params: Params) -> list[tuple[str, str]]:
    items = params.items() if isinstance(params, Mapping) else params
    return [(str(key), str(value)) for key, value in items]


def encode_body(params: Params) -> str:
    """Form-encode `params` in the given order, like the Java node (URLEncoder on keys and values)."""
    return "&".join(f"{_java_urlencode(k)}={_java_urlencode(v)}" for k, v in _pairs(params))


def build_request(
    command: str, params: Params = (), *, wildcard: bool = False, host: str = "localhost", accept_xml: bool = False
) -> bytes:
    """The full HTTP/1.1 request the Java node sends for `command`.

    Target is "/" or "/*" (`wildcard`, node-wide app commands and DUMP). `host` is the Host header
    value ("host:port" as the Java node writes it). Like the Java node, Content-Length is only sent
    with a non-empty body. `accept_xml` adds `Accept: text/xml` (INFO/DUMP/VERSION in XML).
    """
    return build_raw_request(
        command, encode_body(params), target="/*" if wildcard else "/", host=host, accept_xml=accept_xml
    )


def build_raw_request(
    command: str, body: str, *, target: str = "/", host: str = "localhost", accept_xml: bool = False
) -> bytes:
    """`build_request` with the body text given as is (already form-encoded, or deliberately not) and any
    request target: what a conformance test sends to see how the balancer reads odd messages."""
    if not command or any(c.isspace() for c in command):
        raise ValueError(f"MCMP command must be one token, got {command!r}")
    if not target or any(c.isspace() for c in target):
        raise ValueError(f"MCMP request target must be one token, got {target!r}")
    lines = [f"{command} {target} HTTP/1.1", f"Host: {host}"]
    if body:
        lines.append(f"Content-Length: {len(body.encode('latin-1'))}")
    lines.append(f"User-Agent: {USER_AGENT}")
    if accept_xml:
        lines.append("Accept: text/xml")
    lines.append("Connection: Keep-Alive")
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode("latin-1")


# ------------------------------------------------------------------------------------------ replies


@dataclass(frozen=True)
class McmpResponse:
    status: int
    reason: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: str = ""

    def header(self, name: str) -> str | None:
        """Case-insensitive header lookup."""
        wanted = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == wanted), None)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def error_type(self) -> str | None:
        """SYNTAX | MEM | GENERAL from the `Type` header of an error reply, else None."""
        return None if self.ok else self.header("Type")

    @property
    def error_message(self) -> str | None:
        return None if self.ok else self.header("Mess")

    def field_pairs(self) -> list[tuple[str, str]]:
        """All `key=value` items of the body, in order, in either reply shape.

        `a=b&c=d` (1.3.x, 2.x pre) or one `Key=value` per line (2.x HEAD app-command replies).
        """
        text = self.body.strip("\r\n")
        if not self.ok or not text or text.lstrip().startswith("<"):
            return []
        parts = text.splitlines() if "\n" in text else text.split("&")
        pairs = []
        for part in parts:
            key, sep, value = part.strip("\r").partition("=")
            if sep and key:
                pairs.append((key, value))
        return pairs

    def fields(self) -> dict[str, str]:
        """Body fields as a dict (first occurrence wins; keys as sent by the server)."""
        result: dict[str, str] = {}
        for key, value in self.field_pairs():
            result.setdefault(key, value)
        return result

    def field(self, name: str) -> str | None:
        """One body field, key matched case-insensitively (JVMRoute vs JvmRoute)."""
        wanted = name.lower()
        return next((v for k, v in self.field_pairs() if k.lower() == wanted), None)


_STATUS_LINE = re.compile(r"HTTP/(\d)\.(\d) (\d{3})(?: (.*))?\Z")


@dataclass(frozen=True)
class _Head:
    status: int
    reason: str
    headers: dict[str, str]
    version: tuple[int, int]
    body_start: int

    def get(self, name: str) -> str:
        return next((v for k, v in self.headers.items() if k.lower() == name), "")


def _parse_head(raw: bytes) -> _Head | None:
    """Status line and headers, or None while the head is incomplete."""
    ends = [(pos, len(mark)) for mark in (b"\r\n\r\n", b"\n\n") if (pos := raw.find(mark)) >= 0]
    end, sep = min(ends) if ends else (-1, 0)
    if end < 0:
        if raw and not b"HTTP/".startswith(raw[:5]):
            raise McmpProtocolError("reply does not start with an HTTP status line", raw)
        return None
    lines = raw[:end].decode("latin-1").replace("\r\n", "\n").split("\n")
    match = _STATUS_LINE.match(lines[0].strip())
    if not match:
        raise McmpProtocolError(f"bad HTTP status line {lines[0][:80]!r}", raw)
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon or not name.strip():
            raise McmpProtocolError(f"bad header line {line[:80]!r}", raw)
        headers[name.strip()] = value.strip()
    version = (int(match.group(1)), int(match.group(2)))
    return _Head(int(match.group(3)), (match.group(4) or "").strip(), headers, version, end + sep)


def _dechunk(raw: bytes, pos: int) -> tuple[bytes, int] | None:
    """Decode a chunked body starting at `pos`: (body, end) or None when incomplete."""
    body = bytearray()
    while True:
        eol = raw.find(b"\n", pos)
        if eol < 0:
            return None
        size_text = raw[pos:eol].split(b";")[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise McmpProtocolError(f"bad chunk size {size_text[:20]!r}", raw) from None
        if size < 0:
            raise McmpProtocolError("negative chunk size", raw)
        pos = eol + 1
        if size == 0:
            return _skip_trailers(raw, pos, bytes(body))
        if len(raw) < pos + size:
            return None
        body += raw[pos : pos + size]
        pos += size
        if raw[pos : pos + 2] == b"\r\n" or raw[pos : pos + 1] == b"\n":
            pos += 2 if raw[pos : pos + 1] == b"\r" else 1
        elif len(raw) < pos + 2:
            return None
        else:
            raise McmpProtocolError("chunk data not followed by CRLF", raw)


def _skip_trailers(raw: bytes, pos: int, body: bytes) -> tuple[bytes, int] | None:
    while True:
        eol = raw.find(b"\n", pos)
        if eol < 0:
            return None
        line = raw[pos:eol].strip()
        pos = eol + 1
        if not line:
            return body, pos


def _extent(raw: bytes, eof: bool) -> tuple[_Head, bytes, int] | None:
    """(head, body, end of reply) when `raw` holds a complete reply, else None."""
    head = _parse_head(raw)
    if head is None:
        return None
    start = head.body_start
    if head.status in (204, 304) or 100 <= head.status < 200:
        return head, b"", start
    if "chunked" in head.get("transfer-encoding").lower():
        decoded = _dechunk(raw, start)
        return None if decoded is None else (head, decoded[0], decoded[1])
    length_text = head.get("content-length")
    if length_text:
        try:
            length = int(length_text)
        except ValueError:
            raise McmpProtocolError(f"bad Content-Length {length_text!r}", raw) from None
        if length < 0:
            raise McmpProtocolError(f"bad Content-Length {length_text!r}", raw)
        return (head, raw[start : start + length], start + length) if len(raw) >= start + length else None
    return (head, raw[start:], len(raw)) if eof else None


def _response(head: _Head, body: bytes) -> McmpResponse:
    return McmpResponse(head.status, head.reason, dict(head.headers), body.decode("utf-8", "replace"))


def parse_response(raw: bytes) -> McmpResponse:
    """Parse one complete HTTP reply (chunked, Content-Length, or delimited by close)."""
    extent = _extent(raw, eof=True)
    if extent is None:
        raise McmpProtocolError("incomplete HTTP reply", raw)
    return _response(extent[0], extent[1])


def _keeps_alive(head: _Head, eof_delimited: bool) -> bool:
    connection = head.get("connection").lower()
    if eof_delimited or "close" in connection or not 200 <= head.status < 300:
        return False  # httpd closes after every error reply; so does the Java node
    return head.version >= (1, 1) or "keep-alive" in connection


def reply_complete(raw: bytes) -> bool:
    """True once `raw` holds a whole reply without waiting for the connection to close."""
    return _extent(raw, eof=False) is not None


def decode_reply(raw: bytes, *, closed: bool) -> tuple[McmpResponse, bool] | None:
    """(reply, whether the connection stays usable after it) for the bytes read from a keep-alive
    connection (`closed`: the server closed it after them), or None when `raw` is incomplete."""
    extent = _extent(raw, eof=True)
    if extent is None:
        return None
    head, body, _end = extent
    return _response(head, body), _keeps_alive(head, closed)


# ------------------------------------------------------------------------- Java-like CONFIG params


def _java_host(host: str) -> str:
    host = host.lower()  # the Java node sends the address text lower-cased, IPv6 in brackets
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def java_config_params(
    route: str,
    *,
    host: str,
    port: int,
    type: str = "http",
    balancer: str | None = None,
    lbgroup: str | None = None,
    sticky_session: bool = True,
    sticky_session_force: bool = False,
    sticky_session_remove: bool = False,
    include_force: bool = True,
    **extra: str | int,
) -> list[tuple[str, str]]:
    """CONFIG parameters as the Java node (mod_cluster core) sends them.

    JVMRoute first, then the other keys in the Java node's sorted-map order (ASCII order: upper case
    before lower case). Like the Java node, a key equal to the httpd default is left out:
    StickySession only as "No", StickySessionRemove only as "Yes", StickySessionForce only as "No"
    (`include_force=False` leaves it out even then, as a naive fake node would: httpd then defaults
    to force=Yes). `extra` adds further MCMP keys verbatim (flushwait=10, ping=10, smax=26, ttl=60,
    Timeout=0, Maxattempts=1, WaitWorker=0, flushpackets="On", Reversed="true",
    StickySessionCookie=..., StickySessionPath=...).
    """
    params: dict[str, str] = {"Host": _java_host(host), "Port": str(port), "Type": type}
    if balancer is not None:
        params["Balancer"] = balancer
    if lbgroup is not None:
        params["Domain"] = lbgroup
    if not sticky_session:
        params["StickySession"] = "No"
    if sticky_session_remove:
        params["StickySessionRemove"] = "Yes"
    if not sticky_session_force and include_force:
        params["StickySessionForce"] = "No"
    taken = {key.lower() for key in params} | {"jvmroute"}
    for key, value in extra.items():
        if key.lower() in taken:
            raise ValueError(f"java_config_params: {key!r} is set by a named argument")
        if isinstance(value, bool):
            raise ValueError(f"java_config_params: {key}={value!r}: give the MCMP text (Yes/No, On/Off)")
        params[key] = str(value)
    return [("JVMRoute", route)] + sorted(params.items())


# ------------------------------------------------------------------------------ typed reply helpers


@dataclass(frozen=True)
class StatusReply:
    """STATUS-RSP or PING-RSP: `route` is None when the reply names no node (PING by Scheme/Host/Port)."""

    route: str | None
    state: str
    id: str
    type: str = ""

    @property
    def is_ok(self) -> bool:
        return self.state == "OK"


@dataclass(frozen=True)
class VersionReply:
    release: str
    protocol: str


def parse_status_reply(resp: McmpResponse) -> StatusReply:
    """Typed STATUS/PING reply; McmpProtocolError when the reply carries no State."""
    state = resp.field("State")
    if state is None:
        raise McmpProtocolError(
            f"no State in reply {resp.status} {resp.body[:120]!r}", resp.body.encode("utf-8", "replace")
        )
    route = resp.field("JVMRoute") or None  # 2.x pre answers a STATUS without JVMRoute with "JVMRoute="
    return StatusReply(route, state, resp.field("id") or "", resp.field("Type") or "")


def parse_stop_app_requests(resp: McmpResponse) -> int | None:
    """`Requests=N` of a STOP-APP reply (1.3.x / 2.x pre; either body shape), None when absent."""
    value = resp.field("Requests")
    try:
        return None if value is None else int(value.strip())
    except ValueError:
        return None


_VERSION_TEXT = re.compile(r"release:\s*(?P<release>[^,]*?)\s*,\s*protocol:\s*(?P<protocol>\S*)")
_VERSION_XML = re.compile(r"<release>(?P<release>[^<]*)</release>\s*<protocol>(?P<protocol>[^<]*)</protocol>")


def parse_version(resp: McmpResponse) -> VersionReply:
    """`release: X, protocol: Y` (or its XML form); McmpProtocolError otherwise."""
    match = _VERSION_TEXT.search(resp.body) or _VERSION_XML.search(resp.body)
    if not resp.ok or match is None:
        raise McmpProtocolError(
            f"not a VERSION reply: {resp.status} {resp.body[:120]!r}", resp.body.encode("utf-8", "replace")
        )
    return VersionReply(match.group("release").strip(), match.group("protocol").strip())


def app_reply_contexts(resp: McmpResponse) -> dict[str, tuple[str, ...]]:
    """Alias -> contexts touched, from a 2.x HEAD app-command reply (`Alias=a Contexts=/x,/y` lines).

    1.3.x / 2.x pre reply with an empty body (or, for STOP-APP, one Alias/Context pair, where the
    alias comes back one character short): that pair is returned as is.
    """
    result: dict[str, tuple[str, ...]] = {}
    for key, value in resp.field_pairs():
        if key.lower() != "alias":
            continue
        alias, sep, contexts = value.partition(" Contexts=")
        if sep:
            result[alias] = tuple(c for c in contexts.split(",") if c)
        elif resp.field("Context") is not None:
            result[value] = (resp.field("Context") or "",)
    return result


__all__ = [
    "COMMANDS",
    "USER_AGENT",
    "McmpProtocolError",
    "McmpResponse",
    "Params",
    "StatusReply",
    "VersionReply",
    "app_reply_contexts",
    "build_raw_request",
    "build_request",
    "decode_reply",
    "encode_body",
    "java_config_params",
    "parse_response",
    "parse_status_reply",
    "parse_stop_app_requests",
    "parse_version",
    "reply_complete",
]
