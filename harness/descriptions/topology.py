"""Descriptions of what to run: `Topology`, `LoadProfile` (plus re-exports of the node, balancer, discovery and
fault descriptions; a field failure as data is `harness.descriptions.reproduction`). Pure data: printable,
diffable, saved next to evidence with `to_dict()` and read back with `topology_from_dict()`.

Compatibility rules checked by `Topology` (kept simple on purpose):
- discovery: None means StaticProxies (nodes are told where the balancer is). Which discovery modes, fields
  and faults a flavor honours is the flavor's to say (harness.flavors: refused before start, never here).
- `Advertise` discovery with `balancer.server_advertise=False` is refused: nodes would never find it.
- Maxnode (when set) >= number of nodes. Mode lbmethod_cluster: lbmethod_growth >= number of nodes, and a
  node's `balancer` is None or the balancer's `balancer_name` (only that balancer exists).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

from harness.descriptions.balancer import BalancerSpec, HealthCheck, MpmSpec, balancer_from_dict
from harness.descriptions.base import (
    SpecError,
    field_prefix,
    fields_to_dict,
    replace_checked,
    set_field,
    validate_int,
    validate_mapping,
    validate_name,
    validate_number,
    validate_path,
    validate_token,
    validate_tuple,
)
from harness.descriptions.faults import (
    AdvertiseBlocked,
    BalancerRestart,
    FaultSpec,
    Kill,
    Partition,
    Pause,
    Remove,
    Slowness,
    Stop,
)
from harness.descriptions.node import (
    Advertise,
    Discovery,
    NodeSpec,
    StaticProxies,
    StaticWorkers,
    discovery_from_dict,
    node_from_dict,
)

__all__ = [
    "Advertise", "AdvertiseBlocked", "BalancerRestart", "BalancerSpec", "Discovery", "FaultSpec", "HealthCheck",
    "Kill", "LoadProfile", "MpmSpec", "NodeSpec", "Partition", "Pause", "Remove", "Slowness", "SpecError",
    "StaticProxies", "StaticWorkers", "Stop", "Topology", "topology_from_dict",
]  # fmt: skip


# NodeSpec.status_interval_s defaults to WildFly's 10 s; scenarios and `harness up` tick faster on purpose so a
# node's state reaches the balancer within a second (one named override, not a second default).
FAST_STATUS_INTERVAL_S = 1.0


@dataclass(frozen=True)
class Topology:
    """A balancer, its nodes and how they find each other. Builders return new validated copies."""

    name: str
    balancer: BalancerSpec = field(default_factory=BalancerSpec)
    nodes: tuple[NodeSpec, ...] = ()
    discovery: Discovery = field(default_factory=StaticProxies)  # None given is read as StaticProxies()

    def __post_init__(self) -> None:
        validate_name("name", self.name)
        if not isinstance(self.balancer, BalancerSpec):
            raise SpecError("balancer", f"got {self.balancer!r}; expected a BalancerSpec")
        # no nodes: a balancer alone, registered by hand (the MCMP toolkit, conformance runs)
        set_field(self, "nodes", validate_tuple("nodes", self.nodes, _validate_node))
        for i, node in enumerate(self.nodes):
            if node.name in self.node_names[:i]:
                raise SpecError(f"nodes[{i}].name", f"duplicate node name {node.name!r}; names must be unique")
        set_field(self, "discovery", _resolve_discovery(self.balancer, self.discovery))
        self._validate_capacity()
        self._validate_compatibility()

    def _validate_capacity(self) -> None:
        count, spec = len(self.nodes), self.balancer
        if spec.max_node is not None and spec.max_node < count:
            raise SpecError("balancer.max_node", f"got {spec.max_node}; the topology has {count} nodes")
        if spec.mode == "lbmethod_cluster" and spec.lbmethod_growth < count:
            raise SpecError("balancer.lbmethod_growth", f"got {spec.lbmethod_growth}; the topology has {count} nodes")

    def _validate_compatibility(self) -> None:
        spec = self.balancer
        for i, node in enumerate(self.nodes):
            if spec.mode == "lbmethod_cluster" and node.balancer not in (None, spec.balancer_name):
                raise SpecError(
                    f"nodes[{i}].balancer",
                    f"got {node.balancer!r}; in lbmethod_cluster mode accepted values: None, {spec.balancer_name!r}",
                )
        if isinstance(self.discovery, Advertise) and spec.server_advertise is False:
            raise SpecError("balancer.server_advertise", "False with Advertise discovery: nodes would never find it")

    # ---- lookups ----

    @property
    def node_names(self) -> tuple[str, ...]:
        return tuple(node.name for node in self.nodes)

    def get_node(self, name: str) -> NodeSpec:
        for node in self.nodes:
            if node.name == name:
                return node
        raise SpecError("nodes", f"no node named {name!r}; nodes: {', '.join(self.node_names)}")

    # ---- builders ----

    @classmethod
    def simple(
        cls,
        name: str,
        n: int = 2,
        *,
        flavor: str = "sim",
        balancer: BalancerSpec | None = None,
        discovery: Discovery | None = None,
        **node_fields: Any,
    ) -> Topology:
        """`n` identical nodes node1..nodeN behind a default (or given) balancer.

        `balancer` here is the BalancerSpec; set NodeSpec.balancer with `with_nodes(...)` or `with_node(...)`.
        """
        return cls(
            name, balancer or BalancerSpec(), _numbered_nodes(n, flavor, node_fields), discovery or StaticProxies()
        )

    def with_nodes(self, n: int, flavor: str = "sim", **node_fields: Any) -> Topology:
        """The same topology with its nodes replaced by node1..nodeN."""
        return dataclasses.replace(self, nodes=_numbered_nodes(n, flavor, node_fields))

    def with_node(self, name: str, /, **changes: Any) -> Topology:
        """The same topology with node `name` changed."""
        index = self.node_names.index(self.get_node(name).name)
        node = replace_checked(self.nodes[index], f"nodes[{index}]", changes)
        return dataclasses.replace(self, nodes=self.nodes[:index] + (node,) + self.nodes[index + 1 :])

    def with_added_node(self, node: NodeSpec) -> Topology:
        return dataclasses.replace(self, nodes=self.nodes + (node,))

    def with_balancer(self, **changes: Any) -> Topology:
        return dataclasses.replace(self, balancer=replace_checked(self.balancer, "balancer", changes))

    def with_discovery(self, discovery: Discovery | None) -> Topology:
        return dataclasses.replace(self, discovery=discovery or StaticProxies())

    def to_dict(self) -> dict[str, Any]:
        return fields_to_dict(self)


def topology_from_dict(data: object, field: str = "") -> Topology:
    """Inverse of `Topology.to_dict()`; errors name the field ("nodes[1].load")."""
    values = validate_mapping(field, data, Topology)
    prefix = f"{field}." if field else ""
    if "balancer" in values:
        values["balancer"] = balancer_from_dict(values["balancer"], f"{prefix}balancer")
    if "nodes" in values:
        nodes = values["nodes"]
        if not isinstance(nodes, tuple):
            raise SpecError(f"{prefix}nodes", f"got {nodes!r}; expected a list of nodes")
        values["nodes"] = tuple(node_from_dict(n, f"{prefix}nodes[{i}]") for i, n in enumerate(nodes))
    if values.get("discovery") is not None:
        values["discovery"] = discovery_from_dict(values["discovery"], f"{prefix}discovery")
    if not field:
        return Topology(**values)
    with field_prefix(field):
        return Topology(**values)


@dataclass(frozen=True)
class LoadProfile:
    """Locust load: `users` simulated users started at `spawn_rate`/s, each waiting `wait_s` between requests,
    shared by `processes` Locust processes (a number up to `users`, or "auto": one per core, at most `users`).

    One process is the default: it drives a scenario's load (hundreds of requests/s) with CPU to spare, starts
    fastest, and leaves the cores to the balancer and nodes under test; the same profile then means the same
    load on every machine. More processes are for throughput (one Locust process is bound to one core).
    """

    users: int = 10
    spawn_rate: float = 10.0
    locustfile: str = "sticky_sessions.py"
    wait_s: tuple[float, float] = (0.05, 0.1)
    path: str = "/app/"
    processes: int | Literal["auto"] = 1

    def __post_init__(self) -> None:
        validate_int("users", self.users, 1)
        set_field(self, "spawn_rate", validate_number("spawn_rate", self.spawn_rate, 0.001))
        validate_token("locustfile", self.locustfile)
        if "/" in self.locustfile or not self.locustfile.endswith(".py"):
            raise SpecError("locustfile", f"got {self.locustfile!r}; expected a file name in locustfiles/, *.py")
        wait = validate_tuple("wait_s", self.wait_s, lambda f, v: validate_number(f, v, 0))
        if len(wait) != 2 or wait[0] > wait[1]:
            raise SpecError("wait_s", f"got {self.wait_s!r}; expected (min, max) with 0 <= min <= max")
        set_field(self, "wait_s", (wait[0], wait[1]))
        validate_path("path", self.path)
        processes: object = self.processes
        if processes != "auto" and (
            isinstance(processes, bool) or not isinstance(processes, int) or not 1 <= processes <= self.users
        ):
            expected = f"an integer in 1..{self.users} (at most one process per user) or 'auto'"
            raise SpecError("processes", f"got {processes!r}; expected {expected}")

    def to_dict(self) -> dict[str, Any]:
        return fields_to_dict(self)


def _numbered_nodes(n: int, flavor: str, node_fields: dict[str, Any]) -> tuple[NodeSpec, ...]:
    validate_int("n", n, 1)
    accepted = [f.name for f in dataclasses.fields(NodeSpec) if f.name not in ("name", "flavor")]
    for key in node_fields:
        if key not in accepted:
            raise SpecError(f"nodes.{key}", f"unknown field of NodeSpec; accepted: {', '.join(accepted)}")
    nodes = []
    for i in range(1, n + 1):
        with field_prefix(f"nodes[{i - 1}]"):
            nodes.append(NodeSpec(f"node{i}", flavor=flavor, **node_fields))
    return tuple(nodes)


def _resolve_discovery(spec: BalancerSpec, discovery: object) -> Discovery:
    if discovery is None:
        return StaticProxies()
    if isinstance(discovery, (Advertise, StaticProxies, StaticWorkers)):
        return discovery
    raise SpecError("discovery", f"got {discovery!r}; expected Advertise(...), StaticProxies(...) or StaticWorkers()")


def _validate_node(field: str, value: object) -> NodeSpec:
    if not isinstance(value, NodeSpec):
        raise SpecError(field, f"got {value!r}; expected a NodeSpec")
    return value
