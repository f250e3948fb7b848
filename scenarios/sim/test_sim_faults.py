"""Sim-node faults seen through a real httpd + mod_cluster (docker tier; --balancer httpd-modcluster
--node-flavor sim and --modcluster-source, skipped naming them otherwise).

Setup: the balancer built from the source under test; sim nodes with static proxies and the scenario's 1 s
status interval. Every fault is a FaultSpec applied in a `scenario.fault(...)` block (health checked before
and after, a window recorded, healed at the end); start faults are NodeSpec.faults words of the same names.
Each test states its own steps.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from harness.descriptions.faults import (
    ErrorReplies,
    Exit,
    Flap,
    Freeze,
    Kill,
    NoStatus,
    NoStickyForce,
    ReportLoad,
    Reregister,
    Slowness,
)
from harness.descriptions.node import NodeSpec
from harness.machinery.waiting import wait_until
from scenarios.sim.probes import SIM_BEHIND_HTTPD, build_label, fresh_requests, routed, served_by

pytestmark = [pytest.mark.docker, pytest.mark.modcluster_source, pytest.mark.flavors(**SIM_BEHIND_HTTPD)]


def test_load_zero_and_minus_one_take_no_new_sessions_but_keep_sticky_ones(scenario: Any) -> None:
    """ReportLoad(node2, 0), then ReportLoad(node2, -1): fresh clients all land on node1, a session stuck to
    node2 is still served by node2; healed (its own Load 50 again) node2 gets new sessions."""
    cluster = scenario.cluster(scenario.topology("load", 2))
    balancer = cluster.get_balancer()
    for load in (0, -1):
        with scenario.fault(cluster, ReportLoad("node2", load)):
            balancer.wait_for_load("node2", load, timeout=15)
            # every httpd child applies a new load at its next maintenance pass: poll, never assert once
            wait_until(
                lambda: {served_by(r) for r in fresh_requests(cluster, 12)} == {"node1"},
                timeout=10,
                what=f"fresh clients only on node1 with node2 at Load {load}",
            )
            assert served_by(routed(cluster, "node2")) == "node2"
    balancer.wait_for_load("node2", 50, timeout=15)
    wait_until(
        lambda: "node2" in {served_by(r) for r in fresh_requests(cluster, 12)},
        timeout=10,
        what="node2 taking new sessions again",
    )


def test_freeze_delay_and_server_errors(scenario: Any) -> None:
    """Freeze(node2): a sticky request waits for ProxyTimeout (2 s) and gets 502, node2 is not marked NOTOK;
    Slowness(node2, 600 ms) shows in the latency; ErrorReplies(node2, 503) passes through with node2's header."""
    cluster = scenario.cluster(scenario.topology("freeze", 2, balancer={"proxy_timeout_s": 2}))
    balancer = cluster.get_balancer()
    with scenario.fault(cluster, Freeze("node2")):
        started = time.monotonic()
        frozen = routed(cluster, "node2", "FROZEN")
        assert frozen.status_code in (502, 504) and 1.5 <= time.monotonic() - started < 10
        seen = balancer.snapshot().node("node2")
        assert seen is not None and seen.up is not False, "a hung node is not marked NOTOK"
    with scenario.fault(cluster, Slowness("node2", delay_ms=600)):
        started = time.monotonic()
        assert served_by(routed(cluster, "node2")) == "node2" and time.monotonic() - started >= 0.6
    with scenario.fault(cluster, ErrorReplies("node2", status=503)):
        failing = routed(cluster, "node2")
        assert failing.status_code == 503 and served_by(failing) == "node2" and failing.json()["error"] == 503


def test_omitted_sticky_session_force_turns_failover_into_503(scenario: Any) -> None:
    """node1 registers normally, then node2 starts without StickySessionForce (start word `no_sticky_force`):
    the balancer record (shared, last writer wins) now forces, so while node1 is killed a request stuck to it
    gets 503. node2 healed registers again with StickySessionForce=No: the same request fails over to node2."""
    cluster = scenario.cluster(scenario.topology("sticky-force", 1))
    balancer = cluster.get_balancer()
    assert balancer.dump().balancers[0].force is False
    node2 = cluster.add_node(NodeSpec("node2", status_interval_s=1.0, faults=("no_sticky_force",)))
    wait_until(lambda: balancer.dump().balancers[0].force, timeout=10, what="balancer record forcing stickiness")
    with scenario.fault(cluster, Kill("node1")):
        assert routed(cluster, "node1").status_code == 503
        node2.heal_fault(NoStickyForce("node2"))  # a start fault has no block of its own: healed here
        wait_until(lambda: not balancer.dump().balancers[0].force, timeout=15, what="StickySessionForce=No again")
        reply = routed(cluster, "node1")
        assert reply.status_code == 200 and served_by(reply) == "node2"


