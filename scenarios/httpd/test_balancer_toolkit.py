"""httpd + mod_cluster balancer image and the observation toolkit, against the real modules (docker tier).

Setup: a balancer-only topology (no nodes) of the httpd-modcluster flavor, compiled from --modcluster-source
(skipped, naming the option, without one), started by the `scenario` fixture; a probe container in the
cluster's scope serving HTTP on 8080 as the node's backend.
Steps: register node1 by hand with the MCMP client (CONFIG, ENABLE-APP, STATUS); check the registration in
the parsed INFO, DUMP and manager page and that a request is proxied to the backend; kill the backend
process and check the manager page shows node1 NOTOK after a request fails over nowhere.
With HARNESS_RECORD_REPLIES=1 the raw replies are saved under tests/unit/data/recorded/<build>/ for the unit
tier (tests/unit/test_recorded_replies.py).
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import requests
from testcontainers.core.wait_strategies import LogMessageWaitStrategy

from harness.descriptions import settings
from harness.descriptions.balancer import BalancerSpec
from harness.descriptions.topology import Topology
from harness.flavors.httpd_modcluster.balancer import HttpdBalancer
from harness.machinery.containers import container_ip, exec_in
from harness.machinery.resources import Resources
from harness.machinery.waiting import wait_until
from harness.protocol.mcmp import parse_status_reply

pytestmark = [pytest.mark.docker, pytest.mark.modcluster_source]
PORT_OPEN = "import socket; socket.create_connection(('127.0.0.1', 8080), 1)"
RECORDED = settings.PROJECT_ROOT / "tests" / "unit" / "data" / "recorded"


def _record(source: Any, name: str, text: str) -> None:
    """Save a raw reply of this build for the unit tier (only with HARNESS_RECORD_REPLIES=1)."""
    if os.environ.get("HARNESS_RECORD_REPLIES") != "1":
        return
    folder = RECORDED / source.release.replace("/", "-")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text)


def _backend(scope: Resources, image: str, network: Any) -> Any:
    container = scope.container(
        image,
        name="backend",
        role="probe",
        network=network,
        wait=LogMessageWaitStrategy('"event": "ready"').with_startup_timeout(30),
    )
    exec_in(
        container,
        [
            "sh",
            "-c",
            "echo backend-ok > /tmp/index.html && cd / && nohup python3 -m http.server 8080 >/tmp/http.log 2>&1 &",
        ],
    )
    wait_until(
        lambda: exec_in(container, ["python3", "-c", PORT_OPEN])[0] == 0 or None,
        timeout=10,
        what="backend http.server listening on 8080",
    )
    return container


def test_registration_shows_in_info_dump_and_manager_page(
    scenario: Any, build_image: Any, modcluster_source: Any
) -> None:
    cluster = scenario.cluster(Topology("toolkit", BalancerSpec(flavor="httpd-modcluster"), ()))
    balancer = cluster.get_balancer()
    assert isinstance(balancer, HttpdBalancer)
    network = cluster.network
    backend = _backend(cluster.scope, build_image("probe"), network)
    backend_ip = container_ip(backend, network.name)
    print(f"mod_cluster under test: {balancer.version()}")

    assert balancer.version() == modcluster_source.release  # MCMP VERSION (1.3.0: the manager page, no VERSION)
    with balancer.mcmp() as mcmp:
        config = mcmp.config("node1", Host=backend_ip, Port="8080", Type="http", StickySessionForce="No")
        assert config.ok, (config.status, config.error_type, config.error_message)
        assert mcmp.enable_app("node1", "/tmp", ["localhost"]).ok
        status = parse_status_reply(mcmp.status("node1", 60))
        assert status.route == "node1" and status.state == "OK"

    state = balancer.wait_for_context("node1", "/tmp", "ENABLED", timeout=15)
    assert state.nodes["node1"].host == backend_ip and state.nodes["node1"].port == 8080
    dump = balancer.dump()
    assert [n.name for n in dump.nodes] == ["node1"]
    assert {c.path for c in dump.contexts} == {"/tmp"}
    balancer.wait_for_node_up("node1", timeout=10)  # right after CONFIG the page may say NOTOK for ~1 s
    assert balancer.manager_page().node("node1") is not None
    balancer.wait_for_load("node1", 60, timeout=10)

    reply = requests.get(balancer.proxy_url("/tmp/index.html"), timeout=10)
    assert reply.status_code == 200 and "backend-ok" in reply.text
    with balancer.mcmp() as mcmp:
        for name, text in (
            ("info.txt", mcmp.info().body),
            ("info.xml", mcmp.info(xml=True).body),
            ("dump.txt", mcmp.dump().body),
            ("dump.xml", mcmp.dump(xml=True).body),
        ):
            _record(modcluster_source, name, text)
    _record(modcluster_source, "manager-ok.html", balancer._manager_html())

    exec_in(backend, ["pkill", "-KILL", "-f", "http.server"])

    def notok_after_a_request() -> bool:
        requests.get(balancer.proxy_url("/tmp/index.html"), timeout=10)
        node = balancer.manager_page().node("node1")
        return node is not None and not node.is_ok

    wait_until(
        notok_after_a_request,
        timeout=20,
        interval=0.5,
        what="manager page to show node1 NOTOK",
        describe=lambda: balancer.snapshot().summary(),
    )
    assert balancer.snapshot().nodes["node1"].up is False
    _record(modcluster_source, "manager-notok.html", balancer._manager_html())


def test_lbmethod_mode_is_refused_for_13_sources(modcluster_source: Any) -> None:
    """A 1.3 tree has no mod_lbmethod_cluster: the options are refused naming --modcluster-mode before anything
    starts, and the configuration renderer refuses it too."""
    from harness.descriptions.options import HarnessOptions, OptionError
    from harness.flavors import registry
    from harness.flavors.httpd_modcluster.balancer import render_for
    from harness.flavors.httpd_modcluster.capabilities import ModClusterBuild
    from harness.flavors.httpd_modcluster.source import SourceError

    if modcluster_source.line != "1.3":
        pytest.skip(f"applies to 1.3.x sources only; this is {modcluster_source.release}")
    options = HarnessOptions(
        balancer="httpd-modcluster", modcluster_source=str(modcluster_source.root), modcluster_mode="lbmethod_cluster"
    )
    with pytest.raises(OptionError, match="--modcluster-mode"):
        registry.validate_options(options)
    with pytest.raises(SourceError, match="lbmethod_cluster"):
        build = ModClusterBuild.of("1.3", ["EnableMCPMReceive"])
        render_for(BalancerSpec(mode="lbmethod_cluster"), modcluster_source, build, None)
