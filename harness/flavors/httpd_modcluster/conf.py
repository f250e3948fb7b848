"""Render a complete httpd.conf for the httpd-modcluster balancer image from a `BalancerSpec`.

Debian's apache2 binary is started as `apache2 -f <server_root>/httpd.conf -DFOREGROUND` without Debian's
envvars or conf folders, so the text stands alone. Pure: returns text, touches nothing.

What the build has (`ModClusterBuild`, read from the image: capabilities.py) decides the slot memory module,
the spelling of the MCMP receive directive and which spec fields can be rendered at all.

Shape: modules (mpm_event, authz, proxy, then the mod_cluster modules of the build), MPM sizing,
logs, global manager directives (several are global-only), the proxy_cluster or lbmethod_cluster part, the
MCMP `<VirtualHost>` (EnableMCMPReceive, access control, the manager page, advertise), then overlays.
The runtime needs `<server_root>/logs` (mod_manager's default shared-memory files live there).
"""

from __future__ import annotations

from harness.descriptions.balancer import BalancerSpec
from harness.descriptions.base import SpecError, validate_path
from harness.descriptions.node import Advertise
from harness.flavors.httpd_modcluster.capabilities import ModClusterBuild, needed_modules, refusal
from harness.flavors.httpd_process import mpm_directives

# Access log: time, serving child, local port (6666 = MCMP), method (MCMP verbs too), status, duration,
# route of the chosen worker, route-changed flag, client, then the request line (quoted, last).
ACCESS_LOG_FORMAT = (
    "%{%Y-%m-%dT%H:%M:%S}t.%{usec_frac}t%{%z}t pid=%P port=%{local}p method=%m status=%>s us=%D "
    'route=%{BALANCER_WORKER_ROUTE}e route_changed=%{BALANCER_ROUTE_CHANGED}e client=%a "%r"'
)
ACCESS_LOG_NAME = "harness"


class ConfigError(SpecError):
    """The spec asks for something this build or renderer cannot do (field names the BalancerSpec field)."""


def render_httpd_conf(
    spec: BalancerSpec,
    build: ModClusterBuild,
    *,
    server_root: str = "/etc/httpd-harness",
    log_dir: str = "/var/log/httpd-harness",
    run_dir: str = "/run/httpd-harness",
    modules_dir: str = "/usr/lib/apache2/modules",
    advertise: Advertise | None = None,
) -> str:
    """The httpd.conf text. `advertise` is the topology's Advertise discovery, if any (see `advertise_for`)."""
    paths = {"server_root": server_root, "log_dir": log_dir, "run_dir": run_dir, "modules_dir": modules_dir}
    for name, path in paths.items():
        validate_path(name, path)
    adv = advertise_for(spec, advertise)
    validate_supported(spec, build, adv)
    blocks = [
        [f"# httpd.conf rendered by the harness: mod_cluster {build.label}, {spec.mode} mode. Stands alone."],
        _core(spec, server_root, log_dir, run_dir),
        _modules(spec, build, modules_dir, adv is not None),
        mpm_directives(spec.mpm),
        _logs(log_dir),
        _proxy_globals(spec),
        _manager_globals(spec),
        _cluster_globals(spec) if spec.mode == "proxy_cluster" else _lbmethod_globals(spec),
        _mcmp_vhost(spec, build, adv),
    ]
    blocks += [[f"# overlay {i + 1}", snippet.rstrip("\n")] for i, snippet in enumerate(spec.overlay)]
    return "\n\n".join("\n".join(block) for block in blocks if block) + "\n"


def validate_supported(spec: BalancerSpec, build: ModClusterBuild, advertise: Advertise | None = None) -> None:
    """Raise ConfigError (naming the spec field) when the spec needs what the build or the mode lacks."""
    if spec.flavor != "httpd-modcluster":
        raise ConfigError("flavor", f"got {spec.flavor!r}; render_httpd_conf renders 'httpd-modcluster' only")
    if spec.mode == "lbmethod_cluster":
        for name in ("use_alias", "lbstatus_recal_time_s", "wait_before_remove_s", "enable_options"):
            if getattr(spec, name) is not None:
                raise ConfigError(name, "a mod_proxy_cluster directive: set it to None in lbmethod_cluster mode")
    missing = refusal(spec, build, advertise)
    if missing is not None:
        raise ConfigError(missing.field, missing.message)


