"""Sim nodes behind a real httpd + mod_cluster: static registration, routing, stickiness, graceful leave
(docker tier; --balancer httpd-modcluster --node-flavor sim and --modcluster-source, skipped naming them
otherwise).

Setup: the httpd-modcluster balancer built from the source under test (default BalancerSpec), three sim
nodes node1..node3, each in its own container, with static proxies and the scenario's 1 s status interval.
Steps: every node registers (contexts ENABLED, up, load 50); fresh clients are spread over all three;
a session stays on its node with its counter growing; the `;jsessionid=` path parameter routes to the
named node; inside a Slowness(node2, 1500 ms) block one request is held on node2 while Stop(node2) is
applied: that request completes, node2's context leaves the balancer, the node's goodbye is DISABLE-APP,
STOP-APP (drain), REMOVE-APP /*, and a session stuck to node2 fails over with no error (both blocks heal:
node2 is back and healthy). Last, node3's container gets SIGTERM (docker stop): the process leaves the
balancer the same way and exits 0.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
import requests

from harness.descriptions.faults import Slowness, Stop
from harness.machinery.waiting import wait_until
from scenarios.sim.probes import SIM_BEHIND_HTTPD, cookie_route, fresh_requests, routed, served_by

pytestmark = [pytest.mark.docker, pytest.mark.modcluster_source, pytest.mark.flavors(**SIM_BEHIND_HTTPD)]
NAMES = ("node1", "node2", "node3")


def test_static_nodes_register_route_stick_and_leave_gracefully(scenario: Any) -> None:
    cluster = scenario.cluster(scenario.topology("routing", 3, stop_context_timeout_s=8.0))
    balancer = cluster.get_balancer()
    for name in NAMES:
        balancer.wait_for_load(name, 50, timeout=30)

    replies = fresh_requests(cluster, 30)
    assert all(r.status_code == 200 for r in replies), [r.status_code for r in replies]
    assert all(served_by(r) == cookie_route(r) == r.json()["node"] for r in replies)
    assert {served_by(r) for r in replies} == set(NAMES), [served_by(r) for r in replies]

    with requests.Session() as client:
        client.trust_env = False
        first = client.get(cluster.url("/app/"), timeout=10)
        home = served_by(first)
        later = [client.get(cluster.url("/app/more"), timeout=10) for _ in range(5)]
    assert [served_by(r) for r in later] == [home] * 5
    assert [r.json()["counter"] for r in later] == [2, 3, 4, 5, 6]
    assert {r.json()["session"] for r in later} == {first.json()["session"]}

    for name in NAMES:
        reply = routed(cluster, name, "NOSUCHSESSION")
        assert reply.status_code == 200 and served_by(reply) == name

    node2 = cluster.get_node("node2")
    with scenario.fault(cluster, Slowness("node2", delay_ms=1500)):
        in_flight: dict[str, Any] = {}
        slow = threading.Thread(target=lambda: in_flight.setdefault("reply", routed(cluster, "node2", "SLOW")))
        slow.start()
        wait_until(lambda: node2.state()["http"]["active"] == 1, timeout=10, what="node2 holding one request")
        # no health check between: the held request must still be in progress when the stop begins
        with scenario.fault(cluster, Stop("node2", timeout_s=20.0), wait_for_healthy=False):
            slow.join(15)
            assert in_flight["reply"].status_code == 200 and served_by(in_flight["reply"]) == "node2", (
                "drained, not cut"
            )
            wait_until(
                lambda: (n := balancer.snapshot().node("node2")) is None or n.contexts.get("/app") != "ENABLED",
                timeout=30,
                what="node2's /app gone from the balancer",
                describe=lambda: balancer.snapshot().summary(),
            )
            goodbye = [ex["request"].split(" ")[0] for ex in node2.control.transcript("node2")["node2"][0]["goodbye"]]
            assert goodbye[0] == "DISABLE-APP" and goodbye[-1] == "REMOVE-APP" and "STOP-APP" in goodbye, goodbye

            failover = routed(cluster, "node2", "STUCK")
            assert failover.status_code == 200 and served_by(failover) in ("node1", "node3")
            assert failover.json()["counter"] == 1, "a new session on the node taking over"
            assert all(served_by(r) != "node2" for r in fresh_requests(cluster, 10))

    node3 = cluster.get_node("node3")
    sdk = node3.container.get_wrapped_container()
    sdk.stop(timeout=20)  # SIGTERM: the whole process leaves gracefully, then exits 0
    sdk.reload()
    assert sdk.attrs["State"]["ExitCode"] == 0, node3.logs()[-2000:]
    assert "node3: left the balancer(s) gracefully" in node3.logs()
    wait_until(
        lambda: (n := balancer.snapshot().node("node3")) is None or n.contexts.get("/app") != "ENABLED",
        timeout=30,
        what="node3's /app gone after SIGTERM",
        describe=lambda: balancer.snapshot().summary(),
    )
