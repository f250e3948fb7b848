"""Node flavor `sim`: the project's own MCMP node, for speed, scale and precise faults."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, ClassVar

from harness.descriptions.base import SpecError
from harness.descriptions.faults import NODE_PROGRAM_FAULTS
from harness.descriptions.node import Advertise, NodeSpec, StaticProxies
from harness.descriptions.options import HarnessOptions
from harness.descriptions.topology import Topology
from harness.flavors.base import ClusterContext, FlavorRefused, NodeFlavor
from harness.flavors.sim.node import SimNode, discovery_dict, sim_image, start_group_for_cluster, start_sim_node
from harness.machinery.contracts import Node


class SimFlavor(NodeFlavor):
    name: ClassVar[str] = "sim"
    image: ClassVar[str] = "sim-node"
    summary: ClassVar[str] = "the project's simulated MCMP node (Python, many per container, precise faults)"
    honours: ClassVar[frozenset[str]] = frozenset(f.name for f in dataclasses.fields(NodeSpec)) - {"jk", "ajp"}
    discovery: ClassVar[tuple[type[Any], ...]] = (Advertise, StaticProxies)
    # the container-level faults, and every fault the sim program applies to itself
    faults: ClassVar[frozenset[str]] = frozenset({"kill", "stop", "pause", "remove", "partition", *NODE_PROGRAM_FAULTS})

    def validate(self, spec: NodeSpec, topology: Topology, options: HarnessOptions) -> None:
        super().validate(spec, topology, options)
        try:
            discovery_dict(topology.discovery)
        except SpecError as exc:
            raise FlavorRefused(exc.field, self.name, exc.message) from exc

    def image_tag(self, client: Any, options: HarnessOptions) -> str:
        return sim_image(client)

    def start(self, context: ClusterContext, spec: NodeSpec, ipv4: str | None = None) -> SimNode:
        image = self.image_tag(context.scope.client, context.options)
        return start_sim_node(context.scope, image, context.network, spec, context.topology.discovery, ipv4=ipv4)

    def start_group(self, context: ClusterContext, specs: Sequence[NodeSpec]) -> list[Node]:
        return list(start_group_for_cluster(context, specs))


FLAVOR = SimFlavor()
