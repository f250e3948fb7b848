"""Descriptions for mod_jk and AJP: a member worker (`JkWorker`, on a NodeSpec), the load-balancer and status
workers (`JkBalancer`, on a BalancerSpec) and a node's AJP connector (`AjpConnector`, on a NodeSpec).

Field names are mod_jk's own property names (workers.properties `worker.<name>.<property>`), in mod_jk's units
(ping_timeout, connect_timeout, prepost_timeout, reply_timeout in milliseconds; connection_ping_interval and
socket_timeout in seconds). None leaves a property out (mod_jk's default). A flavor that does not speak mod_jk
refuses these specs when set (harness.flavors.base.unhonoured). Pure data, validated at construction.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from harness.descriptions.base import (
    SpecError,
    field_prefix,
    fields_to_dict,
    validate_bool,
    validate_choice,
    validate_int,
    validate_name,
    validate_path,
    validate_token,
)

WORKER_NAME_MAX = 63
_WORKER_NAME_RE = re.compile(r"[A-Za-z0-9_/]+")
PING_LETTERS = "CPIA"  # Connect, Prepost, Interval, All
ACTIVATIONS = ("active", "disabled", "stopped")
LB_METHODS = ("R", "T", "B", "S")  # Requests, Traffic, Busyness, Sessions
JK_LOG_LEVELS = ("trace", "debug", "info", "warn", "error", "emerg")
PACKET_SIZE_RANGE = (8192, 65536)  # mod_jk max_packet_size and Tomcat's packetSize accept this range


def validate_worker_name(field: str, value: object) -> str:
    """A mod_jk worker name: letters, digits, '_' and '/'."""
    if not isinstance(value, str) or not _WORKER_NAME_RE.fullmatch(value) or len(value) > WORKER_NAME_MAX:
        raise SpecError(
            field,
            f"got {value!r}; a mod_jk worker name is 1..{WORKER_NAME_MAX} characters of letters, digits, '_' and '/'",
        )
    return value


def validate_ping_mode(field: str, value: object) -> str:
    """Letters from C, P, I, A (each at most once), e.g. "C", "CI", "A"."""
    if (
        not isinstance(value, str)
        or not value
        or any(c not in PING_LETTERS for c in value)
        or len(set(value)) != len(value)
    ):
        raise SpecError(
            field,
            f"got {value!r}; expected letters from {', '.join(PING_LETTERS)} (each at most "
            "once), e.g. 'C', 'CI' or 'A'",
        )
    return value


def _optional_ints(spec: Any, names: tuple[str, ...], lo: int) -> None:
    for name in names:
        if getattr(spec, name) is not None:
            validate_int(name, getattr(spec, name), lo)


@dataclass(frozen=True)
class JkWorker:
    """One ajp13 member worker of the lb worker. `name` None: the node's name; `route` None: the node's name
    (Tomcat's jvmRoute, which ends its session ids); `redirect`: the worker that takes this one's sessions
    when it fails; `activation`: active, disabled (only sticky requests) or stopped (none)."""

    name: str | None = None
    lbfactor: int = 1
    ping_mode: str | None = None
    ping_timeout: int | None = None
    connect_timeout: int | None = None
    prepost_timeout: int | None = None
    connection_ping_interval: int | None = None
    socket_timeout: int | None = None
    socket_connect_timeout: int | None = None
    reply_timeout: int | None = None
    retries: int | None = None
    recovery_options: int | None = None
    max_packet_size: int | None = None
    activation: str = "active"
    route: str | None = None
    redirect: str | None = None
    secret: str | None = None

    def __post_init__(self) -> None:
        for name in ("name", "redirect"):
            if getattr(self, name) is not None:
                validate_worker_name(name, getattr(self, name))
        if self.route is not None:
            validate_name("route", self.route)  # no '.': it ends the session id after a '.'
        validate_int("lbfactor", self.lbfactor, 1, 100000)
        if self.ping_mode is not None:
            validate_ping_mode("ping_mode", self.ping_mode)
        _optional_ints(
            self,
            (
                "ping_timeout",
                "connect_timeout",
                "prepost_timeout",
                "socket_connect_timeout",
                "reply_timeout",
                "connection_ping_interval",
                "socket_timeout",
            ),
            1,
        )
        _optional_ints(self, ("retries",), 1)
        _optional_ints(self, ("recovery_options",), 0)
        if self.max_packet_size is not None:
            validate_int("max_packet_size", self.max_packet_size, *PACKET_SIZE_RANGE)
        validate_choice("activation", self.activation, ACTIVATIONS)
        if self.secret is not None:
            validate_token("secret", self.secret)

    def to_dict(self) -> dict[str, Any]:
        return fields_to_dict(self)


@dataclass(frozen=True)
class JkBalancer:
    """The lb worker (`lb_name`), the status worker (`status_name`, mounted at `status_path`) and mod_jk's
    globals: `maintain` (worker.maintain, s) and `watchdog_interval` (JkWatchdogInterval, s) drive the idle
    connection probes (ping_mode I) and recovery; `log_level` is JkLogLevel."""

    lb_name: str = "lb"
    status_name: str = "status"
    status_path: str = "/jkstatus"
    sticky_session: bool = True
    sticky_session_force: bool = False
    method: str | None = None
    retries: int | None = None
    recover_time: int | None = None
    error_escalation_time: int | None = None
    max_reply_timeouts: int | None = None
    maintain: int | None = None
    watchdog_interval: int | None = None
    log_level: str = "info"

    def __post_init__(self) -> None:
        validate_worker_name("lb_name", self.lb_name)
        validate_worker_name("status_name", self.status_name)
        if self.lb_name == self.status_name:
            raise SpecError("status_name", f"got {self.status_name!r}; must differ from lb_name")
        validate_path("status_path", self.status_path)
        validate_bool("sticky_session", self.sticky_session)
        validate_bool("sticky_session_force", self.sticky_session_force)
        if self.method is not None:
            validate_choice("method", self.method, LB_METHODS)
        _optional_ints(self, ("retries", "watchdog_interval"), 1)
        _optional_ints(self, ("recover_time", "error_escalation_time", "max_reply_timeouts", "maintain"), 0)
        validate_choice("log_level", self.log_level, JK_LOG_LEVELS)

    def to_dict(self) -> dict[str, Any]:
        return fields_to_dict(self)


@dataclass(frozen=True)
class AjpConnector:
    """A node's AJP connector (Tomcat's `<Connector protocol="AJP/1.3">`): listen address, secret,
    secretRequired (True with no secret: Tomcat refuses to start the connector), packetSize (None: 8192)."""

    address: str = "0.0.0.0"
    secret: str | None = None
    secret_required: bool = False
    packet_size: int | None = None

    def __post_init__(self) -> None:
        validate_token("address", self.address)
        if self.secret is not None:
            validate_token("secret", self.secret)
        validate_bool("secret_required", self.secret_required)
        if self.packet_size is not None:
            validate_int("packet_size", self.packet_size, *PACKET_SIZE_RANGE)

    def to_dict(self) -> dict[str, Any]:
        return fields_to_dict(self)


def spec_from_directives(cls: type[Any], data: object, field: str) -> Any:
    """A JkWorker, JkBalancer or AjpConnector from a mapping of directive -> value; an unknown directive is a
    SpecError naming it (`nodes[0].jk.ping_mod`) and listing the accepted ones."""
    if not isinstance(data, Mapping):
        raise SpecError(field, f"got {type(data).__name__}; expected a mapping of {cls.__name__} directives")
    names = [f.name for f in dataclasses.fields(cls)]
    for key in data:
        if key not in names:
            raise SpecError(f"{field}.{key}", f"unknown {cls.__name__} directive; accepted: {', '.join(names)}")
    with field_prefix(field):
        return cls(**dict(data))
