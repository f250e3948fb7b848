"""The Undertow balancer flavor: WildFly's load-balancer profile (Undertow's mod_cluster filter) in the
wildfly-node image, proxy HTTP on 8000, MCMP on 6666, reachable as `balancer` on the topology network.

What Undertow exposes, and what `snapshot()` reads:
- MCMP INFO and DUMP on the MCMP port (text only, the httpd 1.3.x shape with 1-based ids; parsed by
  `balancer_info`): nodes, aliases, contexts and their status, load. Neither says whether a node is up.
- the management model (HTTP management API) `.../mod-cluster=load-balancer/balancer=*/node=*`:
  node `status` NODE_UP | NODE_DOWN | NODE_HOT_STANDBY, load, and each context's status and requests.
Undertow has no mod_cluster-manager page (GET on the MCMP port answers 404) and no MCMP VERSION (501).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests
from docker.models.networks import Network

from harness.descriptions.balancer import BalancerSpec
from harness.descriptions.node import Discovery
from harness.flavors.wildfly.dist import balancer_config
from harness.flavors.wildfly.node import WildflyServer, start_container
from harness.machinery.contracts import BalancerBase, BalancerState, BalancerUnreadable, NodeState, info_nodes
from harness.machinery.resources import Resources
from harness.machinery.waiting import wait_until
from harness.protocol.balancer_info import BalancerInfo, parse_info

NAME = "balancer"
FILTER_ADDRESS = [{"subsystem": "undertow"}, {"configuration": "filter"}, {"mod-cluster": "load-balancer"}]
_UP = {"NODE_UP": True, "NODE_HOT_STANDBY": True, "NODE_DOWN": False}


def _host_port(uri: str) -> tuple[str, int | None]:
    """ "http://10.0.0.2:8080/?#" -> ("10.0.0.2", 8080)."""
    rest = uri.split("://", 1)[-1].split("/", 1)[0]
    host, _, port = rest.rpartition(":")
    return (host, int(port)) if port.isdigit() else (rest, None)


def model_nodes(result: Mapping[str, Any]) -> dict[str, NodeState]:
    """Nodes of the mod-cluster filter's runtime model (read-resource include-runtime recursive)."""
    nodes: dict[str, NodeState] = {}
    for balancer_name, balancer in (result.get("balancer") or {}).items():
        for name, node in ((balancer or {}).get("node") or {}).items():
            contexts = {
                path: str((ctx or {}).get("status", "")).upper() for path, ctx in (node.get("context") or {}).items()
            }
            status = str(node.get("status"))
            host, port = _host_port(str(node.get("uri") or ""))
            scheme = str(node.get("uri") or "").split("://", 1)[0]
            nodes[name] = NodeState(
                name,
                _UP.get(status),
                node.get("load"),
                contexts,
                host,
                port,
                {"status": status, "balancer": str(balancer_name), "type": scheme},
            )
    return nodes


