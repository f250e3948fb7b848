"""Descriptions of worker nodes (`NodeSpec`) and of how nodes find the balancer (discovery).

Pure data, validated at construction. Re-exported by `harness.topology`.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any, ClassVar

from harness.descriptions.balancer import validate_host_port
from harness.descriptions.base import (
    SpecError,
    fields_to_dict,
    leaf_from_dict,
    set_field,
    validate_bool,
    validate_choice,
    validate_int,
    validate_name,
    validate_number,
    validate_path,
    validate_port,
    validate_token,
    validate_tuple,
)
from harness.descriptions.fault_words import StartFault, parse_fault_words
from harness.descriptions.jk import AjpConnector, JkWorker, spec_from_directives

CONNECTORS = ("http", "ajp")
RESERVED_NAMES = ("balancer",)  # the balancer's network alias
CONTEXT_MAX = 79  # mod_cluster CONTEXTSZ 80 with the terminating NUL
ALIAS_MAX = 99  # HOSTALIASZ on 1.3.x (255 on 2.x)
LBGROUP_MAX = 19  # DOMAINNDSZ 20
BALANCER_MAX = 39  # BALANCERSZ 40


# ---- discovery -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Advertise:
    """Nodes learn the balancer from mod_advertise multicast datagrams."""

    kind: ClassVar[str] = "advertise"
    group: str = "224.0.1.105"
    port: int = 23364
    security_key: str | None = None
    frequency_s: float = 10.0

    def __post_init__(self) -> None:
        try:
            multicast = ipaddress.ip_address(self.group).is_multicast
        except ValueError:
            multicast = False
        if not multicast:
            raise SpecError("group", f"got {self.group!r}; expected a multicast IP address such as '224.0.1.105'")
        validate_port("port", self.port)
        if self.security_key is not None:
            validate_token("security_key", self.security_key)
        set_field(self, "frequency_s", validate_number("frequency_s", self.frequency_s, 0.001))

    def to_dict(self) -> dict[str, Any]:
        return fields_to_dict(self, kind=self.kind)


@dataclass(frozen=True)
class StaticProxies:
    """Nodes are configured with a fixed list of balancer MCMP addresses ("host:port")."""

    kind: ClassVar[str] = "static_proxies"
    proxies: tuple[str, ...] = ("balancer:6666",)

    def __post_init__(self) -> None:
        set_field(
            self, "proxies", validate_tuple("proxies", self.proxies, validate_host_port, non_empty=True, unique=True)
        )

    def to_dict(self) -> dict[str, Any]:
        return fields_to_dict(self, kind=self.kind)


@dataclass(frozen=True)
class StaticWorkers:
    """mod_jk: the balancer lists its workers (workers.properties); nodes announce nothing."""

    kind: ClassVar[str] = "static_workers"

    def to_dict(self) -> dict[str, Any]:
        return fields_to_dict(self, kind=self.kind)


Discovery = Advertise | StaticProxies | StaticWorkers
DISCOVERY_TYPES: dict[str, type[Advertise] | type[StaticProxies] | type[StaticWorkers]] = {
    cls.kind: cls for cls in (Advertise, StaticProxies, StaticWorkers)
}


def discovery_from_dict(data: object, field: str = "discovery") -> Discovery:
    kind = data.get("kind") if isinstance(data, dict) else None
    if not isinstance(kind, str) or kind not in DISCOVERY_TYPES:
        raise SpecError(f"{field}.kind", f"got {kind!r}; accepted values: {', '.join(DISCOVERY_TYPES)}")
    return leaf_from_dict(DISCOVERY_TYPES[kind], data, field)


# ---- nodes -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NodeSpec:
    """One worker node. `name` is its stable name in every layer (alias, jvmRoute, route, folder).

    load: fixed load factor sent in STATUS (-1 broken, 0 hot standby, 1..100 weight).
    include_sticky_force: False omits StickySessionForce from CONFIG (httpd then defaults to yes); only the sim
    flavor honours it (others refuse it before start).
    balancer / lbgroup: None sends none (httpd uses ManagerBalancerName / no group).
    status_interval_s: the one default (10 s, the Java node's); scenarios pass a faster tick explicitly.
    faults: start-time faults (flavors that do not honour the field refuse it before start), one word per FaultSpec of NODE_PROGRAM_FAULTS, e.g. "no_status",
      "slowness:delay_ms=500", "kill@3" (grammar: harness.descriptions.fault_words); checked here, run by the sim.
    jk: this node as a mod_jk member worker (read by the httpd-modjk balancer); ajp: its AJP connector
    (Tomcat). None: the defaults; flavors that speak neither refuse them when set.
    Discovery settings (advertise group, security key, proxies) come from the topology's discovery.
    """

    name: str
    flavor: str = "sim"
    contexts: tuple[str, ...] = ("/app",)
    aliases: tuple[str, ...] = ("localhost",)
    load: int = 50
    status_interval_s: float = 10.0
    sticky_session: bool = True
    sticky_session_force: bool = False
    sticky_session_remove: bool = False
    include_sticky_force: bool = True
    connector: str = "http"
    http_port: int = 8080
    ajp_port: int = 8009
    balancer: str | None = None
    lbgroup: str | None = None
    stop_context_timeout_s: float = 10.0
    faults: tuple[str, ...] = ()
    jk: JkWorker | None = None
    ajp: AjpConnector | None = None

    def __post_init__(self) -> None:
        validate_name("name", self.name)
        if self.name in RESERVED_NAMES:
            raise SpecError("name", f"got {self.name!r}; reserved names: {', '.join(RESERVED_NAMES)}")
        validate_name("flavor", self.flavor)  # a known flavor: the registry checks at start
        set_field(
            self, "contexts", validate_tuple("contexts", self.contexts, _validate_context, non_empty=True, unique=True)
        )
        set_field(
            self, "aliases", validate_tuple("aliases", self.aliases, _validate_alias, non_empty=True, unique=True)
        )
        validate_int("load", self.load, -1, 100)
        set_field(self, "status_interval_s", validate_number("status_interval_s", self.status_interval_s, 0.001))
        for name in ("sticky_session", "sticky_session_force", "sticky_session_remove", "include_sticky_force"):
            validate_bool(name, getattr(self, name))
        validate_choice("connector", self.connector, CONNECTORS)
        validate_port("http_port", self.http_port)
        validate_port("ajp_port", self.ajp_port)
        if self.http_port == self.ajp_port:
            raise SpecError("ajp_port", f"got {self.ajp_port}; must differ from http_port")
        if self.balancer is not None:
            validate_name("balancer", self.balancer, BALANCER_MAX)
        if self.lbgroup is not None:
            validate_name("lbgroup", self.lbgroup, LBGROUP_MAX)
        timeout = validate_number("stop_context_timeout_s", self.stop_context_timeout_s, 0)
        set_field(self, "stop_context_timeout_s", timeout)
        set_field(self, "faults", validate_tuple("faults", self.faults, validate_token))
        parse_fault_words("faults", self.faults, self.name)
        for name, cls in (("jk", JkWorker), ("ajp", AjpConnector)):
            if getattr(self, name) is not None and not isinstance(getattr(self, name), cls):
                raise SpecError(name, f"got {getattr(self, name)!r}; expected a {cls.__name__} or None")

    def start_faults(self) -> tuple[StartFault, ...]:
        """`faults` parsed: each word's FaultSpec (for this node) and when it starts."""
        return parse_fault_words("faults", self.faults, self.name)

    @property
    def port(self) -> int:
        """The port the balancer connects to (by connector)."""
        return self.ajp_port if self.connector == "ajp" else self.http_port

    def to_dict(self) -> dict[str, Any]:
        return fields_to_dict(self)


def node_from_dict(data: object, field: str = "node") -> NodeSpec:
    if isinstance(data, dict) and (data.get("jk") is not None or data.get("ajp") is not None):
        data = dict(data)
        for name, cls in (("jk", JkWorker), ("ajp", AjpConnector)):
            if data.get(name) is not None:
                data[name] = spec_from_directives(cls, data[name], f"{field}.{name}")
    return leaf_from_dict(NodeSpec, data, field)


def _validate_context(field: str, value: object) -> str:
    path = validate_path(field, value, CONTEXT_MAX)
    if "," in path or ";" in path or "?" in path:
        raise SpecError(field, f"got {value!r}; a context may not contain ',', ';' or '?'")
    if path != "/" and path.endswith("/"):
        raise SpecError(field, f"got {value!r}; write a context without a trailing '/' (e.g. '/app')")
    return path


def _validate_alias(field: str, value: object) -> str:
    alias = validate_token(field, value, ALIAS_MAX)
    if "," in alias or "/" in alias:
        raise SpecError(field, f"got {value!r}; a host alias may not contain ',' or '/'")
    return alias
