"""mod_advertise datagrams: parse, build, verify the digest, and listen on the multicast group.

A datagram is one UDP packet of CRLF lines ending with a blank line:
`HTTP/1.0 200 OK`, `Date:`, `Sequence:`, `Digest:`, `Server:` and, unless the balancer is shutting
down (403 Forbidden, then 410 Gone), `X-Manager-Address/Url/Protocol/Host`.
Digest = hex MD5 of (salt, Date, Sequence as decimal text, Server), salt = raw MD5 of the security
key, or 16 zero bytes without a key.

Standard library only: this module also ships into the simulated-node image.
"""

from __future__ import annotations

import hashlib
import logging
import re
import select
import socket
import struct
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import formatdate

DEFAULT_GROUP = "224.0.1.105"
DEFAULT_PORT = 23364

log = logging.getLogger(__name__)

Sender = tuple[str, int]


class AdvertiseParseError(ValueError):
    """The bytes are not an advertise datagram; `data` holds them."""

    def __init__(self, message: str, data: bytes = b"") -> None:
        super().__init__(f"{message} (datagram, {len(data)} bytes: {data[:120]!r})")
        self.data = data


def _salt(security_key: str | None) -> bytes:
    if security_key is None:
        return bytes(16)
    return hashlib.md5(security_key.encode("utf-8", "surrogateescape")).digest()


def compute_digest(security_key: str | None, date: str, sequence: int, server: str) -> str:
    """Hex MD5 of salt ‖ date ‖ str(sequence) ‖ server, as mod_advertise computes it."""
    md5 = hashlib.md5(_salt(security_key))
    for part in (date, str(sequence), server):
        md5.update(part.encode("utf-8", "surrogateescape"))  # round-trips parse_datagram's text
    return md5.hexdigest()


@dataclass(frozen=True)
class AdvertiseDatagram:
    status: int
    reason: str
    date: str | None
    sequence: int | None
    digest: str | None
    server: str | None
    manager_address: str | None = None
    manager_url: str | None = None
    manager_protocol: str | None = None
    manager_host: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def is_shutdown(self) -> bool:
        """403 Forbidden / 410 Gone: the balancer is going away."""
        return self.status != 200

    def verify(self, security_key: str | None) -> bool:
        """True when the digest matches `security_key` (None: no key configured)."""
        if self.date is None or self.sequence is None or self.server is None or self.digest is None:
            return False
        expected = compute_digest(security_key, self.date, self.sequence, self.server)
        return expected == self.digest.strip().lower()

    def manager_host_port(self) -> tuple[str, int] | None:
        """(host, port) of X-Manager-Address ("10.0.0.1:6666", "[::1]:6666"), None if absent/bad."""
        match = re.fullmatch(r"\[?([^\[\]]*?)\]?:(\d{1,5})", (self.manager_address or "").strip())
        if not match or not match.group(1) or int(match.group(2)) > 65535:
            return None
        return match.group(1), int(match.group(2))


_STATUS = re.compile(r"HTTP/\d\.\d (\d{3})(?: (.*))?")


def parse_datagram(data: bytes) -> AdvertiseDatagram:
    """Parse one datagram; AdvertiseParseError when it is not one."""
    lines = data.decode("utf-8", "surrogateescape").replace("\r\n", "\n").split("\n")
    match = _STATUS.fullmatch(lines[0].strip())
    if not match:
        raise AdvertiseParseError(f"bad status line {lines[0][:60]!r}", data)
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line.strip():
            continue
        name, colon, value = line.partition(":")
        if not colon or not name.strip():
            raise AdvertiseParseError(f"bad header line {line[:60]!r}", data)
        headers[name.strip().lower()] = value.strip()
    sequence_text = headers.get("sequence")
    if sequence_text is not None and not re.fullmatch(r"\d{1,19}", sequence_text):
        raise AdvertiseParseError(f"Sequence is not a number: {sequence_text[:30]!r}", data)
    return AdvertiseDatagram(
        status=int(match.group(1)),
        reason=(match.group(2) or "").strip(),
        date=headers.get("date"),
        sequence=None if sequence_text is None else int(sequence_text),
        digest=headers.get("digest"),
        server=headers.get("server"),
        manager_address=headers.get("x-manager-address"),
        manager_url=headers.get("x-manager-url"),
        manager_protocol=headers.get("x-manager-protocol"),
        manager_host=headers.get("x-manager-host"),
        headers=headers,
    )


