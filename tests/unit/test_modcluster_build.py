"""What a mod_cluster tree is and what its build has, without Docker.

Covers the tree's line and build method (source.inspect_tree / build_method), the commit of a checkout
(commit_of, with a real git repository in tmp), the image's capabilities file (parse_capabilities) and what a
spec needs of a build (refusal), and images/httpd-modcluster/build-modules.sh itself, run with fake cmake,
make, apxs and apache2 on PATH: the method it picks from the tree and the capabilities file it writes, read
back by the harness's parser.
"""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from harness.descriptions import settings
from harness.descriptions.balancer import BalancerSpec
from harness.descriptions.node import Advertise
from harness.flavors.httpd_modcluster import source as modcluster_source
from harness.flavors.httpd_modcluster.capabilities import (
    CapabilityError,
    ModClusterBuild,
    needed_modules,
    parse_capabilities,
    refusal,
)

SCRIPT = settings.IMAGES_DIR / "httpd-modcluster" / "build-modules.sh"
FOLDERS_13 = ("advertise", "mod_cluster_slotmem", "mod_manager", "mod_proxy_cluster")


def tree(root: Path, folders: tuple[str, ...] = FOLDERS_13, cmake: bool = True, configure: bool = True) -> Path:
    native = root / "native"
    for name in (*folders, "include"):
        (native / name).mkdir(parents=True, exist_ok=True)
        if configure and name != "include":
            (native / name / "configure.in").write_text("AC_INIT\n")
            (native / name / "buildconf").write_text("printf '#!/bin/sh\\n' > configure; chmod +x configure\n")
    if cmake:
        (native / "CMakeLists.txt").write_text("PROJECT(mod_cluster)\n")
    (native / "include" / "mod_proxy_cluster.h").write_text('#define MOD_CLUSTER_EXPOSED_VERSION "mod_cluster/1.3.1"\n')
    return root


# --- the tree -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("folders", "line"),
    [(FOLDERS_13, "1.3"), (("advertise", "mod_manager", "mod_proxy_cluster", "balancers"), "2.x"),
     ((*FOLDERS_13, "balancers"), "2.x")],  # 2.x before 2023-05-25 still has mod_cluster_slotmem
)  # fmt: skip
def test_line_is_2x_exactly_when_the_tree_has_balancers(tmp_path: Path, folders: tuple[str, ...], line: str) -> None:
    assert modcluster_source.inspect_tree(tree(tmp_path, folders), "given").line == line


def test_build_method_follows_the_tree(tmp_path: Path) -> None:
    assert modcluster_source.inspect_tree(tree(tmp_path / "a"), "a").build_method == "cmake"
    assert modcluster_source.inspect_tree(tree(tmp_path / "b", cmake=False), "b").build_method == "autotools"
    with pytest.raises(modcluster_source.SourceError) as err:
        modcluster_source.inspect_tree(tree(tmp_path / "c", cmake=False, configure=False), "c")
    assert "native/mod_manager/configure.in" in str(err.value) and "CMakeLists.txt" in str(err.value)


def _git(folder: Path, *args: str) -> str:
    command = ["git", "-C", str(folder), "-c", "user.name=t", "-c", "user.email=t@t", *args]
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout.strip()


def test_commit_is_head_of_the_checkout_dirty_when_native_changed_unknown_otherwise(tmp_path: Path) -> None:
    root = tree(tmp_path / "checkout")
    assert modcluster_source.commit_of(root) == "unknown"  # not a checkout yet
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "release")
    head = _git(root, "rev-parse", "HEAD")
    source = modcluster_source.inspect_tree(root, str(root))
    assert source.commit == head and source.identity == f"mod_cluster/1.3.1 @ {head[:12]}"
    (root / "native" / "mod_manager" / "configure.in").write_text("changed\n")
    assert modcluster_source.commit_of(root) == f"{head}+dirty"
    inner = tree(root / "vendored")  # a tree inside another checkout is not that checkout's commit
    assert modcluster_source.commit_of(inner) == "unknown"
    assert modcluster_source.inspect_tree(inner, "inner").identity == "mod_cluster/1.3.1 @ unknown"


# --- the capabilities file ------------------------------------------------------------------------------------
CAPABILITIES = """build-method autotools
httpd Apache/2.4.71 (Debian)
module mod_manager.so
module mod_proxy_cluster.so
module mod_lbmethod_cluster.so
directive mod_manager.c EnableMCPMReceive
directive mod_manager.c ManagerBalancerName
directive mod_proxy_cluster.c UseNocanon
directive mod_lbmethod_cluster.c ModProxyClusterHCTemplate
needs WSUpgradeHeader mod_proxy_wstunnel.so
"""


