"""harness.advertise: digest, datagram parsing/building (recorded datagrams), the multicast listener."""

from __future__ import annotations

import hashlib
import json
import re
import socket
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.protocol.advertise import (
    DEFAULT_GROUP,
    DEFAULT_PORT,
    AdvertiseListener,
    AdvertiseParseError,
    build_datagram,
    compute_digest,
    parse_datagram,
)

DATA = Path(__file__).parent / "data" / "advertise"
RECORDED: list[dict[str, Any]] = [
    d for f in sorted(DATA.glob("*.json")) for d in json.loads(f.read_text())["datagrams"]
]


def test_defaults_match_mod_advertise() -> None:
    assert (DEFAULT_GROUP, DEFAULT_PORT) == ("224.0.1.105", 23364)


def test_digest_without_and_with_key() -> None:
    date, server = "Mon, 23 Nov 2026 02:44:18 GMT", "f2ba7b02-8b8c-41c1-afc9-838a89dcd23c"
    assert compute_digest(None, date, 1, server) == "72659b7a420a71df6c10ec2c5aaee96f"
    assert (
        compute_digest("secret123", "Mon, 23 Nov 2026 02:44:37 GMT", 1, "0b08d47b-2264-4871-9040-4371459c629f")
        == "5930a11b510ba6f5803198ef318c856b"
    )
    assert compute_digest("", date, 1, server) != compute_digest(None, date, 1, server)


@pytest.mark.parametrize("record", RECORDED, ids=[f"{r['capture']}-{i}" for i, r in enumerate(RECORDED)])
def test_recorded_datagram(record: dict[str, Any]) -> None:
    datagram = parse_datagram(record["datagram"].encode("ascii"))
    assert datagram.verify(record["key"]) is record["valid"]
    assert datagram.is_shutdown == (datagram.status != 200)
    if datagram.is_shutdown:
        assert datagram.manager_address is None and datagram.manager_host_port() is None
        assert (datagram.status, datagram.reason) in ((403, "Forbidden"), (410, "Gone"))
    else:
        host_port = datagram.manager_host_port()
        assert host_port is not None and host_port[1] == 6666
        assert datagram.manager_protocol == "http" and datagram.manager_url and datagram.manager_url.startswith("/")


def test_recorded_datagrams_cover_key_shutdown_and_wrong_key() -> None:
    assert any(r["key"] for r in RECORDED) and any(not r["valid"] for r in RECORDED)
    assert any("410 Gone" in str(r["datagram"]) for r in RECORDED)


def test_parse_fields() -> None:
    datagram = parse_datagram(next(str(r["datagram"]) for r in RECORDED).encode())
    assert (datagram.status, datagram.reason, datagram.sequence) == (200, "OK", 1)
    assert datagram.date == "Mon, 23 Nov 2026 02:44:18 GMT"
    assert datagram.server == "f2ba7b02-8b8c-41c1-afc9-838a89dcd23c"
    assert datagram.manager_host_port() == ("10.99.0.1", 6666) and datagram.manager_host == "localhost"
    assert datagram.headers["x-manager-url"] == "/f2ba7b02-8b8c-41c1-afc9-838a89dcd23c"


def test_build_then_parse_round_trip_and_verify() -> None:
    raw = build_datagram(
        "uuid-1",
        7,
        security_key="k",
        date="Tue, 01 Dec 2026 10:00:00 GMT",
        manager_address="[fd00::1]:6666",
        manager_host="mgr",
    )
    datagram = parse_datagram(raw)
    assert raw.endswith(b"\r\n\r\n") and datagram.sequence == 7
    assert datagram.verify("k") and not datagram.verify(None) and not datagram.verify("K")
    assert datagram.manager_host_port() == ("fd00::1", 6666) and datagram.manager_url == "/uuid-1"
    gone = parse_datagram(build_datagram("uuid-1", 8, status=410, reason="Gone"))
    assert gone.is_shutdown and gone.manager_address is None and gone.verify(None)


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"hello",
        b"HTTP/1.0 OK\r\n\r\n",
        b"HTTP/1.0 200 OK\r\nbroken\r\n\r\n",
        b"HTTP/1.0 200 OK\r\nSequence: one\r\n\r\n",
    ],
)
def test_parse_rejects_non_datagrams(raw: bytes) -> None:
    with pytest.raises(AdvertiseParseError) as info:
        parse_datagram(raw)
    assert info.value.data == raw


def test_verify_is_false_when_fields_are_missing() -> None:
    assert not parse_datagram(b"HTTP/1.0 200 OK\r\nDate: x\r\nSequence: 1\r\n\r\n").verify(None)


@given(st.binary(max_size=400))
def test_parse_only_raises_parse_error(raw: bytes) -> None:
    try:
        datagram = parse_datagram(raw)
    except AdvertiseParseError:
        return
    datagram.verify(None), datagram.verify("k"), datagram.manager_host_port(), datagram.is_shutdown


