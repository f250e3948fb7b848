"""harness.mcmp and harness.mcmp_client: request encoding, reply parsing (recorded replies of three builds),
the client."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.protocol import balancer_info
from harness.protocol.mcmp import (
    COMMANDS,
    McmpProtocolError,
    McmpResponse,
    StatusReply,
    app_reply_contexts,
    build_request,
    decode_reply,
    encode_body,
    java_config_params,
    parse_response,
    parse_status_reply,
    parse_stop_app_requests,
    parse_version,
    reply_complete,
)
from harness.protocol.mcmp_client import McmpClient, McmpConnection, McmpExchange, McmpTransportError

DATA = Path(__file__).parent / "data" / "mcmp"
REPLY_FILES = sorted(DATA.glob("*/*.http"))
# Transcripts: one JSON object per line, McmpExchange.as_record() (+ optional "title"); real recordings
# can be dropped into data/transcripts/ as well.
TRANSCRIPTS = sorted([*DATA.glob("transcripts/*.jsonl"), *(DATA.parent / "transcripts").glob("**/*.jsonl")])


def _expected(path: Path) -> dict[str, Any]:
    table = path.parent / "expected.json"
    loaded: dict[str, dict[str, Any]] = json.loads(table.read_text()) if table.exists() else {}
    return loaded.get(path.stem, {})


# ------------------------------------------------------------------------------------------ request


def test_commands_are_the_ten_mcmp_methods() -> None:
    assert set(COMMANDS) == {
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
    }


def test_encode_body_keeps_order_and_encodes_like_java() -> None:
    assert (
        encode_body([("JVMRoute", "node1"), ("Alias", "localhost,127.0.0.1"), ("Context", "/app")])
        == "JVMRoute=node1&Alias=localhost%2C127.0.0.1&Context=%2Fapp"
    )
    assert encode_body({"b": "x y", "a": "~*._-"}) == "b=x+y&a=%7E*._-"


def test_build_request_is_the_java_node_request() -> None:
    raw = build_request("STATUS", [("JVMRoute", "node1"), ("Load", "50")], host="balancer:6666")
    assert raw == (
        b"STATUS / HTTP/1.1\r\nHost: balancer:6666\r\nContent-Length: 22\r\n"
        b"User-Agent: ClusterListener/1.0\r\nConnection: Keep-Alive\r\n\r\nJVMRoute=node1&Load=50"
    )


def test_build_request_wildcard_xml_and_empty_body() -> None:
    raw = build_request("DUMP", wildcard=True, accept_xml=True)
    assert raw.startswith(b"DUMP /* HTTP/1.1\r\nHost: localhost\r\n")
    assert b"Accept: text/xml\r\n" in raw and b"Content-Length" not in raw
    assert raw.endswith(b"\r\n\r\n")


def test_build_request_rejects_a_command_with_spaces() -> None:
    with pytest.raises(ValueError, match="one token"):
        build_request("INFO / HTTP/1.0\r\nX:")


def test_java_config_params_order_and_defaults() -> None:
    params = java_config_params(
        "node1",
        host="10.0.0.5",
        port=8080,
        balancer="mycluster",
        flushwait=10,
        ping=10,
        smax=26,
        ttl=60,
        Timeout=0,
        Maxattempts=1,
    )
    assert params == [
        ("JVMRoute", "node1"),
        ("Balancer", "mycluster"),
        ("Host", "10.0.0.5"),
        ("Maxattempts", "1"),
        ("Port", "8080"),
        ("StickySessionForce", "No"),
        ("Timeout", "0"),
        ("Type", "http"),
        ("flushwait", "10"),
        ("ping", "10"),
        ("smax", "26"),
        ("ttl", "60"),
    ]


def test_java_config_params_only_sends_non_default_sticky_keys() -> None:
    keys = dict(
        java_config_params(
            "n",
            host="H",
            port=8009,
            type="ajp",
            lbgroup="dom1",
            sticky_session=False,
            sticky_session_remove=True,
            sticky_session_force=True,
        )
    )
    assert keys == {
        "JVMRoute": "n",
        "Domain": "dom1",
        "Host": "h",
        "Port": "8009",
        "StickySession": "No",
        "StickySessionRemove": "Yes",
        "Type": "ajp",
    }
    assert "StickySessionForce" not in dict(java_config_params("n", host="h", port=1, include_force=False))


def test_java_config_params_ipv6_host_and_conflicts() -> None:
    assert dict(java_config_params("n", host="FD00::1", port=1))["Host"] == "[fd00::1]"
    with pytest.raises(ValueError, match="Port"):
        java_config_params("n", host="h", port=1, Port=2)
    with pytest.raises(ValueError, match="flushpackets"):
        java_config_params("n", host="h", port=1, flushpackets=True)
    assert dict(java_config_params("n", host="[::1]", port=1))["Host"] == "[::1]"  # bracketed once
    for key in ("JVMRoute", "jvmroute"):  # the route is the first argument
        with pytest.raises(ValueError, match=rf"^java_config_params: '{key}' is set by a named argument$"):
            java_config_params("n", host="h", port=1, **{key: "other"})


# -------------------------------------------------------------------------------- recorded replies


@pytest.mark.parametrize("path", REPLY_FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_recorded_reply(path: Path) -> None:
    resp = parse_response(path.read_bytes())
    expected = _expected(path)
    assert resp.status == expected.get("status", resp.status)
    assert resp.ok == (resp.status == 200)
    if resp.status == 500:  # httpd's MCMP errors always carry the class in headers
        assert resp.error_type in ("SYNTAX", "MEM", "GENERAL") and resp.error_message
    for key in ("error_type", "error_message", "body"):
        if key in expected:
            assert getattr(resp, key) == expected[key]
    if "fields" in expected:
        assert resp.fields() == expected["fields"]
    if "status_reply" in expected:
        reply = parse_status_reply(resp)
        assert vars(reply) == expected["status_reply"] and reply.is_ok == (reply.state == "OK")
    if "stop_app_requests" in expected:
        assert parse_stop_app_requests(resp) == expected["stop_app_requests"]
    if "app_contexts" in expected:
        assert app_reply_contexts(resp) == {k: tuple(v) for k, v in expected["app_contexts"].items()}
    if "version" in expected:
        assert list(vars(parse_version(resp)).values()) == expected["version"]
    if "names" in expected:
        assert list(balancer_info.parse_info(resp.body).names) == expected["names"]


def test_every_build_has_recorded_replies() -> None:
    assert {p.parent.name for p in REPLY_FILES} >= {"1.3.22", "2.x-pre", "2.x-head"}


def _route(request: bytes) -> str | None:
    from urllib.parse import parse_qsl

    body = request.partition(b"\r\n\r\n")[2].decode("latin-1")
    return dict(parse_qsl(body, keep_blank_values=True)).get("JVMRoute")


def _check_exchange(exchange: McmpExchange) -> None:
    command, resp = exchange.command.upper(), parse_response(exchange.reply)
    if resp.status == 500:
        assert resp.error_type in ("SYNTAX", "MEM", "GENERAL") and resp.error_message
        return
    if not resp.ok:
        assert resp.status in (400, 404, 405, 413, 501), resp.status  # plain httpd errors, no MCMP class
        return
    accept_xml = b"\r\nAccept: text/xml" in exchange.request
    if command in ("STATUS", "PING"):
        reply = parse_status_reply(resp)
        assert reply.type == f"{command}-RSP" and reply.state in ("OK", "NOTOK") and reply.id
        assert reply.route == (_route(exchange.request) or None)
    elif command == "VERSION":
        assert parse_version(resp).protocol == "0.2.1"
    elif command in ("INFO", "DUMP"):
        info = (balancer_info.parse_info if command == "INFO" else balancer_info.parse_dump)(resp.body)
        assert not info.unparsed and resp.body.lstrip().startswith("<") == (accept_xml and bool(resp.body))
    elif command.endswith("-APP") and resp.body:
        assert resp.field("Type") == f"{command}-RSP" and resp.field("JvmRoute") == _route(exchange.request)
        assert app_reply_contexts(resp)
    else:
        assert resp.body == ""


@pytest.mark.parametrize("path", TRANSCRIPTS, ids=lambda p: p.stem)
def test_transcript(path: Path) -> None:
    problems = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        record = json.loads(line)
        try:
            _check_exchange(McmpExchange.from_record(record))
        except (AssertionError, McmpProtocolError) as exc:
            problems.append(f"line {number} ({record.get('title', '')}): {exc!r}")
    assert not problems, "\n".join(problems)


def test_exchange_records_round_trip_bytes() -> None:
    exchange = McmpExchange(b"PING / HTTP/1.1\r\n\r\n", bytes(range(256)))
    assert McmpExchange.from_record(json.loads(json.dumps(exchange.as_record()))) == exchange
    assert exchange.command == "PING"


def test_parse_response_content_length_and_close_delimited() -> None:
    resp = parse_response(
        b"HTTP/1.1 500 Internal Server Error\r\nVersion: 0.2.1\r\nType: MEM\r\n"
        b"Mess: MEM: Can't read node\r\nContent-Length: 5\r\n\r\nhello-extra"
    )
    assert (resp.status, resp.body, resp.error_type) == (500, "hello", "MEM")
    assert resp.header("mess") == resp.error_message == "MEM: Can't read node"
    assert parse_response(b"HTTP/1.0 200 OK\r\n\r\nNode: [0]").body == "Node: [0]"


def test_fields_newline_shape_and_case_insensitive_lookup() -> None:
    resp = McmpResponse(200, "OK", {}, "Type=STOP-APP-RSP\nJvmRoute=node1\nAlias=a Contexts=/x,/y\n\nRequests=2\n")
    assert resp.field("jvmroute") == "node1" and resp.fields()["Type"] == "STOP-APP-RSP"
    assert parse_stop_app_requests(resp) == 2 and app_reply_contexts(resp) == {"a": ("/x", "/y")}


def test_typed_helpers_reject_replies_without_their_fields() -> None:
    error = McmpResponse(500, "Internal Server Error", {"Type": "MEM", "Mess": "x"}, "<html/>")
    with pytest.raises(McmpProtocolError, match="State"):
        parse_status_reply(error)
    with pytest.raises(McmpProtocolError, match="VERSION"):
        parse_version(error)
    assert parse_stop_app_requests(error) is None and error.fields() == {}
    xml = McmpResponse(
        200, "OK", {}, "<version><release>mod_cluster/1.3.22.Final</release><protocol>0.2.1</protocol></version>"
    )
    assert (parse_version(xml).release, parse_version(xml).protocol) == ("mod_cluster/1.3.22.Final", "0.2.1")


@pytest.mark.parametrize(
    "raw",
    [
        b"garbage\r\n\r\n",
        b"HTTP/1.1 abc OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nNoColon\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
        b"HTTP/1.1 200",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n",
    ],
)
def test_parse_response_raises_protocol_error_with_raw_bytes(raw: bytes) -> None:
    with pytest.raises(McmpProtocolError) as info:
        parse_response(raw)
    assert info.value.raw == raw


@given(st.binary(max_size=300))
def test_parse_response_only_raises_protocol_error(raw: bytes) -> None:
    try:
        resp = parse_response(raw)
    except McmpProtocolError:
        return
    resp.fields(), resp.error_type, resp.error_message  # never raise


@given(st.text(max_size=200), st.integers(100, 599))
def test_fields_never_raise(body: str, status: int) -> None:
    resp = McmpResponse(status, "x", {}, body)
    assert isinstance(resp.fields(), dict)
    assert parse_stop_app_requests(resp) is None or isinstance(parse_stop_app_requests(resp), int)
    app_reply_contexts(resp)


@given(st.lists(st.tuples(st.text(min_size=1, max_size=20), st.text(max_size=20)), max_size=6))
def test_encode_body_round_trips_through_form_decoding(pairs: list[tuple[str, str]]) -> None:
    from urllib.parse import parse_qsl

    body = encode_body(pairs)
    assert body.isascii()
    assert parse_qsl(body, keep_blank_values=True) == pairs or not pairs


# ---------------------------------------------------------------------------------------- client

Handler = Callable[[socket.socket, bytes], bool]  # returns False to close the connection


class FakeBalancer:
    """A tiny scripted MCMP server on localhost: each connection answers with `replies` in turn."""

    def __init__(self, replies: list[bytes], close_after: set[int] | None = None) -> None:
        self.replies = replies
        self.close_after = close_after or set()
        self.requests: list[bytes] = []
        self.connections = 0
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _read_request(self, conn: socket.socket) -> bytes | None:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(4096)
            if not chunk:
                return None
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = next(
            (int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")), 0
        )
        while len(body) < length:
            body += conn.recv(4096)
        return head + b"\r\n\r\n" + body

    def _serve(self) -> None:
        index = 0
        while index < len(self.replies):
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            self.connections += 1
            with conn:
                while index < len(self.replies):
                    request = self._read_request(conn)
                    if request is None:
                        break
                    self.requests.append(request)
                    index += 1
                    if not self.replies[index - 1]:
                        break  # b"": close without answering
                    conn.sendall(self.replies[index - 1])
                    if index in self.close_after:
                        break

    def close(self) -> None:
        self.server.close()


@pytest.fixture
def fake() -> Iterator[Callable[..., FakeBalancer]]:
    made: list[FakeBalancer] = []

    def make(replies: list[bytes], close_after: set[int] | None = None) -> FakeBalancer:
        made.append(FakeBalancer(replies, close_after))
        return made[-1]

    yield make
    for server in made:
        server.close()


def _chunked(body: bytes) -> bytes:
    return (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
        + (b"%x\r\n%s\r\n" % (len(body), body) if body else b"")
        + b"0\r\n\r\n"
    )


OK_STATUS = _chunked(b"Type=STATUS-RSP&JVMRoute=node1&State=OK&id=1795401506011\n")
MEM_ERROR = (
    b"HTTP/1.1 500 Internal Server Error\r\nVersion: 0.2.1\r\nType: MEM\r\n"
    b'Mess: MEM: Can\'t read node with "nodeX" JVMRoute\r\nContent-Length: 4\r\n'
    b"Connection: close\r\n\r\n<h1>"
)


def test_client_keeps_the_connection_alive(fake: Callable[..., FakeBalancer]) -> None:
    server = fake([OK_STATUS, OK_STATUS])
    with McmpClient("127.0.0.1", server.port, timeout=2) as client:
        assert parse_status_reply(client.status("node1", 50)).state == "OK"
        assert client.status("node1", 60).ok
        assert client.connects == 1
    assert server.requests[1].startswith(b"STATUS / HTTP/1.1\r\nHost: 127.0.0.1:")
    assert server.requests[1].endswith(b"\r\n\r\nJVMRoute=node1&Load=60")


def test_client_reconnects_after_an_error_reply(fake: Callable[..., FakeBalancer]) -> None:
    server = fake([MEM_ERROR, OK_STATUS])  # says Connection: close; without it: the test after the next
    with McmpClient("127.0.0.1", server.port, timeout=2) as client:
        error = client.status("nodeX", 10)
        assert (error.status, error.error_type) == (500, "MEM")
        assert client.status("node1", 10).ok
        assert client.connects == 2 and server.connections == 2


def _reply(status: bytes, *headers: bytes, body: bytes = b"ok", version: bytes = b"HTTP/1.1") -> bytes:
    head = b"".join(h + b"\r\n" for h in headers)
    return version + b" " + status + b"\r\n" + head + b"Content-Length: %d\r\n\r\n" % len(body) + body


@pytest.mark.parametrize(
    "status", [b"500 Internal Server Error", b"404 Not Found", b"300 Multiple Choices", b"199 Odd"]
)
def test_client_closes_after_an_error_reply_even_when_the_server_would_keep_it_open(
    fake: Callable[..., FakeBalancer], status: bytes
) -> None:
    """The rule itself (mcmp._keeps_alive): no `Connection: close` here, and the fake server would answer the next
    request on the same connection; the client must still open a new one, as httpd and the Java node do."""
    server = fake([_reply(status, b"Type: MEM", b"Mess: no"), OK_STATUS])
    with McmpClient("127.0.0.1", server.port, timeout=2) as client:
        assert client.status("nodeX", 10).status == int(status.split()[0])
        assert client.status("node1", 10).ok
        assert (client.connects, server.connections) == (2, 2)


@pytest.mark.parametrize("status", [b"200 OK", b"299 Odd"])
def test_client_reuses_the_connection_after_a_success_reply(fake: Callable[..., FakeBalancer], status: bytes) -> None:
    server = fake([_reply(status), OK_STATUS])
    with McmpClient("127.0.0.1", server.port, timeout=2) as client:
        client.version()
        assert client.status("node1", 10).ok
        assert (client.connects, server.connections) == (1, 1)


@pytest.mark.parametrize(
    "reply, closed, keeps",
    [
        (_reply(b"200 OK"), False, True),
        (_reply(b"299 Odd"), False, True),
        (_reply(b"300 Multiple Choices"), False, False),
        (_reply(b"199 Odd"), False, False),
        (_reply(b"500 Internal Server Error"), False, False),
        (_reply(b"200 OK", b"Connection: Close"), False, False),
        (_reply(b"200 OK", b"Connection: keep-alive, close"), False, False),
        (_reply(b"200 OK"), True, False),
        (b"HTTP/1.1 200 OK\r\n\r\nbody until close", True, False),
        (_reply(b"200 OK", version=b"HTTP/1.0"), False, False),
        (_reply(b"200 OK", b"Connection: Keep-Alive", version=b"HTTP/1.0"), False, True),
        (_reply(b"500 Internal Server Error", b"Connection: Keep-Alive", version=b"HTTP/1.0"), False, False),
    ],
)
def test_decode_reply_says_whether_the_connection_stays_usable(reply: bytes, closed: bool, keeps: bool) -> None:
    decoded = decode_reply(reply, closed=closed)
    assert decoded is not None and decoded[1] is keeps


def test_client_retries_once_when_the_server_closed_an_idle_connection(fake: Callable[..., FakeBalancer]) -> None:
    server = fake([OK_STATUS, OK_STATUS], close_after={1})  # closes without saying so
    with McmpClient("127.0.0.1", server.port, timeout=2) as client:
        assert client.ping("node1").ok
        assert client.ping(scheme="http", host="10.0.0.1", port=8080).ok
        assert client.connects == 2
    assert server.requests[1].endswith(b"Host=10.0.0.1&Port=8080&Scheme=http")


def test_client_keeps_the_last_exchange(fake: Callable[..., FakeBalancer]) -> None:
    server = fake([OK_STATUS])
    with McmpClient("127.0.0.1", server.port, timeout=2) as client:
        client.enable_app("node1", "", ["localhost", "127.0.0.1"])
        assert client.last_exchange is not None
        assert client.last_exchange.request == server.requests[0]
        assert client.last_exchange.reply == OK_STATUS
    assert server.requests[0].endswith(b"JVMRoute=node1&Alias=localhost%2C127.0.0.1&Context=%2F")


def test_client_node_wide_commands_use_star(fake: Callable[..., FakeBalancer]) -> None:
    empty = _chunked(b"")
    server = fake([empty] * 6)
    with McmpClient("127.0.0.1", server.port, timeout=2) as client:
        for verb in (client.enable_node, client.disable_node, client.stop_node, client.remove_node):
            assert verb("node1").body == ""
        client.dump(xml=True)
        client.info()
    lines = [r.split(b"\r\n")[0] for r in server.requests]
    assert lines == [
        b"ENABLE-APP /* HTTP/1.1",
        b"DISABLE-APP /* HTTP/1.1",
        b"STOP-APP /* HTTP/1.1",
        b"REMOVE-APP /* HTTP/1.1",
        b"DUMP /* HTTP/1.1",
        b"INFO / HTTP/1.1",
    ]
    assert b"Accept: text/xml" in server.requests[4]


def _sent(request: bytes) -> tuple[str, bool, str]:
    """(request line, whether it asks for XML, body) of one request the fake server got."""
    head, _, body = request.partition(b"\r\n\r\n")
    return head.split(b"\r\n")[0].decode(), b"\r\nAccept: text/xml" in head, body.decode()


def test_every_verb_sends_what_the_java_node_sends(fake: Callable[..., FakeBalancer]) -> None:
    calls: list[tuple[Callable[[McmpClient], McmpResponse], tuple[str, bool, str]]] = [
        (
            lambda c: c.config("node1", Host="10.0.0.1", Port=8080, Type="http"),
            ("CONFIG / HTTP/1.1", False, "JVMRoute=node1&Host=10.0.0.1&Port=8080&Type=http"),
        ),
        (
            lambda c: c.enable_app("node1", "/app", ["a", "b"]),
            ("ENABLE-APP / HTTP/1.1", False, "JVMRoute=node1&Alias=a%2Cb&Context=%2Fapp"),
        ),
        (
            lambda c: c.disable_app("node1", "/app", "a,b"),
            ("DISABLE-APP / HTTP/1.1", False, "JVMRoute=node1&Alias=a%2Cb&Context=%2Fapp"),
        ),
        (lambda c: c.stop_app("n2", "/x", ("a",)), ("STOP-APP / HTTP/1.1", False, "JVMRoute=n2&Alias=a&Context=%2Fx")),
        (lambda c: c.remove_app("n2", "", "a"), ("REMOVE-APP / HTTP/1.1", False, "JVMRoute=n2&Alias=a&Context=%2F")),
        (lambda c: c.remove_app("n2", "/y", "a"), ("REMOVE-APP / HTTP/1.1", False, "JVMRoute=n2&Alias=a&Context=%2Fy")),
        (lambda c: c.enable_node("n1"), ("ENABLE-APP /* HTTP/1.1", False, "JVMRoute=n1")),
        (lambda c: c.disable_node("n1"), ("DISABLE-APP /* HTTP/1.1", False, "JVMRoute=n1")),
        (lambda c: c.stop_node("n1"), ("STOP-APP /* HTTP/1.1", False, "JVMRoute=n1")),
        (lambda c: c.remove_node("n1"), ("REMOVE-APP /* HTTP/1.1", False, "JVMRoute=n1")),
        (lambda c: c.status("n1", "-1"), ("STATUS / HTTP/1.1", False, "JVMRoute=n1&Load=-1")),
        (lambda c: c.ping(), ("PING / HTTP/1.1", False, "")),
        (lambda c: c.ping("n1", port=8009), ("PING / HTTP/1.1", False, "JVMRoute=n1&Port=8009")),
        (lambda c: c.ping(scheme="ajp", host="h"), ("PING / HTTP/1.1", False, "Host=h&Scheme=ajp")),
        (lambda c: c.info(), ("INFO / HTTP/1.1", False, "")),
        (lambda c: c.info(xml=True), ("INFO / HTTP/1.1", True, "")),
        (lambda c: c.dump(), ("DUMP /* HTTP/1.1", False, "")),
        (lambda c: c.version(), ("VERSION / HTTP/1.1", False, "")),
        (lambda c: c.send("INFO"), ("INFO / HTTP/1.1", False, "")),
    ]
    server = fake([_reply(b"200 OK", body=b"Type=X")] * len(calls))
    with McmpClient("127.0.0.1", server.port, timeout=2) as client:
        assert [call(client).body for call, _ in calls] == ["Type=X"] * len(calls)
    assert [_sent(r) for r in server.requests] == [expected for _, expected in calls]


def test_client_defaults_and_exchange_records() -> None:
    client = McmpClient("::1", 6666)
    assert (client.timeout, client.last_exchange, client.connects, client.host_header) == (5.0, None, 0, "[::1]:6666")
    exchange = McmpExchange(b"INFO \xe9", b"\xff")
    assert exchange.as_record() == {"request": "INFO \u00e9", "reply": "\u00ff"}
    assert McmpExchange.from_record(exchange.as_record()) == exchange


def test_client_reads_a_reply_larger_than_one_receive(fake: Callable[..., FakeBalancer]) -> None:
    body = b"x" * 200_000
    server = fake([_reply(b"200 OK", body=body)])
    with McmpConnection("127.0.0.1", server.port, timeout=2) as conn:
        assert conn.send("DUMP").body == body.decode()


def test_client_raises_protocol_error_on_a_reply_cut_short(fake: Callable[..., FakeBalancer]) -> None:
    cut = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"
    server = fake([cut])
    with McmpConnection("127.0.0.1", server.port, timeout=2) as conn:
        cut_short = r"^incomplete HTTP reply \(connection closed\) \(raw reply, 42"
        with pytest.raises(McmpProtocolError, match=cut_short) as caught:
            conn.send("INFO")
        assert caught.value.raw == cut
        assert conn.last_exchange == McmpExchange(server.requests[0], cut)


def test_a_reply_delimited_by_close_is_read_whole(fake: Callable[..., FakeBalancer]) -> None:
    server = fake([b"HTTP/1.1 200 OK\r\n\r\nType=INFO-RSP", OK_STATUS], close_after={1})
    with McmpClient("127.0.0.1", server.port, timeout=2) as client:
        assert client.info().body == "Type=INFO-RSP"
        assert client.status("node1", 1).ok and client.connects == 2


def test_client_raises_transport_error_when_refused() -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    with pytest.raises(McmpTransportError, match=f"VERSION to 127.0.0.1:{port}"):
        McmpConnection("127.0.0.1", port, timeout=1).send("VERSION")


def test_client_does_not_retry_on_a_fresh_connection(fake: Callable[..., FakeBalancer]) -> None:
    server = fake([b"", OK_STATUS])
    with McmpClient("127.0.0.1", server.port, timeout=2) as client:
        with pytest.raises(McmpTransportError, match=r"failed: \w+\('connection closed before any reply byte'\)$"):
            client.version()
        assert client.connects == 1 and len(server.requests) == 1


def test_client_raises_transport_error_on_timeout() -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent:  # listens, never answers
        client = McmpClient("127.0.0.1", silent.getsockname()[1], timeout=0.2)
        with pytest.raises(McmpTransportError, match="INFO"):
            client.info()


def test_client_raises_protocol_error_on_garbage(fake: Callable[..., FakeBalancer]) -> None:
    server = fake([b"SSH-2.0-OpenSSH\r\n\r\n"])
    with McmpConnection("127.0.0.1", server.port, timeout=2) as conn:
        with pytest.raises(McmpProtocolError):
            conn.send("INFO")
        assert conn.last_exchange == McmpExchange(server.requests[0], b"SSH-2.0-OpenSSH\r\n\r\n")


# ---------------------------------------------------------------------------------------- HTTP framing


def _framing_error(raw: bytes) -> str:
    with pytest.raises(McmpProtocolError) as caught:
        parse_response(raw)
    assert caught.value.raw == raw
    assert str(caught.value).endswith(f" (raw reply, {len(raw)} bytes: {raw[:200]!r})")
    return str(caught.value).rpartition(" (raw reply, ")[0]


_LONG = "x" * 100


@pytest.mark.parametrize(
    "raw, message",
    [
        (b"SSH-2.0-OpenSSH", "reply does not start with an HTTP status line"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab", "incomplete HTTP reply"),
        (b"HTTP/1.1 200 OK\r\n", "incomplete HTTP reply"),
        (b"\r\n\r\n", "bad HTTP status line ''"),
        (f"HTTP/1.1 2000 {_LONG}\r\n\r\n".encode(), f"bad HTTP status line {('HTTP/1.1 2000 ' + _LONG)[:80]!r}"),
        (f"HTTP/1.1 200 OK\r\n{_LONG}\r\n\r\n".encode(), f"bad header line {_LONG[:80]!r}"),
        (b"HTTP/1.1 200 OK\r\n : v\r\n\r\n", "bad header line ' : v'"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", "bad Content-Length 'x'"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "bad Content-Length '-1'"),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + b"z" * 30 + b"\r\n",
            f"bad chunk size {(b'z' * 30)[:20]!r}",
        ),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n", "negative chunk size"),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcXY0\r\n\r\n",
            "chunk data not followed by CRLF",
        ),
        (  # two bytes after the chunk are enough to tell they are not its CRLF
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcXY",
            "chunk data not followed by CRLF",
        ),
    ],
)
def test_framing_errors_say_what_is_wrong(raw: bytes, message: str) -> None:
    assert _framing_error(raw) == message


_CHUNKED = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n"


@pytest.mark.parametrize(
    "raw, body",
    [
        (b"HTTP/1.1 200 OK\nContent-Length: 2\n\nok", "ok"),
        (b"HTTP/1.1 200 OK\nContent-Length: 6\n\nab\r\n\r\n", "ab\r\n\r\n"),  # the first blank line ends the head
        (_CHUNKED + b"3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\n\r\n", "abcde"),
        (_CHUNKED + b"3\nabc\n0\n\n", "abc"),
        (_CHUNKED + b"3\r\nabc\r\n0\r\nX-Trailer: 1\r\n\r\n", "abc"),
        (_CHUNKED + b"3\nabc\n0\nX-Trailer: 1\nY: 2\n\n", "abc"),
        (b"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n", ""),
        (b"HTTP/1.1 304 Not Modified\r\n\r\n", ""),
        (b"HTTP/1.1 100 Continue\r\n\r\n", ""),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n\xff", "\ufffd"),
    ],
)
def test_reply_bodies(raw: bytes, body: str) -> None:
    assert parse_response(raw).body == body
    assert reply_complete(raw)


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"HT",
        b"HTTP/1",
        b"HTTP/1.1 200 OK\r\n\r\nuntil close",
        b"HTTP/1.1 205 Reset\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nab",
        _CHUNKED + b"3",
        _CHUNKED + b"3\r\nab",
        _CHUNKED + b"3\r\nabc",
        _CHUNKED + b"3\r\nabc\r",
        _CHUNKED + b"3\r\nabc\r\n0\r\n",
        _CHUNKED + b"3\r\nabc\r\n0\r\nX-Trailer: 1\r\n",
    ],
)
def test_incomplete_replies_are_waited_for(raw: bytes) -> None:
    assert not reply_complete(raw)
    assert decode_reply(raw, closed=True) is None or raw.startswith(b"HTTP/1.1 20")


def test_status_line_reason_and_version() -> None:
    assert parse_response(b"HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n").reason == ""
    assert parse_response(b"HTTP/1.1 503  Busy now \r\nContent-Length: 0\r\n\r\n").reason == "Busy now"
    assert decode_reply(b"HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n", closed=False) == (
        McmpResponse(200, "OK", {"Content-Length": "0"}, ""),
        True,
    )


@pytest.mark.parametrize(
    "status, body, pairs",
    [
        (200, "\r\nType=X&a=b\r\n", [("Type", "X"), ("a", "b")]),
        (200, "Type=X\r\nJvmRoute=n1\r\n\r\n", [("Type", "X"), ("JvmRoute", "n1")]),
        (200, "=v&k&k2=&a=b=c", [("k2", ""), ("a", "b=c")]),
        (200, "  <html>a=b</html>", []),
        (200, "", []),
        (500, "a=b", []),
        # keys and values as sent: only the line ends around the body and its lines are dropped
        (200, "X=1&Mess= two words\t&JVMRoute=nodeX", [("X", "1"), ("Mess", " two words\t"), ("JVMRoute", "nodeX")]),
        (200, "Type=X\r\n Requests=2 \r\n", [("Type", "X"), (" Requests", "2 ")]),
    ],
)
def test_field_pairs(status: int, body: str, pairs: list[tuple[str, str]]) -> None:
    assert McmpResponse(status, "", {}, body).field_pairs() == pairs


def test_typed_helper_errors_carry_the_body() -> None:
    body = "Type=STATUS-RSP&JVMRoute=node1&" + "x" * 200
    for parse, what in ((parse_status_reply, "no State in reply 200 "), (parse_version, "not a VERSION reply: 200 ")):
        with pytest.raises(McmpProtocolError) as caught:
            parse(McmpResponse(200, "OK", {}, body))
        assert caught.value.raw == body.encode()
        assert str(caught.value).startswith(f"{what}{body[:120]!r} (raw reply, {len(body)} bytes: ")


def test_a_version_text_in_an_error_reply_is_not_a_version() -> None:
    error = McmpResponse(500, "Internal Server Error", {}, "release: mod_cluster/1.3.22.Final, protocol: 0.2.1")
    with pytest.raises(McmpProtocolError, match="^not a VERSION reply: 500 "):
        parse_version(error)


def test_protocol_error_shows_the_first_200_bytes() -> None:
    assert str(McmpProtocolError("odd")) == "odd (raw reply, 0 bytes: b'')" and McmpProtocolError("odd").raw == b""
    raw = bytes(range(256))
    assert str(McmpProtocolError("odd", raw)) == f"odd (raw reply, 256 bytes: {raw[:200]!r})"


def test_stop_app_reply_with_an_empty_context() -> None:
    resp = McmpResponse(200, "OK", {}, "Type=STOP-APP-RSP&JvmRoute=node1&Alias=localhos&Context=&Requests=0")
    assert app_reply_contexts(resp) == {"localhos": ("",)} and parse_stop_app_requests(resp) == 0


def test_status_reply_without_id_or_type() -> None:
    reply = parse_status_reply(McmpResponse(200, "OK", {}, "JVMRoute=node1&State=NOTOK"))
    assert reply == StatusReply("node1", "NOTOK", "", "") and not reply.is_ok