def test_capabilities_are_parsed_with_release_and_commit() -> None:
    build = parse_capabilities(CAPABILITIES, "2.x", "mod_proxy_cluster/2.0.0.Dev", "b" * 40)
    assert (build.build_method, build.httpd) == ("autotools", "Apache/2.4.71 (Debian)")
    assert build.modules == {"mod_manager.so", "mod_proxy_cluster.so", "mod_lbmethod_cluster.so"}
    assert build.label == "mod_proxy_cluster/2.0.0.Dev bbbbbbbbbbbb"
    assert build.receive_directive() == "EnableMCPMReceive"
    assert build.registers("UseNocanon", "proxy_cluster") and not build.registers("UseNocanon", "lbmethod_cluster")
    assert build.registers("ModProxyClusterHCTemplate", "lbmethod_cluster")
    assert not build.registers("ModProxyClusterHCTemplate", "proxy_cluster")
    assert build.slotmem_module == ("slotmem_shm", "mod_slotmem_shm.so")
    assert build.needs == {("WSUpgradeHeader", "mod_proxy_wstunnel.so")}
    assert needed_modules(BalancerSpec(ws_upgrade_header="websocket"), build) == ["mod_proxy_wstunnel.so"]
    assert needed_modules(BalancerSpec(enable_ws_tunnel=True), build) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [("module mod_manager.so\nwhatever here\n", "line 2"), ("build-method cmake\n", "no `module` line"),
     ("module mod_manager.so\ndirective EnableMCMPReceive\n", "line 2")],
)  # fmt: skip
def test_a_bad_capabilities_file_is_named(text: str, expected: str) -> None:
    with pytest.raises(CapabilityError, match=expected):
        parse_capabilities(text, "1.3")


def test_both_spellings_prefer_enable_mcmp_receive() -> None:
    both = ModClusterBuild.of("1.3", ["EnableMCPMReceive", "EnableMCMPReceive"])
    assert both.receive_directive() == "EnableMCMPReceive"
    assert both.slotmem_module == ("cluster_slotmem", "mod_cluster_slotmem.so")


def test_refusals_name_the_field() -> None:
    old = ModClusterBuild.of("1.3", ["EnableMCPMReceive", "ServerAdvertise", "AdvertiseGroup", "AdvertiseFrequency"])
    assert refusal(BalancerSpec(), old, None) is None
    assert refusal(BalancerSpec(), old, Advertise()) is None
    error = refusal(BalancerSpec(), old, Advertise(security_key="k"))
    assert error is not None and error.field == "server_advertise" and "AdvertiseSecurityKey" in error.message
    error = refusal(BalancerSpec(max_node=4), old, None)
    assert error is not None and error.field == "max_node" and "Maxnode" in error.message
    error = refusal(BalancerSpec(mode="lbmethod_cluster"), old, None)
    assert error is not None and error.field == "mode" and "mod_lbmethod_cluster.so" in error.message
    assert refusal(BalancerSpec(enable_ws_tunnel=False), old, None) is None  # False renders nothing


# --- build-modules.sh with fake tools -------------------------------------------------------------------------
FAKE_APACHE2 = """#!/bin/sh
case "$1" in -v) echo "Server version: Apache/2.4.99 (Fake)"; exit 0 ;; esac
conf=$2
echo "ProxyPass (mod_proxy.c)"
grep -q mod_manager.so "$conf" && printf 'EnableMCPMReceive (mod_manager.c)\\n\\tAllow MCPM.\\nEnableWsTunnel (mod_manager.c)\\n'
grep -q mod_proxy_cluster.so "$conf" && echo "UseAlias (mod_proxy_cluster.c)"
grep -q mod_lbmethod_cluster.so "$conf" && echo "ModProxyClusterHCTemplate (mod_lbmethod_cluster.c)"
grep -q mod_broken.so "$conf" && { echo "Cannot load mod_broken.so: undefined symbol: ap_gone"; exit 1; }
if [ "${3:-}" = -t ] && [ -n "${FAKE_WSTUNNEL:-}" ] && grep -q "^EnableWsTunnel" "$conf"; then
    echo "AH00526: Syntax error on line 12 of $conf:"; echo "EnableWsTunnel requires mod_proxy_wstunnel.c"; exit 1
fi
exit 0
"""
FAKE_MAKE = """#!/bin/sh
if [ -n "${FAKE_MAKE_FAILS:-}" ] && [ "$(basename "$PWD")" = "$FAKE_MAKE_FAILS" ]; then
    echo "mod_manager.c:420:5: error: unknown type name 'proxy_worker_stat'"; exit 2
fi
if [ "${1:-}" = -C ]; then mkdir -p "$2/modules"; for m in $FAKE_CMAKE_MODULES; do : > "$2/modules/$m"; done; exit 0; fi
name=$(basename "$PWD"); case $name in mod_*) : > "$name.so" ;; *) : > "mod_$name.so" ;; esac
"""


