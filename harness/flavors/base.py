"""A flavor declared once: its role, image, the spec fields, discovery modes and faults it honours, a check
run before anything starts, and how it starts.

Every flavor is one subclass of `BalancerFlavor` or `NodeFlavor` in its own folder (`flavor.py`), listed in
`registry.py`. Options, CLI choices, image builds, skip reasons and the README's flavor table read the
registry. A spec field left at its default is never a problem; a field set to something else that the flavor
does not honour, a discovery mode it does not speak, or a fault it cannot take is refused before start with
`FlavorRefused`, naming the field and the flavor. Nothing is dropped in silence.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from harness.descriptions.balancer import BalancerSpec
from harness.descriptions.faults import FaultSpec
from harness.descriptions.node import Advertise, Discovery, NodeSpec, StaticProxies
from harness.descriptions.options import HarnessOptions
from harness.descriptions.topology import Topology
from harness.machinery.contracts import Balancer, Node
from harness.machinery.resources import Resources


class FlavorUnavailable(RuntimeError):
    """This flavor cannot run here because an input is missing (no source, no archive): the message names the
    option to set. In a scenario this is a skip with that message."""


class FlavorRefused(ValueError):
    """A topology, fault or option asks for something the flavor cannot honour. Raised before anything starts:
    a skip with the reason in a scenario, an error at `harness up`."""

    def __init__(self, field: str, flavor: str, why: str) -> None:
        super().__init__(f"{field}: {why} (flavor {flavor})")
        self.field, self.flavor, self.why = field, flavor, why


@dataclass
class ClusterContext:
    """What flavor starters get: the cleanup scope, the network, the options and the (checked) topology."""

    scope: Resources
    network: Any
    options: HarnessOptions
    topology: Topology

    @property
    def advertise(self) -> Advertise | None:
        discovery = self.topology.discovery
        return discovery if isinstance(discovery, Advertise) else None


def unhonoured(spec: Any, honours: frozenset[str], prefix: str, flavor: str) -> None:
    """Refuse the first field of the dataclass `spec` that is not at its default and not in `honours`."""
    for f in dataclasses.fields(spec):
        if f.name in honours:
            continue
        default = (
            f.default
            if f.default is not dataclasses.MISSING
            else (f.default_factory() if f.default_factory is not dataclasses.MISSING else dataclasses.MISSING)
        )
        value = getattr(spec, f.name)
        if default is dataclasses.MISSING or value != default:
            raise FlavorRefused(
                f"{prefix}.{f.name}",
                flavor,
                f"got {value!r}; this flavor does not honour the field (leave it at {default!r}); "
                f"it honours: {', '.join(sorted(honours))}",
            )


class Flavor(ABC):
    """What both roles declare."""

    name: ClassVar[str]
    role: ClassVar[str]
    image: ClassVar[str]  # the folder under images/
    summary: ClassVar[str]  # one line: what it is, for --help and the README's flavor table
    honours: ClassVar[frozenset[str]]  # spec fields it reads; any other field must keep its default
    discovery: ClassVar[tuple[type[Discovery], ...]]  # discovery modes it speaks
    faults: ClassVar[frozenset[str]]  # FaultSpec kinds it can take when it is a fault's target
    inputs: ClassVar[tuple[str, ...]] = ()  # the harness options it reads (--modcluster-source, ...)

    def validate_options(self, options: HarnessOptions) -> None:
        """Refuse options that cannot work with this flavor (an input given but unusable). Default: none."""

    def validate_fault(self, fault: FaultSpec, target: str) -> None:
        if fault.kind not in self.faults:
            raise FlavorRefused(
                f"fault {fault.kind} on {target}",
                self.name,
                f"this {self.role} flavor cannot take it; it takes: {', '.join(sorted(self.faults))}",
            )

    def validate_discovery(self, discovery: Discovery) -> None:
        if not isinstance(discovery, self.discovery):
            raise FlavorRefused(
                "discovery", self.name, f"got {discovery.kind}; it speaks: {', '.join(d.kind for d in self.discovery)}"
            )

    @abstractmethod
    def image_tag(self, client: Any, options: HarnessOptions) -> str:
        """Build (at most once per content) and return this flavor's image tag."""


class BalancerFlavor(Flavor):
    role: ClassVar[str] = "balancer"
    # what a topology built from the options gets when it names none (Topology.simple's are mod_cluster's)
    default_discovery: ClassVar[Discovery] = StaticProxies()
    node_defaults: ClassVar[dict[str, Any]] = {}  # NodeSpec fields its nodes need (mod_jk: connector "ajp")
    fast_fields: ClassVar[dict[str, Any]] = {}  # BalancerSpec fields for scenario speed (mod_jk: recovery in 1 s)

    def resolve(self, spec: BalancerSpec, options: HarnessOptions) -> BalancerSpec:
        """The spec with the run's options applied (before checks, so the evidence says what ran)."""
        return spec

    def validate(self, topology: Topology, options: HarnessOptions) -> None:
        unhonoured(topology.balancer, self.honours | {"flavor"}, "balancer", self.name)
        self.validate_discovery(topology.discovery)

    @abstractmethod
    def start(self, context: ClusterContext) -> Balancer:
        """A started, ready balancer on the context's network under the alias `balancer`."""


class NodeFlavor(Flavor):
    role: ClassVar[str] = "node"

    def validate(self, spec: NodeSpec, topology: Topology, options: HarnessOptions) -> None:
        unhonoured(spec, self.honours | {"name", "flavor"}, f"nodes[{topology.nodes.index(spec)}]", self.name)
        self.validate_discovery(topology.discovery)

    @abstractmethod
    def start(self, context: ClusterContext, spec: NodeSpec, ipv4: str | None = None) -> Node:
        """A started node (registration is awaited by the cluster's gate); `ipv4` pins its address."""

    def start_group(self, context: ClusterContext, specs: Sequence[NodeSpec]) -> list[Node]:
        """Several nodes in one container (one process). Only flavors that can override this."""
        raise FlavorRefused("nodes_per_container", self.name, "this node flavor runs one node per container")
