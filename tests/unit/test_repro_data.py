"""Unit tier: Reproduction v2 as data: the timeline's steps, planning, the flavor-free topology, where an entry
applies, round trips, and the errors that name the field (no Docker)."""

from __future__ import annotations

import datetime
import json

import pytest

from harness.descriptions.balancer import MpmSpec
from harness.descriptions.base import SpecError
from harness.descriptions.faults import (
    AdvertiseBlocked,
    BalancerRestart,
    Kill,
    Partition,
    Pause,
    Remove,
    Slowness,
    Stop,
)
from harness.descriptions.node import StaticWorkers
from harness.descriptions.options import HarnessOptions
from harness.descriptions.reproduction import (
    KnownBroken,
    Observation,
    Reproduction,
    ReproTopology,
    RunFacts,
    Where,
    plan_timeline,
    reproduction_from_dict,
)
from harness.descriptions.timeline import (
    Expect,
    Heal,
    Hold,
    Inject,
    Mcmp,
    WaitUntil,
    fault_id,
    step_from_dict,
)
from harness.descriptions.topology import FAST_STATUS_INTERVAL_S
from harness.run.reproduction import topology_for, validate_reproduction

NAMES = ("node1", "node2")


def _error(excinfo: pytest.ExceptionInfo[SpecError]) -> tuple[str, str]:
    return excinfo.value.field, excinfo.value.message


# --- the short form and the timeline --------------------------------------------------------------------


def test_the_short_form_expands_into_inject_hold_heal_settle() -> None:
    repro = Reproduction("X-1", faults=(Kill("node1"), Stop("node2", 3.0)), checks=("sticky",))
    assert repro.faults == ()
    assert [s.verb for s in repro.timeline] == ["inject", "hold", "heal", "wait_until"] * 2
    assert repro.timeline[2] == Heal("kill:node1") and repro.timeline[6] == Heal("stop:node2")
    assert repro.timeline[1] == Hold(5.0) and repro.timeline[3] == WaitUntil("requests", count=50, timeout_s=60)
    with pytest.raises(SpecError) as excinfo:
        Reproduction("X-1", faults=(Kill("node1"),), timeline=(Hold(1),), checks=("sticky",))
    assert _error(excinfo)[0] == "faults" and "not both" in _error(excinfo)[1]


def test_every_fault_kind_round_trips_through_json() -> None:
    faults = (Kill("node1"), Stop("node2", 3.0), Pause("node1"), Remove("node2"), Partition("node1", "node2"),
              Slowness("node1", 250), BalancerRestart(), AdvertiseBlocked())  # fmt: skip
    repro = Reproduction(
        "MODCLUSTER-785",
        summary="seen in prod",
        faults=faults,
        checks=("sticky", "node_up:node1", "log_free_of:AH00052"),
        repeats=3,
        applies=Where(balancer=("httpd-modcluster",), line=("1.3",), since="1.3.10"),
        known_broken=(KnownBroken(Where(mode=("lbmethod_cluster",)), "503 on stop"),),
        observed=(Observation("1.3.22.Final", "invalid", "2026-11-03", "first bad"),),
    )
    data = json.loads(json.dumps(repro.to_dict()))
    assert [s["inject"]["kind"] for s in data["timeline"][::4]] == [f.kind for f in faults]
    assert data["timeline"][18] == {"heal": "partition:node1,node2"}
    assert reproduction_from_dict(data) == repro


def test_a_step_naming_a_node_that_does_not_exist_is_refused_with_its_index() -> None:
    with pytest.raises(SpecError) as excinfo:
        Reproduction("X-1", timeline=(Inject(Kill("node1")), Inject(Kill("node7"))), checks=("sticky",))
    field, message = _error(excinfo)
    assert field == "timeline[1].inject" and "node7" in message and "known: node1, node2, balancer" in message
    with pytest.raises(SpecError) as excinfo:
        Reproduction("X-1", timeline=(WaitUntil("node_down", node="node3"),), checks=("sticky",))
    assert _error(excinfo)[0] == "timeline[0].wait_until"


