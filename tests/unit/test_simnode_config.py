"""The sim node's configuration and fault vocabulary: valid input is read back faithfully, invalid input is
refused with an error naming the field (the node then refuses to start). Nodes are the harness's NodeSpec
and faults the harness's FaultSpecs: the sim re-declares neither."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.descriptions.fault_words import StartFault, fault_word, parse_fault_words
from harness.descriptions.faults import (
    ErrorReplies,
    Exit,
    Flap,
    Freeze,
    Kill,
    NoStatus,
    NoStickyForce,
    ReportLoad,
    Reregister,
    Slowness,
)
from harness.descriptions.node import NodeSpec
from simnode.config import ConfigError, parse_config, parse_config_text
from simnode.faults import Faults, initial_faults, parse_fault_body, switched
from tests.unit.simnode_fakes import SIM_ROOT


def base(**node: Any) -> dict[str, Any]:
    fields = {"name": "node1", **node} if node != {"name": None} else {}
    return {"nodes": [fields], "discovery": {"kind": "static_proxies", "proxies": ["balancer:6666"]}}


def test_a_node_is_the_node_spec_with_its_defaults() -> None:
    config = parse_config(base())
    assert config.nodes[0] == NodeSpec("node1"), "one NodeSpec, one set of defaults"
    assert config.nodes[0].status_interval_s == 10.0, "the Java node's status interval"
    assert config.discovery.proxies == (("balancer", 6666),) and config.control_port == 9000


def test_advertise_discovery_is_read() -> None:
    data = base()
    data["discovery"] = {
        "kind": "advertise",
        "group": "224.0.1.77",
        "port": 23377,
        "security_key": "k",
        "frequency_s": 1.0,
    }
    discovery = parse_config(data).discovery
    assert (discovery.kind, discovery.group, discovery.port, discovery.security_key) == (
        "advertise",
        "224.0.1.77",
        23377,
        "k",
    )


@pytest.mark.parametrize(
    "node, field",
    [
        ({"load": 101}, "nodes[0].load"),
        ({"load": True}, "nodes[0].load"),
        ({"name": "bad name"}, "nodes[0].name"),
        ({"contexts": ["app"]}, "nodes[0].contexts[0]"),
        ({"contexts": ["/a", "/a"]}, "nodes[0].contexts[1]"),
        ({"contexts": []}, "nodes[0].contexts"),
        ({"aliases": ["a,b"]}, "nodes[0].aliases[0]"),
        ({"status_interval_s": 0}, "nodes[0].status_interval_s"),
        ({"http_port": 70000}, "nodes[0].http_port"),
        ({"connector": "ajp"}, "nodes[0].connector"),
        ({"flavor": "wildfly"}, "nodes[0].flavor"),
        ({"sticky_session": "yes"}, "nodes[0].sticky_session"),
        ({"balancer": "x" * 40}, "nodes[0].balancer"),
        ({"faults": ["explode"]}, "nodes[0].faults[0]"),
        ({"faults": ["error_replies:status=404"]}, "nodes[0].faults[0].status"),
        ({"faults": ["report_load:load=200"]}, "nodes[0].faults[0].load"),
        ({"faults": ["slowness:delay=5"]}, "nodes[0].faults[0]"),
        ({"faults": ["kill@soon"]}, "nodes[0].faults[0]"),
        ({"faults": ["freeze", "freeze"]}, "nodes[0].faults[1]"),
        ({"name": None}, "nodes[0].name"),
        ({"colour": "red"}, "nodes[0].colour"),
        ({"http_port": 9000}, "nodes[0].http_port"),
    ],
)
def test_invalid_node_fields_are_named(node: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_config(base(**node))
    assert error.value.field == field


@pytest.mark.parametrize(
    "data, field",
    [
        ({"nodes": []}, "nodes"),
        (
            {"nodes": [{"name": "a"}, {"name": "a", "http_port": 8081}], "discovery": {"kind": "static_proxies"}},
            "nodes[1].name",
        ),
        ({"nodes": [{"name": "a"}, {"name": "b"}], "discovery": {"kind": "static_proxies"}}, "nodes[1].http_port"),
        ({"nodes": [{"name": "a"}]}, "discovery"),
        ({"nodes": [{"name": "a"}], "discovery": {"kind": "multicast"}}, "discovery.kind"),
        (
            {"nodes": [{"name": "a"}], "discovery": {"kind": "static_proxies", "proxies": ["balancer"]}},
            "discovery.proxies[0]",
        ),
        ({"nodes": [{"name": "a"}], "discovery": {"kind": "advertise", "group": "10.0.0.1"}}, "discovery.group"),
        ({"nodes": [{"name": "a"}], "discovery": {"kind": "static_proxies"}, "log_level": "loud"}, "log_level"),
        (
            {"nodes": [{"name": "a"}], "discovery": {"kind": "static_proxies"}, "advertise_interface": "eth0"},
            "advertise_interface",
        ),
    ],
)
def test_invalid_process_fields_are_named(data: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_config(data)
    assert error.value.field == field


def test_invalid_json_is_refused_naming_the_source() -> None:
    with pytest.raises(ConfigError, match="SIMNODE_SPEC: not valid JSON"):
        parse_config_text("{nodes:", "SIMNODE_SPEC")


def test_the_program_refuses_to_start_naming_the_field() -> None:
    spec = json.dumps(base(load=500))
    result = subprocess.run(
        [sys.executable, "-m", "simnode", "--spec", spec],
        capture_output=True,
        text=True,
        cwd=str(SIM_ROOT),
        env={"PYTHONPATH": f"{SIM_ROOT}:{SIM_ROOT.parents[1]}"},
        timeout=30,
    )
    assert result.returncode == 2
    assert "nodes[0].load" in result.stderr and "-1..100" in result.stderr


def test_fault_words_are_the_fault_specs() -> None:
    words = (
        "freeze",
        "slowness:delay_ms=250",
        "error_replies:status=502",
        "report_load:load=-1",
        "no_status",
        "flap:up_s=1.5,down_s=0.5@2",
        "no_sticky_force",
        "kill@3",
        "exit:code=9@9",
        "reregister:port=8181,host=10.1.1.1@2",
    )
    plan = parse_fault_words("faults", words, "n1")
    assert plan == (
        StartFault(Freeze("n1")),
        StartFault(Slowness("n1", 250)),
        StartFault(ErrorReplies("n1", 502)),
        StartFault(ReportLoad("n1", -1)),
        StartFault(NoStatus("n1")),
        StartFault(Flap("n1", 1.5, 0.5), 2.0),
        StartFault(NoStickyForce("n1")),
        StartFault(Kill("n1"), 3.0),
        StartFault(Exit("n1", 9), 9.0),
        StartFault(Reregister("n1", 8181, "10.1.1.1"), 2.0),
    )
    assert tuple(fault_word(p.fault, p.after_s) for p in plan) == words, "fault_word is the inverse"
    assert parse_fault_words("faults", ("flap:up_s=2",), "n")[0].fault == Flap("n", 2.0, 1.0)


@given(
    st.sampled_from([Freeze("n"), NoStatus("n"), NoStickyForce("n"), Kill("n")])
    | st.builds(Slowness, st.just("n"), st.integers(1, 3_600_000))
    | st.builds(ErrorReplies, st.just("n"), st.integers(500, 599))
    | st.builds(ReportLoad, st.just("n"), st.integers(-1, 100))
    | st.builds(Flap, st.just("n"), st.floats(0.01, 1e4), st.floats(0.01, 1e4))
    | st.builds(Exit, st.just("n"), st.integers(0, 255))
    | st.builds(
        Reregister,
        st.just("n"),
        st.none() | st.integers(1, 65535),
        st.none() | st.sampled_from(["10.0.0.7", "node-b", "::1"]),
    ),
    st.none() | st.floats(0, 86400),
)
def test_every_start_fault_round_trips_through_its_word(fault: Any, after: float | None) -> None:
    word = fault_word(fault, after)
    (start,) = parse_fault_words("faults", (word,), "n")
    assert start == StartFault(fault, after)


def test_start_toggles_set_the_switches() -> None:
    toggles = (Freeze("n"), Slowness("n", 250), ReportLoad("n", 0), Flap("n", 1, 2), NoStickyForce("n"))
    assert initial_faults(toggles) == Faults(freeze=True, delay_ms=250, load=0, flap=(1.0, 2.0), no_sticky_force=True)
    assert initial_faults(toggles).active == ["freeze", "slowness", "report_load", "flap", "no_sticky_force"]
    assert switched(Faults(delay_ms=250, error=502), Slowness("n", 9), False) == Faults(error=502)


def test_posted_faults_are_fault_spec_dicts() -> None:
    body = {
        "apply": [Slowness("node1", 200).to_dict(), ErrorReplies("node2").to_dict()],
        "heal": [ReportLoad("node1", -1).to_dict()],
    }
    apply, heal = parse_fault_body(body, ("node1", "node2"))
    assert (apply, heal) == ([Slowness("node1", 200), ErrorReplies("node2", 503)], [ReportLoad("node1", -1)])


@pytest.mark.parametrize(
    "body, field",
    [
        ({"apply": [{"kind": "slowness", "node": "node1", "delay_ms": -1}]}, "apply[0].delay_ms"),
        ({"apply": [{"kind": "pause", "node": "node1"}]}, "apply[0].kind"),
        ({"heal": [{"kind": "freeze", "node": "node9"}]}, "heal[0].node"),
        ({"apply": [{"kind": "explode", "node": "node1"}]}, "apply[0].kind"),
        ({"apply": [{"kind": "freeze", "node": "node1", "colour": 1}]}, "apply[0].colour"),
        ({"apply": {"kind": "freeze"}}, "apply"),
        ({"freeze": True}, "freeze"),
    ],
)
def test_posted_fault_errors_name_the_field(body: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_fault_body(body, ("node1",))
    assert error.value.field == field


@given(st.lists(st.text(min_size=1, max_size=20), max_size=4))
def test_any_fault_words_either_parse_or_name_the_item(words: list[str]) -> None:
    try:
        parse_fault_words("faults", tuple(words), "n")
    except ConfigError as exc:
        assert exc.field == "faults" or exc.field.startswith("faults[")


@given(st.integers(-5, 105), st.floats(allow_nan=True, allow_infinity=True))
def test_numbers_are_range_checked(load: int, interval: float) -> None:
    valid = -1 <= load <= 100 and interval == interval and interval >= 0.001  # NodeSpec's own rule
    try:
        node = parse_config(base(load=load, status_interval_s=interval)).nodes[0]
    except ConfigError as exc:
        assert exc.field in ("nodes[0].load", "nodes[0].status_interval_s")
        assert not valid
    else:
        assert valid and (node.load, node.status_interval_s) == (load, interval)
