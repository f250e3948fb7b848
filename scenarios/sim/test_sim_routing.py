"""Sim nodes behind a real httpd + mod_cluster: static registration, routing, stickiness, graceful leave
(docker tier; needs --modcluster-source / HARNESS_MODCLUSTER_SOURCE, skipped naming it otherwise).

Setup: the httpd-modcluster balancer built from the source under test (default BalancerSpec), three sim
nodes node1..node3, each in its own container, with a static proxy list and a 1 s status interval.
Steps: every node registers (contexts ENABLED, up, load 50); fresh clients are spread over all three;
a session stays on its node with its counter growing; the `;jsessionid=` path parameter routes to the
named node; node2 stops gracefully while one of its requests is in progress (held 1.5 s by a delay
fault): that request completes, node2's context leaves the balancer, the node's goodbye is DISABLE-APP,
STOP-APP (drain), REMOVE-APP /*, and a session stuck to node2 fails over with no error. Last, node3's
container gets SIGTERM (docker stop): the process leaves the balancer the same way and exits 0.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
import requests

from harness.flavors.sim import node as nodes_sim
from harness.spec.node import NodeSpec, StaticProxies
from harness.machinery.waiting import wait_until
from scenarios.sim.support import Bed, bed, cookie_route, fresh_requests, routed, served_by, sim_image  # noqa: F401

pytestmark = [pytest.mark.docker, pytest.mark.modcluster_source]
NAMES = ("node1", "node2", "node3")


def test_static_nodes_register_route_stick_and_leave_gracefully(bed: Bed) -> None:
    balancer = bed.balancer()
    nodes = {name: nodes_sim.start_sim_node(bed.scope, bed.sim_image, bed.network,
                                            NodeSpec(name, status_interval_s=1.0, stop_context_timeout_s=8.0),
                                            StaticProxies()) for name in NAMES}
    for name, node in nodes.items():
        node.wait_for_registered(30)
        balancer.wait_for_context(name, "/app", "ENABLED", timeout=30)
        balancer.wait_for_load(name, 50, timeout=30)
        balancer.wait_for_node_up(name, timeout=30)

    replies = fresh_requests(balancer, 30)
    assert all(r.status_code == 200 for r in replies), [r.status_code for r in replies]
    assert all(served_by(r) == cookie_route(r) == r.json()["node"] for r in replies)
    assert {served_by(r) for r in replies} == set(NAMES), [served_by(r) for r in replies]

    with requests.Session() as client:
        client.trust_env = False
        first = client.get(balancer.proxy_url("/app/"), timeout=10)
        home = served_by(first)
        later = [client.get(balancer.proxy_url("/app/more"), timeout=10) for _ in range(5)]
    assert [served_by(r) for r in later] == [home] * 5
    assert [r.json()["counter"] for r in later] == [2, 3, 4, 5, 6]
    assert {r.json()["session"] for r in later} == {first.json()["session"]}

    for name in NAMES:
        reply = routed(balancer, name, "NOSUCHSESSION")
        assert reply.status_code == 200 and served_by(reply) == name

    node2 = nodes["node2"]
    node2.set_faults(delay_ms=1500)
    in_flight: dict[str, Any] = {}
    slow = threading.Thread(target=lambda: in_flight.setdefault("reply", routed(balancer, "node2", "SLOW")))
    slow.start()
    wait_until(lambda: node2.state()["http"]["active"] == 1, timeout=10, what="node2 holding one request")
    node2.stop(timeout=20)
    slow.join(15)
    assert in_flight["reply"].status_code == 200 and served_by(in_flight["reply"]) == "node2", "drained, not cut"

    wait_until(
        lambda: (n := balancer.snapshot().node("node2")) is None or n.contexts.get("/app") != "ENABLED",
        timeout=30, what="node2's /app gone from the balancer", describe=lambda: balancer.snapshot().summary())
    goodbye = [ex["request"].split(" ")[0] for ex in node2.control.transcript("node2")["node2"][0]["goodbye"]]
    assert goodbye[0] == "DISABLE-APP" and goodbye[-1] == "REMOVE-APP" and "STOP-APP" in goodbye, goodbye

    failover = routed(balancer, "node2", "STUCK")
    assert failover.status_code == 200 and served_by(failover) in ("node1", "node3")
    assert failover.json()["counter"] == 1, "a new session on the node taking over"
    assert all(served_by(r) != "node2" for r in fresh_requests(balancer, 10))

    sdk = nodes["node3"].container.get_wrapped_container()
    sdk.stop(timeout=20)  # SIGTERM: the whole process leaves gracefully, then exits 0
    sdk.reload()
    assert sdk.attrs["State"]["ExitCode"] == 0, nodes["node3"].logs()[-2000:]
    assert "node3: left the balancer(s) gracefully" in nodes["node3"].logs()
    wait_until(lambda: (n := balancer.snapshot().node("node3")) is None or n.contexts.get("/app") != "ENABLED",
               timeout=30, what="node3's /app gone after SIGTERM", describe=lambda: balancer.snapshot().summary())
