"""The sim node's MCMP behaviour against a scripted in-process MCMP server (no Docker): what it sends,
in which order and with which parameters, and how it reacts to every kind of reply."""

from __future__ import annotations

import logging
import socket
import time

import pytest

from simnode.agent import DOWN, ERROR, OK, McmpAgent
from simnode.app import AppState
from simnode.config import NodeConfig
from simnode.faults import Faults
from tests.unit.simnode_fakes import FakeBalancer, error_reply, ok_reply

HOST = "10.0.0.5"


def make_agent(fake_port: int, **fields: object) -> McmpAgent:
    config = NodeConfig(**{"name": "node1", "status_interval_s": 0.001, **fields})  # type: ignore[arg-type]
    agent = McmpAgent(config, AppState(config.name, config.contexts), host_for=lambda link: HOST)
    agent.add_proxy("127.0.0.1", fake_port)
    return agent


def tick(agent: McmpAgent) -> None:
    """A status tick now (the interval is short, but two ticks may fall within it)."""
    agent.next_status_at = 0.0
    agent.tick()


def link_of(agent: McmpAgent):  # type: ignore[no-untyped-def]
    return next(iter(agent.links.values()))


def test_first_registration_is_info_config_stop_enable_status() -> None:
    with FakeBalancer() as fake:
        agent = make_agent(fake.port)
        agent.tick()
        assert fake.commands() == ["INFO", "CONFIG", "STOP-APP", "ENABLE-APP", "STATUS"]
        config = fake.requests[1]
        assert config.raw.split(b"\r\n\r\n", 1)[1] == (
            b"JVMRoute=node1&Host=10.0.0.5&Maxattempts=1&Port=8080&StickySessionForce=No&Type=http&ping=10"
        )
        head = config.raw.split(b"\r\n\r\n", 1)[0].decode().split("\r\n")
        assert head[0] == "CONFIG / HTTP/1.1"
        assert "User-Agent: ClusterListener/1.0" in head and "Connection: Keep-Alive" in head
        assert fake.requests[2].raw.endswith(b"JVMRoute=node1&Alias=localhost&Context=%2Fapp")
        assert fake.requests[4].params == {"JVMRoute": "node1", "Load": "50"}
        assert len({seen.connection for seen in fake.requests}) == 1, "keep-alive: one connection"
        assert link_of(agent).state == OK and link_of(agent).established
        assert [ex.request.split(b" ")[0] for ex in link_of(agent).transcript] == [
            b"INFO",
            b"CONFIG",
            b"STOP-APP",
            b"ENABLE-APP",
            b"STATUS",
        ]


def test_contexts_aliases_and_config_flags_are_encoded_like_java() -> None:
    with FakeBalancer() as fake:
        agent = make_agent(
            fake.port,
            contexts=("/a", "/"),
            aliases=("example.com", "www"),
            balancer="bal",
            lbgroup="dom1",
            sticky_session=False,
            sticky_session_remove=True,
            load=7,
        )
        agent.tick()
        assert fake.commands() == ["INFO", "CONFIG", "STOP-APP", "STOP-APP", "ENABLE-APP", "ENABLE-APP", "STATUS"]
        body = fake.requests[1].raw.split(b"\r\n\r\n", 1)[1].decode()
        assert body == (
            "JVMRoute=node1&Balancer=bal&Domain=dom1&Host=10.0.0.5&Maxattempts=1&Port=8080"
            "&StickySession=No&StickySessionForce=No&StickySessionRemove=Yes&Type=http&ping=10"
        )
        assert fake.requests[3].raw.endswith(b"JVMRoute=node1&Alias=example.com%2Cwww&Context=%2F")
        assert fake.requests[-1].params["Load"] == "7"


@pytest.mark.parametrize(
    "fields, faults",
    [
        ({"include_sticky_force": False}, Faults()),
        ({}, Faults(no_sticky_force=True)),
        ({"sticky_session_force": True}, Faults()),
    ],
)
def test_sticky_session_force_left_out(fields: dict[str, object], faults: Faults) -> None:
    with FakeBalancer() as fake:
        agent = make_agent(fake.port, **fields)
        agent.app.faults = faults
        agent.tick()
        assert "StickySessionForce" not in fake.requests[1].params


