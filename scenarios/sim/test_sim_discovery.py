"""Sim nodes find a real httpd + mod_cluster by advertise (docker tier; --balancer httpd-modcluster
--node-flavor sim and --modcluster-source, skipped naming them otherwise).

Setup: the balancer advertising on this test's own group/port with a security key, every second.
Steps (key): one container hosting node1 and node2 (nodes_per_container=2) with the right key registers
both (once per Server uuid), both are routable; a node added later in a second container (nodex) with a
wrong key counts digest failures and never registers. Steps (restart): httpd stops (shutdown datagrams
403/410 are recorded against its uuid), starts again under a new uuid (one recorded window); the nodes'
STATUS then meets an httpd that does not know them (MEM), so they send INFO and register again, as the Java
node does, and are routable again.
"""

from __future__ import annotations

from typing import Any

import pytest

from harness.descriptions.faults import BALANCER
from harness.descriptions.node import Advertise, NodeSpec
from harness.flavors.httpd_modcluster.balancer import CONF_PATH, wait_ready
from harness.machinery.waiting import wait_until
from scenarios.sim.probes import SIM_BEHIND_HTTPD, routed, served_by

pytestmark = [pytest.mark.docker, pytest.mark.modcluster_source, pytest.mark.flavors(**SIM_BEHIND_HTTPD)]


def _advertise(group: str, port: int, key: str) -> Advertise:
    return Advertise(group=group, port=port, security_key=key, frequency_s=1.0)


def _discovery(node: Any) -> dict[str, Any]:
    return dict(node.control.state()["discovery"])


def test_advertise_with_security_key_registers_once_and_a_wrong_key_never(scenario: Any) -> None:
    advertise = _advertise("224.0.1.161", 23461, "sim-secret")
    topology = scenario.topology("adv-key", 2, discovery=advertise, balancer={"server_advertise": True})
    cluster = scenario.cluster(topology, nodes_per_container=2)
    node1, node2 = cluster.get_node("node1"), cluster.get_node("node2")
    assert node1.container is node2.container, "one container hosts both"
    for node in (node1, node2):
        assert served_by(routed(cluster, node.name)) == node.name
    wait_until(lambda: _discovery(node1)["received"] >= 3, timeout=15, what="three advertise datagrams received")
    seen = _discovery(node1)
    assert len(seen["servers"]) == 1 and seen["servers"][0]["address"] == "balancer:6666"
    assert seen["digest_failures"] == 0
    proxies = node1.state()["mcmp"]["proxies"]
    assert [p["registrations"] for p in proxies] == [1], "one registration per Server uuid"

    wrong = _advertise(advertise.group, advertise.port, "wrong-key")
    stranger = cluster.add_node(NodeSpec("nodex", status_interval_s=1.0), discovery=wrong, wait=False)
    wait_until(
        lambda: _discovery(stranger)["digest_failures"] >= 2,
        timeout=15,
        what="the wrong-key node to drop datagrams",
        describe=lambda: str(_discovery(stranger)),
    )
    assert stranger.state()["mcmp"]["proxies"] == []
    assert cluster.get_balancer().snapshot().node("nodex") is None


def test_advertise_shutdown_datagrams_and_reregistration_after_httpd_restart(scenario: Any) -> None:
    advertise = _advertise("224.0.1.162", 23462, "sim-secret-2")
    cluster = scenario.cluster(
        scenario.topology("adv-restart", 1, discovery=advertise, balancer={"server_advertise": True})
    )
    balancer, node = cluster.get_balancer(), cluster.get_node("node1")
    first_uuid = _discovery(node)["servers"][0]["server"]

    # `-k stop` (not a BalancerRestart: that one is graceful or SIGKILL) sends the shutdown datagrams
    window = cluster.open_window("balancer_stop_start", (BALANCER,), "apache2 -k stop, then start-httpd.sh start")
    try:
        code, output = balancer.exec(["apache2", "-f", CONF_PATH, "-k", "stop"])
        assert code == 0, output
        wait_until(
            lambda: _discovery(node)["servers"][0]["status"] in (403, 410),
            timeout=15,
            what="the shutdown datagram recorded",
            describe=lambda: str(_discovery(node)),
        )
        code, output = balancer.exec(["/usr/local/bin/start-httpd.sh", "start"])
        assert code == 0, output
        wait_ready(balancer, 30)
    finally:
        cluster.close_window(window)

    wait_until(lambda: len(_discovery(node)["servers"]) == 2, timeout=15, what="the new Server uuid advertised")
    assert {s["server"] for s in _discovery(node)["servers"]} > {first_uuid}
    cluster.wait_for_healthy(timeout=30, label="after httpd stop and start")
    wait_until(lambda: served_by(routed(cluster, "node1")) == "node1", timeout=15, what="node1 routable again")
    proxy = node.state()["mcmp"]["proxies"][0]
    assert proxy["registrations"] >= 2 and proxy["sent"]["INFO"] >= 2, proxy