@given(
    st.text(min_size=1, max_size=40).filter(lambda s: "\r" not in s and "\n" not in s and s.strip() == s),
    st.integers(0, 2**40),
    st.one_of(st.none(), st.text(max_size=20)),
)
def test_built_datagrams_verify(server: str, sequence: int, key: str | None) -> None:
    datagram = parse_datagram(build_datagram(server, sequence, security_key=key, manager_address="h:1"))
    assert datagram.server == server and datagram.verify(key)


# ---------------------------------------------------------------------------------------- listener


def _send_multicast(group: str, port: int, payloads: list[bytes]) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        sender.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 0)
        sender.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)
        sender.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton("127.0.0.1"))
        for payload in payloads:
            sender.sendto(payload, (group, port))


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("interface_ip", [None, "127.0.0.1"])
def test_listener_receives_skips_garbage_and_times_out(interface_ip: str | None) -> None:
    group, port = "239.255.77.7", _free_udp_port()
    good = build_datagram("uuid-9", 1, manager_address="127.0.0.1:6666")
    try:
        listener = AdvertiseListener(group, port, interface_ip=interface_ip).__enter__()
    except OSError as exc:
        pytest.skip(f"no multicast on loopback here: {exc}")
    with listener:
        assert listener.joined
        _send_multicast(group, port, [b"not an advert", good])
        received = listener.receive(timeout=2.0)
        assert received is not None
        datagram, sender = received
        assert datagram.server == "uuid-9" and datagram.verify(None) and sender[0] == "127.0.0.1"
        assert listener.unparsable == 1 and listener.received == 2
        assert listener.receive(timeout=0.05) is None


def test_listener_receive_needs_open() -> None:
    with pytest.raises(RuntimeError, match="open"):
        AdvertiseListener("239.255.77.8", _free_udp_port()).receive(0.01)


# ---------------------------------------------------------------------------------------- details


def _parse_error(raw: bytes) -> str:
    with pytest.raises(AdvertiseParseError) as caught:
        parse_datagram(raw)
    assert str(caught.value).endswith(f" (datagram, {len(raw)} bytes: {raw[:120]!r})")
    return str(caught.value).rpartition(" (datagram, ")[0]


def test_parse_errors_say_what_is_wrong() -> None:
    long = "y" * 100
    assert (
        _parse_error(f"HTTP/1.0 2000 {long}\r\n\r\n".encode()) == f"bad status line {('HTTP/1.0 2000 ' + long)[:60]!r}"
    )
    assert _parse_error(f"HTTP/1.0 200 OK\r\n{long}\r\n\r\n".encode()) == f"bad header line {long[:60]!r}"
    assert _parse_error(b"HTTP/1.0 200 OK\r\n : x\r\n\r\n") == "bad header line ' : x'"
    assert (
        _parse_error(f"HTTP/1.0 200 OK\r\nSequence: {long}\r\n\r\n".encode())
        == f"Sequence is not a number: {long[:30]!r}"
    )
    assert AdvertiseParseError("m").data == b"" and str(AdvertiseParseError("m")) == "m (datagram, 0 bytes: b'')"


def test_parse_blank_lines_reason_and_missing_sequence() -> None:
    datagram = parse_datagram(b"HTTP/1.0 403\r\nDate: d\r\n\r\nServer: s\r\n\r\n")
    assert (datagram.status, datagram.reason, datagram.server, datagram.sequence) == (403, "", "s", None)
    assert datagram.is_shutdown and not datagram.verify(None)


@pytest.mark.parametrize("missing", ["Date", "Sequence", "Digest", "Server"])
def test_verify_needs_every_signed_field(missing: str) -> None:
    lines = {"Date": "d", "Sequence": "1", "Digest": compute_digest(None, "d", 1, "s"), "Server": "s"}
    complete = "HTTP/1.0 200 OK\r\n" + "".join(f"{k}: {v}\r\n" for k, v in lines.items()) + "\r\n"
    assert parse_datagram(complete.encode()).verify(None)
    del lines[missing]
    partial = "HTTP/1.0 200 OK\r\n" + "".join(f"{k}: {v}\r\n" for k, v in lines.items()) + "\r\n"
    assert not parse_datagram(partial.encode()).verify(None)


@pytest.mark.parametrize(
    "address, expected",
    [
        ("h:65535", ("h", 65535)),
        ("h:65536", None),
        (":6666", None),
        ("[::1]:1", ("::1", 1)),
        (" h:1 ", ("h", 1)),
        ("h", None),
        (None, None),
    ],
)
def test_manager_host_port(address: str | None, expected: tuple[str, int] | None) -> None:
    header = f"X-Manager-Address: {address}\r\n" if address is not None else ""
    assert parse_datagram(f"HTTP/1.0 200 OK\r\n{header}\r\n".encode()).manager_host_port() == expected


