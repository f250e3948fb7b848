"""The sim node's configuration: one JSON document (env SIMNODE_SPEC) describing every node of the process.

    {"nodes": [<NodeSpec.to_dict()>, ...],
     "discovery": {"kind": "static_proxies", "proxies": ["balancer:6666"]}
                | {"kind": "advertise", "group": "224.0.1.105", "port": 23364, "security_key": null,
                   "frequency_s": 10},
     "control_port": 9000, "host": null, "advertise_interface": null, "log_level": "info", "mcmp_workers": 0}

Validated here without the harness's description layer (only harness.mcmp, harness.mcmp_client and
harness.advertise ship in the image): every error is a `ConfigError` naming the field ("nodes[1].load").
Pure: no sockets.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from simnode.faults import FaultPlan, parse_fault_words

NAME_RE = re.compile(r"[A-Za-z0-9_-]{1,63}")
TOKEN_RE = re.compile(r"[!#-\[\]-~]+")  # printable ASCII without space, '"' and '\'
LOG_LEVELS = ("debug", "info", "warning", "error")


class ConfigError(ValueError):
    """An invalid configuration value; `field` is its dotted path."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True)
class NodeConfig:
    """One simulated node (the sim's view of a NodeSpec)."""

    name: str
    contexts: tuple[str, ...] = ("/app",)
    aliases: tuple[str, ...] = ("localhost",)
    load: int = 50
    status_interval_s: float = 10.0
    sticky_session: bool = True
    sticky_session_force: bool = False
    sticky_session_remove: bool = False
    include_sticky_force: bool = True
    http_port: int = 8080
    balancer: str | None = None
    lbgroup: str | None = None
    stop_context_timeout_s: float = 10.0
    faults: FaultPlan = FaultPlan()


@dataclass(frozen=True)
class Discovery:
    kind: str  # "advertise" | "static_proxies"
    proxies: tuple[tuple[str, int], ...] = ()
    group: str = "224.0.1.105"
    port: int = 23364
    security_key: str | None = None


@dataclass(frozen=True)
class SimConfig:
    nodes: tuple[NodeConfig, ...]
    discovery: Discovery
    control_port: int = 9000
    host: str | None = None  # address announced in CONFIG Host; None: the local address towards the proxy
    advertise_interface: str | None = None  # None: the interface of the default route
    log_level: str = "info"
    mcmp_workers: int = 0  # threads sending MCMP for all nodes of the process; 0: 2..4 by node count


# ------------------------------------------------------------------------------------------ checkers

def _check(cond: bool, field: str, message: str) -> None:
    if not cond:
        raise ConfigError(field, message)


