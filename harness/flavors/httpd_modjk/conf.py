"""Render workers.properties and httpd.conf for the httpd-modjk balancer from a topology. Pure: returns text.

workers.properties: `worker.list` (the lb and the status worker), one ajp13 member worker per node (host =
the node's network alias, port = its AJP port, lbfactor, ping and timeout properties, activation, route,
redirect, secret), the lb worker (balance_workers, sticky_session 0/1, sticky_session_force 0/1, method, ...)
and the status worker. httpd.conf: Debian's apache2 binary with only the modules it needs, mod_jk's shared
memory, log and globals, and one `<VirtualHost>` on the proxy port. Debian's mod_jk leaves a virtual host
without the global JkMounts unless it says `JkMountCopy On`: the mounts are global and the vhost copies them.
"""

from __future__ import annotations

from harness.descriptions.balancer import BalancerSpec
from harness.descriptions.base import SpecError
from harness.descriptions.jk import JkBalancer, JkWorker, validate_worker_name
from harness.descriptions.node import NodeSpec
from harness.descriptions.topology import Topology
from harness.flavors.httpd_process import mpm_directives

CONF_DIR = "/etc/httpd-harness"
LOG_DIR = "/var/log/httpd-harness"
RUN_DIR = "/run/httpd-harness"
MODULES_DIR = "/usr/lib/apache2/modules"
WORKERS_PATH = f"{CONF_DIR}/workers.properties"
JK_LOG = f"{LOG_DIR}/mod_jk.log"

# Access log: time, status, duration, the mod_jk worker that served (JK_WORKER_NAME) and the route, then the
# request line (quoted, last).
ACCESS_LOG_FORMAT = (
    "%{%Y-%m-%dT%H:%M:%S}t.%{usec_frac}t%{%z}t status=%>s us=%D "
    'worker=%{JK_WORKER_NAME}n route=%{JK_WORKER_ROUTE}n client=%a "%r"'
)

_ACTIVATION = {"active": "A", "disabled": "D", "stopped": "S"}
_MEMBER_PROPERTIES = (
    "ping_mode",
    "ping_timeout",
    "connect_timeout",
    "prepost_timeout",
    "connection_ping_interval",
    "socket_timeout",
    "socket_connect_timeout",
    "reply_timeout",
    "retries",
    "recovery_options",
    "max_packet_size",
    "secret",
)
_LB_PROPERTIES = ("method", "retries", "recover_time", "error_escalation_time", "max_reply_timeouts")


def jk_of(spec: BalancerSpec) -> JkBalancer:
    return spec.jk or JkBalancer()


def worker_of(node: NodeSpec) -> JkWorker:
    return node.jk or JkWorker()


def worker_name(node: NodeSpec, index: int = 0) -> str:
    """The member worker's name: `jk.name`, else the node's name (which must then be a valid worker name)."""
    jk = worker_of(node)
    if jk.name is not None:
        return jk.name
    try:
        return validate_worker_name(f"nodes[{index}].name", node.name)
    except SpecError as exc:
        raise SpecError(exc.field, f"{exc.message} (or set nodes[{index}].jk.name)") from exc


def route_of(node: NodeSpec) -> str:
    return worker_of(node).route or node.name


def validate_workers(topology: Topology) -> dict[str, NodeSpec]:
    """Worker name -> node; SpecError naming the field for a name clash, a non-AJP node or a bad redirect."""
    jk = jk_of(topology.balancer)
    workers: dict[str, NodeSpec] = {}
    for index, node in enumerate(topology.nodes):
        if node.connector != "ajp":
            raise SpecError(
                f"nodes[{index}].connector", f"got {node.connector!r}; mod_jk speaks AJP only (set connector='ajp')"
            )
        name = worker_name(node, index)
        if name in workers or name in (jk.lb_name, jk.status_name):
            raise SpecError(f"nodes[{index}].jk.name", f"worker name {name!r} is already used; names must be unique")
        workers[name] = node
    for index, node in enumerate(topology.nodes):
        _validate_secret(node, index)
        redirect = worker_of(node).redirect
        if redirect is not None and (redirect not in workers or redirect == worker_name(node, index)):
            raise SpecError(
                f"nodes[{index}].jk.redirect", f"got {redirect!r}; expected another member worker: {', '.join(workers)}"
            )
    if jk.status_path in {path for node in topology.nodes for path in node.contexts}:
        raise SpecError("balancer.jk.status_path", f"got {jk.status_path!r}; a node context uses it")
    return workers


def _validate_secret(node: NodeSpec, index: int) -> None:
    """A node's AJP connector with a secret answers 403 to every request without that secret."""
    expected = node.ajp.secret if node.ajp is not None else None
    sent = worker_of(node).secret
    if expected is not None and sent != expected:
        raise SpecError(
            f"nodes[{index}].jk.secret",
            f"got {'a different secret' if sent else 'None'}; "
            f"nodes[{index}].ajp.secret is set and the connector answers 403 to requests without it",
        )


