"""The one registry of flavors. Options, CLI choices, image builds, checks and skip reasons read it.

Adding a flavor: its folder under harness/flavors/ with a `flavor.py` declaring it (see `base.py`), its image
folder under images/, its line in BALANCERS or NODES below, and a row in the README's flavor table.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, Union

from harness.descriptions.balancer import BalancerSpec
from harness.descriptions.faults import BALANCER, FaultSpec
from harness.descriptions.node import Discovery, NodeSpec
from harness.descriptions.options import HarnessOptions, OptionError
from harness.descriptions.topology import FAST_STATUS_INTERVAL_S, Topology
from harness.flavors.base import BalancerFlavor, ClusterContext, FlavorRefused, NodeFlavor
from harness.flavors.httpd_modcluster.flavor import FLAVOR as HTTPD_MODCLUSTER
from harness.flavors.httpd_modjk.flavor import FLAVOR as HTTPD_MODJK
from harness.flavors.sim.flavor import FLAVOR as SIM
from harness.flavors.tomcat.flavor import FLAVOR as TOMCAT
from harness.flavors.undertow.flavor import FLAVOR as UNDERTOW
from harness.flavors.wildfly.flavor import FLAVOR as WILDFLY
from harness.machinery.contracts import Balancer, Node

Flavor = Union[BalancerFlavor, NodeFlavor]

BALANCERS: dict[str, BalancerFlavor] = {f.name: f for f in (HTTPD_MODCLUSTER, UNDERTOW, HTTPD_MODJK)}
NODES: dict[str, NodeFlavor] = {f.name: f for f in (SIM, WILDFLY, TOMCAT)}


def balancer_flavor(name: str, field: str = "balancer.flavor") -> BalancerFlavor:
    if name not in BALANCERS:
        raise FlavorRefused(field, name, f"no balancer flavor {name!r}; known: {', '.join(BALANCERS)}")
    return BALANCERS[name]


def node_flavor(name: str, field: str = "node.flavor") -> NodeFlavor:
    if name not in NODES:
        raise FlavorRefused(field, name, f"no node flavor {name!r}; known: {', '.join(NODES)}")
    return NODES[name]


def by_image() -> dict[str, Flavor]:
    """Image folder name -> the (first) flavor that builds it, for `harness images build NAME`."""
    flavors: list[Flavor] = [*BALANCERS.values(), *NODES.values()]
    table: dict[str, Flavor] = {}
    for flavor in flavors:
        table.setdefault(flavor.image, flavor)
    return table


def validate_options(options: HarnessOptions) -> None:
    """Refuse unknown flavor names and inputs given but unusable (OptionError naming the option): at pytest's
    start and before `harness up` creates anything."""
    for value, known, option in (
        (options.balancer, BALANCERS, "--balancer (or HARNESS_BALANCER)"),
        (options.node, NODES, "--node-flavor (or HARNESS_NODE_FLAVOR)"),
    ):
        if value not in known:
            raise OptionError(f"{option} = {value!r}: accepted values are {', '.join(known)}")
    BALANCERS[options.balancer].validate_options(options)
    NODES[options.node].validate_options(options)
    if options.modcluster_source and options.balancer != HTTPD_MODCLUSTER.name:
        HTTPD_MODCLUSTER.validate_options(options)  # httpd-only scenarios use the source whatever --balancer says


def resolve(topology: Topology, options: HarnessOptions) -> Topology:
    """The topology that will run: the options applied by its flavors, then every flavor's check.

    Raises FlavorRefused (a field or discovery a flavor cannot honour) or FlavorUnavailable (an input is
    missing) before anything is created."""
    flavor = balancer_flavor(topology.balancer.flavor)
    resolved = dataclasses.replace(topology, balancer=flavor.resolve(topology.balancer, options))
    flavor.validate(resolved, options)
    for index, spec in enumerate(resolved.nodes):
        node_flavor(spec.flavor, f"nodes[{index}].flavor").validate(spec, resolved, options)
    return resolved


def validate_fault(topology: Topology, fault: FaultSpec) -> None:
    """Refuse a fault that the flavor of one of its targets cannot take (FlavorRefused)."""
    for target in fault.targets():
        if target == BALANCER:
            balancer_flavor(topology.balancer.flavor).validate_fault(fault, target)
        else:
            spec = topology.get_node(target)
            node_flavor(spec.flavor).validate_fault(fault, target)


def start_balancer(context: ClusterContext) -> Balancer:
    return balancer_flavor(context.topology.balancer.flavor).start(context)


def start_node(context: ClusterContext, spec: NodeSpec, ipv4: str | None = None) -> Node:
    return node_flavor(spec.flavor).start(context, spec, ipv4)


def start_node_group(context: ClusterContext, specs: Sequence[NodeSpec]) -> list[Node]:
    """Several nodes of one flavor in one container (a flavor that can, e.g. the sim); refused otherwise."""
    flavors = sorted({spec.flavor for spec in specs})
    if len(flavors) != 1:
        raise FlavorRefused("nodes_per_container", ", ".join(flavors), "nodes sharing a container need one flavor")
    return node_flavor(flavors[0]).start_group(context, specs)


def topology_for(
    options: HarnessOptions,
    name: str,
    nodes: int = 2,
    *,
    discovery: Discovery | None = None,
    balancer: dict[str, Any] | None = None,
    **node_fields: Any,
) -> Topology:
    """node1..nodeN of the selected flavors (--balancer, --node-flavor), with what those flavors need: the
    balancer's default discovery and node fields (mod_jk: StaticWorkers, AJP), and status every
    FAST_STATUS_INTERVAL_S where the node flavor has a status interval (scenarios and `harness up` tick faster
    than a production node so state reaches the balancer within a second)."""
    balancer_kind, node_kind = balancer_flavor(options.balancer), node_flavor(options.node)
    fields = {**balancer_kind.node_defaults, **node_fields}
    if "status_interval_s" in node_kind.honours:
        fields.setdefault("status_interval_s", FAST_STATUS_INTERVAL_S)
    spec = BalancerSpec(flavor=options.balancer, **{**balancer_kind.fast_fields, **(balancer or {})})
    return Topology.simple(
        name,
        nodes,
        flavor=options.node,
        balancer=spec,
        discovery=discovery if discovery is not None else balancer_kind.default_discovery,
        **fields,
    )


def flavor_table() -> list[tuple[str, str, str, str]]:
    """(role, name, image, summary) of every flavor: the README's flavor table and `harness flavors`."""
    flavors: list[Flavor] = [*BALANCERS.values(), *NODES.values()]
    return [(f.role, f.name, f.image, f.summary) for f in flavors]
