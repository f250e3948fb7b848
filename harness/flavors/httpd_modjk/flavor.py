"""Balancer flavor `httpd-modjk`: Apache httpd 2.4 with mod_jk, both Debian bookworm packages; static workers."""

from __future__ import annotations

from typing import Any, ClassVar

from harness.descriptions.base import SpecError
from harness.descriptions.jk import JkBalancer
from harness.descriptions.node import Discovery, StaticWorkers
from harness.descriptions.options import HarnessOptions
from harness.descriptions.topology import Topology
from harness.flavors.base import BalancerFlavor, ClusterContext, FlavorRefused
from harness.flavors.httpd_modjk.balancer import ModjkBalancer, modjk_image, start_modjk_balancer
from harness.flavors.httpd_modjk.conf import validate_workers


class HttpdModjkFlavor(BalancerFlavor):
    name: ClassVar[str] = "httpd-modjk"
    image: ClassVar[str] = "httpd-modjk"
    summary: ClassVar[str] = (
        "Apache httpd 2.4 + mod_jk 1.2.48 (Debian packages): static AJP workers from "
        "workers.properties, read through its status worker"
    )
    honours: ClassVar[frozenset[str]] = frozenset({"proxy_port", "server_name", "mpm", "log_level", "jk"})
    discovery: ClassVar[tuple[type[Any], ...]] = (StaticWorkers,)
    default_discovery: ClassVar[Discovery] = StaticWorkers()
    node_defaults: ClassVar[dict[str, Any]] = {"connector": "ajp"}  # mod_jk speaks AJP only
    # maintenance every second and a worker in error retried after a second: a healed node is back in seconds
    fast_fields: ClassVar[dict[str, Any]] = {"jk": JkBalancer(maintain=1, watchdog_interval=1, recover_time=1)}
    faults: ClassVar[frozenset[str]] = frozenset({"balancer_restart", "partition"})

    def validate(self, topology: Topology, options: HarnessOptions) -> None:
        """Besides fields and discovery: every node an AJP worker with a valid, unique worker name."""
        super().validate(topology, options)
        try:
            validate_workers(topology)
        except SpecError as exc:
            raise FlavorRefused(exc.field, self.name, exc.message) from exc

    def image_tag(self, client: Any, options: HarnessOptions) -> str:
        return modjk_image(client)

    def start(self, context: ClusterContext) -> ModjkBalancer:
        return start_modjk_balancer(
            context.scope,
            context.network,
            context.topology,
            image=self.image_tag(context.scope.client, context.options),
        )


FLAVOR = HttpdModjkFlavor()