def test_heals_must_name_an_active_injection() -> None:
    with pytest.raises(SpecError) as excinfo:
        plan_timeline((Heal("kill:node1"),), NAMES)
    assert _error(excinfo) == ("timeline[0].heal", "'kill:node1' is not active here; active faults: none")
    with pytest.raises(SpecError) as excinfo:
        plan_timeline((Inject(Kill("node1")), Hold(1), Inject(Kill("node1"))), NAMES)
    assert _error(excinfo)[0] == "timeline[2].inject" and "already active" in _error(excinfo)[1]
    with pytest.raises(SpecError, match="active faults: kill:node1"):
        plan_timeline((Inject(Kill("node1")), Heal("kill:node2")), NAMES)


def test_the_plan_says_what_is_active_before_each_step_and_what_is_healed_at_the_end() -> None:
    steps = (Inject(Kill("node1")), Inject(Partition("node2")), Heal("kill:node1"), Hold(1))
    plan = plan_timeline(steps, NAMES)
    assert plan.active_before == ((), ("kill:node1",), ("kill:node1", "partition:node2,balancer"),
                                  ("partition:node2,balancer",))  # fmt: skip
    assert plan.left_active == ("partition:node2,balancer",) and plan.faults_a_node
    assert not plan_timeline((Inject(BalancerRestart()), Heal("balancer_restart:balancer")), NAMES).faults_a_node
    assert fault_id(AdvertiseBlocked()) == "advertise_blocked:balancer"


@pytest.mark.parametrize(
    "data, field, fragment",
    [
        ({"wait_until": {"condition": "node_down"}}, "timeline[0].wait_until.node", "node_down needs node"),
        ({"wait_until": {"condition": "requests", "count": 5, "node": "node1"}}, "timeline[0].wait_until.node",
         "requests does not take node; it takes count"),
        ({"wait_until": {"condition": "healthy", "path": "/app"}}, "timeline[0].wait_until.path",
         "no field besides timeout_s"),
        ({"wait_until": {"condition": "sideways"}}, "timeline[0].wait_until.condition", "'nodes_registered'"),
        ({"wait_until": {"condition": "healthy", "timeout_s": 0}}, "timeline[0].wait_until.timeout_s", "in 0.1..3600"),
        ({"wait_until": {"condition": "healthy", "timeout": 3}}, "timeline[0].wait_until.timeout", "accepted:"),
        ({"wait_until": {"condition": "context", "node": "node1", "path": "/app", "status": "UP"}},
         "timeline[0].wait_until.status", "'ENABLED', 'DISABLED', 'STOPPED'"),
        ({"inject": {"kind": "kil", "node": "node1"}}, "timeline[0].inject.kind", "accepted values: kill, stop"),
        ({"inject": {"kind": "slowness", "node": "node1", "delay_ms": 0}}, "timeline[0].inject.delay_ms", "in 1..3600000"),
        ({"heal": "node1"}, "timeline[0].heal.fault", "KIND:TARGETS"),
        ({"hold": "5s"}, "timeline[0].hold.seconds", "expected a number"),
        ({"hold": 0}, "timeline[0].hold.seconds", "in 0.01..3600"),
        ({"mcmp": {"command": "config"}}, "timeline[0].mcmp.command", "CONFIG, ENABLE-APP"),
        ({"mcmp": {"command": "CONFIG", "params": {"StickySessionForce": False}}},
         "timeline[0].mcmp.params.StickySessionForce", "quote it ('No')"),
        ({"mcmp": {"command": "CONFIG", "params": ["JVMRoute=node1"]}}, "timeline[0].mcmp.params", "mapping"),
        ({"mcmp": {"command": "STATUS", "expect_status": 42}}, "timeline[0].mcmp.expect_status", "100..599"),
        ({"expect": []}, "timeline[0].expect.checks", "at least one"),
        ({"expect": ["sticky", "stickyy"]}, "timeline[0].expect.checks[1]", "known names are"),
        ({"sleep": 5}, "timeline[0]", "unknown step 'sleep'; known: wait_until, inject, heal, hold, mcmp, register_storm, http, expect"),
        ({"hold": 5, "heal": "kill:node1"}, "timeline[0]", "one key, the verb"),
    ],
)  # fmt: skip
def test_bad_steps_name_the_field(data: object, field: str, fragment: str) -> None:
    with pytest.raises(SpecError) as excinfo:
        step_from_dict(data, "timeline[0]")
    assert excinfo.value.field == field and fragment in excinfo.value.message, str(excinfo.value)