def test_status_every_tick_with_forced_load_and_none_when_disabled() -> None:
    with FakeBalancer() as fake:
        agent = make_agent(fake.port)
        agent.tick()
        for load in (0, -1):
            agent.app.faults = Faults(load=load)
            tick(agent)
            assert fake.requests[-1].command == "STATUS" and fake.requests[-1].params["Load"] == str(load)
        agent.app.faults = Faults(no_status=True)
        count = len(fake.requests)
        tick(agent)
        tick(agent)
        assert len(fake.requests) == count
        assert link_of(agent).last_status == {"state": "OK", "id": "42"}


def test_syntax_error_marks_the_proxy_down_until_reset() -> None:
    with FakeBalancer() as fake:
        fake.queue("CONFIG", error_reply("SYNTAX", "SYNTAX: JVMRoute field too big"))
        agent = make_agent(fake.port)
        agent.tick()
        assert link_of(agent).state == DOWN
        assert fake.commands() == ["INFO", "CONFIG"]
        agent.tick()
        agent.tick()
        assert fake.commands() == ["INFO", "CONFIG"], "nothing more is sent to a proxy DOWN"
        agent.reset()
        agent.tick()
        assert fake.commands()[2:] == ["INFO", "CONFIG", "STOP-APP", "ENABLE-APP", "STATUS"]
        assert link_of(agent).state == OK


def test_other_errors_lead_to_info_then_full_reregistration_on_a_new_connection() -> None:
    with FakeBalancer() as fake:
        agent = make_agent(fake.port)
        agent.tick()
        fake.queue("STATUS", error_reply("MEM", 'MEM: Can\'t read node with "node1" JVMRoute'))
        tick(agent)
        link = link_of(agent)
        assert link.state == ERROR and "MEM" in (link.last_error or "")
        link.retry_at = 0.0  # the next status tick
        agent.tick()
        assert fake.commands()[5:] == ["STATUS", "INFO", "CONFIG", "ENABLE-APP", "STATUS"]
        assert fake.requests[6].connection != fake.requests[5].connection, "reconnect after an error reply"
        assert link.state == OK and link.registrations == 2


def test_an_error_in_the_middle_of_registration_stops_it() -> None:
    with FakeBalancer() as fake:
        fake.queue("ENABLE-APP", error_reply("GENERAL", "GENERAL: oops"))
        agent = make_agent(fake.port)
        agent.tick()
        assert fake.commands() == ["INFO", "CONFIG", "STOP-APP", "ENABLE-APP"]
        assert link_of(agent).state == ERROR and not link_of(agent).established


def test_garbage_reply_is_a_logged_protocol_error_not_a_crash(caplog: pytest.LogCaptureFixture) -> None:
    with FakeBalancer() as fake:
        fake.queue("INFO", b"SSH-2.0-OpenSSH_9.2\r\n\r\n")
        agent = make_agent(fake.port)
        with caplog.at_level(logging.ERROR, logger="simnode.mcmp"):
            agent.tick()
        assert link_of(agent).state == ERROR and link_of(agent).protocol_errors == 1
        assert "SSH-2.0-OpenSSH_9.2" in caplog.text and "protocol error" in caplog.text
        link_of(agent).retry_at = 0.0
        agent.tick()
        assert link_of(agent).state == OK


def test_status_reply_without_state_is_logged_and_the_proxy_stays_ok(caplog: pytest.LogCaptureFixture) -> None:
    with FakeBalancer() as fake:
        fake.queue("STATUS", ok_reply("this is not a status reply"))
        agent = make_agent(fake.port)
        with caplog.at_level(logging.ERROR, logger="simnode.mcmp"):
            agent.tick()
        assert "no State" in caplog.text
        assert link_of(agent).state == OK and link_of(agent).protocol_errors == 1


def _closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return int(port)


