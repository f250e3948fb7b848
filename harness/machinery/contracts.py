"""The contracts between the flavors and everything above them: what a balancer and a node of any flavor offer.

`Balancer` and `Node` (protocols) carry every member that the cluster, the faults, the scenario, evidence and
the CLI use; a flavor's classes satisfy them (mypy checks it where a flavor's `start` returns one). Nobody
above the flavors probes for a member by name.

`BalancerBase` gives every balancer flavor the same `wait_for_*` predicates over its `snapshot()` (one
observation, as `BalancerState`), so httpd+mod_cluster and Undertow behave the same way in scenarios.

Fault verbs mean one thing each (HOUSE rule 9): `stop` is graceful (the server leaves the balancer), `kill`
is SIGKILL to the server process (container and address stay), `pause`/`resume` freeze the whole container
(done on the container, by the faults), `remove` deletes the container. A fault that only one flavor can
take (a sim node's slowness, ...) goes through `Node.apply_fault`, after the flavor declared that it takes it.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from harness.descriptions.faults import FaultSpec
from harness.descriptions.node import NodeSpec
from harness.machinery.waiting import DEFAULT_TRANSIENT, Transient, wait_until
from harness.protocol.balancer_info import BalancerInfo
from harness.protocol.mcmp_client import McmpTransportError


class BalancerUnreadable(ConnectionError):
    """No part of the balancer answered a snapshot (restarting, paused): transient for waits."""


@dataclass(frozen=True)
class NodeState:
    name: str
    up: bool | None  # None: this flavor cannot tell (yet)
    load: int | None
    contexts: dict[str, str] = field(default_factory=dict)  # path -> ENABLED | DISABLED | STOPPED | REMOVED
    host: str = ""
    port: int | None = None
    detail: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class BalancerState:
    nodes: dict[str, NodeState]
    version: str = ""
    raw: dict[str, str] = field(default_factory=dict)  # the replies it was parsed from, for evidence

    def node(self, name: str) -> NodeState | None:
        return self.nodes.get(name)

    def summary(self) -> str:
        if not self.nodes:
            return "no nodes registered"
        parts = []
        for node in self.nodes.values():
            up = {True: "up", False: "DOWN", None: "?"}[node.up]
            contexts = ",".join(f"{path}={status}" for path, status in sorted(node.contexts.items()))
            parts.append(f"{node.name}[{up} load={node.load} {contexts}]")
        return " ".join(parts)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)


def info_nodes(info: BalancerInfo, up: dict[str, bool] | None = None) -> dict[str, NodeState]:
    """Node states from parsed MCMP INFO; `up` (name -> OK) comes from elsewhere: INFO has no up/down."""
    return {
        node.name: NodeState(
            node.name,
            (up or {}).get(node.name),
            node.load,
            {c.path: c.status for c in info.contexts_of(node.name)},
            node.host,
            node.port,
            {"type": node.type, "balancer": node.balancer},
        )
        for node in info.nodes
    }


Heal = Callable[[], None]


class Balancer(Protocol):
    """A running balancer of any flavor."""

    name: str
    snapshot_transient: Transient  # the errors a snapshot raises while the balancer is only restarting

    @property
    def container(self) -> Any: ...  # testcontainers DockerContainer

    @property
    def ip(self) -> str: ...

    def proxy_url(self, path: str = "/") -> str: ...

    def manager_url(self) -> str: ...  # "" when the flavor has no manager page

    def mcmp_address(self) -> tuple[str, int]: ...  # where MCMP (INFO, DUMP, ...) is answered

    def version(self) -> str: ...

    def versions(self) -> dict[str, str]: ...  # what runs, by component ("httpd", "mod_cluster commit", ...)

    def snapshot(self) -> BalancerState: ...

    def restart(self, graceful: bool = True) -> None: ...

    def evidence_files(self) -> dict[str, str]: ...  # file name -> text (logs, rendered configuration)

    def wait_for_nodes_registered(self, names: list[str], timeout: float = 30.0) -> BalancerState: ...

    def wait_for_node_gone(self, name: str, timeout: float = 60.0) -> BalancerState: ...

    def wait_for_node_up(self, name: str, timeout: float = 30.0) -> BalancerState: ...

    def wait_for_node_down(self, name: str, timeout: float = 30.0) -> BalancerState: ...

    def wait_for_context(
        self, name: str, path: str, status: str = "ENABLED", timeout: float = 30.0
    ) -> BalancerState: ...

    def wait_for_load(self, name: str, load: int, timeout: float = 30.0) -> BalancerState: ...


class Node(Protocol):
    """A running worker node of any flavor, named by its stable name."""

    @property
    def name(self) -> str: ...

    @property
    def spec(self) -> NodeSpec: ...

    @property
    def container(self) -> Any: ...  # testcontainers DockerContainer

    @property
    def ip(self) -> str: ...

    def stop(self, timeout: float = 10.0) -> None: ...

    def kill(self) -> None: ...

    def start(self) -> None: ...

    def wait_ready(self, timeout: float = 60.0) -> None: ...

    def logs(self) -> str: ...

    def evidence_files(self) -> dict[str, str]: ...

    def versions(self) -> dict[str, str]: ...  # what runs, by component ("wildfly server", "tomcat", ...)

    def apply_fault(self, fault: FaultSpec) -> Heal: ...  # only faults its flavor declares it takes


class BalancerBase(ABC):
    """Waits shared by all balancer flavors over `snapshot()`; the rest of `Balancer` is the flavor's. A
    snapshot failing with one of `snapshot_transient` (a balancer restarting, a connection refused) is polled
    again; anything else ends the wait at once."""

    name: str = "balancer"
    snapshot_transient: Transient = (*DEFAULT_TRANSIENT, McmpTransportError, BalancerUnreadable)

    @abstractmethod
    def snapshot(self) -> BalancerState: ...

    @abstractmethod
    def version(self) -> str: ...

    def versions(self) -> dict[str, str]:
        """What runs; flavors that know more (httpd + mod_cluster: release, commit, httpd) say more."""
        return {"balancer": self.version()}

    def _wait(self, check: Callable[[BalancerState], bool], timeout: float, what: str) -> BalancerState:
        seen: list[BalancerState] = []

        def probe() -> BalancerState | None:
            state = self.snapshot()
            seen[:] = [state]
            return state if check(state) else None

        return wait_until(
            probe,
            timeout=timeout,
            what=what,
            interval=0.2,
            transient=self.snapshot_transient,
            describe=lambda: seen[0].summary() if seen else "no snapshot taken",
        )

    def wait_for_nodes_registered(self, names: list[str], timeout: float = 30.0) -> BalancerState:
        return self._wait(
            lambda s: all(n in s.nodes for n in names),
            timeout,
            f"nodes {', '.join(names)} registered with the {self.name}",
        )

    def wait_for_node_gone(self, name: str, timeout: float = 60.0) -> BalancerState:
        return self._wait(lambda s: name not in s.nodes, timeout, f"node {name} removed from the {self.name}")

    def wait_for_node_up(self, name: str, timeout: float = 30.0) -> BalancerState:
        return self._wait(lambda s: bool(s.node(name) and s.nodes[name].up), timeout, f"node {name} up")

    def wait_for_node_down(self, name: str, timeout: float = 30.0) -> BalancerState:
        return self._wait(
            lambda s: bool(s.node(name) and s.nodes[name].up is False), timeout, f"node {name} down (NOTOK)"
        )

    def wait_for_context(self, name: str, path: str, status: str = "ENABLED", timeout: float = 30.0) -> BalancerState:
        return self._wait(
            lambda s: bool(s.node(name) and s.nodes[name].contexts.get(path) == status),
            timeout,
            f"context {path} of {name} {status}",
        )

    def wait_for_load(self, name: str, load: int, timeout: float = 30.0) -> BalancerState:
        return self._wait(
            lambda s: bool(s.node(name) and s.nodes[name].load == load), timeout, f"load {load} reported for {name}"
        )
