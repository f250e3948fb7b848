"""Sim-node faults seen through a real httpd + mod_cluster (docker tier; needs --modcluster-source).

Setup: the balancer built from the source under test (ProxyTimeout 2 s so a frozen node answers 502 in
about 2 s); sim nodes with a 1 s status interval and static proxies. Each test states its own steps.
"""

from __future__ import annotations

import time

import pytest
import requests

from harness.flavors.sim import node as nodes_sim
from harness.spec.balancer import BalancerSpec
from harness.spec.node import NodeSpec, StaticProxies
from harness.machinery.waiting import wait_until
from scenarios.sim.support import Bed, bed, build_label, fresh_requests, routed, served_by, sim_image  # noqa: F401

pytestmark = [pytest.mark.docker, pytest.mark.modcluster_source]


def _nodes(bed: Bed, *specs: NodeSpec) -> list[nodes_sim.SimNode]:
    started = [nodes_sim.start_sim_node(bed.scope, bed.sim_image, bed.network, spec, StaticProxies()) for spec in specs]
    for node in started:
        node.wait_for_registered(30)
    return started


def test_load_zero_and_minus_one_take_no_new_sessions_but_keep_sticky_ones(bed: Bed) -> None:
    """node2's Load goes to 0, then -1 (control endpoint): fresh clients all land on node1, a session
    stuck to node2 is still served by node2; with Load 50 again node2 gets new sessions."""
    balancer = bed.balancer()
    node1, node2 = _nodes(bed, NodeSpec("node1", status_interval_s=1.0), NodeSpec("node2", status_interval_s=1.0))
    for load in (0, -1):
        node2.set_faults(load=load)
        balancer.wait_for_load("node2", load, timeout=15)
        # every httpd child applies a new load at its next maintenance pass: poll, never assert once
        wait_until(lambda: {served_by(r) for r in fresh_requests(balancer, 12)} == {"node1"}, timeout=10,
                   what=f"fresh clients only on node1 with node2 at Load {load}")
        assert served_by(routed(balancer, "node2")) == "node2"
    node2.set_faults(load=None)
    balancer.wait_for_load("node2", 50, timeout=15)
    wait_until(lambda: "node2" in {served_by(r) for r in fresh_requests(balancer, 12)}, timeout=10,
               what="node2 taking new sessions again")


def test_freeze_delay_and_server_errors(bed: Bed) -> None:
    """node2 frozen: a sticky request waits for ProxyTimeout and gets 502, node2 is not marked NOTOK;
    a 600 ms delay shows in the latency; error=503 passes through with node2's header."""
    balancer = bed.balancer(BalancerSpec(proxy_timeout_s=2))
    _node1, node2 = _nodes(bed, NodeSpec("node1", status_interval_s=1.0), NodeSpec("node2", status_interval_s=1.0))
    balancer.wait_for_node_up("node2", timeout=15)
    node2.set_faults(freeze=True)
    started = time.monotonic()
    frozen = routed(balancer, "node2", "FROZEN")
    assert frozen.status_code in (502, 504) and 1.5 <= time.monotonic() - started < 10
    seen = balancer.snapshot().node("node2")
    assert seen is not None and seen.up is not False, "a hung node is not marked NOTOK"
    node2.set_faults(freeze=False, delay_ms=600)
    started = time.monotonic()
    assert served_by(routed(balancer, "node2")) == "node2" and time.monotonic() - started >= 0.6
    node2.set_faults(delay_ms=0, error=503)
    failing = routed(balancer, "node2")
    assert failing.status_code == 503 and served_by(failing) == "node2" and failing.json()["error"] == 503


def test_omitted_sticky_session_force_turns_failover_into_503(bed: Bed) -> None:
    """node2 registers normally, then node1 without StickySessionForce (start fault `no_sticky_force`): the
    balancer record (shared, last writer wins) now forces, so after node2 dies a request stuck to it gets 503.
    node1 registers again with StickySessionForce=No: the same request fails over to node1."""
    balancer = bed.balancer()
    node2 = _nodes(bed, NodeSpec("node2", status_interval_s=1.0))[0]
    assert balancer.dump().balancers[0].force is False
    node1 = _nodes(bed, NodeSpec("node1", status_interval_s=1.0, faults=("no_sticky_force",)))[0]
    wait_until(lambda: balancer.dump().balancers[0].force, timeout=10, what="balancer record forcing stickiness")
    node2.kill()
    assert routed(balancer, "node2").status_code == 503
    node1.set_faults(no_sticky_force=False)
    node1.control.reregister("node1")
    wait_until(lambda: not balancer.dump().balancers[0].force, timeout=15, what="StickySessionForce=No again")
    reply = routed(balancer, "node2")
    assert reply.status_code == 200 and served_by(reply) == "node1"


