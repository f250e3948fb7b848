"""What every flavor starter is handed, and the error a flavor raises when it cannot run here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from harness.machinery.resources import Resources
from harness.spec.node import Advertise
from harness.spec.options import HarnessOptions
from harness.spec.topology import Topology


class FlavorUnavailable(RuntimeError):
    """This flavor cannot run here (no source, no archive, ...): the message names the option to set."""


@dataclass
class ClusterContext:
    """What flavor starters get: the cleanup scope, the network, the options and the topology."""

    scope: Resources
    network: Any
    options: HarnessOptions
    topology: Topology

    @property
    def advertise(self) -> Optional[Advertise]:
        discovery = self.topology.discovery
        return discovery if isinstance(discovery, Advertise) else None