def _int(field: str, value: object, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ConfigError(field, f"got {value!r}; expected an integer in {lo}..{hi}")
    return value


def _number(field: str, value: object, lo: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not lo <= value < float("inf"):
        raise ConfigError(field, f"got {value!r}; expected a finite number >= {lo}")
    return float(value)


def _bool(field: str, value: object) -> bool:
    _check(isinstance(value, bool), field, f"got {value!r}; expected true or false")
    return bool(value)


def _name(field: str, value: object, max_len: int = 63) -> str:
    ok = isinstance(value, str) and NAME_RE.fullmatch(value) is not None and len(value) <= max_len
    _check(ok, field, f"got {value!r}; expected 1..{max_len} characters of [A-Za-z0-9_-]")
    return str(value)


def _token(field: str, value: object, max_len: int = 255) -> str:
    ok = isinstance(value, str) and TOKEN_RE.fullmatch(value) is not None and len(value) <= max_len
    _check(ok, field, f"got {value!r}; expected 1..{max_len} printable ASCII characters without spaces or quotes")
    return str(value)


def _context(field: str, value: object) -> str:
    path = _token(field, value, 79)
    _check(path.startswith("/"), field, f"got {value!r}; expected a path starting with '/'")
    _check(not any(c in path for c in ",;?"), field, f"got {value!r}; a context may not contain ',', ';' or '?'")
    _check(path == "/" or not path.endswith("/"), field, f"got {value!r}; write a context without a trailing '/'")
    return path


def _alias(field: str, value: object) -> str:
    alias = _token(field, value, 99)
    _check("," not in alias and "/" not in alias, field, f"got {value!r}; an alias may not contain ',' or '/'")
    return alias


def _items(field: str, value: object, item: Callable[[str, object], str], unique: bool = True) -> tuple[str, ...]:
    if not isinstance(value, (list, tuple)) or not value:
        raise ConfigError(field, f"got {value!r}; expected a non-empty list")
    items = tuple(item(f"{field}[{i}]", v) for i, v in enumerate(value))
    for i, checked in enumerate(items):
        _check(not unique or checked not in items[:i], f"{field}[{i}]", f"duplicate value {checked!r}")
    return items


def parse_host_port(field: str, value: object) -> tuple[str, int]:
    text = _token(field, value)
    host, sep, port = text.rpartition(":")
    ok = bool(sep and host and port.isdigit() and 1 <= int(port) <= 65535)
    _check(ok, field, f"got {value!r}; expected 'host:port' with a port in 1..65535")
    return host.strip("[]"), int(port)


def _mapping(field: str, value: object, known: tuple[str, ...]) -> Mapping[str, Any]:
    _check(isinstance(value, dict), field or "spec", f"got {type(value).__name__}; expected a JSON object")
    assert isinstance(value, dict)
    for key in value:
        path = f"{field}.{key}" if field else str(key)
        _check(key in known, path, f"unknown field; accepted: {', '.join(known)}")
    return value


# ------------------------------------------------------------------------------------------- parsing

_NODE_FIELDS = ("name", "flavor", "contexts", "aliases", "load", "status_interval_s", "sticky_session",
                "sticky_session_force", "sticky_session_remove", "include_sticky_force", "connector", "http_port",
                "ajp_port", "balancer", "lbgroup", "stop_context_timeout_s", "faults")
_BOOLS = ("sticky_session", "sticky_session_force", "sticky_session_remove", "include_sticky_force")


def parse_node(field: str, data: object) -> NodeConfig:
    raw = _mapping(field, data, _NODE_FIELDS)
    _check("name" in raw, f"{field}.name", "missing; every node needs a name")

    def f(key: str) -> str:
        return f"{field}.{key}"

    values: dict[str, Any] = {"name": _name(f("name"), raw["name"])}
    _check(raw.get("flavor", "sim") == "sim", f("flavor"), f"got {raw.get('flavor')!r}; the sim node is flavor 'sim'")
    _check(raw.get("connector", "http") == "http", f("connector"),
           f"got {raw.get('connector')!r}; the sim node speaks HTTP only (connector 'http')")
    if "contexts" in raw:
        values["contexts"] = _items(f("contexts"), raw["contexts"], _context)
    if "aliases" in raw:
        values["aliases"] = _items(f("aliases"), raw["aliases"], _alias)
    if "load" in raw:
        values["load"] = _int(f("load"), raw["load"], -1, 100)
    for key in ("status_interval_s",):
        if key in raw:
            values[key] = _number(f(key), raw[key], 0.001)
    if "stop_context_timeout_s" in raw:
        values["stop_context_timeout_s"] = _number(f("stop_context_timeout_s"), raw["stop_context_timeout_s"], 0)
    for key in _BOOLS:
        if key in raw:
            values[key] = _bool(f(key), raw[key])
    if "http_port" in raw:
        values["http_port"] = _int(f("http_port"), raw["http_port"], 1, 65535)
    if "ajp_port" in raw:
        _int(f("ajp_port"), raw["ajp_port"], 1, 65535)  # accepted for NodeSpec compatibility, unused
    for key, max_len in (("balancer", 39), ("lbgroup", 19)):
        if raw.get(key) is not None:
            values[key] = _name(f(key), raw[key], max_len)
    if "faults" in raw:
        words = raw["faults"]
        _check(isinstance(words, (list, tuple)), f("faults"), f"got {words!r}; expected a list of fault words")
        values["faults"] = parse_fault_words(f("faults"), tuple(words), ConfigError)
    return NodeConfig(**values)


def parse_discovery(field: str, data: object) -> Discovery:
    kind = data.get("kind") if isinstance(data, dict) else None
    if kind == "static_proxies":
        raw = _mapping(field, data, ("kind", "proxies"))
        proxies = raw.get("proxies", ["balancer:6666"])
        _check(isinstance(proxies, (list, tuple)) and len(proxies) > 0, f"{field}.proxies",
               f"got {proxies!r}; expected a non-empty list of 'host:port'")
        parsed = tuple(parse_host_port(f"{field}.proxies[{i}]", p) for i, p in enumerate(proxies))
        return Discovery("static_proxies", parsed)
    if kind == "advertise":
        raw = _mapping(field, data, ("kind", "group", "port", "security_key", "frequency_s"))
        group = raw.get("group", "224.0.1.105")
        try:
            multicast = ipaddress.ip_address(group).is_multicast and ipaddress.ip_address(group).version == 4
        except (ValueError, TypeError):
            multicast = False
        _check(multicast, f"{field}.group", f"got {group!r}; expected an IPv4 multicast address")
        key = raw.get("security_key")
        if key is not None:
            _token(f"{field}.security_key", key)
        if "frequency_s" in raw:
            _number(f"{field}.frequency_s", raw["frequency_s"], 0.001)
        return Discovery("advertise", (), str(group), _int(f"{field}.port", raw.get("port", 23364), 1, 65535), key)
    raise ConfigError(f"{field}.kind", f"got {kind!r}; accepted values: 'advertise', 'static_proxies'")


def parse_config(data: object) -> SimConfig:
    raw = _mapping("", data, ("nodes", "discovery", "control_port", "host", "advertise_interface", "log_level",
                              "mcmp_workers"))
    _check("nodes" in raw, "nodes", "missing; expected a non-empty list of nodes")
    nodes_raw = raw["nodes"]
    _check(isinstance(nodes_raw, list) and len(nodes_raw) > 0, "nodes", f"got {nodes_raw!r}; expected a non-empty list")
    nodes = tuple(parse_node(f"nodes[{i}]", n) for i, n in enumerate(nodes_raw))
    control_port = _int("control_port", raw.get("control_port", 9000), 1, 65535)
    seen_names: dict[str, int] = {}
    seen_ports: dict[int, str] = {control_port: "control_port"}
    for i, node in enumerate(nodes):
        _check(node.name not in seen_names, f"nodes[{i}].name", f"duplicate node name {node.name!r}")
        seen_names[node.name] = i
        _check(node.http_port not in seen_ports, f"nodes[{i}].http_port",
               f"port {node.http_port} already used by {seen_ports.get(node.http_port)}")
        seen_ports[node.http_port] = f"nodes[{i}]"
    _check("discovery" in raw, "discovery", "missing; expected {'kind': 'advertise' | 'static_proxies', ...}")
    discovery = parse_discovery("discovery", raw["discovery"])
    host = raw.get("host")
    if host is not None:
        _token("host", host)
    interface = raw.get("advertise_interface")
    if interface is not None:
        try:
            ipaddress.IPv4Address(interface)
        except (ValueError, TypeError):
            raise ConfigError("advertise_interface", f"got {interface!r}; expected an IPv4 address") from None
    level = raw.get("log_level", "info")
    _check(level in LOG_LEVELS, "log_level", f"got {level!r}; accepted values: {', '.join(LOG_LEVELS)}")
    workers = _int("mcmp_workers", raw.get("mcmp_workers", 0), 0, 64)
    return SimConfig(nodes, discovery, control_port, host, interface, level, workers)


def parse_config_text(text: str, source: str = "SIMNODE_SPEC") -> SimConfig:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(source, f"not valid JSON: {exc}") from None
    return parse_config(data)
