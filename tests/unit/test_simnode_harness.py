"""The host side of sim nodes (harness.nodes_sim), the pure parts: what is put in a container's
configuration, and that the node program reads every NodeSpec the harness can describe."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tests.unit.simnode_fakes  # noqa: F401 - puts simnode on sys.path

from harness.flavors.sim import node as nodes_sim  # noqa: E402
from harness.spec.node import Advertise, NodeSpec, StaticProxies, StaticWorkers
from harness.spec.base import SpecError
from simnode.config import parse_config


def test_config_round_trips_through_the_node_program() -> None:
    specs = [NodeSpec("node1", contexts=("/app", "/"), aliases=("a.example", "b"), load=-1, status_interval_s=2.5,
                      sticky_session_force=True, include_sticky_force=False, balancer="bal", lbgroup="g1",
                      stop_context_timeout_s=0, faults=("freeze", "load=0")),
             NodeSpec("node2", http_port=8081)]
    data = nodes_sim.sim_config(specs, Advertise(group="224.0.1.9", port=23399, security_key="k"), host="10.1.1.1")
    config = parse_config(data)
    node1 = config.nodes[0]
    assert (node1.contexts, node1.aliases, node1.load, node1.status_interval_s) == (("/app", "/"), ("a.example", "b"),
                                                                                   -1, 2.5)
    assert node1.sticky_session_force and not node1.include_sticky_force and node1.balancer == "bal"
    assert node1.lbgroup == "g1" and node1.faults.faults.freeze and node1.faults.faults.load == 0
    assert config.nodes[1].http_port == 8081 and config.host == "10.1.1.1"
    assert (config.discovery.kind, config.discovery.security_key) == ("advertise", "k")
    static = parse_config(nodes_sim.sim_config(specs, StaticProxies(("b1:6666", "[::1]:7777"))))
    assert static.discovery.proxies == (("b1", 6666), ("::1", 7777))


@settings(max_examples=50, deadline=None)
@given(st.integers(-1, 100), st.floats(0.001, 1e6), st.booleans(), st.booleans(),
       st.lists(st.sampled_from(["/app", "/", "/x/y", "/a-b"]), min_size=1, max_size=3, unique=True))
def test_every_describable_node_is_accepted(load: int, interval: float, force: bool, include: bool,
                                            contexts: list[str]) -> None:
    spec = NodeSpec("n", load=load, status_interval_s=interval, sticky_session_force=force,
                    include_sticky_force=include, contexts=tuple(contexts))
    node = parse_config(nodes_sim.sim_config([spec], StaticProxies())).nodes[0]
    assert (node.load, node.status_interval_s, node.contexts) == (load, interval, tuple(contexts))


def test_only_sim_nodes_and_mcmp_discovery() -> None:
    with pytest.raises(SpecError) as error:
        nodes_sim.sim_config([NodeSpec("w", flavor="wildfly")], StaticProxies())
    assert error.value.field == "nodes[0].flavor"
    with pytest.raises(SpecError) as error:
        nodes_sim.sim_config([NodeSpec("n")], StaticWorkers())
    assert error.value.field == "discovery"


def test_pack_ports_keeps_distinct_ports_and_packs_clashing_ones() -> None:
    distinct = (NodeSpec("a", http_port=8080), NodeSpec("b", http_port=8085))
    assert nodes_sim.pack_ports(distinct) == distinct
    packed = nodes_sim.pack_ports([NodeSpec(f"n{i}") for i in range(1000)])
    ports = [s.http_port for s in packed]
    assert len(set(ports)) == 1000 and ports[0] == 8080
    assert 9000 not in ports and 8009 not in ports
    assert [s.name for s in packed] == [f"n{i}" for i in range(1000)]


def test_chunks_and_image_request() -> None:
    specs = [NodeSpec(f"n{i}") for i in range(7)]
    assert [len(c) for c in nodes_sim.chunks(specs, 3)] == [3, 3, 1]
    with pytest.raises(ValueError):
        list(nodes_sim.chunks(specs, 0))
    request = nodes_sim.image_request()
    assert request.name == "sim-node"
    assert sorted(request.extra) == ["harness/__init__.py", "harness/protocol/__init__.py",
                                    "harness/protocol/advertise.py", "harness/protocol/mcmp.py",
                                    "harness/protocol/mcmp_client.py"]