def test_steps_from_plain_data() -> None:
    mcmp = step_from_dict(
        {"mcmp": {"command": "CONFIG", "params": {"JVMRoute": "node3", "Port": 8080}, "expect_status": 200}}, "t"
    )
    assert mcmp == Mcmp("CONFIG", (("JVMRoute", "node3"), ("Port", "8080")), expect_status=200)
    assert mcmp.describe() == "MCMP CONFIG / JVMRoute=node3&Port=8080, expecting 200"
    assert step_from_dict(mcmp.to_dict(), "t") == mcmp
    assert step_from_dict({"expect": "sticky"}, "t") == Expect(("sticky",))
    wait = step_from_dict({"wait_until": {"condition": "context", "node": "node1", "path": "/app"}}, "t")
    assert wait == WaitUntil("context", node="node1", path="/app") and "ENABLED" in wait.describe()
    assert Mcmp("REMOVE-APP", {"JVMRoute": "node1"}, wildcard=True).describe().startswith("MCMP REMOVE-APP /* ")


def test_routes_registered_by_mcmp_may_be_named_by_checks() -> None:
    register = Mcmp("CONFIG", (("JVMRoute", "node3"),))
    Reproduction("X-1", timeline=(register,), checks=("registered:node3",), load=None)
    with pytest.raises(SpecError) as excinfo:
        Reproduction("X-1", checks=("registered:node3",), load=None)
    assert _error(excinfo)[0] == "checks[0]" and "unknown node 'node3'" in _error(excinfo)[1]


def test_without_load_nothing_may_judge_the_request_history() -> None:
    with pytest.raises(SpecError) as excinfo:
        Reproduction("X-1", load=None, checks=("registered:node1", "sticky"))
    assert _error(excinfo)[0] == "checks[1]" and "no load" in _error(excinfo)[1]
    with pytest.raises(SpecError) as excinfo:
        Reproduction("X-1", load=None, timeline=(WaitUntil("requests", count=3),), checks=("node_up:node1",))
    assert _error(excinfo)[0] == "timeline[0].wait_until"
    with pytest.raises(SpecError) as excinfo:
        Reproduction("X-1", load=None, timeline=(Expect(("no_errors",)),))
    assert _error(excinfo)[0] == "timeline[0].expect[0]"


def test_a_reproduction_with_nothing_to_judge_is_refused() -> None:
    with pytest.raises(SpecError) as excinfo:
        Reproduction("X-1", faults=(Kill("node1"),))
    assert _error(excinfo)[0] == "checks" and "nothing would be judged" in _error(excinfo)[1]
    Reproduction("X-1", timeline=(Expect(("node_up:node1",)),))
    with pytest.raises(SpecError) as excinfo:
        Reproduction("X-1", checks=("sticky",), repeats=0)
    assert _error(excinfo)[0] == "repeats"


# --- the topology without flavors ----------------------------------------------------------------------


