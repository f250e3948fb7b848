"""Balancer flavor `undertow`: WildFly's load-balancer profile (Undertow's mod_cluster filter)."""

from __future__ import annotations

from typing import Any, ClassVar

from harness.descriptions.base import SpecError
from harness.descriptions.node import Advertise, StaticProxies
from harness.descriptions.options import HarnessOptions, OptionError
from harness.descriptions.topology import Topology
from harness.flavors.base import BalancerFlavor, ClusterContext, FlavorRefused
from harness.flavors.undertow.balancer import UndertowBalancer, start_undertow_balancer
from harness.flavors.wildfly.dist import balancer_config
from harness.flavors.wildfly.node import image_for_options


class UndertowFlavor(BalancerFlavor):
    name: ClassVar[str] = "undertow"
    image: ClassVar[str] = "wildfly-node"
    summary: ClassVar[str] = "WildFly's Undertow mod_cluster balancer (standalone-load-balancer), from Maven Central"
    honours: ClassVar[frozenset[str]] = frozenset(
        {"proxy_port", "mcmp_port", "server_advertise", "advertise_frequency_s", "use_alias"}
    )
    discovery: ClassVar[tuple[type[Any], ...]] = (Advertise, StaticProxies)
    faults: ClassVar[frozenset[str]] = frozenset({"balancer_restart", "advertise_blocked", "partition"})
    inputs: ClassVar[tuple[str, ...]] = ("--wildfly-version", "--wildfly-archive")

    def validate_options(self, options: HarnessOptions) -> None:
        if options.modcluster_mode != "proxy_cluster":
            raise OptionError(
                f"--modcluster-mode (or HARNESS_MODCLUSTER_MODE) = {options.modcluster_mode!r}: "
                "the undertow balancer has no mod_lbmethod_cluster mode (use --balancer "
                "httpd-modcluster)"
            )

    def validate(self, topology: Topology, options: HarnessOptions) -> None:
        super().validate(topology, options)
        try:
            balancer_config(topology.balancer, topology.discovery)
        except SpecError as exc:
            raise FlavorRefused(exc.field, self.name, exc.message) from exc

    def image_tag(self, client: Any, options: HarnessOptions) -> str:
        return image_for_options(client, options)

    def start(self, context: ClusterContext) -> UndertowBalancer:
        image = self.image_tag(context.scope.client, context.options)
        return start_undertow_balancer(
            context.scope, image, context.topology.balancer, context.topology.discovery, context.network
        )


FLAVOR = UndertowFlavor()
