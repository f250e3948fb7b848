"""The sim node's HTTP message layer: incremental request parsing and response encoding."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import tests.unit.simnode_fakes  # noqa: F401 - puts simnode on sys.path
from simnode.httpwire import HttpParseError, Request, Response, encode_response, parse_request

GET = b"GET /app/x;jsessionid=A.node1?q=1 HTTP/1.1\r\nHost: b\r\nCookie: JSESSIONID=Z.node2\r\n\r\n"
POST = b"POST /app HTTP/1.1\r\nHost: b\r\nContent-Length: 5\r\n\r\nhello"
CHUNKED = b"POST /app HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\nX-T: 1\r\n\r\n"


def test_a_complete_get() -> None:
    request, consumed = parse_request(GET)  # type: ignore[misc]
    assert consumed == len(GET)
    assert (request.method, request.target, request.version) == ("GET", "/app/x;jsessionid=A.node1?q=1", "HTTP/1.1")
    assert request.header("cookie") == "JSESSIONID=Z.node2" and request.keep_alive


@pytest.mark.parametrize("raw, body", [(POST, b"hello"), (CHUNKED, b"abcde")])
def test_bodies_by_length_and_chunked(raw: bytes, body: bytes) -> None:
    parsed = parse_request(raw)
    assert parsed is not None and parsed[0].body == body and parsed[1] == len(raw)


@given(st.integers(0, len(GET + POST + CHUNKED)))
def test_incomplete_input_waits_and_pipelined_requests_come_one_by_one(cut: int) -> None:
    stream = GET + POST + CHUNKED
    buffer, seen = bytearray(stream[:cut]), []
    rest = stream[cut:]
    while True:
        parsed = parse_request(buffer)
        if parsed is None:
            if not rest:
                break
            buffer += rest
            rest = b""
            continue
        seen.append(parsed[0].method + " " + parsed[0].body.decode())
        del buffer[: parsed[1]]
    assert seen == ["GET ", "POST hello", "POST abcde"]


@pytest.mark.parametrize(
    "raw, status",
    [
        (b"GARBAGE\r\n\r\n", 400),
        (b"GET / HTTP/2.0\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nno colon here\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nContent-Length: -3\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nContent-Length: 999999999999\r\n\r\n", 413),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
        (b"GET / HTTP/1.1\r\n" + b"X: " + b"a" * 70000, 431),
    ],
)
def test_malformed_requests_say_which_status(raw: bytes, status: int) -> None:
    with pytest.raises(HttpParseError) as error:
        parse_request(raw)
    assert error.value.status == status


@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_raise_anything_else(data: bytes) -> None:
    try:
        parse_request(data)
    except HttpParseError:
        pass


@pytest.mark.parametrize(
    "version, connection, keep",
    [
        ("HTTP/1.1", None, True),
        ("HTTP/1.1", "close", False),
        ("HTTP/1.0", None, False),
        ("HTTP/1.0", "Keep-Alive", True),
    ],
)
def test_keep_alive_rules(version: str, connection: str | None, keep: bool) -> None:
    headers = (("Connection", connection),) if connection else ()
    assert Request("GET", "/", version, headers).keep_alive is keep


def test_response_encoding_head_and_close() -> None:
    response = Response(200, (("X-Harness-Node", "node1"),), b"{}")
    text = encode_response(response, head_only=False, keep_alive=True).decode()
    assert text.startswith("HTTP/1.1 200 OK\r\n") and "X-Harness-Node: node1\r\n" in text
    assert "Content-Length: 2\r\n" in text and text.endswith("\r\n\r\n{}") and "Connection" not in text
    head = encode_response(response, head_only=True, keep_alive=False).decode()
    assert head.endswith("Connection: close\r\n\r\n") and "Content-Length: 2" in head
    assert (
        "Connection: keep-alive"
        in encode_response(response, head_only=False, keep_alive=True, version="HTTP/1.0").decode()
    )
