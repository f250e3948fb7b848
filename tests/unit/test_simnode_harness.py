"""The host side of sim nodes (harness.nodes_sim), the pure parts: what is put in a container's
configuration, and that the node program reads every NodeSpec the harness can describe."""

from __future__ import annotations

import ast
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.descriptions.base import SpecError
from harness.descriptions.faults import Exit, FaultSpec, Freeze, NoStatus, ReportLoad, Reregister, Slowness
from harness.descriptions.node import Advertise, NodeSpec, StaticProxies, StaticWorkers
from harness.descriptions.topology import Topology
from harness.flavors.base import FlavorRefused
from harness.flavors.sim import node as nodes_sim
from harness.run.faults import inject
from simnode.config import parse_config
from tests.unit.simnode_fakes import SIM_ROOT  # puts simnode on sys.path


def test_config_round_trips_through_the_node_program() -> None:
    specs = [
        NodeSpec(
            "node1",
            contexts=("/app", "/"),
            aliases=("a.example", "b"),
            load=-1,
            status_interval_s=2.5,
            sticky_session_force=True,
            include_sticky_force=False,
            balancer="bal",
            lbgroup="g1",
            stop_context_timeout_s=0,
            faults=("freeze", "report_load:load=0"),
        ),
        NodeSpec("node2", http_port=8081),
    ]
    data = nodes_sim.sim_config(specs, Advertise(group="224.0.1.9", port=23399, security_key="k"), host="10.1.1.1")
    config = parse_config(data)
    node1 = config.nodes[0]
    assert (node1.contexts, node1.aliases, node1.load, node1.status_interval_s) == (
        ("/app", "/"),
        ("a.example", "b"),
        -1,
        2.5,
    )
    assert node1.sticky_session_force and not node1.include_sticky_force and node1.balancer == "bal"
    assert config.nodes == tuple(specs), "the node program reads back the very NodeSpecs"
    assert node1.start_faults()[1].fault == ReportLoad("node1", 0)
    assert config.nodes[1].http_port == 8081 and config.host == "10.1.1.1"
    assert (config.discovery.kind, config.discovery.security_key) == ("advertise", "k")
    static = parse_config(nodes_sim.sim_config(specs, StaticProxies(("b1:6666", "[::1]:7777"))))
    assert static.discovery.proxies == (("b1", 6666), ("::1", 7777))


@settings(max_examples=50, deadline=None)
@given(
    st.integers(-1, 100),
    st.floats(0.001, 1e6),
    st.booleans(),
    st.booleans(),
    st.lists(st.sampled_from(["/app", "/", "/x/y", "/a-b"]), min_size=1, max_size=3, unique=True),
)
def test_every_describable_node_is_accepted(
    load: int, interval: float, force: bool, include: bool, contexts: list[str]
) -> None:
    spec = NodeSpec(
        "n",
        load=load,
        status_interval_s=interval,
        sticky_session_force=force,
        include_sticky_force=include,
        contexts=tuple(contexts),
    )
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
    assert {"harness/descriptions/node.py", "harness/descriptions/faults.py", "harness/protocol/mcmp.py"} <= set(
        request.extra
    )
    assert all(path.is_file() for path in request.extra.values())


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_the_shipped_harness_modules_are_standard_library_only_and_complete() -> None:
    """Everything the image ships imports only the standard library and other shipped modules."""
    shipped = {
        "harness." + m.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
        for m in nodes_sim.SHIPPED_MODULES
    }
    for module, path in ((m, nodes_sim._HARNESS_DIR / m) for m in nodes_sim.SHIPPED_MODULES):
        for name in _imports(path):
            top = name.partition(".")[0]
            assert top in sys.stdlib_module_names or top == "__future__" or name in shipped, (
                f"{module} imports {name}, which the sim image does not ship"
            )


def test_the_sim_program_has_no_import_cycles() -> None:
    """Its own modules import each other in one direction only (at any place in a module)."""
    folder = SIM_ROOT / "simnode"
    graph = {
        path.stem: {name.partition(".")[2] for name in _imports(path) if name.startswith("simnode.")}
        for path in folder.glob("*.py")
    }

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        return any(n == goal or (n not in seen and reaches(n, goal, seen | {n})) for n in graph.get(start, ()))

    cycles = sorted(module for module in graph if reaches(module, module, {module}))
    assert cycles == [], f"modules on an import cycle: {cycles}"
    assert "control" not in graph["runtime"] and "runtime" in graph["control"]


class _FakeCluster:
    """What a fault block touches of a Cluster, recorded."""

    def __init__(self, topology: Topology, handles: dict[str, Any]) -> None:
        self.topology, self.nodes = topology, handles
        self.calls: list[str] = []
        self.windows: list[Any] = []

    def wait_for_healthy(self, timeout: float = 60.0, label: str = "") -> None:
        self.calls.append(f"health {label}")

    def record_state(self, label: str) -> None:
        self.calls.append(f"state {label}")

    def open_window(self, kind: str, targets: tuple[str, ...], detail: str = "") -> str:
        self.calls.append(f"open {kind} {','.join(targets)}")
        return kind

    def close_window(self, window: str) -> None:
        self.calls.append(f"close {window}")

    def get_node(self, name: str) -> Any:
        return self.nodes[name]


class _FakeSimHandle:
    def __init__(self, calls: list[str]) -> None:
        self.calls = calls

    def apply_fault(self, fault: FaultSpec) -> Callable[[], None]:
        self.calls.append(f"apply {fault.kind}")
        return lambda: self.calls.append(f"heal {fault.kind}")


@pytest.mark.parametrize(
    "fault", [Freeze("node2"), Slowness("node2", 5), Exit("node2"), Reregister("node2", 8181), NoStatus("node2")]
)
def test_a_sim_fault_on_another_flavor_is_refused_before_anything_happens(fault: FaultSpec) -> None:
    topology = Topology("t", nodes=(NodeSpec("node1"), NodeSpec("node2", flavor="wildfly")))
    cluster = _FakeCluster(topology, {})
    with pytest.raises(FlavorRefused) as error, inject(cluster, fault):  # type: ignore[arg-type]
        raise AssertionError("the block must not run")
    assert f"fault {fault.kind}" in str(error.value) and error.value.flavor == "wildfly"
    assert cluster.calls == [], "nothing checked, opened or applied"


def test_a_sim_fault_goes_to_the_node_handle_inside_a_window() -> None:
    topology = Topology("t", nodes=(NodeSpec("node1"),))
    cluster = _FakeCluster(topology, {})
    cluster.nodes["node1"] = _FakeSimHandle(cluster.calls)
    with inject(cluster, ReportLoad("node1", 0)):  # type: ignore[arg-type]
        cluster.calls.append("block")
    kind = "report_load"
    assert cluster.calls == [
        f"health before {ReportLoad('node1', 0).describe()}",
        f"open {kind} node1",
        f"apply {kind}",
        "block",
        f"state during {ReportLoad('node1', 0).describe()}",
        f"heal {kind}",
        f"close {kind}",
        f"health after {ReportLoad('node1', 0).describe()}",
    ]


def test_start_faults_only_for_flavors_that_run_them() -> None:
    from harness.descriptions.options import HarnessOptions
    from harness.flavors import registry

    topology = Topology("t", nodes=(NodeSpec("w", flavor="wildfly", faults=("no_status",)),))
    with pytest.raises(FlavorRefused) as error:
        registry.resolve(topology, HarnessOptions())
    assert error.value.field == "nodes[0].faults" and error.value.flavor == "wildfly"
    assert NodeSpec("s", faults=("no_status", "kill@3")).start_faults()[1].after_s == 3.0
