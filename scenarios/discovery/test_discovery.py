"""Discovery and registration (docker tier, any flavors).

Setup: the selected balancer and two nodes, once with advertise discovery (a multicast group, port and
security key of this topology's own) and once with a static proxy list.
Steps: start the topology; every node must register with the balancer, its contexts become ENABLED, it is
reported up, and a request through the proxy is served by one of the nodes.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from harness.descriptions.topology import Advertise, StaticProxies

pytestmark = pytest.mark.docker


@pytest.mark.parametrize(
    "discovery",
    [
        pytest.param(
            Advertise(group="224.0.1.177", port=23377, security_key="topology-secret", frequency_s=1.0), id="advertise"
        ),
        pytest.param(StaticProxies(), id="static"),
    ],
)
def test_nodes_register_and_serve(scenario: Any, discovery: Any) -> None:
    cluster = scenario.cluster(scenario.topology("discovery", 2, discovery=discovery))
    state = cluster.get_balancer().snapshot()
    for name in ("node1", "node2"):
        node = state.node(name)
        assert node is not None, f"{name} not registered: {state.summary()}"
        assert node.contexts.get("/app") == "ENABLED", state.summary()
    reply = requests.get(cluster.url("/app/"), timeout=10)
    assert reply.status_code == 200
    assert reply.headers.get("X-Harness-Node") in ("node1", "node2")
