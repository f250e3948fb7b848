"""Balancer flavor `httpd-modcluster`: Apache httpd 2.4 with mod_cluster compiled from the source you name."""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, Optional

from harness.flavors.base import BalancerFlavor, ClusterContext, FlavorUnavailable
from harness.flavors.httpd_modcluster import source as modcluster_source
from harness.flavors.httpd_modcluster.balancer import HttpdBalancer, image_for, start_httpd_balancer
from harness.spec.balancer import BalancerSpec
from harness.spec.node import Advertise, StaticProxies
from harness.spec.options import HarnessOptions, OptionError

_SOURCES: dict[str, modcluster_source.ModClusterSource] = {}
NO_SOURCE = ("httpd + mod_cluster needs a source: set --modcluster-source (or HARNESS_MODCLUSTER_SOURCE) to a "
             "checkout of modcluster/mod_proxy_cluster or modcluster/mod_cluster 1.3.x, a git-url@ref or an archive")


def source_for(given: Optional[str]) -> modcluster_source.ModClusterSource:
    """The source tree for this process (resolved once; a git URL is cloned once).

    No source given: FlavorUnavailable (a skip naming the option). A source given that cannot be used: an
    OptionError naming --modcluster-source (an error, never a skip)."""
    if not given:
        raise FlavorUnavailable(NO_SOURCE)
    if given not in _SOURCES:
        try:
            _SOURCES[given] = modcluster_source.resolve(given)
        except modcluster_source.SourceError as exc:
            raise OptionError(f"--modcluster-source (or HARNESS_MODCLUSTER_SOURCE) = {given!r}: {exc}") from exc
    return _SOURCES[given]


class HttpdModclusterFlavor(BalancerFlavor):
    name: ClassVar[str] = "httpd-modcluster"
    image: ClassVar[str] = "httpd-modcluster"
    summary: ClassVar[str] = ("Apache httpd 2.4 + mod_cluster compiled from `--modcluster-source` (1.3.x or 2.x; "
                              "proxy_cluster or lbmethod_cluster mode)")
    honours: ClassVar[frozenset[str]] = frozenset(f.name for f in dataclasses.fields(BalancerSpec)) - {"jk"}
    discovery: ClassVar[tuple[type[Any], ...]] = (Advertise, StaticProxies)
    faults: ClassVar[frozenset[str]] = frozenset({"balancer_restart", "advertise_blocked", "partition"})
    inputs: ClassVar[tuple[str, ...]] = ("--modcluster-source", "--modcluster-mode")

    def check_options(self, options: HarnessOptions) -> None:
        if not options.modcluster_source:
            return
        source = source_for(options.modcluster_source)
        if options.modcluster_mode == "lbmethod_cluster" and source.line != "2.x":
            raise OptionError(f"--modcluster-mode (or HARNESS_MODCLUSTER_MODE) = 'lbmethod_cluster' needs a 2.x "
                              f"source (mod_lbmethod_cluster); {options.modcluster_source} is {source.release}")

    def resolve(self, spec: BalancerSpec, options: HarnessOptions) -> BalancerSpec:
        """--modcluster-mode applies to a balancer left at the default mode (a topology that names its mode
        keeps it)."""
        if spec.mode == "proxy_cluster" and options.modcluster_mode != spec.mode:
            return dataclasses.replace(spec, mode=options.modcluster_mode)
        return spec

    def image_tag(self, client: Any, options: HarnessOptions) -> str:
        return image_for(client, source_for(options.modcluster_source))

    def start(self, context: ClusterContext) -> HttpdBalancer:
        source = source_for(context.options.modcluster_source)
        return start_httpd_balancer(context.scope, context.network, context.topology.balancer, source,
                                    advertise=context.advertise)


FLAVOR = HttpdModclusterFlavor()