def test_crash_fails_over_and_restart_registers_again(scenario: Any) -> None:
    """Kill(node2) (the sim dies abruptly, no MCMP goodbye): its sticky session fails over to node1 without an
    error and the balancer marks it NOTOK; healed, node2 starts again as a fresh node and is routable."""
    cluster = scenario.cluster(scenario.topology("crash", 2))
    balancer = cluster.get_balancer()
    with scenario.fault(cluster, Kill("node2")):
        reply = routed(cluster, "node2")
        assert reply.status_code == 200 and served_by(reply) == "node1"
        balancer.wait_for_node_down("node2", timeout=15)
        seen = balancer.snapshot().node("node2")
        assert seen is not None and seen.contexts.get("/app") == "ENABLED", "no goodbye was sent"
    wait_until(lambda: served_by(routed(cluster, "node2")) == "node2", timeout=20, what="node2 serving again")


def test_no_status_from_start_means_no_new_sessions(scenario: Any) -> None:
    """node2 starts with the start word `no_status`: registered but never reporting a load, it gets no new
    sessions while sticky requests reach it; once NoStatus is healed it takes new sessions."""
    cluster = scenario.cluster(scenario.topology("no-status", 1))
    balancer = cluster.get_balancer()
    node2 = cluster.add_node(NodeSpec("node2", status_interval_s=1.0, faults=("no_status",)), wait=False)
    balancer.wait_for_context("node2", "/app", "ENABLED", timeout=30)
    assert node2.state()["mcmp"]["proxies"][0]["sent"].get("STATUS", 0) == 0
    assert {served_by(r) for r in fresh_requests(cluster, 12)} == {"node1"}
    assert served_by(routed(cluster, "node2")) == "node2"
    node2.heal_fault(NoStatus("node2"))
    balancer.wait_for_load("node2", 50, timeout=15)
    wait_until(
        lambda: "node2" in {served_by(r) for r in fresh_requests(cluster, 12)},
        timeout=10,
        what="node2 taking new sessions once it reports a load",
    )


def test_flapping_node_never_costs_a_request(scenario: Any) -> None:
    """Flap(node1, up 1 s, down 1 s): requests stuck to node1 for 6 s all succeed, served by node1 while it is
    up and failing over to node2 while it is down."""
    cluster = scenario.cluster(scenario.topology("flap", 2))
    statuses, servers = [], []
    with scenario.fault(cluster, Flap("node1", up_s=1.0, down_s=1.0)):
        deadline = time.monotonic() + 6.0
        with requests.Session() as client:
            client.trust_env = False
            while time.monotonic() < deadline:  # a stream of requests for 6 s, not a wait
                reply = client.get(cluster.url("/app/;jsessionid=FLAP.node1"), timeout=10)
                statuses.append(reply.status_code)
                servers.append(served_by(reply))
    assert set(statuses) == {200}, statuses
    assert {"node1", "node2"} <= set(servers), servers


def test_abrupt_exit_ends_the_container(scenario: Any) -> None:
    """Exit(node1, 137): the whole sim process exits at once and the container stops with that code; healed,
    the container starts again at its address and node1 registers again."""
    cluster = scenario.cluster(scenario.topology("exit", 1))
    node = cluster.get_node("node1")
    with scenario.fault(cluster, Exit("node1", code=137)):
        assert node.group.exited() == 137
    assert served_by(routed(cluster, "node1")) == "node1"


def test_reregistering_from_another_port(scenario: Any, modcluster_source: Any) -> None:
    """Reregister(node1, port=8181): node1 comes back under the same JVMRoute on port 8181. The lines differ:
    2.x HEAD refuses it for as long as the old node exists (MEM "already exists"); 1.3.22 refuses once ("Old
    node with REMOVED JVMRoute still exists"), then accepts it about 9 s later; 2.x before the rework updates
    in place. Healed, node1 registers from its own port again."""
    cluster = scenario.cluster(scenario.topology("reregister", 1))
    balancer = cluster.get_balancer()
    node1 = cluster.get_node("node1")
    label = build_label(modcluster_source)

    def errors() -> list[str]:
        exchanges = node1.control.transcript("node1")["node1"][0]["errors"]
        return [
            line.partition(": ")[2]
            for ex in exchanges
            for line in ex["reply"].split("\r\n")
            if line.startswith("Mess: ")
        ]

    with scenario.fault(cluster, Reregister("node1", port=8181)):
        if label == "2.x-head":
            wait_until(lambda: any("already exists" in e for e in errors()), timeout=15, what="MEM already exists")
            assert balancer.info().nodes[0].port == 8080
            assert node1.state()["mcmp"]["proxies"][0]["state"] == "ERROR"
        else:
            wait_until(
                lambda: any(n.name == "node1" and n.port == 8181 for n in balancer.info().nodes),
                timeout=40,
                what="node1 registered on port 8181",
                describe=lambda: str(errors()),
            )
            wait_until(lambda: served_by(routed(cluster, "node1")) == "node1", timeout=20, what="node1 on 8181 serving")
        print(f"{label}: error replies seen: {errors()}")
