"""httpd.conf rendering for the httpd-modcluster balancer: module order, spellings per build, scopes."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.descriptions.topology import Advertise, BalancerSpec, HealthCheck, MpmSpec, SpecError
from harness.flavors.httpd_modcluster.capabilities import ModClusterBuild
from harness.flavors.httpd_modcluster.conf import (
    ACCESS_LOG_FORMAT,
    ConfigError,
    advertise_for,
    format_frequency,
    render_httpd_conf,
)

MANAGER = (
    "ManagerBalancerName",
    "Maxnode",
    "Maxhost",
    "Maxcontext",
    "Maxsessionid",
    "MaxMCMPMessSize",
    "MemManagerFile",
    "PersistSlots",
    "CheckNonce",
    "AllowDisplay",
    "AllowCmd",
    "ReduceDisplay",
    "EnableWsTunnel",
)
PROXY = ("UseAlias", "LBstatusRecalTime", "WaitBeforeRemove", "EnableOptions")
ADVERTISE = ("ServerAdvertise", "AdvertiseGroup", "AdvertiseFrequency", "AdvertiseSecurityKey", "AdvertiseManagerUrl",
             "AdvertiseBindAddress")  # fmt: skip
MODULES_13 = ("mod_manager.so", "mod_proxy_cluster.so", "mod_advertise.so", "mod_cluster_slotmem.so")
MODULES_2X = ("mod_manager.so", "mod_proxy_cluster.so", "mod_advertise.so", "mod_lbmethod_cluster.so")


def build(
    line: str, modules: tuple[str, ...], manager: tuple[str, ...] = (), proxy: tuple[str, ...] = (),
    lbmethod: tuple[str, ...] = (), release: str = "unknown", wstunnel: bool = False,
) -> ModClusterBuild:  # fmt: skip
    """A build as its capabilities file would describe it: directives by the source file registering them."""
    directives = (
        {("mod_manager.c", d) for d in MANAGER + manager}
        | {("mod_proxy_cluster.c", d) for d in PROXY + proxy}
        | {("mod_advertise.c", d) for d in ADVERTISE}
        | {("mod_lbmethod_cluster.c", d) for d in lbmethod}
    )
    needs = {(d, "mod_proxy_wstunnel.so") for d in ("EnableWsTunnel", "WSUpgradeHeader")} if wstunnel else set()
    return ModClusterBuild(line, frozenset(modules), frozenset(directives), frozenset(needs), release=release)


# Shaped like mod_cluster 1.3.1 .. 1.3.12 (EnableMCPMReceive only, no UseNocanon/WSUpgradeHeader), 1.3.22,
# mod_proxy_cluster 2.x of early 2023 (EnableMCPMReceive only, mod_cluster_slotmem, EnableWsTunnel needing
# mod_proxy_wstunnel) and 2.x main.
B13_20 = build("1.3", MODULES_13, ("EnableMCPMReceive",), release="mod_cluster/1.3.20.Final", wstunnel=True)
B13_22 = build("1.3", MODULES_13, ("EnableMCMPReceive", "EnableMCPMReceive", "WSUpgradeHeader"), ("UseNocanon",),
               release="mod_cluster/1.3.22.Final", wstunnel=True)  # fmt: skip
B2X_2023 = build("2.x", MODULES_2X + ("mod_cluster_slotmem.so",), ("EnableMCPMReceive", "WSUpgradeHeader"),
                 ("UseNocanon", "ModProxyClusterHCTemplate"), ("UseNocanon", "ModProxyClusterHCTemplate"),
                 wstunnel=True)  # fmt: skip
B2X = build("2.x", MODULES_2X, ("EnableMCMPReceive", "EnableMCPMReceive", "WSUpgradeHeader"),
            ("UseNocanon", "ModProxyClusterHCTemplate"), ("UseNocanon", "ModProxyClusterHCTemplate"))  # fmt: skip
GLOBAL_ONLY = ("MaxMCMPMessSize", "MemManagerFile", "Maxcontext", "Maxnode", "Maxhost", "Maxsessionid", "PersistSlots",
               "EnableWsTunnel", "WSUpgradeHeader")  # fmt: skip


def scoped(text: str) -> list[tuple[tuple[str, ...], str]]:
    """Each directive line with the stack of sections it sits in; asserts sections are balanced."""
    stack: list[str] = []
    out = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("</"):
            assert stack and stack[-1] == line[2:-1], f"unbalanced {line} in {stack}"
            stack.pop()
        elif line.startswith("<"):
            stack.append(line[1:-1].split()[0])
        else:
            out.append((tuple(stack), line))
    assert not stack, f"unclosed sections {stack}"
    return out


def directives(text: str, scope: str | None = None) -> list[str]:
    """Directive lines at top level (scope None) or inside a section named `scope`."""
    return [line for stack, line in scoped(text) if (not stack if scope is None else scope in stack)]


def loaded(text: str) -> list[str]:
    return [m.group(1) for m in re.finditer(r"^LoadModule (\w+)_module ", text, re.M)]


def render(spec: BalancerSpec | None = None, build: ModClusterBuild = B2X, **kw: object) -> str:
    return render_httpd_conf(spec or BalancerSpec(), build, **kw)  # type: ignore[arg-type]


# ---- modules ---------------------------------------------------------------------------------------


def test_2x_proxy_cluster_modules_in_working_order() -> None:
    text = render()
    assert loaded(text) == ["mpm_event", "authz_core", "authz_host", "proxy", "proxy_http", "proxy_ajp",
                            "slotmem_shm", "manager", "proxy_cluster"]  # fmt: skip
    assert '"/usr/lib/apache2/modules/mod_proxy_cluster.so"' in text
    assert "watchdog" not in text and "proxy_balancer" not in text and "BalancerMember" not in text


def test_13_uses_cluster_slotmem() -> None:
    mods = loaded(render(build=B13_22))
    assert "cluster_slotmem" in mods and "slotmem_shm" not in mods
    assert mods.index("proxy_ajp") < mods.index("cluster_slotmem") < mods.index("manager") < mods.index("proxy_cluster")
    assert 'LoadModule cluster_slotmem_module "/m/mod_cluster_slotmem.so"' in render(build=B13_22, modules_dir="/m")


def test_builtin_modules_are_guarded() -> None:
    text = render()
    for builtin in ("log_config", "unixd"):
        assert f"<IfModule !{builtin}_module>\n    LoadModule {builtin}_module" in text
    lines = text.splitlines()
    assert lines.index("User www-data") > lines.index("<IfModule !unixd_module>")


def test_lbmethod_mode_on_2x() -> None:
    text = render(BalancerSpec(mode="lbmethod_cluster", balancer_name="xqa", lbmethod_growth=7))
    mods = loaded(text)
    assert {"proxy_balancer", "lbmethod_cluster", "manager", "slotmem_shm"} <= set(mods)
    assert "proxy_cluster" not in mods
    assert '<Proxy "balancer://xqa">\n    ProxySet growth=7\n    ProxySet lbmethod=cluster\n</Proxy>' in text
    assert "ManagerBalancerName xqa" in directives(text)
    assert "ProxyPass" not in text


def test_lbmethod_proxy_pass_on_request() -> None:
    text = render(BalancerSpec(mode="lbmethod_cluster", lbmethod_proxy_pass=True, use_nocanon=True))
    assert "ProxyPass / balancer://mycluster/ nocanon" in directives(text)
    assert "UseNocanon On" in directives(text)


def test_lbmethod_needs_2x_and_refuses_proxy_cluster_directives() -> None:
    with pytest.raises(ConfigError) as excinfo:
        render(BalancerSpec(mode="lbmethod_cluster"), B13_22)
    assert excinfo.value.field == "mode" and "2.x" in str(excinfo.value)
    with pytest.raises(ConfigError) as excinfo:
        render(BalancerSpec(mode="lbmethod_cluster", use_alias=True))
    assert excinfo.value.field == "use_alias"


def test_only_httpd_modcluster_is_rendered() -> None:
    with pytest.raises(ConfigError) as excinfo:
        render(BalancerSpec(flavor="undertow"))
    assert excinfo.value.field == "flavor"


def test_health_check_template_is_2x_only() -> None:
    text = render(BalancerSpec(hcheck=HealthCheck(method="OPTIONS", uri=None, interval_s=2)))
    assert "proxy_hcheck" in loaded(text)
    assert "ModProxyClusterHCTemplate hcmethod=OPTIONS hcinterval=2" in directives(text)
    with pytest.raises(ConfigError) as excinfo:
        render(BalancerSpec(hcheck=HealthCheck()), B13_22)
    assert excinfo.value.field == "hcheck"


@pytest.mark.parametrize("spec", [BalancerSpec(enable_ws_tunnel=True), BalancerSpec(ws_upgrade_header="websocket")])
def test_wstunnel_is_loaded_where_the_build_needs_it(spec: BalancerSpec) -> None:
    for needing in (B13_22, B2X_2023):
        mods = loaded(render(spec, needing))
        assert mods.index("proxy_wstunnel") < mods.index("manager") and mods.count("proxy_wstunnel") == 1
    assert "proxy_wstunnel" not in loaded(render(spec))
    assert "proxy_wstunnel" not in loaded(render(BalancerSpec(), B13_22))


def test_ws_tunnel_directives_on_2x_main() -> None:
    spec = BalancerSpec(enable_ws_tunnel=True, ws_upgrade_header="websocket")
    assert {"EnableWsTunnel", "WSUpgradeHeader websocket"} <= set(directives(render(spec)))


# ---- MCMP vhost and spelling -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("built", "mode", "directive"),
    [(B13_20, "proxy_cluster", "EnableMCPMReceive"), (B13_22, "proxy_cluster", "EnableMCMPReceive"),
     (B2X_2023, "proxy_cluster", "EnableMCPMReceive"), (B2X_2023, "lbmethod_cluster", "EnableMCPMReceive"),
     (B2X, "proxy_cluster", "EnableMCMPReceive"), (B2X, "lbmethod_cluster", "EnableMCMPReceive")],
)  # fmt: skip
def test_mcmp_receive_spelling_is_the_one_the_build_registers(
    built: ModClusterBuild, mode: str, directive: str
) -> None:
    text = render(BalancerSpec(mode=mode), built)
    assert directive in directives(text, "VirtualHost")
    assert text.count("MCMPReceive") + text.count("MCPMReceive") == 1


def test_a_build_without_a_receive_directive_is_refused() -> None:
    bare = ModClusterBuild("2.x", frozenset(MODULES_2X), frozenset({("mod_manager.c", "ManagerBalancerName")}))
    with pytest.raises(ConfigError) as excinfo:
        render(build=bare)
    assert excinfo.value.field == "mode" and "EnableMCMPReceive nor EnableMCPMReceive" in str(excinfo.value)


@pytest.mark.parametrize(
    ("spec", "field", "directive"),
    [(BalancerSpec(use_nocanon=True), "use_nocanon", "UseNocanon"),
     (BalancerSpec(ws_upgrade_header="websocket"), "ws_upgrade_header", "WSUpgradeHeader"),
     (BalancerSpec(hcheck=HealthCheck()), "hcheck", "ModProxyClusterHCTemplate")],
)  # fmt: skip
def test_fields_the_build_lacks_are_refused_naming_field_and_directive(
    spec: BalancerSpec, field: str, directive: str
) -> None:
    with pytest.raises(ConfigError) as excinfo:
        render(spec, B13_20)
    assert excinfo.value.field == field
    assert directive in str(excinfo.value) and "mod_cluster/1.3.20.Final" in str(excinfo.value)
    assert directive in render(spec, B2X)


def test_slot_memory_module_follows_the_modules_built() -> None:
    assert "cluster_slotmem" in loaded(render(build=B2X_2023)) and "slotmem_shm" not in loaded(render(build=B2X_2023))
    assert "slotmem_shm" in loaded(render(build=B2X)) and "cluster_slotmem" not in loaded(render(build=B2X))


def test_lbmethod_mode_directives_come_from_mod_lbmethod_cluster() -> None:
    only_proxy = build("2.x", MODULES_2X, ("EnableMCMPReceive",), ("UseNocanon",))
    assert "UseNocanon On" in directives(render(BalancerSpec(use_nocanon=True), only_proxy))
    with pytest.raises(ConfigError) as excinfo:
        render(BalancerSpec(mode="lbmethod_cluster", use_nocanon=True), only_proxy)
    assert excinfo.value.field == "use_nocanon" and "lbmethod_cluster mode" in str(excinfo.value)


def test_advertise_needs_mod_advertise() -> None:
    no_advertise = ModClusterBuild(
        "1.3", frozenset(MODULES_13) - {"mod_advertise.so"}, frozenset({("mod_manager.c", "EnableMCPMReceive")})
    )
    assert "advertise" not in loaded(render(build=no_advertise))
    with pytest.raises(ConfigError) as excinfo:
        render(build=no_advertise, advertise=Advertise())
    assert excinfo.value.field == "server_advertise" and "ServerAdvertise" in str(excinfo.value)


def test_mcmp_vhost_shape() -> None:
    text = render(BalancerSpec(mcmp_port=7777, proxy_port=8001, manager_location="/mcm"))
    assert "<VirtualHost *:7777>" in text
    assert {"Listen 8001", "Listen 7777"} <= set(directives(text))
    inside = [(stack, line) for stack, line in scoped(text) if "VirtualHost" in stack]
    assert (("VirtualHost", "Location"), "SetHandler mod_cluster-manager") in inside
    assert "<Location /mcm>" in text


def test_access_control_lists() -> None:
    text = render(BalancerSpec(mcmp_allow=("10.0.0.0/8", "::1"), manager_allow=("local",)))
    inside = directives(text, "Location")
    assert inside.count("Require ip 10.0.0.0/8") == 1 and "Require ip ::1" in inside
    assert "Require local" in inside and "Require all granted" not in inside
    assert directives(render(), "Location").count("Require all granted") == 2


def test_global_only_directives_stay_at_top_level() -> None:
    spec = BalancerSpec(max_node=30, max_host=40, max_context=200, max_sessionid=10, max_mcmp_mess_size=4096,
                        mem_manager_file="cache/mod_cluster", persist_slots=True, check_nonce=False,
                        allow_display=True, allow_cmd=False, reduce_display=True, enable_ws_tunnel=True)  # fmt: skip
    top = directives(render(spec))
    for line in ("Maxnode 30", "Maxhost 40", "Maxcontext 200", "Maxsessionid 10", "MaxMCMPMessSize 4096",
                 'MemManagerFile "cache/mod_cluster"', "PersistSlots On", "CheckNonce Off", "AllowDisplay On",
                 "AllowCmd Off", "ReduceDisplay On", "EnableWsTunnel"):  # fmt: skip
        assert line in top
    assert not [line for line in directives(render(spec), "VirtualHost") if line.split()[0] in GLOBAL_ONLY]


def test_none_means_no_directive() -> None:
    text = render()
    absent = (
        "Maxnode",
        "MaxMCMPMessSize",
        "PersistSlots",
        "CheckNonce",
        "UseAlias",
        "LBstatusRecalTime",
        "WaitBeforeRemove",
        "UseNocanon",
        "EnableOptions",
        "ProxyTimeout",
        "Timeout",
        "MemManagerFile",
    )
    for name in absent:
        assert not re.search(rf"^\s*{name}\b", text, re.M), name
    assert "ManagerBalancerName mycluster" in directives(text)


def test_proxy_cluster_directives() -> None:
    spec = BalancerSpec(use_alias=True, lbstatus_recal_time_s=1, wait_before_remove_s=10, enable_options=False,
                        use_nocanon=False, timeout_s=30, proxy_timeout_s=5)  # fmt: skip
    top = directives(render(spec, B13_22))
    for line in ("UseAlias On", "LBstatusRecalTime 1", "WaitBeforeRemove 10", "EnableOptions Off", "UseNocanon Off",
                 "Timeout 30", "ProxyTimeout 5"):  # fmt: skip
        assert line in top


# ---- process, logs, MPM, overlay -------------------------------------------------------------------


def test_standalone_core_and_logs() -> None:
    text = render(server_root="/srv/h", log_dir="/logs", run_dir="/r")
    top = directives(text)
    assert top[0] == 'ServerRoot "/srv/h"'
    expected = (
        'PidFile "/r/httpd.pid"',
        'DefaultRuntimeDir "/r"',
        'ErrorLog "/logs/error_log"',
        'CustomLog "/logs/access_log" harness',
        "User www-data",
        "Group www-data",
        "LogLevel info",
    )
    for line in expected:
        assert line in top
    for field in ("%P", "%r", "%>s", "%m"):
        assert field in ACCESS_LOG_FORMAT
    assert f'LogFormat "{ACCESS_LOG_FORMAT.replace(chr(34), chr(92) + chr(34))}" harness' in top
    assert "Include" not in text and "${" not in text


def test_bad_paths_are_refused() -> None:
    with pytest.raises(SpecError) as excinfo:
        render(log_dir="relative/logs")
    assert excinfo.value.field == "log_dir"


def test_mpm_shape() -> None:
    top = directives(render(BalancerSpec(mpm=MpmSpec.fixed(children=1, threads=32))))
    for line in ("ServerLimit 1", "StartServers 1", "ThreadsPerChild 32", "MaxRequestWorkers 32",
                 "MinSpareThreads 1", "MaxSpareThreads 64", "MaxConnectionsPerChild 0", "ThreadLimit 64"):  # fmt: skip
        assert line in top
    assert loaded(render())[0] == "mpm_event"


def test_overlay_comes_last() -> None:
    text = render(BalancerSpec(overlay=("KeepAlive Off", "<Location /x>\n  Require all denied\n</Location>\n")))
    assert text.rstrip().endswith("<Location /x>\n  Require all denied\n</Location>")
    assert text.index("KeepAlive Off") > text.index("</VirtualHost>")


# ---- advertise -------------------------------------------------------------------------------------


def test_no_advertise_module_without_advertise() -> None:
    text = render()
    assert "advertise" not in loaded(text) and "ServerAdvertise" not in text
    off = render(BalancerSpec(server_advertise=False), advertise=Advertise())
    assert "advertise" not in loaded(off) and "Advertise" not in off


def test_advertise_from_discovery_inside_the_vhost() -> None:
    adv = Advertise(group="224.0.1.200", port=40000, security_key="s3cret", frequency_s=1.5)
    text = render(BalancerSpec(advertise_manager_url="/mgr", advertise_bind_address="10.0.0.2:40000"),
                  B13_20, advertise=adv)  # fmt: skip
    assert loaded(text)[-1] == "advertise"
    inside = directives(text, "VirtualHost")
    for line in ("ServerAdvertise On http://balancer:6666", "AdvertiseGroup 224.0.1.200:40000",
                 "AdvertiseFrequency 1.500", "AdvertiseSecurityKey s3cret", "AdvertiseManagerUrl /mgr",
                 "AdvertiseBindAddress 10.0.0.2:40000"):  # fmt: skip
        assert line in inside
    assert not [line for line in directives(text) if "Advertise" in line]


def test_advertise_spec_overrides_frequency_and_forced_on_uses_defaults() -> None:
    text = render(BalancerSpec(server_advertise=True, advertise_frequency_s=5))
    inside = directives(text, "VirtualHost")
    assert "AdvertiseGroup 224.0.1.105:23364" in inside and "AdvertiseFrequency 5" in inside
    assert not any("SecurityKey" in line for line in inside)
    assert advertise_for(BalancerSpec(), None) is None
    assert advertise_for(BalancerSpec(server_advertise=True), None) == Advertise()


@pytest.mark.parametrize(("seconds", "text"), [(10, "10"), (1.5, "1.500"), (0.25, "0.250"), (0.001, "0.001")])
def test_advertise_frequency_format(seconds: float, text: str) -> None:
    assert format_frequency(seconds) == text


# ---- builds ----------------------------------------------------------------------------------------


def test_build_validation_and_labels() -> None:
    with pytest.raises(SpecError) as excinfo:
        ModClusterBuild("3.0", frozenset(), frozenset())
    assert excinfo.value.field == "line"
    assert B13_22.label == "mod_cluster/1.3.22.Final" and B2X.label == "2.x"
    commit = ModClusterBuild("2.x", frozenset(), frozenset(), release="mod_proxy_cluster/2.0.0.Dev", commit="a" * 40)
    assert commit.label == "mod_proxy_cluster/2.0.0.Dev aaaaaaaaaaaa"
    assert "mod_cluster mod_cluster/1.3.22.Final, proxy_cluster mode" in render(build=B13_22).splitlines()[0]


spec_strategy = st.builds(
    BalancerSpec,
    mode=st.sampled_from(["proxy_cluster", "lbmethod_cluster"]),
    max_node=st.none() | st.integers(1, 100),
    max_mcmp_mess_size=st.none() | st.integers(1025, 65536),
    persist_slots=st.none() | st.booleans(),
    enable_ws_tunnel=st.booleans(),
    hcheck=st.none() | st.builds(HealthCheck, interval_s=st.none() | st.integers(1, 10)),
    server_advertise=st.none() | st.booleans(),
    mcmp_allow=st.sampled_from([("all",), ("10.0.0.0/8", "local")]),
    mpm=st.builds(MpmSpec.fixed, st.integers(1, 8), st.integers(1, 64)),
)


@settings(max_examples=80, deadline=None)
@given(spec_strategy, st.sampled_from([B13_20, B13_22, B2X_2023, B2X]), st.none() | st.builds(Advertise))
def test_every_rendering_is_balanced_and_scoped(
    spec: BalancerSpec, build: ModClusterBuild, adv: Advertise | None
) -> None:
    try:
        text = render_httpd_conf(spec, build, advertise=adv)
    except ConfigError as exc:
        assert build.line == "1.3" and (spec.mode == "lbmethod_cluster" or spec.hcheck is not None), exc
        return
    lines = scoped(text)  # balanced sections
    assert not [line for stack, line in lines if stack and line.split()[0] in GLOBAL_ONLY]
    mods = loaded(text)
    assert len(mods) == len(set(mods))
    assert ("proxy_cluster" in mods) != ("lbmethod_cluster" in mods)
    assert ("proxy_balancer" in mods) == (spec.mode == "lbmethod_cluster")
    assert ("advertise" in mods) == (advertise_for(spec, adv) is not None)
    assert sum(1 for _, line in lines if line.startswith("ServerAdvertise")) == ("advertise" in mods)
