"""Description of the balancer: `BalancerSpec`, its MPM shape (`MpmSpec`) and health-check template.

Pure data, validated at construction. For httpd directives, `None` means "don't emit the directive,
use the module default". Re-exported by `harness.topology`.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Any

from harness.descriptions.base import (
    SpecError,
    field_prefix,
    fields_to_dict,
    leaf_from_dict,
    set_field,
    validate_bool,
    validate_choice,
    validate_int,
    validate_mapping,
    validate_name,
    validate_number,
    validate_path,
    validate_port,
    validate_token,
    validate_tuple,
)
from harness.descriptions.jk import JkBalancer, spec_from_directives

BALANCER_MODES = ("proxy_cluster", "lbmethod_cluster")
LOG_LEVELS = ("emerg", "alert", "crit", "error", "warn", "notice", "info", "debug") + tuple(
    f"trace{i}" for i in range(1, 9)
)
HC_METHODS = ("NONE", "TCP", "OPTIONS", "HEAD", "GET", "CPING", "PROVIDER", "OPTIONS11", "HEAD11", "GET11")
ACCESS_KEYWORDS = ("all", "local")  # besides IP addresses and CIDRs
_HOST_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9.-]{0,252}")


@dataclass(frozen=True)
class MpmSpec:
    """mpm_event sizing; validated with httpd's own consistency rules (which httpd would silently adjust).

    Defaults are Debian's mpm_event.conf. `MpmSpec.fixed(children, threads)` gives a constant number of
    children (httpd never starts or stops one for idleness): one child makes all worker state shared.
    """

    start_servers: int = 2
    server_limit: int = 16
    thread_limit: int = 64
    threads_per_child: int = 25
    max_request_workers: int = 150
    min_spare_threads: int = 25
    max_spare_threads: int = 75
    max_connections_per_child: int = 0

    def __post_init__(self) -> None:
        validate_int("server_limit", self.server_limit, 1, 20000)
        validate_int("thread_limit", self.thread_limit, 1, 100000)
        validate_int("threads_per_child", self.threads_per_child, 1, self.thread_limit)
        validate_int("start_servers", self.start_servers, 1, self.server_limit)
        validate_int("max_request_workers", self.max_request_workers, self.threads_per_child)
        if self.max_request_workers % self.threads_per_child:
            raise SpecError(
                "max_request_workers",
                f"got {self.max_request_workers}; expected a multiple of threads_per_child ({self.threads_per_child})",
            )
        children = self.max_request_workers // self.threads_per_child
        if children > self.server_limit:
            raise SpecError(
                "server_limit",
                f"got {self.server_limit}; max_request_workers / threads_per_child = {children} "
                f"needs server_limit >= {children}",
            )
        validate_int("min_spare_threads", self.min_spare_threads, 1)
        validate_int("max_spare_threads", self.max_spare_threads, self.min_spare_threads + self.threads_per_child)
        validate_int("max_connections_per_child", self.max_connections_per_child, 0)

    @classmethod
    def fixed(cls, children: int = 1, threads: int = 25) -> MpmSpec:
        """Exactly `children` processes of `threads` threads each, for the life of httpd."""
        validate_int("children", children, 1, 20000)
        validate_int("threads", threads, 1)
        return cls(
            start_servers=children,
            server_limit=children,
            thread_limit=max(64, threads),
            threads_per_child=threads,
            max_request_workers=children * threads,
            min_spare_threads=1,
            max_spare_threads=children * threads + threads,
        )

    def to_dict(self) -> dict[str, Any]:
        return fields_to_dict(self)


@dataclass(frozen=True)
class HealthCheck:
    """`ModProxyClusterHCTemplate` parameters (mod_proxy_hcheck; 2.x only). None: parameter left out."""

    method: str = "GET"
    uri: str | None = "/"
    interval_s: int | None = None
    passes: int | None = None
    fails: int | None = None

    def __post_init__(self) -> None:
        validate_choice("method", self.method, HC_METHODS)
        if self.uri is not None:
            validate_path("uri", self.uri)
        for name in ("interval_s", "passes", "fails"):
            if getattr(self, name) is not None:
                validate_int(name, getattr(self, name), 1)

    def parameters(self) -> str:
        """The template as httpd reads it: `hcmethod=GET hcuri=/ ...`."""
        params = [f"hcmethod={self.method}"]
        for key, value in (("hcuri", self.uri), ("hcinterval", self.interval_s)):
            if value is not None:
                params.append(f"{key}={value}")
        for key, value in (("hcpasses", self.passes), ("hcfails", self.fails)):
            if value is not None:
                params.append(f"{key}={value}")
        return " ".join(params)

    def to_dict(self) -> dict[str, Any]:
        return fields_to_dict(self)


_OPTIONAL_BOOLS = (
    "persist_slots", "check_nonce", "allow_display", "allow_cmd", "reduce_display", "use_alias",
    "enable_options", "use_nocanon", "server_advertise",
)  # fmt: skip
_OPTIONAL_COUNTS = ("max_node", "max_host", "max_context", "max_sessionid")


@dataclass(frozen=True)
class BalancerSpec:
    """The balancer role. Fields named after httpd directives; see `harness.httpd_conf` for the mapping.

    server_advertise: True advertise, False never, None advertise when the topology's discovery is Advertise.
    advertise_frequency_s: None takes the discovery's frequency. mcmp_allow / manager_allow: "all", "local",
    IP addresses or CIDRs ("all" alone means `Require all granted`). lbmethod_growth / lbmethod_proxy_pass
    apply to mode "lbmethod_cluster" (growth = free worker slots in the balancer; proxy_pass adds
    `ProxyPass / balancer://NAME/`, which upstream's configs leave out: the module routes by itself).
    """

    flavor: str = "httpd-modcluster"
    mode: str = "proxy_cluster"
    proxy_port: int = 8000
    mcmp_port: int = 6666
    manager_location: str = "/mod_cluster_manager"
    balancer_name: str = "mycluster"
    server_name: str = "balancer"
    max_node: int | None = None
    max_host: int | None = None
    max_context: int | None = None
    max_sessionid: int | None = None
    max_mcmp_mess_size: int | None = None
    mem_manager_file: str | None = None
    persist_slots: bool | None = None
    check_nonce: bool | None = None
    allow_display: bool | None = None
    allow_cmd: bool | None = None
    reduce_display: bool | None = None
    use_alias: bool | None = None
    lbstatus_recal_time_s: int | None = None
    wait_before_remove_s: int | None = None
    enable_options: bool | None = None
    enable_ws_tunnel: bool = False
    ws_upgrade_header: str | None = None
    hcheck: HealthCheck | None = None
    use_nocanon: bool | None = None
    timeout_s: int | None = None
    proxy_timeout_s: int | None = None
    server_advertise: bool | None = None
    advertise_frequency_s: float | None = None
    advertise_manager_url: str | None = None
    advertise_bind_address: str | None = None
    mcmp_allow: tuple[str, ...] = ("all",)
    manager_allow: tuple[str, ...] = ("all",)
    lbmethod_growth: int = 20
    lbmethod_proxy_pass: bool = False
    mpm: MpmSpec = field(default_factory=MpmSpec)
    log_level: str = "info"
    overlay: tuple[str, ...] = ()
    jk: JkBalancer | None = None

    def __post_init__(self) -> None:
        validate_name("flavor", self.flavor)  # a known flavor: the registry checks at start
        validate_choice("mode", self.mode, BALANCER_MODES)
        validate_port("proxy_port", self.proxy_port)
        validate_port("mcmp_port", self.mcmp_port)
        if self.proxy_port == self.mcmp_port:
            raise SpecError("mcmp_port", f"got {self.mcmp_port}; must differ from proxy_port")
        validate_path("manager_location", self.manager_location)
        validate_name("balancer_name", self.balancer_name, 39)
        if not isinstance(self.server_name, str) or not _HOST_RE.fullmatch(self.server_name):
            raise SpecError("server_name", f"got {self.server_name!r}; expected a host name of [A-Za-z0-9.-]")
        self._validate_optionals()
        if self.hcheck is not None and not isinstance(self.hcheck, HealthCheck):
            raise SpecError("hcheck", f"got {self.hcheck!r}; expected a HealthCheck or None")
        for name in ("mcmp_allow", "manager_allow"):
            set_field(self, name, validate_tuple(name, getattr(self, name), _validate_access, non_empty=True))
            if "all" in getattr(self, name) and len(getattr(self, name)) > 1:
                raise SpecError(name, "'all' grants everyone: give it alone or not at all")
        validate_int("lbmethod_growth", self.lbmethod_growth, 1, 100)  # httpd: "growth must be between 1 and 100"
        validate_bool("lbmethod_proxy_pass", self.lbmethod_proxy_pass)
        if not isinstance(self.mpm, MpmSpec):
            raise SpecError("mpm", f"got {self.mpm!r}; expected an MpmSpec")
        _validate_log_level("log_level", self.log_level)
        set_field(self, "overlay", validate_tuple("overlay", self.overlay, _validate_snippet))
        if self.jk is not None and not isinstance(self.jk, JkBalancer):
            raise SpecError("jk", f"got {self.jk!r}; expected a JkBalancer or None")

    def _validate_optionals(self) -> None:
        for name in _OPTIONAL_BOOLS:
            if getattr(self, name) is not None:
                validate_bool(name, getattr(self, name))
        for name in _OPTIONAL_COUNTS:
            if getattr(self, name) is not None:
                validate_int(name, getattr(self, name), 0 if name == "max_sessionid" else 1)
        if self.max_mcmp_mess_size is not None:
            validate_int("max_mcmp_mess_size", self.max_mcmp_mess_size, 1025)
        if self.mem_manager_file is not None:
            validate_token("mem_manager_file", self.mem_manager_file)
        if self.lbstatus_recal_time_s is not None:
            validate_int("lbstatus_recal_time_s", self.lbstatus_recal_time_s, 0)
        if self.wait_before_remove_s is not None:
            validate_int("wait_before_remove_s", self.wait_before_remove_s, 10)
        validate_bool("enable_ws_tunnel", self.enable_ws_tunnel)
        if self.ws_upgrade_header is not None:
            validate_token("ws_upgrade_header", self.ws_upgrade_header, 15)
        for name in ("timeout_s", "proxy_timeout_s"):
            if getattr(self, name) is not None:
                validate_int(name, getattr(self, name), 1)
        if self.advertise_frequency_s is not None:
            frequency = validate_number("advertise_frequency_s", self.advertise_frequency_s, 0.001)
            set_field(self, "advertise_frequency_s", frequency)
        if self.advertise_manager_url is not None:
            validate_path("advertise_manager_url", self.advertise_manager_url)
        if self.advertise_bind_address is not None:
            validate_host_port("advertise_bind_address", self.advertise_bind_address)

    def to_dict(self) -> dict[str, Any]:
        return fields_to_dict(self)


def balancer_from_dict(data: object, field: str = "balancer") -> BalancerSpec:
    values = validate_mapping(field, data, BalancerSpec)
    if "mpm" in values:
        values["mpm"] = leaf_from_dict(MpmSpec, values["mpm"], f"{field}.mpm")
    if values.get("hcheck") is not None:
        values["hcheck"] = leaf_from_dict(HealthCheck, values["hcheck"], f"{field}.hcheck")
    if values.get("jk") is not None:
        values["jk"] = spec_from_directives(JkBalancer, values["jk"], f"{field}.jk")
    with field_prefix(field):
        return BalancerSpec(**values)


def validate_host_port(field: str, value: object) -> str:
    """ "host:port" (IPv6 hosts in brackets)."""
    text = validate_token(field, value)
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise SpecError(field, f"got {value!r}; expected 'host:port' with a port in 1..65535")
    return text


def _validate_access(field: str, value: object) -> str:
    if value in ACCESS_KEYWORDS:
        return str(value)
    if isinstance(value, str):
        try:
            ipaddress.ip_network(value, strict=False)
            return value
        except ValueError:
            pass
    raise SpecError(field, f"got {value!r}; accepted values: 'all', 'local', an IP address or a CIDR")


def _validate_log_level(field: str, value: object) -> str:
    """httpd's LogLevel: words 'level' or 'module:level' ("info proxy_cluster:debug")."""
    if not isinstance(value, str) or not value.split():
        raise SpecError(field, f"got {value!r}; expected a level ({', '.join(LOG_LEVELS)}) [module:level ...]")
    for word in value.split():
        module, sep, level = word.rpartition(":")
        if level not in LOG_LEVELS or (sep and not module):
            levels = ", ".join(LOG_LEVELS)
            raise SpecError(field, f"bad word {word!r}; expected words 'level' or 'module:level' (levels: {levels})")
    return value


def _validate_snippet(field: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise SpecError(field, f"got {value!r}; expected non-empty httpd configuration text")
    return value
