"""The live cluster: a Topology started on its own network, gated on readiness, checked for health around
faults, and torn down in reverse order keeping the first error.

Start order: network -> balancer -> nodes one after another (2 cores: JVMs start in sequence) -> gate:
every node registered, up, its contexts ENABLED, and a request through the proxy answered.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import requests

from harness.descriptions.node import Discovery, NodeSpec
from harness.descriptions.options import HarnessOptions
from harness.descriptions.topology import Topology
from harness.flavors import registry
from harness.flavors.base import ClusterContext
from harness.judge.history import FaultWindow
from harness.machinery.containers import container_ip
from harness.machinery.contracts import Balancer, BalancerState, Node
from harness.machinery.resources import Resources
from harness.machinery.waiting import WaitTimeout, wait_until


class ClusterUnhealthy(AssertionError):
    pass


@dataclass
class Cluster:
    topology: Topology
    scope: Resources
    options: HarnessOptions
    network: Any = None
    balancer: Balancer | None = None
    nodes: dict[str, Node] = field(default_factory=dict)
    addresses: dict[str, str] = field(default_factory=dict)
    windows: list[FaultWindow] = field(default_factory=list)
    states: list[tuple[str, BalancerState]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    nodes_per_container: int = 1  # >1: consecutive nodes share a container (flavors that can, e.g. sim)

    # --- life cycle ------------------------------------------------------------------------------------
    def start(self, ready_timeout: float = 120.0) -> Cluster:
        started = time.monotonic()
        self.topology = registry.resolve(self.topology, self.options)  # refuses before anything exists
        self.network = self.scope.network(self.topology.name)
        context = ClusterContext(self.scope, self.network, self.options, self.topology)
        self.balancer = registry.start_balancer(context)
        self.timings["balancer_ready_s"] = time.monotonic() - started
        specs, per = self.topology.nodes, self.nodes_per_container
        for chunk in (specs[i : i + per] for i in range(0, len(specs), max(per, 1))):
            if len(chunk) == 1:
                self.start_node(chunk[0])
            else:
                self.start_nodes_together(chunk)
        self.wait_ready(ready_timeout)
        self.timings["cluster_ready_s"] = time.monotonic() - started
        return self

    def start_node(self, spec: NodeSpec, ipv4: str | None = None) -> Node:
        context = ClusterContext(self.scope, self.network, self.options, self.topology)
        handle = registry.start_node(context, spec, ipv4)
        self.nodes[spec.name] = handle
        self.addresses[spec.name] = container_ip(handle.container, self.network.name)
        return handle

    def start_nodes_together(self, specs: Sequence[NodeSpec]) -> list[Node]:
        """Several nodes in one container (one process); they share its address."""
        context = ClusterContext(self.scope, self.network, self.options, self.topology)
        handles: list[Node] = registry.start_node_group(context, specs)
        for spec, handle in zip(specs, handles):
            self.nodes[spec.name] = handle
            self.addresses[spec.name] = container_ip(handle.container, self.network.name)
        return handles

    def add_node(
        self, spec: NodeSpec, *, discovery: Discovery | None = None, wait: bool = True, timeout: float = 60.0
    ) -> Node:
        """A node started after the cluster is up; it joins the topology (evidence, health, faults).
        `discovery`: this node's own (e.g. a wrong advertise key), else the topology's. `wait`: until it
        is healthy like the others; without, the test waits for what it expects of this node."""
        self.topology = self.topology.with_added_node(spec)
        context = ClusterContext(
            self.scope,
            self.network,
            self.options,
            self.topology if discovery is None else self.topology.with_discovery(discovery),
        )
        handle: Node = registry.start_node(context, spec, None)
        self.nodes[spec.name] = handle
        self.addresses[spec.name] = container_ip(handle.container, self.network.name)
        if wait:
            self.wait_ready(timeout, nodes=[spec.name])
        self.record_state(f"added {spec.name}")
        return handle

    def wait_ready(self, timeout: float = 120.0, nodes: list[str] | None = None) -> BalancerState:
        """Gate: the nodes registered, up, contexts ENABLED, and the proxy answers each context."""
        names = list(self.nodes) if nodes is None else nodes
        self.get_balancer().wait_for_nodes_registered(names, timeout)
        return self._wait_healthy(names, timeout)

    def _wait_healthy(self, names: list[str], timeout: float) -> BalancerState:
        seen: list[str] = []

        def healthy() -> BalancerState | None:
            state = self.get_balancer().snapshot()
            problems = self.health_problems(state, names)
            seen[:] = [state.summary() + ("; " + "; ".join(problems) if problems else "")]
            return None if problems else state

        return wait_until(
            healthy,
            timeout=timeout,
            interval=0.25,
            what=f"cluster {self.topology.name} healthy",
            describe=lambda: seen[0] if seen else "no snapshot",
            transient=self.get_balancer().snapshot_transient,
        )

    def health_problems(self, state: BalancerState, names: list[str]) -> list[str]:
        problems = []
        for name in names:
            node = state.node(name)
            if node is None:
                problems.append(f"{name} not registered")
                continue
            if node.up is False:
                problems.append(f"{name} NOTOK")
            spec = self.topology.get_node(name)
            for path in spec.contexts:
                if node.contexts.get(path) != "ENABLED":
                    problems.append(f"{name}{path} {node.contexts.get(path, 'absent')}")
        for path in {p for n in names for p in self.topology.get_node(n).contexts}:
            try:
                reply = requests.get(self.url(f"{path}/"), timeout=5)
                if reply.status_code != 200:
                    problems.append(f"GET {path}/ -> {reply.status_code}")
            except requests.RequestException as exc:
                problems.append(f"GET {path}/ -> {type(exc).__name__}")
        return problems

    def wait_for_healthy(self, timeout: float = 60.0, label: str = "") -> BalancerState:
        """Wait until every node is healthy again; raise ClusterUnhealthy (with the state) if not."""
        try:
            state = self._wait_healthy(list(self.nodes), timeout)
        except WaitTimeout as exc:
            raise ClusterUnhealthy(f"cluster unhealthy {label}: {exc}") from exc
        self.record_state(label or "health")
        return state

    def record_state(self, label: str) -> None:
        try:
            self.states.append((label, self.get_balancer().snapshot()))
        except Exception as exc:
            self.states.append((label, BalancerState(nodes={}, raw={"error": str(exc)})))

    def close(self) -> None:
        self.scope.close()

    def versions(self) -> dict[str, str]:
        """What runs, by component: the balancer's (mod_cluster release and commit, httpd, ...) and the nodes'
        (WildFly, Tomcat); a node whose value differs from another's is listed under its name too. A component
        that cannot say is listed as unavailable, with why."""
        found: dict[str, str] = {}
        parts: list[tuple[str, Any]] = [("balancer", self.balancer)] + list(self.nodes.items())
        for owner, part in parts:
            if part is None:
                continue
            try:
                seen = part.versions()
            except Exception as exc:
                seen = {owner: f"(unavailable: {type(exc).__name__}: {exc})"}
            for key, value in seen.items():
                if found.setdefault(key, value) != value:
                    found[f"{key} ({owner})"] = value
        return found

    # --- lookups -----------------------------------------------------------------------------------------
    def get_balancer(self) -> Balancer:
        if self.balancer is None:
            raise RuntimeError("the cluster has no balancer (not started)")
        return self.balancer

    def get_node(self, name: str) -> Node:
        if name not in self.nodes:
            raise KeyError(f"no node {name!r} in topology {self.topology.name} (nodes: {', '.join(self.nodes)})")
        return self.nodes[name]

    def url(self, path: str = "/") -> str:
        return self.get_balancer().proxy_url(path)

    def open_window(self, kind: str, targets: tuple[str, ...], detail: str = "") -> FaultWindow:
        """Record the start of a fault on `targets` (node names and/or "balancer")."""
        window = FaultWindow(kind=kind, targets=tuple(targets), start=time.time(), end=None, detail=detail)
        self.windows.append(window)
        return window

    def close_window(self, window: FaultWindow) -> FaultWindow:
        closed = replace(window, end=time.time())
        self.windows[self.windows.index(window)] = closed
        return closed
