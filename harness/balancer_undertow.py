"""The Undertow balancer flavor: WildFly's load-balancer profile (Undertow's mod_cluster filter) in the
wildfly-node image, proxy HTTP on 8000, MCMP on 6666, reachable as `balancer` on the topology network.

What Undertow exposes, and what `state()` reads:
- MCMP INFO on the MCMP port (text, the httpd 1.3.x shape with 1-based ids; parsed by `balancer_info`):
  nodes, aliases, contexts and their status, load. It does not say whether a node is up.
- the management model (HTTP management API) `.../mod-cluster=load-balancer/balancer=*/node=*`:
  node `status` NODE_UP | NODE_DOWN | NODE_HOT_STANDBY, load, and each context's status and requests.
Undertow has no mod_cluster-manager page (GET on the MCMP port answers 404).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Optional

import requests
from docker.models.networks import Network

from harness.balancer_info import BalancerInfo, parse_info
from harness.balancer_spec import BalancerSpec
from harness.node_spec import Discovery
from harness.resources import Resources
from harness.waiting import wait_until
from harness.wildfly import balancer_config
from harness.nodes_wildfly import WildflyServer, start_container

NAME = "balancer"
FILTER_ADDRESS = [{"subsystem": "undertow"}, {"configuration": "filter"}, {"mod-cluster": "load-balancer"}]
_STATUS = {"NODE_UP": "up", "NODE_DOWN": "down", "NODE_HOT_STANDBY": "hot_standby"}


@dataclass(frozen=True)
class NodeState:
    """One registered node as the balancer sees it. status: up | down | hot_standby | unknown."""

    name: str
    status: str = "unknown"
    load: Optional[int] = None
    balancer: str = ""
    contexts: Mapping[str, str] = field(default_factory=dict)  # path -> ENABLED | DISABLED | STOPPED
    uri: str = ""


@dataclass(frozen=True)
class BalancerState:
    """A snapshot: the management model's nodes (status) merged with MCMP INFO (what was registered)."""

    nodes: Mapping[str, NodeState] = field(default_factory=dict)
    info: Optional[BalancerInfo] = None
    errors: tuple[str, ...] = ()  # sources that could not be read, with why

    def is_registered(self, name: str) -> bool:
        return name in self.nodes

    def is_up(self, name: str) -> bool:
        node = self.nodes.get(name)
        return node is not None and node.status == "up"

    def context_status(self, name: str, context: str) -> Optional[str]:
        node = self.nodes.get(name)
        return None if node is None else node.contexts.get(context)

    def describe(self) -> str:
        parts = [f"{n.name}({n.status}, load {n.load}, {dict(n.contexts)})" for n in self.nodes.values()]
        text = "nodes: " + (", ".join(parts) or "none")
        return text + (f"; errors: {'; '.join(self.errors)}" if self.errors else "")


def _model_nodes(result: Mapping[str, Any]) -> dict[str, NodeState]:
    nodes: dict[str, NodeState] = {}
    for balancer_name, balancer in (result.get("balancer") or {}).items():
        for name, node in ((balancer or {}).get("node") or {}).items():
            contexts = {path: str(ctx.get("status", "")).upper() for path, ctx in (node.get("context") or {}).items()}
            nodes[name] = NodeState(name, _STATUS.get(str(node.get("status")), "unknown"), node.get("load"),
                                    balancer_name, contexts, str(node.get("uri") or ""))
    return nodes


def _info_nodes(info: BalancerInfo) -> dict[str, NodeState]:
    nodes = {}
    for node in info.nodes:
        contexts = {c.path: c.status for c in info.contexts_of(node.name)}
        nodes[node.name] = NodeState(node.name, "unknown", node.load, node.balancer, contexts,
                                     f"{node.type}://{node.host}:{node.port}")
    return nodes