def advertise_for(spec: BalancerSpec, advertise: Advertise | None) -> Advertise | None:
    """The advertise settings to render, or None for no mod_advertise at all (once loaded it advertises).

    server_advertise None follows the discovery, True advertises (defaults without discovery), False never.
    """
    if spec.server_advertise is False:
        return None
    if spec.server_advertise is None:
        return advertise
    return advertise or Advertise()


def _core(spec: BalancerSpec, server_root: str, log_dir: str, run_dir: str) -> list[str]:
    return [
        f'ServerRoot "{server_root}"',
        f'DefaultRuntimeDir "{run_dir}"',
        f'PidFile "{run_dir}/httpd.pid"',
        f"ServerName {spec.server_name}",
        f'ErrorLog "{log_dir}/error_log"',
        f"LogLevel {spec.log_level}",
    ]


def module_names(spec: BalancerSpec, build: ModClusterBuild, advertise: bool) -> list[tuple[str, str]]:
    """(module identifier, file name) in load order, without the built-in ones guarded by IfModule."""
    mods = [("mpm_event", "mod_mpm_event.so"), ("authz_core", "mod_authz_core.so"), ("authz_host", "mod_authz_host.so")]
    mods += [("proxy", "mod_proxy.so"), ("proxy_http", "mod_proxy_http.so"), ("proxy_ajp", "mod_proxy_ajp.so")]
    for needed in needed_modules(spec, build):  # mod_proxy_wstunnel where the build's EnableWsTunnel needs it
        mods.append((needed.removeprefix("mod_").removesuffix(".so"), needed))
    if spec.hcheck is not None:
        mods.append(("proxy_hcheck", "mod_proxy_hcheck.so"))
    if spec.mode == "lbmethod_cluster":
        mods.append(("proxy_balancer", "mod_proxy_balancer.so"))
    mods.append(build.slotmem_module)
    mods.append(("manager", "mod_manager.so"))
    if spec.mode == "lbmethod_cluster":
        mods.append(("lbmethod_cluster", "mod_lbmethod_cluster.so"))
    else:
        mods.append(("proxy_cluster", "mod_proxy_cluster.so"))
    if advertise:
        mods.append(("advertise", "mod_advertise.so"))
    return mods


def _modules(spec: BalancerSpec, build: ModClusterBuild, modules_dir: str, advertise: bool) -> list[str]:
    lines = []
    for ident, path in module_names(spec, build, advertise):
        lines.append(f'LoadModule {ident}_module "{modules_dir}/{path}"')
        if ident == "authz_host":  # built into Debian's apache2; loaded elsewhere (watchdog is never loaded)
            for builtin in ("log_config", "unixd"):
                lines += [
                    f"<IfModule !{builtin}_module>",
                    f'    LoadModule {builtin}_module "{modules_dir}/mod_{builtin}.so"',
                    "</IfModule>",
                ]
    return lines + ["User www-data", "Group www-data", f"Listen {spec.proxy_port}", f"Listen {spec.mcmp_port}"]


def _logs(log_dir: str) -> list[str]:
    quoted = ACCESS_LOG_FORMAT.replace('"', '\\"')
    return [f'LogFormat "{quoted}" {ACCESS_LOG_NAME}', f'CustomLog "{log_dir}/access_log" {ACCESS_LOG_NAME}']


def _proxy_globals(spec: BalancerSpec) -> list[str]:
    lines = ["ProxyPreserveHost On"]
    if spec.timeout_s is not None:
        lines.append(f"Timeout {spec.timeout_s}")
    if spec.proxy_timeout_s is not None:
        lines.append(f"ProxyTimeout {spec.proxy_timeout_s}")
    return lines


def _manager_globals(spec: BalancerSpec) -> list[str]:
    """mod_manager directives; Max*, MemManagerFile, PersistSlots, MaxMCMPMessSize, EnableWsTunnel and
    WSUpgradeHeader are global-only, the rest are inherited by the MCMP vhost."""
    lines = [f"ManagerBalancerName {spec.balancer_name}"]
    for directive, value in (
        ("Maxnode", spec.max_node), ("Maxhost", spec.max_host), ("Maxcontext", spec.max_context),
        ("Maxsessionid", spec.max_sessionid), ("MaxMCMPMessSize", spec.max_mcmp_mess_size),
    ):  # fmt: skip
        if value is not None:
            lines.append(f"{directive} {value}")
    if spec.mem_manager_file is not None:
        lines.append(f'MemManagerFile "{spec.mem_manager_file}"')
    for directive, flag in (
        ("PersistSlots", spec.persist_slots), ("CheckNonce", spec.check_nonce), ("AllowDisplay", spec.allow_display),
        ("AllowCmd", spec.allow_cmd), ("ReduceDisplay", spec.reduce_display),
    ):  # fmt: skip
        if flag is not None:
            lines.append(f"{directive} {_on_off(flag)}")
    if spec.enable_ws_tunnel:
        lines.append("EnableWsTunnel")
    if spec.ws_upgrade_header is not None:
        lines.append(f"WSUpgradeHeader {spec.ws_upgrade_header}")
    return lines


