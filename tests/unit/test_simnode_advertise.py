"""Advertise discovery in the sim node: digest checks with and without a security key (recorded and
built datagrams), one proxy per Server uuid, shutdown datagrams only recorded (as on the Java side)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import tests.unit.simnode_fakes  # noqa: F401 - puts simnode on sys.path
from harness.protocol.advertise import build_datagram, parse_datagram
from simnode.discovery import AdvertiseTracker, default_interface

RECORDED = json.loads((Path(__file__).parent / "data" / "advertise" / "datagrams.json").read_text())["datagrams"]
SENDER = ("10.0.0.2", 23364)
DATE = "Mon, 23 Nov 2026 02:44:18 GMT"


def tracker(key: str | None = None) -> tuple[AdvertiseTracker, list[tuple[str, int]]]:
    added: list[tuple[str, int]] = []
    return AdvertiseTracker(key, lambda host, port: added.append((host, port))), added


@pytest.mark.parametrize("index", range(len(RECORDED)))
def test_recorded_datagrams_are_accepted_exactly_when_their_digest_matches(index: int) -> None:
    item = RECORDED[index]
    datagram = parse_datagram(item["datagram"].encode("utf-8", "surrogateescape"))
    watcher, added = tracker(item["key"])
    outcome = watcher.handle(datagram, tuple(item["sender"]))  # type: ignore[arg-type]
    if not item["valid"]:
        assert outcome == "bad-digest" and added == [] and watcher.digest_failures == 1
    elif datagram.status == 200 and datagram.manager_host_port():
        assert outcome == "added" and added == [datagram.manager_host_port()]


def test_one_proxy_per_server_uuid_and_key_checked() -> None:
    watcher, added = tracker("s3cret")
    for sequence in (1, 2, 3):
        raw = build_datagram("uuid-a", sequence, security_key="s3cret", date=DATE, manager_address="10.0.0.2:6666")
        watcher.handle(parse_datagram(raw), SENDER)
    assert added == [("10.0.0.2", 6666)] and watcher.servers["uuid-a"].datagrams == 3
    assert watcher.servers["uuid-a"].sequence == 3
    forged = build_datagram("uuid-b", 1, security_key="guess", date=DATE, manager_address="10.6.6.6:6666")
    assert watcher.handle(parse_datagram(forged), SENDER) == "bad-digest"
    unkeyed = build_datagram("uuid-c", 1, date=DATE, manager_address="10.6.6.6:6666")
    assert watcher.handle(parse_datagram(unkeyed), SENDER) == "bad-digest"
    assert added == [("10.0.0.2", 6666)] and watcher.digest_failures == 2


def test_without_a_key_only_unkeyed_datagrams_pass() -> None:
    watcher, added = tracker(None)
    keyed = build_datagram("uuid-a", 1, security_key="k", date=DATE, manager_address="10.0.0.2:6666")
    assert watcher.handle(parse_datagram(keyed), SENDER) == "bad-digest"
    plain = build_datagram("uuid-a", 1, date=DATE, manager_address="balancer:6666")
    assert watcher.handle(parse_datagram(plain), SENDER) == "added" and added == [("balancer", 6666)]


def test_shutdown_datagrams_change_the_status_only_and_a_restart_is_a_new_uuid() -> None:
    watcher, added = tracker("k")
    start = build_datagram("uuid-a", 1, security_key="k", date=DATE, manager_address="10.0.0.2:6666")
    watcher.handle(parse_datagram(start), SENDER)
    for status, reason in ((403, "Forbidden"), (410, "Gone")):
        raw = build_datagram("uuid-a", 2, security_key="k", date=DATE, status=status, reason=reason)
        watcher.handle(parse_datagram(raw), SENDER)
    assert watcher.servers["uuid-a"].status == 410 and added == [("10.0.0.2", 6666)]
    again = build_datagram("uuid-b", 1, security_key="k", date=DATE, manager_address="10.0.0.2:6666")
    assert watcher.handle(parse_datagram(again), SENDER) == "added"
    assert added == [("10.0.0.2", 6666)] * 2, "the runtime ignores an address it already knows"


def test_a_datagram_without_server_is_ignored() -> None:
    watcher, added = tracker(None)
    assert watcher.handle(parse_datagram(b"HTTP/1.0 200 OK\r\nDate: x\r\n\r\n"), SENDER) == "ignored"
    assert added == [] and watcher.ignored == 1


def test_default_interface_is_a_local_unicast_address_or_none() -> None:
    address = default_interface("224.0.1.105")
    assert address is None or (address.count(".") == 3 and not address.startswith("224."))