def test_the_topology_takes_balancer_and_node_fields_without_flavors() -> None:
    data = {
        "nodes": 3,
        "balancer": {"max_node": 4, "overlay": ["EnableWsTunnel"], "mpm": {"start_servers": 1}, "enable_options": True},
        "node": {"include_sticky_force": False, "contexts": ["/app", "/other"]},
        "per_node": {"node3": {"load": 1, "faults": ["no_status"]}},
    }
    repro = reproduction_from_dict({"key": "X-1", "topology": data, "checks": ["sticky"]})
    shape = repro.topology
    assert shape.balancer["mpm"] == MpmSpec(start_servers=1) and shape.balancer["overlay"] == ("EnableWsTunnel",)
    assert shape.node == {"include_sticky_force": False, "contexts": ("/app", "/other")}
    topology = shape.topology("undertow", "sim")
    assert topology.get_node("node3").load == 1 and topology.get_node("node1").load == 50
    assert topology.get_node("node3").contexts == ("/app", "/other") and topology.balancer.max_node == 4
    assert reproduction_from_dict(json.loads(json.dumps(repro.to_dict()))) == repro


@pytest.mark.parametrize(
    "data, field, fragment",
    [
        ({"balancer": {"flavor": "undertow"}}, "topology.balancer.flavor", "applies.balancer"),
        ({"node": {"flavor": "wildfly"}}, "topology.node.flavor", "applies.node"),
        ({"node": {"name": "web1"}}, "topology.node.name", "node1..nodeN"),
        ({"balancer": {"max_nodes": 4}}, "topology.balancer.max_nodes", "unknown field of BalancerSpec"),
        ({"balancer": {"mpm": {"servers": 1}}}, "topology.balancer.mpm.servers", "unknown field of MpmSpec"),
        ({"balancer": {"max_node": 1}}, "topology.balancer.max_node", "the topology has 2 nodes"),
        ({"node": {"load": 200}}, "topology.node.load", "-1..100"),
        ({"per_node": {"node9": {"load": 1}}}, "topology.per_node.node9", "no such node; nodes: node1, node2"),
        ({"per_node": {"node2": {"load": -5}}}, "topology.per_node.node2.load", "-1..100"),
        ({"per_node": {"node2": {"faults": ["kil"]}}}, "topology.per_node.node2.faults[0]", "unknown fault 'kil'"),
        ({"nodes": 0}, "topology.nodes", "in 1..500"),
        ({"node_count": 2}, "topology.node_count", "unknown field of ReproTopology"),
    ],
)
def test_bad_topology_fields_are_named(data: dict[str, object], field: str, fragment: str) -> None:
    with pytest.raises(SpecError) as excinfo:
        reproduction_from_dict({"key": "X-1", "topology": data, "checks": ["sticky"]})
    assert excinfo.value.field == field and fragment in excinfo.value.message, str(excinfo.value)


def test_the_run_fills_in_what_its_flavors_need() -> None:
    repro = Reproduction(
        "X-1",
        topology=ReproTopology(3, balancer={"overlay": ("EnableWsTunnel",)}, per_node={"node2": {"load": 10}}),
        checks=("sticky",),
    )
    topology = topology_for(repro, HarnessOptions(balancer="httpd-modcluster", node="sim"))
    assert topology.balancer.flavor == "httpd-modcluster" and topology.balancer.overlay == ("EnableWsTunnel",)
    assert [n.flavor for n in topology.nodes] == ["sim"] * 3 and topology.get_node("node2").load == 10
    assert topology.get_node("node1").status_interval_s == FAST_STATUS_INTERVAL_S
    modjk = topology_for(Reproduction("X-2", checks=("sticky",)), HarnessOptions(balancer="httpd-modjk", node="tomcat"))
    assert modjk.discovery == StaticWorkers() and {n.connector for n in modjk.nodes} == {"ajp"}


# --- where an entry applies -------------------------------------------------------------------------------


