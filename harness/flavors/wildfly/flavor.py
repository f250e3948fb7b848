"""Node flavor `wildfly`: WildFly (standalone-ha) with its real mod_cluster subsystem, from Maven Central."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, ClassVar

from harness.descriptions.base import SpecError
from harness.descriptions.node import Advertise, NodeSpec, StaticProxies
from harness.descriptions.options import HarnessOptions, OptionError
from harness.descriptions.topology import Topology
from harness.flavors.base import ClusterContext, FlavorRefused, NodeFlavor
from harness.flavors.wildfly.dist import node_config
from harness.flavors.wildfly.node import WildflyNode, image_for_options, start_wildfly_node

_SIM_ONLY = {"include_sticky_force", "faults"}
_NOT_WILDFLY = _SIM_ONLY | {"jk", "ajp"}  # mod_jk worker and Tomcat connector settings


class WildflyFlavor(NodeFlavor):
    name: ClassVar[str] = "wildfly"
    image: ClassVar[str] = "wildfly-node"
    summary: ClassVar[str] = (
        "WildFly with its mod_cluster subsystem and the test WAR (`--wildfly-version` / `--wildfly-archive`)"
    )
    honours: ClassVar[frozenset[str]] = frozenset(f.name for f in dataclasses.fields(NodeSpec)) - _NOT_WILDFLY
    discovery: ClassVar[tuple[type[Any], ...]] = (Advertise, StaticProxies)
    faults: ClassVar[frozenset[str]] = frozenset({"kill", "stop", "pause", "remove", "partition"})
    inputs: ClassVar[tuple[str, ...]] = ("--wildfly-version", "--wildfly-archive")

    def validate_options(self, options: HarnessOptions) -> None:
        if options.wildfly_archive and not Path(options.wildfly_archive).is_file():
            raise OptionError(
                f"--wildfly-archive (or HARNESS_WILDFLY_ARCHIVE) = {options.wildfly_archive!r}: no such file"
            )

    def validate(self, spec: NodeSpec, topology: Topology, options: HarnessOptions) -> None:
        """WildFly's own limits (whole seconds, load 0..100) are refused here, not at container start."""
        super().validate(spec, topology, options)
        try:
            node_config(spec, topology.discovery)
        except SpecError as exc:
            raise FlavorRefused(f"nodes[{topology.nodes.index(spec)}].{exc.field}", self.name, exc.message) from exc

    def image_tag(self, client: Any, options: HarnessOptions) -> str:
        return image_for_options(client, options)

    def start(self, context: ClusterContext, spec: NodeSpec, ipv4: str | None = None) -> WildflyNode:
        image = self.image_tag(context.scope.client, context.options)
        return start_wildfly_node(context.scope, image, spec, context.topology.discovery, context.network, ipv4=ipv4)


FLAVOR = WildflyFlavor()
