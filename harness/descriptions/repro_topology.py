"""The cluster a reproduction needs, written without flavors: `ReproTopology`.

node1..nodeN with the BalancerSpec fields that matter (`overlay` for any httpd directive, `max_node`,
`enable_ws_tunnel`, the MPM shape `mpm`, ...), NodeSpec fields for every node and per node, and a discovery.
The run's --balancer / --node-flavor choose the flavors (the run layer adds what they need through
harness.flavors.registry.topology_for); a `flavor` written here is refused, naming `applies` instead.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.descriptions.balancer import BalancerSpec, balancer_from_dict
from harness.descriptions.base import (
    SpecError,
    field_prefix,
    set_field,
    to_jsonable,
    validate_int,
    validate_mapping,
    validate_name,
)
from harness.descriptions.node import Discovery, NodeSpec, discovery_from_dict, node_from_dict
from harness.descriptions.topology import Topology

_NODE_SET = ("name", "flavor")  # NodeSpec fields the run sets


@dataclass(frozen=True)
class ReproTopology:
    """node1..nodeN of the run's flavors with these fields: `balancer` (BalancerSpec fields), `node` (NodeSpec
    fields of every node), `per_node` (name -> fields of that node), `discovery` (None: the balancer flavor's
    default). The run layer fills in what the flavors need (harness.flavors.registry.topology_for)."""

    nodes: int = 2
    balancer: Mapping[str, Any] = field(default_factory=dict)
    node: Mapping[str, Any] = field(default_factory=dict)
    per_node: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    discovery: Discovery | None = None
    name: str = "repro"

    def __post_init__(self) -> None:
        validate_int("nodes", self.nodes, 1, 500)
        validate_name("name", self.name)
        set_field(self, "balancer", _fields("balancer", self.balancer, BalancerSpec, ("flavor",)))
        set_field(self, "node", _fields("node", self.node, NodeSpec, _NODE_SET))
        if not isinstance(self.per_node, Mapping):
            raise SpecError("per_node", f"got {self.per_node!r}; expected a mapping of node name to fields")
        per_node = {}
        for name, fields in self.per_node.items():
            if name not in self.node_names:
                raise SpecError(f"per_node.{name}", f"no such node; nodes: {', '.join(self.node_names)}")
            per_node[name] = _fields(f"per_node.{name}", fields, NodeSpec, _NODE_SET)
        set_field(self, "per_node", per_node)
        with field_prefix("node"):
            NodeSpec("node1", **self.node)
        for name, fields in self.per_node.items():
            with field_prefix(f"per_node.{name}"):
                NodeSpec(name, **{**self.node, **fields})
        self.topology()  # the combination is checked like any topology (max_node >= nodes, ...)

    @property
    def node_names(self) -> tuple[str, ...]:
        return tuple(f"node{i}" for i in range(1, self.nodes + 1))

    def topology(self, balancer_flavor: str = "httpd-modcluster", node_flavor: str = "sim") -> Topology:
        """The topology with these flavors and no flavor defaults (the run layer's `topology_for` adds those)."""
        with field_prefix("balancer"):
            spec = BalancerSpec(flavor=balancer_flavor, **self.balancer)
        return self.with_per_node(
            Topology.simple(
                self.name, self.nodes, flavor=node_flavor, balancer=spec, discovery=self.discovery, **self.node
            )
        )

    def with_per_node(self, topology: Topology) -> Topology:
        """`topology` with each node's own fields applied."""
        for name, fields in self.per_node.items():
            topology = topology.with_node(name, **fields)
        return topology

    def to_dict(self) -> dict[str, Any]:
        return {
            "nodes": self.nodes,
            "balancer": {k: to_jsonable(v) for k, v in self.balancer.items()},
            "node": {k: to_jsonable(v) for k, v in self.node.items()},
            "per_node": {n: {k: to_jsonable(v) for k, v in f.items()} for n, f in self.per_node.items()},
            "discovery": None if self.discovery is None else to_jsonable(self.discovery),
            "name": self.name,
        }


def repro_topology_from_dict(data: object, field: str = "topology") -> ReproTopology:
    values = validate_mapping(field, data, ReproTopology, ignore=())
    raw = data if isinstance(data, Mapping) else {}
    if "balancer" in values:
        values["balancer"] = _typed(raw["balancer"], f"{field}.balancer", BalancerSpec)
    if "node" in values:
        values["node"] = _typed(raw["node"], f"{field}.node", NodeSpec)
    if "per_node" in values:
        per_node = raw["per_node"] or {}
        if not isinstance(per_node, Mapping):
            raise SpecError(f"{field}.per_node", f"got {per_node!r}; expected a mapping of node name to fields")
        values["per_node"] = {n: _typed(f, f"{field}.per_node.{n}", NodeSpec) for n, f in per_node.items()}
    if values.get("discovery") is not None:
        values["discovery"] = discovery_from_dict(raw["discovery"], f"{field}.discovery")
    with field_prefix(field):
        return ReproTopology(**values)


def _fields(field: str, data: object, cls: type, refused: tuple[str, ...]) -> dict[str, Any]:
    """A copy of `data` once every key is a field of `cls` other than `refused` (the run chooses those)."""
    if not isinstance(data, Mapping):
        raise SpecError(field, f"got {data!r}; expected a mapping of {cls.__name__} fields")
    names = [f.name for f in dataclasses.fields(cls) if f.name not in refused]
    for key in data:
        if key == "flavor":
            role = "balancer" if cls is BalancerSpec else "node"
            raise SpecError(
                f"{field}.flavor", f"the run chooses the flavor; say where the entry applies: applies.{role}"
            )
        if key == "name" and key in refused:
            raise SpecError(f"{field}.name", "nodes are named node1..nodeN; per_node sets the fields of one node")
        if key not in names:
            raise SpecError(f"{field}.{key}", f"unknown field of {cls.__name__}; accepted: {', '.join(names)}")
    return dict(data)


def _typed(data: object, field: str, cls: type) -> dict[str, Any]:
    """Given fields of a BalancerSpec / NodeSpec from plain data, as the spec holds them (MpmSpec, tuples)."""
    given = _fields(field, {} if data is None else data, cls, ("flavor",) if cls is BalancerSpec else _NODE_SET)
    spec: Any = (
        balancer_from_dict(given, field) if cls is BalancerSpec else node_from_dict({"name": "node1", **given}, field)
    )
    return {k: getattr(spec, k) for k in given}