@dataclass
class UndertowBalancer:
    """The running Undertow balancer: URLs, raw MCMP, state snapshots and `wait_for_*` helpers."""

    spec: BalancerSpec
    discovery: Discovery
    server: WildflyServer

    @property
    def name(self) -> str:
        return NAME

    @property
    def address(self) -> str:
        return self.server.address

    @property
    def proxy_url(self) -> str:
        return f"http://{self.address}:{self.spec.proxy_port}"

    @property
    def mcmp_url(self) -> str:
        return f"http://{self.address}:{self.spec.mcmp_port}"

    def mcmp(self, method: str, body: str = "", path: str = "/", timeout: float = 5.0) -> requests.Response:
        """One raw MCMP request (INFO, DUMP, PING, VERSION, CONFIG, ...)."""
        return self.server._http.request(method, self.mcmp_url + path, data=body or None, timeout=timeout,
                                         headers={"Content-Type": "application/x-www-form-urlencoded"})

    def info(self) -> BalancerInfo:
        reply = self.mcmp("INFO")
        reply.raise_for_status()
        return parse_info(reply.text)

    def model(self) -> Mapping[str, Any]:
        """The mod-cluster filter's management resource with its runtime children."""
        result = self.server.management({"operation": "read-resource", "address": FILTER_ADDRESS,
                                         "include-runtime": True, "recursive": True})
        return result if isinstance(result, Mapping) else {}

    def state(self) -> BalancerState:
        """Nodes, their status (model) and contexts; falls back to INFO alone when the model is unreadable."""
        errors: list[str] = []
        info: Optional[BalancerInfo] = None
        try:
            info = self.info()
        except (requests.RequestException, ValueError) as exc:
            errors.append(f"MCMP INFO: {exc}")
        try:
            nodes = _model_nodes(self.model())
        except Exception as exc:  # noqa: BLE001 - a snapshot reports what it could not read
            errors.append(f"management model: {exc}")
            nodes = _info_nodes(info) if info is not None else {}
        return BalancerState(nodes, info, tuple(errors))

    def is_ready(self) -> bool:
        """Server started, MCMP answering INFO, proxy port accepting."""
        if self.server.server_state() != "started":
            return False
        try:
            self.mcmp("INFO", timeout=2).raise_for_status()
            self.server._http.get(self.proxy_url + "/", timeout=2)
        except requests.RequestException:
            return False
        return True

    def wait_until_ready(self, timeout: float = 60.0) -> None:
        self.server.wait_for_started(timeout)
        wait_until(self.is_ready, timeout=10, interval=0.2, what="Undertow balancer MCMP and proxy ports to answer",
                   describe=self.server.log_tail)

    def _wait_state(self, check: Any, timeout: float, what: str) -> BalancerState:
        last: list[BalancerState] = []

        def probe() -> Optional[BalancerState]:
            state = self.state()
            last[:] = [state]
            return state if check(state) else None

        return wait_until(probe, timeout=timeout, interval=0.25, what=what,
                          describe=lambda: last[0].describe() if last else "no state read")

    def wait_for_node_registered(self, name: str, timeout: float = 30.0) -> BalancerState:
        return self._wait_state(lambda s: s.is_registered(name), timeout, f"node {name} registered with Undertow")

    def wait_for_node_up(self, name: str, timeout: float = 30.0) -> BalancerState:
        return self._wait_state(lambda s: s.is_up(name), timeout, f"node {name} up on Undertow")

    def wait_for_node_down(self, name: str, timeout: float = 30.0) -> BalancerState:
        """Down, or no longer registered."""
        return self._wait_state(lambda s: not s.is_up(name), timeout, f"node {name} down on Undertow")

    def wait_for_node_removed(self, name: str, timeout: float = 60.0) -> BalancerState:
        return self._wait_state(lambda s: not s.is_registered(name), timeout, f"node {name} removed from Undertow")

    def wait_for_context(self, name: str, context: str, status: str = "ENABLED",
                         timeout: float = 30.0) -> BalancerState:
        """Context `context` of node `name` in `status` (ENABLED | DISABLED | STOPPED; None: absent)."""
        wanted = status.upper() if status else None
        return self._wait_state(lambda s: s.context_status(name, context) == wanted, timeout,
                                f"context {context} of {name} {wanted or 'absent'} on Undertow")

    def kill(self) -> None:
        self.server.kill()

    def stop(self, timeout: float = 60.0) -> None:
        self.server.stop(0, timeout)

    def start(self, timeout: float = 60.0) -> None:
        self.server.start_server()
        self.wait_until_ready(timeout)


def start_undertow_balancer(scope: Resources, image: str, spec: BalancerSpec, discovery: Discovery,
                            network: Network, *, timeout: float = 60.0, **kwargs: Any) -> UndertowBalancer:
    """A started, ready Undertow balancer on `network` under the alias `balancer`."""
    config = balancer_config(spec, discovery)
    server = start_container(scope, image, name=NAME, role="balancer", network=network, config=config, **kwargs)
    balancer = UndertowBalancer(spec, discovery, server)
    server.start_server()
    balancer.wait_until_ready(timeout)
    return balancer