def _cluster_globals(spec: BalancerSpec) -> list[str]:
    """mod_proxy_cluster mode: its directives (no BalancerMember, no mod_proxy_balancer)."""
    lines = []
    for directive, value in (
        ("UseAlias", spec.use_alias), ("EnableOptions", spec.enable_options), ("UseNocanon", spec.use_nocanon),
    ):  # fmt: skip
        if value is not None:
            lines.append(f"{directive} {_on_off(value)}")
    if spec.lbstatus_recal_time_s is not None:
        lines.append(f"LBstatusRecalTime {spec.lbstatus_recal_time_s}")
    if spec.wait_before_remove_s is not None:
        lines.append(f"WaitBeforeRemove {spec.wait_before_remove_s}")
    if spec.hcheck is not None:
        lines.append(f"ModProxyClusterHCTemplate {spec.hcheck.parameters()}")
    return lines


def _lbmethod_globals(spec: BalancerSpec) -> list[str]:
    """mod_proxy_balancer + mod_lbmethod_cluster mode: one balancer, routed by the module itself."""
    lines = []
    if spec.use_nocanon is not None:
        lines.append(f"UseNocanon {_on_off(spec.use_nocanon)}")
    if spec.hcheck is not None:
        lines.append(f"ModProxyClusterHCTemplate {spec.hcheck.parameters()}")
    lines += [
        f'<Proxy "balancer://{spec.balancer_name}">',
        f"    ProxySet growth={spec.lbmethod_growth}",
        "    ProxySet lbmethod=cluster",
        "</Proxy>",
    ]
    if spec.lbmethod_proxy_pass:
        nocanon = " nocanon" if spec.use_nocanon else ""
        lines.append(f"ProxyPass / balancer://{spec.balancer_name}/{nocanon}")
    return lines


def _mcmp_vhost(spec: BalancerSpec, build: ModClusterBuild, advertise: Advertise | None) -> list[str]:
    lines = [
        f"<VirtualHost *:{spec.mcmp_port}>",
        f"    ServerName {spec.server_name}",
        f"    {build.receive_directive(spec.mode)}",
        "    <Location />",
        *_require("        ", spec.mcmp_allow),
        "    </Location>",
        f"    <Location {spec.manager_location}>",
        "        SetHandler mod_cluster-manager",
        *_require("        ", spec.manager_allow),
        "    </Location>",
    ]
    if advertise is not None:
        lines += ["    " + line for line in _advertise(spec, advertise)]
    return lines + ["</VirtualHost>"]


def _advertise(spec: BalancerSpec, advertise: Advertise) -> list[str]:
    """mod_advertise directives; all in the MCMP vhost (they may appear in one VirtualHost only)."""
    frequency = spec.advertise_frequency_s if spec.advertise_frequency_s is not None else advertise.frequency_s
    group = f"[{advertise.group}]" if ":" in advertise.group else advertise.group
    lines = [
        f"ServerAdvertise On http://{spec.server_name}:{spec.mcmp_port}",
        f"AdvertiseGroup {group}:{advertise.port}",
        f"AdvertiseFrequency {format_frequency(frequency)}",
    ]
    if advertise.security_key is not None:
        lines.append(f"AdvertiseSecurityKey {advertise.security_key}")
    if spec.advertise_manager_url is not None:
        lines.append(f"AdvertiseManagerUrl {spec.advertise_manager_url}")
    if spec.advertise_bind_address is not None:
        lines.append(f"AdvertiseBindAddress {spec.advertise_bind_address}")
    return lines


def format_frequency(seconds: float) -> str:
    """AdvertiseFrequency text: "10", or "1.500" (mod_advertise reads the digits after '.' as milliseconds)."""
    millis = round(seconds * 1000)
    whole, frac = divmod(millis, 1000)
    return str(whole) if frac == 0 else f"{whole}.{frac:03d}"


def _require(indent: str, allow: tuple[str, ...]) -> list[str]:
    if allow == ("all",):
        return [f"{indent}Require all granted"]
    return [f"{indent}Require local" if item == "local" else f"{indent}Require ip {item}" for item in allow]


def _on_off(flag: bool) -> str:
    return "On" if flag else "Off"
