"""The sim node against transcripts recorded from real balancers (tests/unit/data/transcripts/<build>/sim-*,
written by scenarios/sim/test_sim_transcripts.py): replaying the recorded replies, the node must send
the recorded requests byte for byte, and every recorded reply must parse the way the node relies on."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.protocol.mcmp import parse_response, parse_status_reply, parse_stop_app_requests
from harness.protocol.mcmp_client import McmpExchange
from simnode.agent import ERROR, McmpAgent
from simnode.app import AppState
from simnode.config import parse_node
from tests.unit.simnode_fakes import FakeBalancer

DATA = Path(__file__).parent / "data" / "transcripts"
BUILDS = sorted(p.parent for p in DATA.glob("*/sim-meta.json"))


def _load(folder: Path, name: str) -> list[McmpExchange]:
    lines = (folder / f"{name}.jsonl").read_text().splitlines()
    return [McmpExchange.from_record(json.loads(line)) for line in lines if line.strip()]


def _agent(meta: dict[str, Any], port: int, **changes: Any) -> McmpAgent:
    node = {k: v for k, v in meta["node"].items()}
    node.update(changes)
    config = parse_node("node", node)
    agent = McmpAgent(config, AppState(config.name, config.contexts), host_for=lambda link: meta["host"])
    agent.add_proxy("127.0.0.1", port)
    return agent


def _without_host_header(raw: bytes) -> bytes:
    return b"\r\n".join(line for line in raw.split(b"\r\n") if not line.startswith(b"Host: "))


def test_recordings_exist_for_both_lines() -> None:
    labels = {p.name for p in BUILDS}
    assert "1.3.22" in labels and any(label.startswith("2.x") for label in labels), labels


@pytest.mark.parametrize("folder", BUILDS, ids=lambda p: p.name)
def test_registration_requests_replay_byte_for_byte(folder: Path) -> None:
    meta = json.loads((folder / "sim-meta.json").read_text())
    recorded = _load(folder, "sim-registration")
    with FakeBalancer() as fake:
        for exchange in recorded:
            fake.queue(exchange.command, exchange.reply)
        agent = _agent(meta, fake.port)
        agent.tick()
        sent = [seen.raw for seen in fake.requests]
    assert [_without_host_header(r) for r in sent] == [_without_host_header(ex.request) for ex in recorded]
    assert all(b"Host: balancer:6666\r\n" in ex.request for ex in recorded)
    assert next(iter(agent.links.values())).established


@pytest.mark.parametrize("folder", BUILDS, ids=lambda p: p.name)
def test_recorded_replies_parse_as_the_node_needs(folder: Path) -> None:
    registration = _load(folder, "sim-registration")
    replies = [parse_response(ex.reply) for ex in registration]
    assert [r.status for r in replies] == [200] * len(replies)
    status = parse_status_reply(replies[-1])
    assert (status.route, status.state) == ("node1", "OK") and status.id
    goodbye = _load(folder, "sim-goodbye")
    counts = [parse_stop_app_requests(parse_response(ex.reply)) for ex in goodbye if ex.command == "STOP-APP"]
    if folder.name == "2.x-head":
        assert set(counts) == {None}, "HEAD's STOP-APP reply carries no Requests"
    else:
        assert counts[0] == 1 and counts[-1] == 0, counts


@pytest.mark.parametrize("folder", BUILDS, ids=lambda p: p.name)
def test_goodbye_replays_disable_drain_remove(folder: Path) -> None:
    meta = json.loads((folder / "sim-meta.json").read_text())
    registration, goodbye = _load(folder, "sim-registration"), _load(folder, "sim-goodbye")
    with FakeBalancer() as fake:
        for exchange in registration + goodbye:
            fake.queue(exchange.command, exchange.reply)
        agent = _agent(meta, fake.port)
        agent.tick()
        if parse_stop_app_requests(parse_response(goodbye[1].reply)) is None:
            agent.app.active["/app"] = 0  # HEAD: the node's own count decides; nothing in flight here
        del fake.requests[:]
        agent.shutdown()
        sent = [seen.raw for seen in fake.requests]
    recorded = {ex.command: _without_host_header(ex.request) for ex in goodbye}
    assert {r.split(b" ")[0].decode(): _without_host_header(r) for r in sent} == recorded
    assert sent[0].startswith(b"DISABLE-APP ") and sent[-1].startswith(b"REMOVE-APP /* ")
    expected_stops = sum(ex.command == "STOP-APP" for ex in goodbye) if folder.name != "2.x-head" else 1
    assert sum(r.startswith(b"STOP-APP ") for r in sent) == expected_stops


@pytest.mark.parametrize("folder", BUILDS, ids=lambda p: p.name)
def test_recorded_error_reply_puts_the_proxy_in_error_not_down(folder: Path) -> None:
    meta = json.loads((folder / "sim-meta.json").read_text())
    error = _load(folder, "sim-errors")[0]
    reply = parse_response(error.reply)
    assert reply.status == 500 and reply.error_type == "MEM" and "JVMRoute" in (reply.error_message or "")
    assert b"&Port=8181&" in error.request
    with FakeBalancer() as fake:
        fake.queue("CONFIG", error.reply)
        agent = _agent(meta, fake.port)
        agent.tick()
        link = next(iter(agent.links.values()))
        assert link.state == ERROR and reply.error_message in (link.last_error or "")
        assert list(link.errors) == [McmpExchange(link.errors[0].request, error.reply)]
