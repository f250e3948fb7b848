"""Unit tier for mod_jk and Tomcat: specs, workers.properties and httpd.conf rendering, the status worker's
properties output, Tomcat's server.xml, and the refusals of the httpd-modjk and tomcat flavors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.descriptions.base import SpecError
from harness.descriptions.jk import AjpConnector, JkBalancer, JkWorker
from harness.descriptions.options import HarnessOptions
from harness.descriptions.topology import (
    Advertise,
    BalancerSpec,
    NodeSpec,
    StaticProxies,
    StaticWorkers,
    Topology,
    topology_from_dict,
)
from harness.flavors import registry
from harness.flavors.base import FlavorRefused
from harness.flavors.httpd_modjk.conf import render_httpd_conf, render_workers_properties
from harness.flavors.httpd_modjk.status import StatusParseError, node_states, parse_status, state_up
from harness.flavors.tomcat.conf import render_server_xml
from harness.flavors.tomcat.node import connector_failures
from harness.judge.history import FaultWindow, RequestRecord
from scenarios.modjk.support import detection_s

DATA = Path(__file__).parent / "data" / "modjk"


def node(name: str, **fields: Any) -> NodeSpec:
    return NodeSpec(name, flavor="tomcat", connector="ajp", **fields)


def modjk(*nodes: NodeSpec, jk: JkBalancer | None = None, discovery: Any = None) -> Topology:
    return Topology("jk", BalancerSpec(flavor="httpd-modjk", jk=jk), nodes, discovery or StaticWorkers())


def properties(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))


def resolve(topology: Topology) -> Topology:
    return registry.resolve(topology, HarnessOptions.from_values({}))


# --- workers.properties ---------------------------------------------------------------------------------
def test_workers_properties_lists_lb_members_and_status_worker() -> None:
    text = render_workers_properties(modjk(node("node1", jk=JkWorker(lbfactor=3)), node("node2")))
    props = properties(text)
    assert props["worker.list"] == "lb,status"
    assert props["worker.lb.type"] == "lb" and props["worker.lb.balance_workers"] == "node1,node2"
    assert (props["worker.lb.sticky_session"], props["worker.lb.sticky_session_force"]) == ("1", "0")
    assert props["worker.status.type"] == "status"
    for name, factor in (("node1", "3"), ("node2", "1")):
        assert props[f"worker.{name}.type"] == "ajp13"
        assert (props[f"worker.{name}.host"], props[f"worker.{name}.port"]) == (name, "8009")
        assert props[f"worker.{name}.lbfactor"] == factor
        assert props[f"worker.{name}.route"] == name and props[f"worker.{name}.activation"] == "A"
    assert "worker.node1.ping_mode" not in props  # None: left to mod_jk's default


def test_member_properties_are_rendered_in_mod_jks_names_and_units() -> None:
    member = JkWorker(
        name="w1",
        ping_mode="CI",
        ping_timeout=2000,
        connect_timeout=1500,
        prepost_timeout=1000,
        connection_ping_interval=5,
        socket_timeout=7,
        reply_timeout=9000,
        activation="disabled",
        route="node1",
        redirect="node2",
        secret="s3cret",
    )
    props = properties(render_workers_properties(modjk(node("node1", jk=member), node("node2"))))
    expected = {
        "ping_mode": "CI",
        "ping_timeout": "2000",
        "connect_timeout": "1500",
        "prepost_timeout": "1000",
        "connection_ping_interval": "5",
        "socket_timeout": "7",
        "reply_timeout": "9000",
        "activation": "D",
        "route": "node1",
        "redirect": "node2",
        "secret": "s3cret",
        "host": "node1",
    }
    assert {key: props[f"worker.w1.{key}"] for key in expected} == expected
    assert props["worker.lb.balance_workers"] == "w1,node2"


def test_stopped_activation_and_lb_settings() -> None:
    jk = JkBalancer(
        lb_name="bal",
        status_name="jkstat",
        sticky_session=False,
        sticky_session_force=True,
        method="B",
        retries=3,
        recover_time=5,
        maintain=2,
    )
    props = properties(render_workers_properties(modjk(node("node1", jk=JkWorker(activation="stopped")), jk=jk)))
    assert props["worker.list"] == "bal,jkstat" and props["worker.maintain"] == "2"
    assert (props["worker.bal.sticky_session"], props["worker.bal.sticky_session_force"]) == ("0", "1")
    assert (props["worker.bal.method"], props["worker.bal.retries"], props["worker.bal.recover_time"]) == (
        "B",
        "3",
        "5",
    )
    assert props["worker.node1.activation"] == "S" and props["worker.jkstat.type"] == "status"


def test_the_rendering_is_a_pure_function_of_the_topology() -> None:
    topology = modjk(node("node1", jk=JkWorker(ping_mode="A")), node("node2"))
    assert render_workers_properties(topology) == render_workers_properties(topology_from_dict(topology.to_dict()))


# --- httpd.conf -----------------------------------------------------------------------------------------
def test_httpd_conf_mounts_reach_the_default_virtual_host() -> None:
    text = render_httpd_conf(
        modjk(node("node1", contexts=("/app", "/shop")), jk=JkBalancer(status_path="/status", watchdog_interval=1))
    )
    lines = text.splitlines()
    vhost = lines.index("<VirtualHost *:8000>")
    assert "    JkMountCopy On" in lines[vhost:]  # Debian: without it the vhost has no JkMount
    for mount in ("JkMount /app lb", "JkMount /app/* lb", "JkMount /shop/* lb", "JkMount /status status"):
        assert lines.index(mount) < vhost
    assert 'JkWorkersFile "/etc/httpd-harness/workers.properties"' in lines and "JkWatchdogInterval 1" in lines
    assert any(line.startswith("LoadModule jk_module") for line in lines)


# --- spec validation: errors name the field -------------------------------------------------------------
@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": "node-1"}, "name"),
        ({"name": "a.b"}, "name"),
        ({"redirect": "x y"}, "redirect"),
        ({"lbfactor": 0}, "lbfactor"),
        ({"ping_mode": "CX"}, "ping_mode"),
        ({"ping_mode": "CC"}, "ping_mode"),
        ({"ping_mode": "c"}, "ping_mode"),
        ({"ping_mode": ""}, "ping_mode"),
        ({"activation": "on"}, "activation"),
        ({"ping_timeout": 0}, "ping_timeout"),
        ({"route": "a.b"}, "route"),
        ({"max_packet_size": 100}, "max_packet_size"),
    ],
)
def test_invalid_worker_settings_name_their_field(fields: dict[str, Any], field: str) -> None:
    with pytest.raises(SpecError) as err:
        JkWorker(**fields)
    assert err.value.field == field


def test_worker_names_take_letters_digits_underscore_and_slash() -> None:
    assert JkWorker(name="app/node_1").name == "app/node_1"
    assert JkWorker(ping_mode="CPIA").ping_mode == "CPIA"


def test_an_unknown_directive_is_refused_naming_it() -> None:
    data = modjk(node("node1")).to_dict()
    data["nodes"][0]["jk"] = {"lbfactor": 2, "ping_mod": "C"}
    with pytest.raises(SpecError) as err:
        topology_from_dict(data)
    assert err.value.field == "nodes[0].jk.ping_mod" and "ping_mode" in err.value.message
    data = modjk(node("node1")).to_dict()
    data["balancer"]["jk"] = {"sticky_sessions": True}
    with pytest.raises(SpecError) as err:
        topology_from_dict(data)
    assert err.value.field == "balancer.jk.sticky_sessions"


def test_an_invalid_worker_name_in_a_dict_names_the_path() -> None:
    data = modjk(node("node1")).to_dict()
    data["nodes"][0]["jk"] = {"name": "node-1"}
    with pytest.raises(SpecError) as err:
        topology_from_dict(data)
    assert err.value.field == "nodes[0].jk.name" and "'_' and '/'" in err.value.message


def test_balancer_and_connector_specs_validate() -> None:
    with pytest.raises(SpecError) as err:
        JkBalancer(lb_name="lb", status_name="lb")
    assert err.value.field == "status_name"
    with pytest.raises(SpecError) as err:
        JkBalancer(method="X")
    assert err.value.field == "method"
    with pytest.raises(SpecError) as err:
        AjpConnector(packet_size=70000)
    assert err.value.field == "packet_size"


# --- flavor refusals ------------------------------------------------------------------------------------
@pytest.mark.parametrize("discovery", [Advertise(), StaticProxies()])
def test_modjk_speaks_static_workers_only(discovery: Any) -> None:
    with pytest.raises(FlavorRefused) as err:
        resolve(modjk(node("node1"), discovery=discovery))
    assert err.value.field == "discovery" and err.value.flavor == "httpd-modjk"


def test_modjk_refuses_a_node_that_is_not_ajp() -> None:
    topology = Topology(
        "jk", BalancerSpec(flavor="httpd-modjk"), (node("node1"), NodeSpec("node2", flavor="tomcat")), StaticWorkers()
    )
    with pytest.raises(FlavorRefused) as err:
        resolve(topology)
    assert err.value.field == "nodes[1].connector" and "AJP" in err.value.why


def test_modjk_refuses_a_node_name_that_is_no_worker_name_unless_jk_names_it() -> None:
    with pytest.raises(FlavorRefused) as err:
        resolve(modjk(node("node-1")))
    assert err.value.field == "nodes[0].name" and "jk.name" in err.value.why
    assert resolve(modjk(node("node-1", jk=JkWorker(name="node_1")))).nodes[0].name == "node-1"


def test_modjk_refuses_duplicate_workers_and_bad_redirects() -> None:
    with pytest.raises(FlavorRefused) as err:
        resolve(modjk(node("node1"), node("node2", jk=JkWorker(name="node1"))))
    assert err.value.field == "nodes[1].jk.name"
    with pytest.raises(FlavorRefused) as err:
        resolve(modjk(node("node1", jk=JkWorker(redirect="nodeX")), node("node2")))
    assert err.value.field == "nodes[0].jk.redirect"


@pytest.mark.parametrize("sent", [None, "other"])
def test_modjk_refuses_a_worker_secret_the_connector_would_refuse(sent: str | None) -> None:
    with pytest.raises(FlavorRefused) as err:
        resolve(modjk(node("node1", jk=JkWorker(secret=sent), ajp=AjpConnector(secret="s3cret"))))
    assert err.value.field == "nodes[0].jk.secret" and "403" in err.value.why
    same = modjk(node("node1", jk=JkWorker(secret="s3cret"), ajp=AjpConnector(secret="s3cret")))
    assert "worker.node1.secret=s3cret" in render_workers_properties(resolve(same))


def test_modjk_refuses_mod_cluster_balancer_fields() -> None:
    topology = Topology("jk", BalancerSpec(flavor="httpd-modjk", max_node=4), (node("node1"),), StaticWorkers())
    with pytest.raises(FlavorRefused) as err:
        resolve(topology)
    assert err.value.field == "balancer.max_node"


@pytest.mark.parametrize("flavor", ["undertow", "httpd-modcluster"])
def test_mod_cluster_balancers_refuse_a_jk_spec(flavor: str) -> None:
    topology = Topology.simple("t", 1, balancer=BalancerSpec(flavor=flavor, jk=JkBalancer()))
    with pytest.raises(FlavorRefused) as err:
        resolve(topology)
    assert err.value.field == "balancer.jk" and err.value.flavor == flavor


@pytest.mark.parametrize(
    ("flavor", "fields", "field"),
    [
        ("sim", {"jk": JkWorker()}, "nodes[0].jk"),
        ("wildfly", {"ajp": AjpConnector()}, "nodes[0].ajp"),
    ],
)
def test_mod_cluster_nodes_refuse_jk_and_ajp_specs(flavor: str, fields: dict[str, Any], field: str) -> None:
    topology = Topology.simple("t", 1, flavor=flavor, balancer=BalancerSpec(flavor="undertow"), **fields)
    with pytest.raises(FlavorRefused) as err:
        resolve(topology)
    assert err.value.field == field


def test_tomcat_refuses_mod_cluster_node_fields() -> None:
    with pytest.raises(FlavorRefused) as err:
        resolve(modjk(node("node1", load=30)))
    assert err.value.field == "nodes[0].load" and err.value.flavor == "tomcat"


# --- the status worker as data --------------------------------------------------------------------------
def test_status_properties_of_a_disabled_and_a_killed_worker() -> None:
    status = parse_status((DATA / "status-disabled-killed.properties").read_text())
    assert status.version == "mod_jk/1.2.48" and status.members["lb"] == ("node1", "node2", "w3")
    nodes = node_states(
        status,
        "lb",
        {"node1": ("/app",), "node2": ("/app",), "node3": ("/app",)},
        {"node1": "node1", "node2": "node2", "w3": "node3"},
    )
    assert list(nodes) == ["node1", "node2", "node3"]
    assert nodes["node1"].up is True and nodes["node1"].contexts == {"/app": "ENABLED"}
    assert nodes["node2"].contexts == {"/app": "DISABLED"} and nodes["node2"].detail["activation"] == "DIS"
    assert nodes["node3"].up is False and nodes["node3"].detail["state"].startswith("ERR")
    assert nodes["node3"].detail["worker"] == "w3" and nodes["node1"].port == 8009


def test_status_properties_of_a_stopped_worker() -> None:
    status = parse_status((DATA / "status-stopped.properties").read_text())
    nodes = node_states(status, "lb", {"node2": ("/app",)})
    assert nodes["node2"].contexts == {"/app": "STOPPED"}


@pytest.mark.parametrize(
    ("state", "up"),
    [
        ("OK", True),
        ("OK/IDLE", True),
        ("BUSY", True),
        ("ERR", False),
        ("ERR/REC", False),
        ("ERR/PRB", False),
        ("N/A", None),
    ],
)
def test_worker_states_map_to_up(state: str, up: bool | None) -> None:
    assert state_up(state) is up


def test_a_page_that_is_not_the_properties_output_is_refused() -> None:
    with pytest.raises(StatusParseError):
        parse_status("<html><body>JK Status Manager</body></html>")
    with pytest.raises(StatusParseError):
        parse_status("worker.result.type=OK\n")
    assert parse_status("worker.result.type=OK\n", listing=False).globals["result.type"] == "OK"


# --- Tomcat -----------------------------------------------------------------------------------------------
def test_server_xml_has_jvm_route_and_the_ajp_connector_settings() -> None:
    text = render_server_xml(
        node(
            "node1",
            ajp_port=8010,
            http_port=8081,
            ajp=AjpConnector(address="0.0.0.0", secret="s&t", secret_required=True, packet_size=16384),
        )
    )
    assert 'jvmRoute="node1"' in text and 'port="8081" protocol="HTTP/1.1"' in text
    assert (
        '<Connector protocol="AJP/1.3" port="8010" address="0.0.0.0" secretRequired="true" '
        'redirectPort="8443" secret="s&amp;t" packetSize="16384" />'
    ) in text


def test_server_xml_defaults_to_no_secret_required() -> None:
    text = render_server_xml(node("node2"))
    assert 'secretRequired="false"' in text and "secret=" not in text and 'port="8009"' in text


def test_connector_refusal_lines_are_found_in_tomcats_log() -> None:
    failures = connector_failures((DATA / "console-secret-required.log").read_text())
    assert failures and any("secretRequired" in line for line in failures), failures
    assert connector_failures("INFO Server startup in [1234] milliseconds\n") == []


# --- detection time, as the failover scenarios and the benchmark measure it ---------------------------------
def _record(t: float, session: str, node: str | None, status: int = 200, took: float = 0.1) -> RequestRecord:
    return RequestRecord(
        t=t,
        t_end=t + took,
        user="u1",
        session=session,
        route=node,
        new_route=None,
        node=node,
        status=status,
        latency_ms=took * 1000,
        error=None,
        path="/app/",
    )


def test_detection_is_the_first_request_of_a_faulted_session_served_elsewhere() -> None:
    window = FaultWindow("pause", ("node1",), start=100.0, end=None)
    records = [
        _record(99.0, "a", "node1"),
        _record(99.5, "b", "node2"),
        _record(100.5, "b", "node2"),  # a session of node2: not a detection
        _record(100.2, "a", None, status=0, took=2.0),  # failed: not routed away yet
        _record(103.0, "a", "node2", took=0.5),
        _record(104.0, "c", "node2"),
    ]
    assert detection_s(records, window, "node1") == 3.5
    assert detection_s(records[:4], window, "node1") is None
