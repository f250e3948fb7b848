"""Sim nodes find a real httpd + mod_cluster by advertise (docker tier; needs --modcluster-source).

Setup: the balancer advertising on this test's own group/port with a security key, every second.
Steps (key): one container hosting node1 and node2 with the right key registers both (once per Server
uuid), both are routable; a second container (nodex) with a wrong key counts digest failures and never
registers. Steps (restart): httpd stops (shutdown datagrams 403/410 are recorded against its uuid),
starts again under a new uuid; the nodes' STATUS then meets an httpd that does not know them (MEM), so they
send INFO and register again, as the Java node does, and are routable again.
"""

from __future__ import annotations

from typing import Any

import pytest

from harness.flavors.sim import node as nodes_sim
from harness.flavors.httpd_modcluster.balancer import CONF_PATH, HttpdBalancer, wait_ready
from harness.spec.balancer import BalancerSpec
from harness.spec.node import Advertise, NodeSpec
from harness.machinery.waiting import wait_until
from scenarios.sim.support import Bed, bed, routed, served_by, sim_image  # noqa: F401

pytestmark = [pytest.mark.docker, pytest.mark.modcluster_source]


def _advertised(bed: Bed, group: str, port: int, key: str) -> tuple[HttpdBalancer, Advertise]:
    advertise = Advertise(group=group, port=port, security_key=key, frequency_s=1.0)
    return bed.balancer(BalancerSpec(server_advertise=True), advertise), advertise


def _discovery(group: nodes_sim.SimContainer) -> dict[str, Any]:
    return dict(group.control.state()["discovery"])


def test_advertise_with_security_key_registers_once_and_a_wrong_key_never(bed: Bed) -> None:
    balancer, advertise = _advertised(bed, "224.0.1.161", 23461, "sim-secret")
    specs = [NodeSpec("node1", status_interval_s=1.0), NodeSpec("node2", status_interval_s=1.0)]
    pair = nodes_sim.start_sim_container(bed.scope, bed.sim_image, bed.network, specs, advertise)
    stranger = nodes_sim.start_sim_container(bed.scope, bed.sim_image, bed.network, [NodeSpec("nodex")],
                                             Advertise(group=advertise.group, port=advertise.port,
                                                       security_key="wrong-key", frequency_s=1.0))
    for node in pair.nodes():
        node.wait_for_registered(30)
        balancer.wait_for_context(node.name, "/app", "ENABLED", timeout=30)
        assert served_by(routed(balancer, node.name)) == node.name
    wait_until(lambda: _discovery(pair)["received"] >= 3, timeout=15, what="three advertise datagrams received")
    seen = _discovery(pair)
    assert len(seen["servers"]) == 1 and seen["servers"][0]["address"] == "balancer:6666"
    assert seen["digest_failures"] == 0
    proxies = pair.control.node_state("node1")["mcmp"]["proxies"]
    assert [p["registrations"] for p in proxies] == [1], "one registration per Server uuid"

    wait_until(lambda: _discovery(stranger)["digest_failures"] >= 2, timeout=15,
               what="the wrong-key node to drop datagrams", describe=lambda: str(_discovery(stranger)))
    assert stranger.control.node_state("nodex")["mcmp"]["proxies"] == []
    assert balancer.snapshot().node("nodex") is None


def test_advertise_shutdown_datagrams_and_reregistration_after_httpd_restart(bed: Bed) -> None:
    balancer, advertise = _advertised(bed, "224.0.1.162", 23462, "sim-secret-2")
    group = nodes_sim.start_sim_container(bed.scope, bed.sim_image, bed.network,
                                          [NodeSpec("node1", status_interval_s=1.0)], advertise)
    node = group.node("node1")
    node.wait_for_registered(30)
    balancer.wait_for_context("node1", "/app", "ENABLED", timeout=30)
    first_uuid = _discovery(group)["servers"][0]["server"]

    code, output = balancer.exec(["apache2", "-f", CONF_PATH, "-k", "stop"])
    assert code == 0, output
    wait_until(lambda: _discovery(group)["servers"][0]["status"] in (403, 410), timeout=15,
               what="the shutdown datagram recorded", describe=lambda: str(_discovery(group)))
    code, output = balancer.exec(["/usr/local/bin/start-httpd.sh", "start"])
    assert code == 0, output
    wait_ready(balancer, 30)

    wait_until(lambda: len(_discovery(group)["servers"]) == 2, timeout=15, what="the new Server uuid advertised")
    assert {s["server"] for s in _discovery(group)["servers"]} > {first_uuid}
    balancer.wait_for_context("node1", "/app", "ENABLED", timeout=30)
    wait_until(lambda: served_by(routed(balancer, "node1")) == "node1", timeout=15, what="node1 routable again")
    proxy = group.control.node_state("node1")["mcmp"]["proxies"][0]
    assert proxy["registrations"] >= 2 and proxy["sent"]["INFO"] >= 2, proxy