def test_unreachable_proxy_is_retried_with_backoff_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    agent = make_agent(_closed_port(), status_interval_s=3.0)
    link = link_of(agent)
    delays = []
    with caplog.at_level(logging.WARNING, logger="simnode.mcmp"):
        for _ in range(5):
            link.retry_at = 0.0
            agent.tick()
            delays.append(round(link.retry_at - time.monotonic(), 1))
    assert link.state == ERROR and link.failures == 5
    assert delays == [0.5, 1.0, 2.0, 3.0, 3.0], "0.5 s doubling, capped at the status interval"
    assert caplog.text.count("unreachable") == 5


def test_graceful_stop_disables_drains_with_requests_count_then_removes() -> None:
    with FakeBalancer() as fake:
        agent = make_agent(fake.port)
        agent.tick()
        busy = ok_reply("Type=STOP-APP-RSP&JvmRoute=node1&Alias=localhos&Context=/app&Requests=2")
        fake.queue("STOP-APP", busy, busy)
        del fake.requests[:]
        agent.shutdown()
        assert fake.commands() == ["DISABLE-APP", "STOP-APP", "STOP-APP", "STOP-APP", "REMOVE-APP"]
        assert fake.requests[-1].target == "/*" and fake.requests[-1].params == {"JVMRoute": "node1"}
        assert agent.stopped and agent.tick() is None
        assert [ex.request.split(b" ")[0] for ex in link_of(agent).goodbye][0] == b"DISABLE-APP"


def test_drain_is_bounded_by_the_stop_timeout() -> None:
    with FakeBalancer() as fake:
        agent = make_agent(fake.port, stop_context_timeout_s=0.4)
        agent.tick()
        fake.queue("STOP-APP", *[ok_reply("Type=STOP-APP-RSP&JvmRoute=node1&Requests=1")] * 100)
        started = time.monotonic()
        agent.shutdown()
        elapsed = time.monotonic() - started
        assert 0.4 <= elapsed < 2.0
        assert fake.commands()[-1] == "REMOVE-APP"


def test_drain_without_requests_field_uses_the_nodes_own_count() -> None:
    head_reply = ok_reply("Type=STOP-APP-RSP\nJvmRoute=node1\nAlias=localhost Contexts=/app\n\n")
    with FakeBalancer() as fake:
        agent = make_agent(fake.port, stop_context_timeout_s=0.3)
        agent.tick()
        fake.queue("STOP-APP", *[head_reply] * 100)
        agent.app.active["/app"] = 1  # one request in progress on the node itself
        started = time.monotonic()
        agent.shutdown()
        assert time.monotonic() - started >= 0.3
        stops = fake.commands().count("STOP-APP")
    with FakeBalancer() as fake:
        agent = make_agent(fake.port)
        agent.tick()
        fake.queue("STOP-APP", head_reply)
        agent.shutdown()
        assert fake.commands()[-3:] == ["DISABLE-APP", "STOP-APP", "REMOVE-APP"]
    assert stops > 2


def test_revive_registers_again_as_a_fresh_node_from_another_port() -> None:
    with FakeBalancer() as fake:
        agent = make_agent(fake.port)
        agent.tick()
        agent.crash()
        assert agent.tick() is None
        agent.revive(port=8181, host="10.9.9.9")
        agent.tick()
        assert fake.commands()[5:] == ["INFO", "CONFIG", "STOP-APP", "ENABLE-APP", "STATUS"]
        assert fake.requests[6].params["Port"] == "8181" and fake.requests[6].params["Host"] == "10.9.9.9"


def test_context_commands_follow_the_local_state_on_reregistration() -> None:
    with FakeBalancer() as fake:
        agent = make_agent(fake.port, contexts=("/a", "/b"))
        agent.tick()
        assert agent.send_context("/b", "DISABLE-APP") == [f"127.0.0.1:{fake.port}: ok"]
        link_of(agent).state, link_of(agent).retry_at = ERROR, 0.0
        del fake.requests[:]
        agent.tick()
        assert [(s.command, s.params.get("Context")) for s in fake.requests][2:4] == [
            ("ENABLE-APP", "/a"),
            ("DISABLE-APP", "/b"),
        ]
