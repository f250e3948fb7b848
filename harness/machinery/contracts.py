"""What every balancer flavor offers a scenario: a state snapshot and `wait_for_*` predicates.

A flavor implements `snapshot()` (one observation of the balancer, as `BalancerState`) and a few facts
(`proxy_url`, `version`); the waits here poll that snapshot with deadlines, so httpd+mod_cluster and
Undertow behave the same way in scenarios.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Callable, Optional

from harness.protocol.balancer_info import BalancerInfo
from harness.protocol.mcmp_client import McmpTransportError
from harness.machinery.waiting import DEFAULT_TRANSIENT, Transient, wait_until


class BalancerUnreadable(ConnectionError):
    """No part of the balancer answered a snapshot (restarting, paused): transient for waits."""


@dataclass(frozen=True)
class NodeState:
    name: str
    up: Optional[bool]  # None: this flavor cannot tell (yet)
    load: Optional[int]
    contexts: dict[str, str] = field(default_factory=dict)  # path -> ENABLED | DISABLED | STOPPED | REMOVED
    host: str = ""
    port: Optional[int] = None
    detail: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class BalancerState:
    nodes: dict[str, NodeState]
    version: str = ""
    raw: dict[str, str] = field(default_factory=dict)  # the replies it was parsed from, for evidence

    def node(self, name: str) -> Optional[NodeState]:
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


def info_nodes(info: BalancerInfo, up: Optional[dict[str, bool]] = None) -> dict[str, NodeState]:
    """Node states from parsed MCMP INFO; `up` (name -> OK) comes from elsewhere: INFO has no up/down."""
    return {node.name: NodeState(node.name, (up or {}).get(node.name), node.load,
                                 {c.path: c.status for c in info.contexts_of(node.name)},
                                 node.host, node.port, {"type": node.type, "balancer": node.balancer})
            for node in info.nodes}


class BalancerBase:
    """Waits shared by all flavors; subclasses implement `snapshot()`. A snapshot failing with one of
    `snapshot_transient` (a balancer restarting, a connection refused) is polled again; anything else
    ends the wait at once."""

    name = "balancer"
    snapshot_transient: Transient = (*DEFAULT_TRANSIENT, McmpTransportError, BalancerUnreadable)

    def snapshot(self) -> BalancerState:
        raise NotImplementedError

    def _wait(self, check: Callable[[BalancerState], bool], timeout: float, what: str) -> BalancerState:
        seen: list[BalancerState] = []

        def probe() -> Optional[BalancerState]:
            state = self.snapshot()
            seen[:] = [state]
            return state if check(state) else None

        return wait_until(probe, timeout=timeout, what=what, interval=0.2, transient=self.snapshot_transient,
                          describe=lambda: seen[0].summary() if seen else "no snapshot taken")

    def wait_for_node_registered(self, name: str, timeout: float = 30.0) -> BalancerState:
        return self._wait(lambda s: name in s.nodes, timeout, f"node {name} registered with the {self.name}")

    def wait_for_nodes_registered(self, names: list[str], timeout: float = 30.0) -> BalancerState:
        return self._wait(lambda s: all(n in s.nodes for n in names), timeout,
                          f"nodes {', '.join(names)} registered with the {self.name}")

    def wait_for_node_gone(self, name: str, timeout: float = 60.0) -> BalancerState:
        return self._wait(lambda s: name not in s.nodes, timeout, f"node {name} removed from the {self.name}")

    def wait_for_node_up(self, name: str, timeout: float = 30.0) -> BalancerState:
        return self._wait(lambda s: bool(s.node(name) and s.nodes[name].up), timeout, f"node {name} up")

    def wait_for_node_down(self, name: str, timeout: float = 30.0) -> BalancerState:
        return self._wait(lambda s: bool(s.node(name) and s.nodes[name].up is False), timeout,
                          f"node {name} down (NOTOK)")

    def wait_for_context(self, name: str, path: str, status: str = "ENABLED", timeout: float = 30.0) -> BalancerState:
        return self._wait(lambda s: bool(s.node(name) and s.nodes[name].contexts.get(path) == status), timeout,
                          f"context {path} of {name} {status}")

    def wait_for_load(self, name: str, load: int, timeout: float = 30.0) -> BalancerState:
        return self._wait(lambda s: bool(s.node(name) and s.nodes[name].load == load), timeout,
                          f"load {load} reported for {name}")
