"""Node flavor `tomcat`: Apache Tomcat 10.1 (Debian's tomcat10 on JRE 17) with the test WAR, behind mod_jk (AJP)."""

from __future__ import annotations

from typing import Any, ClassVar

from harness.descriptions.node import NodeSpec, StaticWorkers
from harness.descriptions.options import HarnessOptions
from harness.flavors.base import ClusterContext, NodeFlavor
from harness.flavors.tomcat.node import TomcatNode, start_tomcat_node, tomcat_image


class TomcatFlavor(NodeFlavor):
    name: ClassVar[str] = "tomcat"
    image: ClassVar[str] = "tomcat-node"
    summary: ClassVar[str] = (
        "Apache Tomcat 10.1 (Debian's tomcat10, JRE 17) with the test WAR: AJP and HTTP "
        "connectors, jvmRoute = node name"
    )
    # jk: the member worker the balancer renders for this node; ajp: the connector Tomcat opens.
    honours: ClassVar[frozenset[str]] = frozenset({"contexts", "connector", "http_port", "ajp_port", "jk", "ajp"})
    discovery: ClassVar[tuple[type[Any], ...]] = (StaticWorkers,)
    faults: ClassVar[frozenset[str]] = frozenset({"kill", "stop", "pause", "remove", "partition"})

    def image_tag(self, client: Any, options: HarnessOptions) -> str:
        return tomcat_image(client)

    def start(self, context: ClusterContext, spec: NodeSpec, ipv4: str | None = None) -> TomcatNode:
        image = self.image_tag(context.scope.client, context.options)
        return start_tomcat_node(context.scope, image, spec, context.network, ipv4=ipv4)


FLAVOR = TomcatFlavor()