def test_crash_fails_over_and_restart_registers_again(bed: Bed) -> None:
    """node2 dies abruptly (no MCMP goodbye): its sticky session fails over to node1 without an error and
    the balancer marks it NOTOK; node2 starts again as a fresh node and is routable."""
    balancer = bed.balancer()
    _node1, node2 = _nodes(bed, NodeSpec("node1", status_interval_s=1.0), NodeSpec("node2", status_interval_s=1.0))
    node2.kill()
    reply = routed(balancer, "node2")
    assert reply.status_code == 200 and served_by(reply) == "node1"
    balancer.wait_for_node_down("node2", timeout=15)
    seen = balancer.snapshot().node("node2")
    assert seen is not None and seen.contexts.get("/app") == "ENABLED", "no goodbye was sent"
    node2.start()
    node2.wait_for_registered(30)
    wait_until(lambda: served_by(routed(balancer, "node2")) == "node2", timeout=20, what="node2 serving again")


def test_no_status_from_start_means_no_new_sessions(bed: Bed) -> None:
    """node2 starts with the fault word `no_status`: registered but never reporting a load, it gets no new
    sessions while sticky requests reach it; once STATUS flows again it takes new sessions."""
    balancer = bed.balancer()
    _node1, node2 = _nodes(bed, NodeSpec("node1", status_interval_s=1.0),
                           NodeSpec("node2", status_interval_s=1.0, faults=("no_status",)))
    balancer.wait_for_context("node2", "/app", "ENABLED", timeout=15)
    assert node2.state()["mcmp"]["proxies"][0]["sent"].get("STATUS", 0) == 0
    assert {served_by(r) for r in fresh_requests(balancer, 12)} == {"node1"}
    assert served_by(routed(balancer, "node2")) == "node2"
    node2.set_faults(no_status=False)
    balancer.wait_for_load("node2", 50, timeout=15)
    wait_until(lambda: "node2" in {served_by(r) for r in fresh_requests(balancer, 12)}, timeout=10,
               what="node2 taking new sessions once it reports a load")


def test_flapping_node_never_costs_a_request(bed: Bed) -> None:
    """node1 flaps (listener up 1 s, down 1 s): requests stuck to node1 for 6 s all succeed, served by node1
    while it is up and failing over to node2 while it is down."""
    balancer = bed.balancer()
    node1, _node2 = _nodes(bed, NodeSpec("node1", status_interval_s=1.0), NodeSpec("node2", status_interval_s=1.0))
    node1.set_faults(flap=(1.0, 1.0))
    statuses, servers = [], []
    deadline = time.monotonic() + 6.0
    with requests.Session() as client:
        client.trust_env = False
        while time.monotonic() < deadline:
            reply = client.get(balancer.proxy_url("/app/;jsessionid=FLAP.node1"), timeout=10)
            statuses.append(reply.status_code)
            servers.append(served_by(reply))
    node1.set_faults(flap=None)
    assert set(statuses) == {200}, statuses
    assert {"node1", "node2"} <= set(servers), servers


def test_abrupt_exit_ends_the_container(bed: Bed) -> None:
    """The whole sim process exits at once (POST /exit): the container stops with that code."""
    bed.balancer()
    node = _nodes(bed, NodeSpec("node1", status_interval_s=1.0))[0]
    node.control.exit(137)
    sdk = node.container.get_wrapped_container()
    wait_until(lambda: (sdk.reload(), sdk.status)[1] == "exited", timeout=15, what="the sim container exited")
    assert sdk.attrs["State"]["ExitCode"] == 137


def test_reregistering_from_another_port(bed: Bed) -> None:
    """node1 comes back under the same JVMRoute on port 8181. The lines differ: 2.x HEAD refuses it for as
    long as the old node exists (MEM "already exists"); 1.3.22 refuses once ("Old node with REMOVED
    JVMRoute still exists"), then accepts it about 9 s later; 2.x before the rework updates in place."""
    balancer = bed.balancer()
    node1 = _nodes(bed, NodeSpec("node1", status_interval_s=1.0))[0]
    node1.control.reregister("node1", port=8181)
    label = build_label(bed.source)

    def errors() -> list[str]:
        exchanges = node1.control.transcript("node1")["node1"][0]["errors"]
        return [line.partition(": ")[2] for ex in exchanges for line in ex["reply"].split("\r\n")
                if line.startswith("Mess: ")]

    if label == "2.x-head":
        wait_until(lambda: any("already exists" in e for e in errors()), timeout=15, what="MEM already exists")
        assert balancer.info().nodes[0].port == 8080
        assert node1.state()["mcmp"]["proxies"][0]["state"] == "ERROR"
    else:
        wait_until(lambda: any(n.name == "node1" and n.port == 8181 for n in balancer.info().nodes), timeout=40,
                   what="node1 registered on port 8181", describe=lambda: str(errors()))
        wait_until(lambda: served_by(routed(balancer, "node1")) == "node1", timeout=20, what="node1 on 8181 serving")
    print(f"{label}: error replies seen: {errors()}")