def test_bytes_that_are_not_utf8_round_trip_through_the_digest() -> None:
    raw = b"HTTP/1.0 200 OK\r\nDate: d\r\nSequence: 2\r\nServer: s\xff\r\n"
    salt = hashlib.md5(b"k\xfe").digest()
    digest = hashlib.md5(salt + b"d" + b"2" + b"s\xff").hexdigest()
    datagram = parse_datagram(raw + f"Digest: {digest.upper()} \r\n\r\n".encode())
    assert datagram.verify("k\udcfe") and not datagram.verify("k")
    assert b"\r\nServer: s\xff\r\n" in build_datagram("s\udcff", 2, date="d")


def test_build_defaults() -> None:
    datagram = parse_datagram(build_datagram("s1", 3, manager_address="h:1"))
    assert (
        datagram.status,
        datagram.reason,
        datagram.manager_protocol,
        datagram.manager_host,
        datagram.manager_url,
    ) == (200, "OK", "http", "localhost", "/s1")
    assert datagram.date is not None and datagram.date.endswith(" GMT") and datagram.verify(None)
    assert parse_datagram(build_datagram("s1", 3, manager_address="h:1", manager_url="")).manager_url == ""
    assert b"HTTP/1.0 200 OK\r\n" in build_datagram("s1", 3)


def test_listener_defaults_and_open_failure() -> None:
    listener = AdvertiseListener(interface_ip="127.0.0.1")
    assert (listener.group, listener.port, listener.interface_ip, listener.joined) == (
        "224.0.1.105",
        23364,
        "127.0.0.1",
        [],
    )
    listener.close()  # closing an unopened listener is fine
    port = _free_udp_port()
    with pytest.raises(OSError, match=rf"^cannot listen for advertise on 300\.0\.0\.1:{port} \(interface all\): "):
        AdvertiseListener("300.0.0.1", port).open()
    with pytest.raises(RuntimeError, match=r"^AdvertiseListener\.receive\(\) before open\(\) / with-block$"):
        AdvertiseListener().receive(0)


@pytest.mark.parametrize("interface_ip", [None, "127.0.0.1"])
def test_listener_counts_and_logs_what_it_skips(interface_ip: str | None, caplog: pytest.LogCaptureFixture) -> None:
    group, port = "239.255.77.9", _free_udp_port()
    try:
        listener = AdvertiseListener(group, port, interface_ip=interface_ip).__enter__()
    except OSError as exc:
        pytest.skip(f"no multicast on loopback here: {exc}")
    with listener, caplog.at_level("WARNING", logger="harness.protocol.advertise"):
        assert listener.joined == ["127.0.0.1"] if interface_ip else "lo" in listener.joined
        _send_multicast(group, port, [b"junk one", b"junk two", build_datagram("s", 1)])
        assert listener.receive(timeout=2.0) is not None
        assert (listener.unparsable, listener.received) == (2, 3)
        assert listener.receive(timeout=0) is None
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2
    for message, junk in zip(messages, ("junk one", "junk two")):
        assert re.fullmatch(
            rf"advertise: skipped datagram from 127\.0\.0\.1:\d+: bad status line '{junk}' "
            rf"\(datagram, 8 bytes: b'{junk}'\)",
            message,
        ), message


def test_listener_falls_back_to_the_default_interface_when_none_accepts_the_group(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # a host whose only interface refuses the join (no such device): the kernel picks one for the group
    monkeypatch.setattr(socket, "if_nameindex", lambda: [(987_654, "gone0")])
    group, port = "239.255.77.10", _free_udp_port()
    with caplog.at_level("DEBUG", logger="harness.protocol.advertise"):
        try:
            listener = AdvertiseListener(group, port).__enter__()
        except OSError as exc:
            pytest.skip(f"no multicast route here: {exc}")
    with listener:
        assert listener.joined == ["0.0.0.0"]
        [message] = [r.getMessage() for r in caplog.records if r.name == "harness.protocol.advertise"]
        assert re.fullmatch(rf"advertise: cannot join {re.escape(group)} on gone0: \[Errno \d+\] .+", message), message
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:  # default interface too, looped back
            sender.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 0)
            sender.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)
            sender.sendto(build_datagram("fallback", 3), (group, port))
        received = listener.receive(timeout=0.5)  # already queued: found well within half a second
        assert received is not None and received[0].server == "fallback"


def test_listener_shares_its_port_with_a_socket_that_only_set_so_reuseport() -> None:
    if not hasattr(socket, "SO_REUSEPORT"):
        pytest.skip("no SO_REUSEPORT on this platform")
    group = "239.255.77.11"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as other:  # another listener on the advertise port
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        other.bind((group, 0))
        port = other.getsockname()[1]
        try:
            listener = AdvertiseListener(group, port, interface_ip="127.0.0.1").__enter__()
        except OSError as exc:
            if "Address already in use" in str(exc):
                raise
            pytest.skip(f"no multicast on loopback here: {exc}")
        with listener:
            _send_multicast(group, port, [build_datagram("shared", 1)])
            received = listener.receive(timeout=2.0)
            assert received is not None and received[0].server == "shared"