def _fake_tools(folder: Path) -> dict[str, str]:
    bin_dir = folder / "bin"
    bin_dir.mkdir()
    for name, text in (("apache2", FAKE_APACHE2), ("make", FAKE_MAKE), ("cmake", "#!/bin/sh\nexit 0\n")):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(stat.S_IRWXU)
    (folder / "modules").mkdir()
    return {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "MC_TOP": str(folder / "top"),
            "MC_MODULES": str(folder / "modules"), "APXS": "/fake/apxs"}  # fmt: skip


def _run_script(tmp_path: Path, native_root: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = _fake_tools(tmp_path) | env
    (tmp_path / "top").mkdir()
    (native_root / "native").rename(tmp_path / "top" / "native")
    return subprocess.run(["sh", str(SCRIPT)], capture_output=True, text=True, env=environment, timeout=60)


def test_the_build_script_uses_autotools_without_cmake_and_lists_the_directives(tmp_path: Path) -> None:
    result = _run_script(tmp_path, tree(tmp_path / "src", cmake=False))
    assert result.returncode == 0, result.stderr
    build = parse_capabilities((tmp_path / "top" / "capabilities.txt").read_text(), "1.3")
    assert build.build_method == "autotools" and build.httpd == "Apache/2.4.99 (Fake)"
    assert build.modules == {f"mod_{n.removeprefix('mod_')}.so" for n in FOLDERS_13}
    assert build.directives == {
        ("mod_manager.c", "EnableMCPMReceive"),
        ("mod_manager.c", "EnableWsTunnel"),
        ("mod_proxy_cluster.c", "UseAlias"),
    }
    assert build.needs == set() and (tmp_path / "modules" / "mod_manager.so").is_file()


def test_the_build_script_records_a_directive_that_needs_another_module(tmp_path: Path) -> None:
    result = _run_script(tmp_path, tree(tmp_path / "src", cmake=False), FAKE_WSTUNNEL="1")
    assert result.returncode == 0, result.stderr
    build = parse_capabilities((tmp_path / "top" / "capabilities.txt").read_text(), "1.3")
    assert build.needs == {("EnableWsTunnel", "mod_proxy_wstunnel.so")}


def test_the_build_script_uses_cmake_and_lists_each_mode_separately(tmp_path: Path) -> None:
    modules = "mod_manager.so mod_proxy_cluster.so mod_lbmethod_cluster.so mod_advertise.so"
    result = _run_script(tmp_path, tree(tmp_path / "src"), FAKE_CMAKE_MODULES=modules)
    assert result.returncode == 0, result.stderr
    build = parse_capabilities((tmp_path / "top" / "capabilities.txt").read_text(), "2.x")
    assert build.build_method == "cmake" and build.modules == set(modules.split())
    assert build.registers("UseAlias", "proxy_cluster") and not build.registers("UseAlias", "lbmethod_cluster")
    assert build.registers("ModProxyClusterHCTemplate", "lbmethod_cluster")
    assert not any(name == "ProxyPass" for _, name in build.directives)  # httpd's own are not listed


def test_the_build_script_fails_naming_a_module_that_does_not_load(tmp_path: Path) -> None:
    result = _run_script(
        tmp_path, tree(tmp_path / "src"), FAKE_CMAKE_MODULES="mod_manager.so mod_proxy_cluster.so mod_broken.so"
    )
    assert result.returncode != 0
    assert "do not load" in result.stderr and "undefined symbol: ap_gone" in result.stderr


def test_the_build_script_names_the_folder_and_the_compiler_error_when_make_fails(tmp_path: Path) -> None:
    result = _run_script(tmp_path, tree(tmp_path / "src", cmake=False), FAKE_MAKE_FAILS="mod_manager")
    assert result.returncode != 0
    assert "mod_cluster build failed (autotools): native/mod_manager" in result.stderr
    assert "--- compiler errors ---" in result.stderr and "unknown type name 'proxy_worker_stat'" in result.stderr
