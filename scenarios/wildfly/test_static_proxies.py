"""A WildFly node registering with a static proxy list (docker tier).

Setup: one private network; the Undertow balancer with advertising off (StaticProxies discovery: it sends
no datagram); node1 configured with `proxies = balancer:6666` (an outbound socket binding to the
balancer's network alias), AJP connector, load factor 30.
Steps: wait until node1 and its /app context are registered and up; check the registration carries the AJP
port and load 30; send requests through the balancer and check node1 serves them in one sticky session;
deploy a second context (/shop) at runtime and check it gets registered and served; undeploy it and check
the balancer drops it.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from harness.descriptions.topology import BalancerSpec, NodeSpec, StaticProxies, Topology
from harness.flavors.wildfly.node import WildflyNode
from harness.machinery.waiting import wait_until

pytestmark = pytest.mark.docker


def test_node_registers_with_static_proxy_list(scenario: Any) -> None:
    topology = Topology(
        "undertow-static",
        BalancerSpec(flavor="undertow"),
        (NodeSpec("node1", flavor="wildfly", connector="ajp", load=30, status_interval_s=1.0),),
        StaticProxies(("balancer:6666",)),
    )
    cluster = scenario.cluster(topology)
    balancer, node = cluster.get_balancer(), cluster.get_node("node1")
    assert isinstance(node, WildflyNode)

    state = balancer.wait_for_context("node1", "/app", "ENABLED", timeout=30)
    state = balancer.wait_for_node_up("node1", timeout=20)
    assert list(state.nodes) == ["node1"], state.summary()
    registered = state.nodes["node1"]
    assert (registered.detail["type"], registered.host, registered.port) == ("ajp", node.ip, 8009), state.summary()
    assert state.nodes["node1"].load == 30, state.summary()

    client = requests.Session()
    client.trust_env = False
    bodies = []
    for _ in range(3):
        reply = client.get(cluster.url("/app/x"), timeout=10)
        assert reply.status_code == 200 and reply.headers.get("X-Harness-Node") == "node1", reply.text[:200]
        bodies.append(reply.json())
    assert [b["counter"] for b in bodies] == [1, 2, 3], bodies
    assert {b["session"] for b in bodies} == {bodies[0]["session"]} and bodies[0]["path"] == "/app/x", bodies
    assert client.cookies.get("JSESSIONID", path="/app") == f"{bodies[0]['session']}.node1"

    node.deploy("/shop")
    balancer.wait_for_context("node1", "/shop", "ENABLED", timeout=30)
    reply = client.get(cluster.url("/shop/cart"), timeout=10)
    assert reply.status_code == 200 and reply.json()["path"] == "/shop/cart", reply.text[:200]
    assert reply.json()["counter"] == 1  # a new session: one per context (cookie Path=/shop)
    node.undeploy("/shop")
    wait_until(
        lambda: "/shop" not in balancer.snapshot().nodes["node1"].contexts,
        timeout=30,
        interval=0.25,
        what="/shop of node1 removed from Undertow",
        describe=lambda: balancer.snapshot().summary(),
    )
