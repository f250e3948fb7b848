"""The httpd-modcluster image builds the given source the way its tree allows and the rendered configuration
is the one the built modules accept (docker tier; skipped, naming --modcluster-source, without a source).

Setup: a balancer-only topology of the httpd-modcluster flavor compiled from --modcluster-source, started by
the `scenario` fixture (which renders httpd.conf from the image's capabilities file).
Steps: (1) the image's build method is the one the tree calls for (CMake when native/CMakeLists.txt exists,
per-module autotools otherwise); (2) the running httpd answers MCMP VERSION with the source's release, and
the rendered MCMP receive directive is the spelling the build registers; (3) `apache2 -t` in the container
accepts the rendered file, and every mod_cluster directive in it is one the build registers; (4) a spec that
sets every field whose directive this build registers renders, and `apache2 -t` accepts that too;
(5) the versions the balancer reports (evidence, run report) name release, commit and the httpd that
`apache2 -v` prints in the container.
A second test starts a balancer whose configuration parses but cannot run (Maxnode 200000000: the slot memory
cannot be made, httpd ends right after starting): the start fails at once, not by timeout, naming release and
commit, with httpd's start output and error_log.
"""

from __future__ import annotations

import dataclasses
import io
import re
import tarfile
from typing import Any

import pytest

from harness.descriptions.balancer import BalancerSpec, HealthCheck
from harness.descriptions.topology import Topology
from harness.flavors.httpd_modcluster.balancer import CONF_PATH, BalancerStartError, HttpdBalancer, render_for
from harness.flavors.httpd_modcluster.capabilities import FIELD_DIRECTIVES, ModClusterBuild
from harness.machinery.containers import exec_in

pytestmark = [pytest.mark.docker, pytest.mark.modcluster_source]
FULL_CONF = "/etc/httpd-harness/full.conf"
# A value for every field in FIELD_DIRECTIVES (rendered only when the build registers its directive).
FULL_VALUES: dict[str, Any] = {
    "max_node": 20, "max_host": 20, "max_context": 100, "max_sessionid": 10, "max_mcmp_mess_size": 4096,
    "mem_manager_file": "logs/manager", "persist_slots": False, "check_nonce": True, "allow_display": True,
    "allow_cmd": True, "reduce_display": False, "enable_ws_tunnel": True, "ws_upgrade_header": "websocket",
    "use_alias": False, "enable_options": True, "use_nocanon": False, "lbstatus_recal_time_s": 5,
    "wait_before_remove_s": 10, "hcheck": HealthCheck(interval_s=2), "advertise_manager_url": "/mcm",
    "advertise_bind_address": "0.0.0.0:23364",
}  # fmt: skip


def _put(container: Any, path: str, text: str) -> None:
    data = text.encode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo(path.rsplit("/", 1)[1])
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    container.get_wrapped_container().put_archive(path.rsplit("/", 1)[0], buffer.getvalue())


def _config_test(balancer: HttpdBalancer, path: str) -> str:
    code, output = exec_in(balancer.container, ["apache2", "-f", path, "-t"])
    assert code == 0 and "Syntax OK" in output, f"apache2 -t {path} refused it:\n{output}"
    return output


def _mod_cluster_directives(text: str, build: ModClusterBuild) -> set[str]:
    """Directive names in `text` that a mod_cluster module of some build registers (first word of a line)."""
    known = {name for _, name in build.directives} | set(FIELD_DIRECTIVES.values())
    known |= {"EnableMCMPReceive", "EnableMCPMReceive", "ManagerBalancerName"}
    words = {m[1] for m in re.finditer(r"^\s*([A-Za-z]+)\b", text, re.M)}
    return words & known


def test_the_rendered_configuration_is_what_the_built_modules_accept(scenario: Any, modcluster_source: Any) -> None:
    cluster = scenario.cluster(Topology("capabilities", BalancerSpec(flavor="httpd-modcluster"), ()))
    balancer = cluster.get_balancer()
    assert isinstance(balancer, HttpdBalancer)
    build = balancer.build
    print(f"under test: {modcluster_source.identity}, {build.build_method} build, {build.httpd}")

    assert build.build_method == modcluster_source.build_method
    assert build.build_method == ("cmake" if (modcluster_source.native / "CMakeLists.txt").is_file() else "autotools")
    assert balancer.version() == modcluster_source.release
    receive = build.receive_directive("proxy_cluster")
    assert receive is not None and re.search(rf"^\s*{receive}$", balancer.config, re.M)

    _config_test(balancer, CONF_PATH)
    rendered = _mod_cluster_directives(balancer.config, build)
    assert rendered and all(build.registers(name) for name in rendered), rendered

    wanted = {
        name: value for name, value in FULL_VALUES.items() if build.registers(FIELD_DIRECTIVES[name], "proxy_cluster")
    }
    full = dataclasses.replace(balancer.spec, server_advertise=True, **wanted)
    text = render_for(full, modcluster_source, build, None)
    _put(balancer.container, FULL_CONF, text)
    _config_test(balancer, FULL_CONF)
    assert {FIELD_DIRECTIVES[name] for name in wanted} <= _mod_cluster_directives(text, build)

    code, httpd = exec_in(balancer.container, ["apache2", "-v"])
    assert code == 0 and build.httpd in httpd
    versions = cluster.versions()
    assert versions["mod_cluster"] == modcluster_source.release
    assert versions["mod_cluster commit"] == modcluster_source.commit
    assert versions["httpd"] == build.httpd and versions["httpd"].startswith("Apache/2.4.")


def test_a_configuration_that_parses_but_cannot_run_is_reported_with_httpds_logs(
    scenario: Any, modcluster_source: Any
) -> None:
    huge = BalancerSpec(flavor="httpd-modcluster", max_node=200_000_000)
    with pytest.raises(BalancerStartError) as err:
        scenario.cluster(Topology("cannot-run", huge, ()))
    message = str(err.value)
    assert "did not stay up" in message or "exited while starting" in message, message[:600]
    assert "is not ready" not in message  # ended when httpd ended, not at the readiness deadline
    assert modcluster_source.identity in message
    assert "--- error_log tail ---" in message and "Maxnode 200000000" in message
