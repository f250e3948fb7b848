"""Undertow balancer + 2 WildFly nodes discovering it by advertise (docker tier).

Setup (one cluster shared by the module through `module_scenario`): a private network; the Undertow balancer
(WildFly's load-balancer profile) advertising on this run's own multicast group, port and security key; node1
and node2 (standalone-ha, the test WAR on /app, load factor 50, STATUS every second), started one after
another, with no proxy configured: they only know the advertise group and key.
Steps: each test below states its own; the last two inject a fault in a block (kill, graceful stop) that
heals it and waits until the cluster is healthy again.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from harness.descriptions.topology import Advertise, BalancerSpec, Kill, Stop, Topology
from harness.flavors.undertow.balancer import UndertowBalancer
from harness.flavors.wildfly.node import WildflyNode
from harness.machinery.waiting import wait_until
from harness.run.cluster import Cluster

pytestmark = pytest.mark.docker

NODES = ("node1", "node2")


@pytest.fixture(scope="module")
def cluster(module_scenario: Any, run_advertise: Advertise) -> Cluster:
    topology = Topology.simple(
        "undertow-adv",
        2,
        flavor="wildfly",
        balancer=BalancerSpec(flavor="undertow"),
        discovery=run_advertise,
        status_interval_s=1.0,
        load=50,
    )
    cluster: Cluster = module_scenario.cluster(topology)
    return cluster


def undertow(cluster: Cluster) -> UndertowBalancer:
    balancer = cluster.get_balancer()
    assert isinstance(balancer, UndertowBalancer)
    return balancer


def wildfly(cluster: Cluster, name: str) -> WildflyNode:
    node = cluster.get_node(name)
    assert isinstance(node, WildflyNode)
    return node


def _client() -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    return session


def _get(client: requests.Session, cluster: Cluster) -> tuple[str, dict[str, Any], requests.Response]:
    reply = client.get(cluster.url("/app/"), timeout=10)
    assert reply.status_code == 200, f"{reply.status_code} {reply.text[:200]}; {cluster.get_balancer().snapshot()}"
    body = reply.json()
    assert reply.headers.get("X-Harness-Node") == body["node"], (reply.headers, body)
    return body["node"], body, reply


def test_nodes_register_by_advertise(cluster: Cluster) -> None:
    """Both nodes found the balancer from its datagrams only (no proxy list) and registered /app, up, load 50."""
    balancer = undertow(cluster)
    state = balancer.wait_for_node_up("node2", timeout=20)
    assert sorted(state.nodes) == list(NODES), state.summary()
    for name in NODES:
        assert state.nodes[name].up is True, state.summary()
        assert state.nodes[name].contexts == {"/app": "ENABLED"}, state.summary()
        assert state.nodes[name].load == 50, state.summary()
        assert (state.nodes[name].host, state.nodes[name].port) == (wildfly(cluster, name).ip, 8080), state.summary()
    info = balancer.info()  # MCMP INFO on the management socket: the same registrations
    assert sorted(info.names) == list(NODES) and info.context_statuses("node1", "/app") == {"ENABLED"}, info
    proxies = wildfly(cluster, "node1").proxies_info()
    assert any(str(balancer.spec.mcmp_port) in str(entry) for entry in proxies), proxies


def test_new_sessions_are_spread_over_both_nodes(cluster: Cluster) -> None:
    """20 fresh clients (no cookie): with equal load factors both nodes get new sessions; each reply's cookie
    route is the node that served it."""
    served: dict[str, int] = {}
    for _ in range(20):
        client = _client()
        node, body, _reply = _get(client, cluster)
        served[node] = served.get(node, 0) + 1
        assert body["counter"] == 1, body
        cookie = client.cookies.get("JSESSIONID", path="/app")
        assert cookie == f"{body['session']}.{node}", (cookie, body)
    assert set(served) == set(NODES), served


def test_sticky_sessions(cluster: Cluster) -> None:
    """Per client: 8 requests in one session all land on the node named in the cookie route; the counter
    counts 1..8 and the session id stays the same."""
    for _ in range(4):
        client = _client()
        first, body, _reply = _get(client, cluster)
        session = body["session"]
        for expected in range(2, 9):
            node, body, _reply = _get(client, cluster)
            assert (node, body["session"], body["counter"]) == (first, session, expected), body


def test_kill_keeps_container_and_sessions_fail_over(module_scenario: Any, cluster: Cluster) -> None:
    """SIGKILL to node2's JVM: its container and address stay; a session stuck to node2 is served by node1
    (sticky-session-force false) with its replicated counter; healed, node2 registers again."""
    client = _client()
    while _get(client, cluster)[0] != "node2":  # a session on node2 (new sessions alternate)
        client = _client()
    _, before, _reply = _get(client, cluster)
    node2 = wildfly(cluster, "node2")
    address = node2.ip
    with module_scenario.fault(cluster, Kill("node2")):
        assert not node2.is_running()
        container = node2.server.docker
        container.reload()
        assert container.status == "running"
        assert [net["IPAddress"] for net in container.attrs["NetworkSettings"]["Networks"].values()] == [address]
        node, after, _reply = _get(client, cluster)
        assert node == "node1", after
        assert after["session"] == before["session"] and after["counter"] == before["counter"] + 1, (before, after)
        cluster.get_balancer().wait_for_node_down("node2", timeout=30)
    cluster.get_balancer().wait_for_context("node2", "/app", "ENABLED", timeout=30)


def test_graceful_stop_unregisters_the_node(module_scenario: Any, cluster: Cluster) -> None:
    """A graceful stop (shutdown with a suspend timeout): node1 removes its contexts and leaves the balancer,
    whose new sessions all go to node2; healed (started again), node1 gets new sessions again."""
    with module_scenario.fault(cluster, Stop("node1", timeout_s=2)):
        cluster.get_balancer().wait_for_node_gone("node1", timeout=30)
        assert {_get(_client(), cluster)[0] for _ in range(6)} == {"node2"}
    wait_until(
        lambda: "node1" in {_get(_client(), cluster)[0] for _ in range(4)},
        timeout=20,
        interval=0.5,
        what="new sessions to reach node1 again",
        describe=lambda: cluster.get_balancer().snapshot().summary(),
    )
