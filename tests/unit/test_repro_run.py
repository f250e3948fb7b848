"""Unit tier: the reproduction runner over fakes (tests/unit/repro_fakes.py) and a local MCMP listener: step
order and records, heals at the end and on errors, waits that stop the timeline, MCMP exchanges, checks at a
step and over a snapshot, repeated runs counted k of N (no Docker)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from harness.descriptions.faults import Kill, Partition
from harness.descriptions.reproduction import Reproduction, ReproTopology
from harness.descriptions.timeline import Expect, Heal, Hold, Inject, Mcmp, Step, WaitUntil, fault_id
from harness.judge.history import History, load_history
from harness.machinery.contracts import BalancerState, NodeState
from harness.run.cluster import ClusterUnhealthy
from harness.run.faults import FaultFailed
from harness.run.repro_checks import outcome_of, state_verdict
from harness.run.repro_steps import StepRecord, Timeline
from harness.run.reproduction import repeats_verdict, run_repeated, run_reproduction
from tests.unit.repro_fakes import FakeScenario
from tests.unit.simnode_fakes import FakeBalancer, error_reply

HISTORIES = Path(__file__).parent / "data" / "histories"


def _kill_history() -> History:
    return load_history(HISTORIES / "kill_failover.jsonl", HISTORIES / "kill_failover.windows.jsonl")


def _timeline(steps: tuple[Step, ...], scenario: FakeScenario | None = None) -> tuple[Timeline, list[StepRecord]]:
    scenario = scenario or FakeScenario(_kill_history())
    repro = Reproduction("X-1", timeline=steps, checks=("sticky",))
    cluster = scenario.cluster(repro.topology.topology("undertow", "sim"))
    records: list[StepRecord] = []
    return Timeline(scenario, cluster, scenario.load(cluster, None), records), records  # type: ignore[arg-type]


def _summary(records: list[StepRecord]) -> list[tuple[str, str, str]]:
    return [(r.where, r.verb, r.outcome) for r in records]


def test_steps_run_in_order_and_faults_still_active_are_healed_at_the_end_last_first() -> None:
    steps = (Inject(Kill("node1")), Inject(Partition("node2")), Hold(0.01), Heal("kill:node1"), Inject(Kill("node1")))
    timeline, records = _timeline(steps)
    assert timeline.run(steps) == []
    events = timeline.scenario.events[1:]
    assert events == ["apply kill:node1", "apply partition:node2,balancer", "heal kill:node1", "apply kill:node1",
                      "heal kill:node1", "heal partition:node2,balancer"]  # fmt: skip
    assert _summary(records)[-2:] == [("end", "heal", "ok"), ("end", "heal", "ok")]
    assert [r.outcome for r in records] == ["ok"] * 7
    assert all(r.ended is not None and r.ended >= r.started > 0 for r in records)
    assert records[0].data["window"]["kind"] == "kill" and records[3].data["window"]["end"] is not None
    assert records[2].ended - records[2].started >= 0.01  # type: ignore[operator]


def test_overlapping_faults_skip_the_health_check_before_and_only_the_last_heal_waits_for_health() -> None:
    steps = (
        Inject(Kill("node1")),
        Inject(Kill("node2")),
        Heal("kill:node1"),
        Heal("kill:node2"),
        Inject(Kill("node1")),
    )
    timeline, _ = _timeline(steps)
    timeline.run(steps)
    assert timeline.scenario.health == [
        "healthy before kill:node1", "not checked before kill:node2", "not checked after kill:node1",
        "healthy after kill:node2", "healthy before kill:node1", "healthy after kill:node1",
    ]  # fmt: skip


def test_a_wait_that_times_out_is_invalid_and_stops_the_timeline_with_the_rest_not_run() -> None:
    steps = (
        Inject(Kill("node1")),
        WaitUntil("node_down", node="node1", timeout_s=1),
        WaitUntil("node_up", node="node1", timeout_s=1),
        Hold(0.01),
        Heal("kill:node1"),
    )
    timeline, records = _timeline(steps)
    verdicts = timeline.run(steps)
    assert [v.outcome for v in verdicts] == ["invalid"]
    assert verdicts[0].name == "timeline[2] wait_until node_up" and "node node1 up" in verdicts[0].summary
    assert _summary(records) == [
        ("timeline[0]", "inject", "ok"), ("timeline[1]", "wait_until", "ok"), ("timeline[2]", "wait_until", "failed"),
        ("timeline[3]", "hold", "not run"), ("timeline[4]", "heal", "not run"), ("end", "heal", "ok"),
    ]  # fmt: skip
    assert "last seen: node1[DOWN" in records[2].detail
    assert timeline.scenario.events[-1] == "heal kill:node1"


class _UnhealthyAfterHeal(FakeScenario):
    """A scenario whose heal of `kill:node1` leaves the cluster unhealthy (the node is back, the balancer 503s)."""

    @contextmanager
    def fault(self, cluster: Any, fault: Any, **kwargs: Any) -> Iterator[Any]:
        with super().fault(cluster, fault, **kwargs) as window:
            yield window
        if fault_id(fault) == "kill:node1" and self.health[-1].startswith("healthy after"):
            raise ClusterUnhealthy("cluster unhealthy after kill node1: last seen: node1[up]; GET /app/ -> 503")


def test_a_cluster_unhealthy_after_a_heal_is_invalid_and_stops_the_timeline() -> None:
    steps = (Inject(Partition("node2")), Inject(Kill("node1")), Heal("kill:node1"), Hold(0.01))
    timeline, records = _timeline(steps, _UnhealthyAfterHeal(_kill_history()))
    assert timeline.run(steps) == []  # the partition is still active: health is not judged at that heal
    steps = (
        Inject(Kill("node1")),
        Inject(Partition("node2")),
        Heal("partition:node2,balancer"),
        Heal("kill:node1"),
        Hold(0.01),
    )
    timeline, records = _timeline(steps, _UnhealthyAfterHeal(_kill_history()))
    verdicts = timeline.run(steps)
    assert [(v.name, v.outcome) for v in verdicts] == [("timeline[3] heal kill:node1", "invalid")]
    assert "GET /app/ -> 503" in verdicts[0].summary
    assert _summary(records) == [
        ("timeline[0]", "inject", "ok"), ("timeline[1]", "inject", "ok"), ("timeline[2]", "heal", "ok"),
        ("timeline[3]", "heal", "failed"), ("timeline[4]", "hold", "not run"),
    ]  # fmt: skip
    assert records[3].data["window"]["end"] is not None  # the window closed before the health gate


def test_a_cluster_unhealthy_after_a_heal_at_the_end_is_invalid_too() -> None:
    steps = (Inject(Kill("node1")), Hold(0.01))
    timeline, records = _timeline(steps, _UnhealthyAfterHeal(_kill_history()))
    verdicts = timeline.run(steps)
    assert [(v.name, v.outcome) for v in verdicts] == [("end heal kill:node1", "invalid")]
    assert _summary(records)[-1] == ("end", "heal", "failed")


def test_an_error_in_a_step_is_recorded_raised_and_the_active_faults_are_healed() -> None:
    scenario = FakeScenario(_kill_history(), raise_on=lambda what: FaultFailed("no") if "partition" in what else None)
    steps = (Inject(Kill("node1")), Inject(Partition("node2")), Hold(0.01))
    timeline, records = _timeline(steps, scenario)
    with pytest.raises(FaultFailed):
        timeline.run(steps)
    assert _summary(records) == [("timeline[0]", "inject", "ok"), ("timeline[1]", "inject", "error")]
    assert records[1].detail == "FaultFailed: no"
    assert scenario.events[-1] == "heal kill:node1"


def test_mcmp_steps_send_raw_requests_record_the_exchange_and_judge_the_status() -> None:
    with FakeBalancer() as balancer:
        balancer.queue("ENABLE-APP", error_reply("MEM", "no slot"))
        balancer.queue("CONFIG", b"")  # closes without an answer
        steps = (
            Mcmp("STATUS", (("JVMRoute", "node1"), ("Load", "20")), expect_status=200),
            Mcmp("ENABLE-APP", (("JVMRoute", "node9"), ("Context", "/x"), ("Alias", "localhost")), expect_status=200),
            Mcmp("REMOVE-APP", (("JVMRoute", "node9"),), wildcard=True),
            Mcmp("CONFIG", (("JVMRoute", "node9"),)),
            Hold(0.01),
        )
        timeline, records = _timeline(steps, FakeScenario(_kill_history(), mcmp_port=balancer.port))
        verdicts = timeline.run(steps)
        assert balancer.commands() == ["STATUS", "ENABLE-APP", "REMOVE-APP", "CONFIG"]
        assert balancer.requests[0].params == {"JVMRoute": "node1", "Load": "20"}
        assert balancer.requests[2].target == "/*"
    assert [(v.name, v.outcome) for v in verdicts] == [
        ("timeline[0] mcmp STATUS", "valid"), ("timeline[1] mcmp ENABLE-APP", "invalid"),
        ("timeline[3] mcmp CONFIG", "invalid"),
    ]  # fmt: skip
    assert "answered 500" in verdicts[1].summary and "no usable reply" in verdicts[2].summary
    assert records[0].data["exchange"]["request"].startswith("STATUS / HTTP/1.1")
    assert "State=OK" in records[0].data["exchange"]["reply"] and records[0].data["status"] == 200
    assert [r.outcome for r in records] == ["ok", "failed", "ok", "failed", "not run"]
    assert records[2].detail == "200 OK" and timeline.cluster.states[-1] == "after timeline[2] mcmp REMOVE-APP"


def test_expect_judges_the_history_so_far_one_snapshot_and_the_logs() -> None:
    steps = (Expect(("registered:node1", "node_down:node2", "no_errors_outside_windows", "log_free_of:AH00052")),)
    timeline, records = _timeline(steps)
    timeline.cluster.balancer.logs["error_log"] += "[notice] AH00052: child pid 42 exit signal Segmentation fault\n"
    verdicts = timeline.run(steps)
    assert [(v.name, v.outcome) for v in verdicts] == [
        ("timeline[0] registered:node1", "valid"), ("timeline[0] node_down:node2", "invalid"),
        ("timeline[0] error_budget", "valid"), ("timeline[0] log_free_of", "invalid"),
    ]  # fmt: skip
    assert records[0].outcome == "failed" and len(records[0].data["verdicts"]) == 4
    assert verdicts[3].details["matches"][0]["line"] == 2


def test_state_verdicts_over_one_snapshot() -> None:
    state = BalancerState(
        {
            "node1": NodeState("node1", True, 50, {"/app": "ENABLED"}),
            "node2": NodeState("node2", None, None, {"/app": "DISABLED"}),
        }
    )
    cases: list[tuple[str, Any, str]] = [
        ("registered", "node3", "invalid"), ("not_registered", "node3", "valid"), ("not_registered", "node1", "invalid"),
        ("node_up", "node1", "valid"), ("node_down", "node1", "invalid"), ("node_up", "node2", "unknown"),
        ("context", ("node2", "/app", "DISABLED"), "valid"), ("context", ("node1", "/other", "ENABLED"), "invalid"),
        ("load", ("node1", 50), "valid"), ("load", ("node1", 20), "invalid"), ("load", ("node2", 1), "unknown"),
        ("node_down", "node3", "invalid"),
    ]  # fmt: skip
    assert [state_verdict(kind, arg, state).outcome for kind, arg, _ in cases] == [want for _, _, want in cases]
    assert state_verdict("context", ("node1", "/other", "ENABLED"), state).details["actual"] == "absent"


def test_one_run_starts_the_cluster_waits_for_steady_load_runs_the_timeline_and_judges() -> None:
    steps = (Inject(Kill("node1")), Hold(0.01), Heal("kill:node1"), WaitUntil("requests", count=5))
    repro = Reproduction("X-1", topology=ReproTopology(3), timeline=steps, checks=("sticky", "failover_within:10"))
    scenario = FakeScenario(_kill_history())
    verdicts = run_reproduction(scenario, repro)
    assert [v.outcome for v in verdicts] == ["valid", "valid"] and scenario.verdicts == verdicts
    steps = scenario.evidence_json["steps.json"]()
    assert [(s["where"], s["verb"], s["outcome"]) for s in steps] == [
        ("setup", "cluster", "ok"), ("setup", "load", "ok"), ("setup", "steady", "ok"),
        ("timeline[0]", "inject", "ok"), ("timeline[1]", "hold", "ok"), ("timeline[2]", "heal", "ok"),
        ("timeline[3]", "wait_until", "ok"), ("checks", "checks", "ok"),
    ]  # fmt: skip
    assert scenario.evidence_json["reproduction.json"]["key"] == "X-1"
    assert [n.name for n in scenario.clusters[0].topology.nodes] == ["node1", "node2", "node3"]


def test_repeated_runs_happen_in_fresh_children_and_say_how_many_failed() -> None:
    def second_run_breaks(what: str) -> BaseException | None:
        return RuntimeError("image build failed") if what == "cluster test_x::run2of3" else None

    steps = (Inject(Kill("node1")), Hold(0.01), Heal("kill:node1"))
    repro = Reproduction("X-1", timeline=steps, checks=("sticky",), repeats=3)
    scenario = FakeScenario(_kill_history(), raise_on=second_run_breaks)
    results = run_repeated(scenario, repro)
    assert [r.outcome for r in results] == ["valid", "error", "valid"]
    assert "RuntimeError: image build failed" in results[1].error and results[1].steps[0]["outcome"] == "error"
    assert [c.finished for c in scenario.children] == [False, True, False]
    assert results[0].evidence == "/evidence/test_x__run1of3" and results[2].verdicts[0]["outcome"] == "valid"
    assert [v.name for v in scenario.verdicts] == ["run 1: reproduction", "run 2: reproduction",
                                                   "run 3: reproduction", "repeats"]  # fmt: skip
    assert scenario.verdicts[-1].invalid and scenario.verdicts[-1].summary == "1 of 3 runs failed"
    assert "image build failed" in scenario.verdicts[1].summary and scenario.verdicts[1].invalid
    once = FakeScenario(_kill_history())
    single = run_repeated(once, repro, runs=1)
    assert once.children == [] and single[0].evidence == "/evidence/test_x" and single[0].outcome == "valid"


def test_outcomes_of_verdict_lists() -> None:
    from harness.judge.checks import Verdict

    valid, invalid, unknown = Verdict("a", "valid"), Verdict("b", "invalid"), Verdict("c", "unknown")
    assert outcome_of([valid]) == "valid" and outcome_of([]) == "unknown"
    assert outcome_of([valid, unknown]) == "unknown" and outcome_of([unknown, invalid]) == "invalid"
    assert repeats_verdict([]).valid  # no run, nothing failed; run_repeated always runs at least one