def _value(value: object) -> str:
    return str(int(value)) if isinstance(value, bool) else str(value)


def render_workers_properties(topology: Topology) -> str:
    """workers.properties for the topology (nodes reached by their network alias)."""
    jk = jk_of(topology.balancer)
    workers = validate_workers(topology)
    lines = [
        f"# workers.properties of topology {topology.name} (rendered by the harness)",
        f"worker.list={jk.lb_name},{jk.status_name}",
    ]
    if jk.maintain is not None:
        lines.append(f"worker.maintain={jk.maintain}")
    for name, node in workers.items():
        member = worker_of(node)
        prefix = f"worker.{name}"
        lines += [
            "",
            f"{prefix}.type=ajp13",
            f"{prefix}.host={node.name}",
            f"{prefix}.port={node.ajp_port}",
            f"{prefix}.lbfactor={member.lbfactor}",
            f"{prefix}.route={route_of(node)}",
            f"{prefix}.activation={_ACTIVATION[member.activation]}",
        ]
        if member.redirect is not None:
            lines.append(f"{prefix}.redirect={member.redirect}")
        lines += [
            f"{prefix}.{key}={_value(getattr(member, key))}"
            for key in _MEMBER_PROPERTIES
            if getattr(member, key) is not None
        ]
    lb = f"worker.{jk.lb_name}"
    lines += [
        "",
        f"{lb}.type=lb",
        f"{lb}.balance_workers={','.join(workers)}",
        f"{lb}.sticky_session={_value(jk.sticky_session)}",
        f"{lb}.sticky_session_force={_value(jk.sticky_session_force)}",
    ]
    lines += [f"{lb}.{key}={_value(getattr(jk, key))}" for key in _LB_PROPERTIES if getattr(jk, key) is not None]
    lines += ["", f"worker.{jk.status_name}.type=status", f"worker.{jk.status_name}.read_only=False"]
    return "\n".join(lines) + "\n"


def mounts(topology: Topology) -> list[str]:
    """JkMount lines: every node context (and below) to the lb worker, the status path to the status worker."""
    jk = jk_of(topology.balancer)
    contexts = sorted({path for node in topology.nodes for path in node.contexts})
    lines = []
    for path in contexts:
        base = path.rstrip("/")
        lines += [f"JkMount {base or '/'} {jk.lb_name}", f"JkMount {base}/* {jk.lb_name}"]
    return lines + [f"JkMount {jk.status_path} {jk.status_name}"]


def _builtin(name: str) -> list[str]:
    """Built into Debian's apache2; loaded only where it is not."""
    return [f"<IfModule !{name}_module>", f'    LoadModule {name}_module "{MODULES_DIR}/mod_{name}.so"', "</IfModule>"]


def render_httpd_conf(topology: Topology) -> str:
    """httpd.conf for Debian's apache2 with mod_jk (started as `apache2 -f <this>`, no Debian conf folders)."""
    spec, jk = topology.balancer, jk_of(topology.balancer)
    quoted = ACCESS_LOG_FORMAT.replace('"', '\\"')
    lines = [
        f'ServerRoot "{CONF_DIR}"',
        f'DefaultRuntimeDir "{RUN_DIR}"',
        f'PidFile "{RUN_DIR}/httpd.pid"',
        f"ServerName {spec.server_name}",
        f'ErrorLog "{LOG_DIR}/error_log"',
        f"LogLevel {spec.log_level}",
        f'LoadModule mpm_event_module "{MODULES_DIR}/mod_mpm_event.so"',
        f'LoadModule authz_core_module "{MODULES_DIR}/mod_authz_core.so"',
        f'LoadModule jk_module "{MODULES_DIR}/mod_jk.so"',
        *_builtin("log_config"),
        *_builtin("unixd"),
        "User www-data",
        "Group www-data",
        f"Listen {spec.proxy_port}",
        *mpm_directives(spec.mpm),
        f'LogFormat "{quoted}" harness',
        f'CustomLog "{LOG_DIR}/access_log" harness',
        f'JkWorkersFile "{WORKERS_PATH}"',
        f'JkShmFile "{RUN_DIR}/jk-runtime-status"',
        f'JkLogFile "{JK_LOG}"',
        f"JkLogLevel {jk.log_level}",
        'JkLogStampFormat "[%Y-%m-%d %H:%M:%S.%Q] "',
    ]
    if jk.watchdog_interval is not None:
        lines.append(f"JkWatchdogInterval {jk.watchdog_interval}")
    lines += mounts(topology)
    lines += [
        f"<VirtualHost *:{spec.proxy_port}>",
        f"    ServerName {spec.server_name}",
        "    JkMountCopy On",
        "</VirtualHost>",
    ]
    return "\n".join(lines) + "\n"
