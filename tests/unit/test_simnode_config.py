"""The sim node's configuration and fault vocabulary: valid input is read back faithfully, invalid input is
refused with an error naming the field (the node then refuses to start)."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.simnode_fakes import SIM_ROOT

from simnode.config import ConfigError, parse_config, parse_config_text  # noqa: E402
from simnode.faults import Faults, FaultPlan, parse_fault_words, update_faults


def base(**node: Any) -> dict[str, Any]:
    return {"nodes": [{"name": "node1", **node}], "discovery": {"kind": "static_proxies", "proxies": ["balancer:6666"]}}


def test_defaults_match_the_java_node_and_the_node_spec() -> None:
    config = parse_config(base())
    node = config.nodes[0]
    assert (node.contexts, node.aliases, node.load, node.status_interval_s) == (("/app",), ("localhost",), 50, 10.0)
    assert not node.sticky_session_force and node.include_sticky_force and node.stop_context_timeout_s == 10.0
    assert config.discovery.proxies == (("balancer", 6666),) and config.control_port == 9000


def test_advertise_discovery_is_read() -> None:
    data = base()
    data["discovery"] = {"kind": "advertise", "group": "224.0.1.77", "port": 23377, "security_key": "k",
                         "frequency_s": 1.0}
    discovery = parse_config(data).discovery
    assert (discovery.kind, discovery.group, discovery.port, discovery.security_key) == ("advertise", "224.0.1.77",
                                                                                          23377, "k")


@pytest.mark.parametrize("node, field", [
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
    ({"faults": ["error=404"]}, "nodes[0].faults[0]"),
    ({"faults": ["load=200"]}, "nodes[0].faults[0]"),
    ({"colour": "red"}, "nodes[0].colour"),
    ({"http_port": 9000}, "nodes[0].http_port"),
])
def test_invalid_node_fields_are_named(node: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_config(base(**node))
    assert error.value.field == field


@pytest.mark.parametrize("data, field", [
    ({"nodes": []}, "nodes"),
    ({"nodes": [{"name": "a"}, {"name": "a", "http_port": 8081}], "discovery": {"kind": "static_proxies"}},
     "nodes[1].name"),
    ({"nodes": [{"name": "a"}, {"name": "b"}], "discovery": {"kind": "static_proxies"}}, "nodes[1].http_port"),
    ({"nodes": [{"name": "a"}]}, "discovery"),
    ({"nodes": [{"name": "a"}], "discovery": {"kind": "multicast"}}, "discovery.kind"),
    ({"nodes": [{"name": "a"}], "discovery": {"kind": "static_proxies", "proxies": ["balancer"]}},
     "discovery.proxies[0]"),
    ({"nodes": [{"name": "a"}], "discovery": {"kind": "advertise", "group": "10.0.0.1"}}, "discovery.group"),
    ({"nodes": [{"name": "a"}], "discovery": {"kind": "static_proxies"}, "log_level": "loud"}, "log_level"),
    ({"nodes": [{"name": "a"}], "discovery": {"kind": "static_proxies"}, "advertise_interface": "eth0"},
     "advertise_interface"),
])
def test_invalid_process_fields_are_named(data: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_config(data)
    assert error.value.field == field


def test_invalid_json_is_refused_naming_the_source() -> None:
    with pytest.raises(ConfigError, match="SIMNODE_SPEC: not valid JSON"):
        parse_config_text("{nodes:", "SIMNODE_SPEC")


def test_the_program_refuses_to_start_naming_the_field() -> None:
    spec = json.dumps(base(load=500))
    result = subprocess.run([sys.executable, "-m", "simnode", "--spec", spec], capture_output=True, text=True,
                            cwd=str(SIM_ROOT), env={"PYTHONPATH": f"{SIM_ROOT}:{SIM_ROOT.parents[1]}"}, timeout=30)
    assert result.returncode == 2
    assert "nodes[0].load" in result.stderr and "-1..100" in result.stderr


def test_fault_words_build_a_plan() -> None:
    words = ("freeze", "delay_ms=250", "error=503", "load=-1", "no_status", "flap=1.5:0.5", "no_sticky_force",
             "crash_after=3", "exit_after=9", "reregister_port=8181", "reregister_host=10.1.1.1", "reregister_after=2")
    plan = parse_fault_words("faults", words, ConfigError)
    assert plan == FaultPlan(Faults(True, 250, 503, -1, True, (1.5, 0.5), True), 3.0, 9.0, 8181, "10.1.1.1", 2.0)
    assert parse_fault_words("faults", ("flap=2",), ConfigError).faults.flap == (2.0, 2.0)


def test_reregister_after_needs_a_target() -> None:
    with pytest.raises(ConfigError) as error:
        parse_fault_words("faults", ("reregister_after=2",), ConfigError)
    assert error.value.field == "faults"


def test_runtime_fault_updates_and_clear() -> None:
    faults = update_faults(Faults(), {"node": "n", "freeze": True, "load": 0, "flap": [1, 2]}, ConfigError)
    assert faults == Faults(freeze=True, load=0, flap=(1.0, 2.0))
    assert faults.active == ["freeze", "load", "flap"]
    faults = update_faults(faults, {"load": None, "error": 502}, ConfigError)
    assert (faults.load, faults.error, faults.freeze) == (None, 502, True)
    assert update_faults(faults, {"clear": True, "delay_ms": 5}, ConfigError) == Faults(delay_ms=5)


@pytest.mark.parametrize("changes, field", [({"freeze": 1}, "freeze"), ({"error": 404}, "error"),
                                            ({"load": -2}, "load"), ({"flap": [1]}, "flap"),
                                            ({"delay_ms": -1}, "delay_ms"), ({"explode": True}, "explode")])
def test_runtime_fault_errors_name_the_key(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigError) as error:
        update_faults(Faults(), changes, ConfigError)
    assert error.value.field == field


@given(st.lists(st.text(min_size=1, max_size=20), max_size=4))
def test_any_fault_words_either_parse_or_name_the_item(words: list[str]) -> None:
    try:
        parse_fault_words("faults", tuple(words), ConfigError)
    except ConfigError as exc:
        assert exc.field == "faults" or exc.field.startswith("faults[")


@given(st.integers(-5, 105), st.floats(allow_nan=True, allow_infinity=True))
def test_numbers_are_range_checked(load: int, interval: float) -> None:
    valid = -1 <= load <= 100 and interval == interval and 0.001 <= interval < float("inf")
    try:
        node = parse_config(base(load=load, status_interval_s=interval)).nodes[0]
    except ConfigError as exc:
        assert exc.field in ("nodes[0].load", "nodes[0].status_interval_s")
        assert not valid
    else:
        assert valid and (node.load, node.status_interval_s) == (load, interval)