def test_where_says_which_field_excludes_a_run() -> None:
    mc = RunFacts("httpd-modcluster", "sim", "proxy_cluster", "1.3", "mod_cluster/1.3.22.Final")
    assert Where().mismatch(mc) is None and Where().describe() == "everywhere"
    assert Where(balancer="httpd-modcluster", line="1.3", since="1.3.10", until="1.3.22").mismatch(mc) is None  # type: ignore[arg-type]
    assert "balancer: the run's is 'undertow'" in str(
        Where(balancer=("httpd-modcluster",)).mismatch(RunFacts("undertow", "sim"))
    )
    assert "node:" in str(Where(node=("wildfly",)).mismatch(mc))
    assert "mode:" in str(Where(mode=("lbmethod_cluster",)).mismatch(mc))
    assert "line: the run's mod_cluster line is 1.3" in str(Where(line=("2.x",)).mismatch(mc))
    assert "since:" in str(Where(since="1.3.23").mismatch(mc)) and "until:" in str(Where(until="1.3.21").mismatch(mc))
    assert "uses no mod_cluster source" in str(Where(line=("1.3",)).mismatch(RunFacts("undertow", "sim")))
    unknown = RunFacts("httpd-modcluster", "sim", "proxy_cluster", "2.x", "unknown")
    assert "has no x.y.z version" in str(Where(since="2.0.0").mismatch(unknown))
    assert Where(balancer=("undertow", "httpd-modcluster"), mode=("proxy_cluster",)).describe() == (
        "balancer undertow|httpd-modcluster, mode proxy_cluster"
    )  # fmt: skip


@pytest.mark.parametrize(
    "data, field, fragment",
    [
        ({"line": 1.3}, "applies.line[0]", "quote it, '1.3'"),
        ({"line": ["3.x"]}, "applies.line[0]", "'1.3', '2.x'"),
        ({"mode": "lbmethod"}, "applies.mode[0]", "'proxy_cluster', 'lbmethod_cluster'"),
        ({"since": 1.3}, "applies.since", "quote it"),
        ({"since": "newest"}, "applies.since", "x.y.z"),
        ({"since": "1.3.22", "until": "1.3.10"}, "applies.until", "before since"),
        ({"releases": "1.3"}, "applies.releases", "unknown field of Where"),
    ],
)
def test_bad_where_fields_are_named(data: dict[str, object], field: str, fragment: str) -> None:
    with pytest.raises(SpecError) as excinfo:
        reproduction_from_dict({"key": "X-1", "checks": ["sticky"], "applies": data})
    assert excinfo.value.field == field and fragment in excinfo.value.message, str(excinfo.value)


def test_unknown_flavor_names_are_refused_by_the_run_layer() -> None:
    repro = Reproduction("X-1", checks=("sticky",), applies=Where(balancer=("undertw",)))
    with pytest.raises(SpecError) as excinfo:
        validate_reproduction(repro)
    assert _error(excinfo)[0] == "applies.balancer[0]" and "known: httpd-modcluster, undertow" in _error(excinfo)[1]
    broken = Reproduction("X-1", checks=("sticky",), known_broken=(KnownBroken(Where(node=("tomcatt",)), "x"),))
    with pytest.raises(SpecError, match=r"known_broken\[0\]\.where\.node\[0\]"):
        validate_reproduction(broken)


def test_known_broken_and_observations() -> None:
    first = KnownBroken(Where(mode=("lbmethod_cluster",)), "first")
    repro = Reproduction("X-1", checks=("sticky",), known_broken=(first, KnownBroken(Where(), "everywhere else")))
    assert repro.where_broken(RunFacts("httpd-modcluster", "sim", "lbmethod_cluster")) == "first"
    assert repro.where_broken(RunFacts("undertow", "sim")) == "everywhere else"
    with pytest.raises(SpecError, match="reason"):
        KnownBroken(Where(), " ")
    assert Observation("abc123", "valid", datetime.date(2026, 11, 3)).date == "2026-11-03"  # type: ignore[arg-type]
    with pytest.raises(SpecError) as excinfo:
        reproduction_from_dict({"key": "X", "checks": ["sticky"], "observed": [{"build": "b", "verdict": "bad"}]})
    assert _error(excinfo)[0] == "observed[0].verdict"
    with pytest.raises(SpecError) as excinfo:
        Observation("b", "valid", "3 Nov")
    assert _error(excinfo)[0] == "date"