@dataclass
class UndertowBalancer(BalancerBase):
    """The running Undertow balancer: URLs, raw MCMP, snapshots; waits come from `BalancerBase`."""

    spec: BalancerSpec
    discovery: Discovery | None
    server: WildflyServer
    name: str = NAME

    @property
    def container(self) -> Any:
        return self.server.container

    @property
    def ip(self) -> str:
        return self.server.address

    def proxy_url(self, path: str = "/") -> str:
        return f"http://{self.ip}:{self.spec.proxy_port}{path}"

    def manager_url(self) -> str:
        return ""  # Undertow has no mod_cluster_manager page (its state is in the management model)

    def mcmp_address(self) -> tuple[str, int]:
        return self.ip, self.spec.mcmp_port

    def mcmp_url(self, path: str = "/") -> str:
        return f"http://{self.ip}:{self.spec.mcmp_port}{path}"

    def mcmp(self, method: str, body: str = "", path: str = "/", timeout: float = 5.0) -> requests.Response:
        """One raw MCMP request (INFO, DUMP, PING, CONFIG, ...)."""
        return self.server.http.request(
            method,
            self.mcmp_url(path),
            data=body or None,
            timeout=timeout,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )

    def info(self) -> BalancerInfo:
        reply = self.mcmp("INFO")
        reply.raise_for_status()
        return parse_info(reply.text)

    def model(self) -> Mapping[str, Any]:
        """The mod-cluster filter's management resource with its runtime children."""
        result = self.server.management(
            {"operation": "read-resource", "address": FILTER_ADDRESS, "include-runtime": True, "recursive": True}
        )
        return result if isinstance(result, Mapping) else {}

    def version(self) -> str:
        product = self.server.management({"operation": "read-attribute", "name": "product-version"})
        return f"Undertow mod_cluster filter (WildFly {product})"

    def snapshot(self) -> BalancerState:
        """Nodes with their up/down status (management model), else from MCMP INFO alone (up unknown)."""
        raw: dict[str, str] = {}
        info: BalancerInfo | None = None
        try:
            reply = self.mcmp("INFO")
            raw["info"] = reply.text
            info = parse_info(reply.text) if reply.status_code == 200 else None
        except requests.RequestException as exc:
            raw["info_error"] = str(exc)
        try:
            model = self.model()
            raw["model"] = json.dumps(model, indent=1, sort_keys=True, default=str)
            nodes = model_nodes(model)
        except Exception as exc:
            raw["model_error"] = str(exc)
            nodes = info_nodes(info) if info is not None else {}
        if info is None and "model" not in raw:
            raise BalancerUnreadable(f"Undertow balancer unreadable: {raw}")
        return BalancerState(nodes=nodes, raw=raw)

    def is_ready(self) -> bool:
        """Server started, MCMP answering INFO, proxy port accepting."""
        if self.server.server_state() != "started":
            return False
        try:
            self.mcmp("INFO", timeout=2).raise_for_status()
            self.server.http.get(self.proxy_url(), timeout=2)
        except requests.RequestException:
            return False
        return True

    def wait_ready(self, timeout: float = 60.0) -> None:
        self.server.wait_for_started(timeout)
        wait_until(
            self.is_ready,
            timeout=10,
            interval=0.2,
            what="Undertow balancer MCMP and proxy ports to answer",
            describe=self.server.log_tail,
            abort=self.server.alive,
        )

    # verbs: the JVM only; the container and its address stay
    def kill(self) -> None:
        self.server.kill()

    def stop(self, timeout: float = 60.0) -> None:
        self.server.stop(0, timeout)

    def start(self, timeout: float = 60.0) -> None:
        self.server.start_server()
        self.wait_ready(timeout)

    def restart(self, graceful: bool = True, timeout: float = 60.0) -> None:
        """Graceful: shutdown then start; else SIGKILL then start. The nodes' registrations are lost."""
        if graceful:
            self.stop(timeout)
        else:
            self.kill()
        self.start(timeout)

    def server_log(self) -> str:
        return self.server.server_log()

    def evidence_files(self) -> dict[str, str]:
        files = {"cli.txt": self.server.config.cli}
        try:
            files["server.log"] = self.server_log()
        except Exception as exc:
            files["server.log"] = f"(unavailable: {exc})"
        return files


def start_undertow_balancer(
    scope: Resources,
    image: str,
    spec: BalancerSpec,
    discovery: Discovery | None,
    network: Network,
    *,
    timeout: float = 60.0,
    **kwargs: Any,
) -> UndertowBalancer:
    """A started, ready Undertow balancer on `network` under the alias `balancer`."""
    config = balancer_config(spec, discovery)
    kwargs.setdefault("cap_add", ["NET_ADMIN"])  # iptables faults
    server = start_container(scope, image, name=NAME, role="balancer", network=network, config=config, **kwargs)
    balancer = UndertowBalancer(spec, discovery, server)
    server.start_server()
    balancer.wait_ready(timeout)
    return balancer
