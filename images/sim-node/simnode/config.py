"""The sim node's configuration: one JSON document (env SIMNODE_SPEC) describing every node of the process.

    {"nodes": [<NodeSpec.to_dict()>, ...],
     "discovery": <StaticProxies.to_dict()> | <Advertise.to_dict()>,
     "control_port": 9000, "host": null, "advertise_interface": null, "log_level": "info", "mcmp_workers": 0}

Nodes and discovery are validated by the harness's own description layer (harness.descriptions.node, shipped into
the image with the modules it imports): one NodeSpec, one set of defaults. Here only what the sim adds:
flavor 'sim' over HTTP, distinct names and ports in one process, and the process fields. Every error is a
`ConfigError` (the harness's SpecError) naming the field ("nodes[1].load"). Pure: no sockets.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from harness.descriptions.base import SpecError, validate_int, validate_token
from harness.descriptions.node import Advertise, NodeSpec, StaticProxies, discovery_from_dict, node_from_dict

ConfigError = SpecError
NodeConfig = NodeSpec  # the sim's view of a node is the harness's NodeSpec itself
LOG_LEVELS = ("debug", "info", "warning", "error")
PROCESS_FIELDS = ("nodes", "discovery", "control_port", "host", "advertise_interface", "log_level", "mcmp_workers")


@dataclass(frozen=True)
class Discovery:
    """How the process finds balancers: `proxies` parsed to (host, port) for static proxies."""

    spec: StaticProxies | Advertise

    @property
    def kind(self) -> str:
        return self.spec.kind

    @property
    def proxies(self) -> tuple[tuple[str, int], ...]:
        if not isinstance(self.spec, StaticProxies):
            return ()
        return tuple(_host_port(p) for p in self.spec.proxies)

    @property
    def group(self) -> str:
        return self.spec.group if isinstance(self.spec, Advertise) else ""

    @property
    def port(self) -> int:
        return self.spec.port if isinstance(self.spec, Advertise) else 0

    @property
    def security_key(self) -> str | None:
        return self.spec.security_key if isinstance(self.spec, Advertise) else None


@dataclass(frozen=True)
class SimConfig:
    nodes: tuple[NodeSpec, ...]
    discovery: Discovery
    control_port: int = 9000
    host: str | None = None  # address announced in CONFIG Host; None: the local address towards the proxy
    advertise_interface: str | None = None  # None: the interface of the default route
    log_level: str = "info"
    mcmp_workers: int = 0  # threads sending MCMP for all nodes of the process; 0: 2..4 by node count


def _host_port(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")  # already checked by StaticProxies
    return host.strip("[]"), int(port)


def parse_node(field: str, data: object) -> NodeSpec:
    if isinstance(data, Mapping) and "name" not in data:
        raise ConfigError(f"{field}.name", "missing; every node needs a name")
    node = node_from_dict(data, field)
    if node.flavor != "sim":
        raise ConfigError(f"{field}.flavor", f"got {node.flavor!r}; the sim node is flavor 'sim'")
    if node.connector != "http":
        raise ConfigError(f"{field}.connector", f"got {node.connector!r}; the sim node speaks HTTP only ('http')")
    return node


def parse_discovery(field: str, data: object) -> Discovery:
    spec = discovery_from_dict(data, field)
    if isinstance(spec, Advertise) and ipaddress.ip_address(spec.group).version != 4:
        raise ConfigError(f"{field}.group", f"got {spec.group!r}; the sim listens on IPv4 multicast only")
    if not isinstance(spec, (StaticProxies, Advertise)):
        raise ConfigError(f"{field}.kind", f"got {spec.kind!r}; accepted values: 'advertise', 'static_proxies'")
    return Discovery(spec)


def _nodes(raw: Mapping[str, Any], control_port: int) -> tuple[NodeSpec, ...]:
    nodes_raw = raw.get("nodes")
    if not isinstance(nodes_raw, list) or not nodes_raw:
        raise ConfigError("nodes", f"got {nodes_raw!r}; expected a non-empty list of nodes")
    nodes = tuple(parse_node(f"nodes[{i}]", n) for i, n in enumerate(nodes_raw))
    seen_names: set[str] = set()
    seen_ports: dict[int, str] = {control_port: "control_port"}
    for i, node in enumerate(nodes):
        if node.name in seen_names:
            raise ConfigError(f"nodes[{i}].name", f"duplicate node name {node.name!r}")
        seen_names.add(node.name)
        if node.http_port in seen_ports:
            raise ConfigError(
                f"nodes[{i}].http_port", f"port {node.http_port} already used by {seen_ports[node.http_port]}"
            )
        seen_ports[node.http_port] = f"nodes[{i}]"
    return nodes


def _interface(value: object) -> str | None:
    if value is None:
        return None
    try:
        return str(ipaddress.IPv4Address(value))
    except (ValueError, TypeError):
        raise ConfigError("advertise_interface", f"got {value!r}; expected an IPv4 address") from None


def parse_config(data: object) -> SimConfig:
    if not isinstance(data, dict):
        raise ConfigError("spec", f"got {type(data).__name__}; expected a JSON object")
    for key in data:
        if key not in PROCESS_FIELDS:
            raise ConfigError(str(key), f"unknown field; accepted: {', '.join(PROCESS_FIELDS)}")
    control_port = validate_int("control_port", data.get("control_port", 9000), 1, 65535)
    nodes = _nodes(data, control_port)
    if "discovery" not in data:
        raise ConfigError("discovery", "missing; expected {'kind': 'advertise' | 'static_proxies', ...}")
    discovery = parse_discovery("discovery", data["discovery"])
    host = data.get("host")
    if host is not None:
        validate_token("host", host)
    level = data.get("log_level", "info")
    if level not in LOG_LEVELS:
        raise ConfigError("log_level", f"got {level!r}; accepted values: {', '.join(LOG_LEVELS)}")
    workers = validate_int("mcmp_workers", data.get("mcmp_workers", 0), 0, 64)
    return SimConfig(nodes, discovery, control_port, host, _interface(data.get("advertise_interface")), level, workers)


def parse_config_text(text: str, source: str = "SIMNODE_SPEC") -> SimConfig:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(source, f"not valid JSON: {exc}") from None
    return parse_config(data)