def build_datagram(
    server: str,
    sequence: int,
    *,
    security_key: str | None = None,
    date: str | None = None,
    manager_address: str | None = None,
    manager_url: str | None = None,
    manager_protocol: str = "http",
    manager_host: str | None = None,
    status: int = 200,
    reason: str = "OK",
) -> bytes:
    """A datagram as mod_advertise sends it (for fake balancers and tests).

    `date` defaults to now (RFC 822, GMT). X-Manager-* lines are only written when
    `manager_address` is given; the shutdown datagrams (403 Forbidden, 410 Gone) have none.
    """
    date = date or formatdate(usegmt=True)
    lines = [
        f"HTTP/1.0 {status} {reason}",
        f"Date: {date}",
        f"Sequence: {sequence}",
        f"Digest: {compute_digest(security_key, date, sequence, server)}",
        f"Server: {server}",
    ]
    if manager_address is not None:
        lines += [
            f"X-Manager-Address: {manager_address}",
            f"X-Manager-Url: {manager_url if manager_url is not None else '/' + server}",
            f"X-Manager-Protocol: {manager_protocol}",
            f"X-Manager-Host: {manager_host or 'localhost'}",
        ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "surrogateescape")


class AdvertiseListener:
    """Joins a multicast group and yields the datagrams received there.

    `interface_ip` joins on that interface only; None joins on every interface that accepts it.
    Unparsable datagrams are skipped, logged and counted in `unparsable`.
    """

    def __init__(
        self, group: str = DEFAULT_GROUP, port: int = DEFAULT_PORT, *, interface_ip: str | None = None
    ) -> None:
        self.group = group
        self.port = port
        self.interface_ip = interface_ip
        self.received = 0
        self.unparsable = 0
        self.joined: list[str] = []  # interface names/addresses the group was joined on
        self._sock: socket.socket | None = None

    def __enter__(self) -> AdvertiseListener:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open(self) -> None:
        if self._sock is not None:
            return
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if hasattr(socket, "SO_REUSEPORT"):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            try:
                sock.bind((self.group, self.port))  # only this group's traffic (Linux)
            except OSError:
                sock.bind(("", self.port))
            self._join(sock)
        except OSError as exc:
            sock.close()
            raise OSError(
                f"cannot listen for advertise on {self.group}:{self.port} "
                f"(interface {self.interface_ip or 'all'}): {exc}"
            ) from exc
        self._sock = sock

    def _join(self, sock: socket.socket) -> None:
        group = socket.inet_aton(self.group)
        if self.interface_ip is not None:
            mreq = group + socket.inet_aton(self.interface_ip)
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
            self.joined.append(self.interface_ip)
            return
        for index, name in socket.if_nameindex():
            try:  # struct ip_mreqn: group, local address (any), interface index
                mreqn = struct.pack("=4s4si", group, socket.inet_aton("0.0.0.0"), index)
                sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreqn)
                self.joined.append(name)
            except OSError as exc:
                log.debug("advertise: cannot join %s on %s: %s", self.group, name, exc)
        if not self.joined:
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, group + bytes(4))
            self.joined.append("0.0.0.0")

    def close(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            sock.close()

    def receive(self, timeout: float) -> tuple[AdvertiseDatagram, Sender] | None:
        """The next parsable datagram and its sender, or None when `timeout` seconds pass first."""
        if self._sock is None:
            raise RuntimeError("AdvertiseListener.receive() before open() / with-block")
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            readable, _, _ = select.select([self._sock], [], [], remaining)
            if not readable:
                return None
            data, sender = self._sock.recvfrom(65535)
            self.received += 1
            try:
                return parse_datagram(data), (sender[0], sender[1])
            except AdvertiseParseError as exc:
                self.unparsable += 1
                log.warning("advertise: skipped datagram from %s:%s: %s", sender[0], sender[1], exc)
