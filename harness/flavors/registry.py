"""Flavor starters: turn a topology's balancer or node spec into a running, ready component.

Each starter takes a `ClusterContext` (and, for nodes, the NodeSpec and an optional pinned address) and
raises `FlavorUnavailable` with the option to set when its inputs are missing (no mod_cluster source,
no WildFly archive reachable).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Optional, Sequence

from harness.flavors.httpd_modcluster import source as modcluster_source
from harness.flavors.base import ClusterContext, FlavorUnavailable
from harness.spec.node import NodeSpec

_SOURCES: dict[str, modcluster_source.ModClusterSource] = {}


def modcluster_source_for(given: Optional[str]) -> modcluster_source.ModClusterSource:
    """The source tree for this session (resolved once; a git URL is cloned once)."""
    key = given or ""
    if key not in _SOURCES:
        try:
            _SOURCES[key] = modcluster_source.resolve(given)
        except modcluster_source.SourceError as exc:
            raise FlavorUnavailable(str(exc)) from exc
    return _SOURCES[key]


def start_httpd(context: ClusterContext) -> Any:
    from harness.flavors.httpd_modcluster.balancer import start_httpd_balancer

    source = modcluster_source_for(context.options.modcluster_source)
    spec = context.topology.balancer
    if context.options.modcluster_mode != spec.mode and spec.mode == "proxy_cluster":
        spec = replace(spec, mode=context.options.modcluster_mode)
    return start_httpd_balancer(context.scope, context.network, spec, source, advertise=context.advertise)


def start_undertow(context: ClusterContext) -> Any:
    from harness.flavors.undertow import balancer as balancer_undertow

    return balancer_undertow.start_for_cluster(context)


def start_sim(context: ClusterContext, spec: NodeSpec, ipv4: Optional[str] = None) -> Any:
    from harness.flavors.sim import node as nodes_sim

    return nodes_sim.start_for_cluster(context, spec, ipv4)


def start_wildfly(context: ClusterContext, spec: NodeSpec, ipv4: Optional[str] = None) -> Any:
    from harness.flavors.wildfly import node as nodes_wildfly

    return nodes_wildfly.start_for_cluster(context, spec, ipv4)


def start_sim_group(context: ClusterContext, specs: Sequence[NodeSpec]) -> list[Any]:
    from harness.flavors.sim import node as nodes_sim

    return nodes_sim.start_group_for_cluster(context, specs)


BALANCER_STARTERS = {"httpd-modcluster": start_httpd, "undertow": start_undertow}
NODE_STARTERS = {"sim": start_sim, "wildfly": start_wildfly}
# Flavors that can host several nodes in one container (one process): the nodes share its address.
NODE_GROUP_STARTERS = {"sim": start_sim_group}


def start_balancer(context: ClusterContext) -> Any:
    flavor = context.topology.balancer.flavor
    if flavor not in BALANCER_STARTERS:
        raise FlavorUnavailable(f"balancer flavor {flavor!r} is not available yet (known: {', '.join(BALANCER_STARTERS)})")
    return BALANCER_STARTERS[flavor](context)


def start_node_group(context: ClusterContext, specs: Sequence[NodeSpec]) -> list[Any]:
    """Several nodes of one flavor in one container; a flavor that cannot is refused naming it."""
    flavors = sorted({s.flavor for s in specs})
    if len(flavors) != 1 or flavors[0] not in NODE_GROUP_STARTERS:
        raise FlavorUnavailable(f"node flavor(s) {', '.join(map(repr, flavors))} cannot share a container "
                                f"(flavors that can: {', '.join(NODE_GROUP_STARTERS)})")
    return NODE_GROUP_STARTERS[flavors[0]](context, specs)


def start_node(context: ClusterContext, spec: NodeSpec, ipv4: Optional[str] = None) -> Any:
    if spec.flavor not in NODE_STARTERS:
        raise FlavorUnavailable(f"node flavor {spec.flavor!r} is not available yet (known: {', '.join(NODE_STARTERS)})")
    return NODE_STARTERS[spec.flavor](context, spec, ipv4)
