"""Checkers against saved histories (tests/unit/data/histories, made by generate.py there).

Saved cases: 6 users, 16 requests each, 0.5 s apart; u1,u4 on node1, u2,u5 on node2, u3,u6 on node3.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.judge.checks import (
    Verdict,
    all_valid,
    check_distribution,
    check_error_budget,
    check_every_node_served,
    check_failover_within,
    check_log_free_of,
    check_no_status_after,
    check_sticky_sessions,
    format_verdicts,
)
from harness.judge.history import FaultWindow, History, RequestRecord, load_history

DATA = Path(__file__).parent / "data" / "histories"
T0 = 1_700_000_000.0


def saved(name: str) -> History:
    windows = DATA / f"{name}.windows.jsonl"
    return load_history(DATA / f"{name}.jsonl", windows if windows.exists() else None)


def served(t: float, node: str, session: str = "s1", route: str | None = "node1") -> RequestRecord:
    return RequestRecord(T0 + t, T0 + t + 0.01, "u1", session, route, node, node, 200, 10.0, None, "/app/")


# --- sticky sessions -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["steady", "kill_failover", "two_kills", "kill_stuck"])
def test_sticky_accepts(name: str) -> None:
    verdict = check_sticky_sessions(saved(name))
    assert verdict.valid, verdict


def test_sticky_counts_moves_excused_by_a_kill() -> None:
    verdict = check_sticky_sessions(saved("kill_failover"))
    assert verdict.details["excused_moves"] == 2
    assert verdict.details["sessions_judged"] == 6


def test_sticky_rejects_moves_without_fault() -> None:
    verdict = check_sticky_sessions(saved("moved_without_fault"))
    assert not verdict.valid
    offenders = verdict.details["offenders"]
    moves = [(o["session"], o["from"], o["to"]) for o in offenders]
    assert moves == [("SU2", "node2", "node1"), ("SU5", "node2", "node3")]
    assert offenders[0]["t"] == pytest.approx(T0 + 4.1)
    assert "2 move(s) in 2 session(s)" in verdict.summary


def test_sticky_rejects_second_move_in_one_window() -> None:
    verdict = check_sticky_sessions(saved("kill_moved_twice"))
    assert not verdict.valid
    reasons = [o["reason"] for o in verdict.details["offenders"]]
    assert reasons == ["no fault on node2 around the move", "moved again within fault window(s) [0] on node1"]


def test_sticky_grace_after_window_end() -> None:
    records = [served(0, "node1"), served(1, "node1"), served(9, "node2")]
    window = FaultWindow("kill", "node1", T0 + 2, T0 + 6)
    assert check_sticky_sessions(History(records, [window]), faulted_nodes_grace_s=5).valid
    late = check_sticky_sessions(History(records, [window]), faulted_nodes_grace_s=1)
    assert not late.valid and late.details["offending_moves"] == 1


def test_sticky_window_on_another_node_does_not_excuse() -> None:
    records = [served(0, "node1"), served(3, "node2")]
    assert not check_sticky_sessions(History(records, [FaultWindow("kill", "node2", T0 + 1, T0 + 5)])).valid


def test_sticky_with_nothing_to_judge_is_invalid() -> None:
    verdict = check_sticky_sessions(History([served(0, "node1")]))
    assert not verdict.valid and "nothing to judge" in verdict.summary


# --- failover ------------------------------------------------------------------------------------------


def test_failover_accepts_and_measures() -> None:
    history = saved("kill_failover")
    verdict = check_failover_within(history, history.windows[0], max_s=2.0)
    assert verdict.valid, verdict
    assert verdict.details["per_session_s"] == {"SU4": 1.33, "SU1": 1.03}
    assert verdict.details["measured_max_s"] == 1.33


def test_failover_rejects_when_slower_than_limit() -> None:
    history = saved("kill_failover")
    verdict = check_failover_within(history, history.windows[0], max_s=1.0)
    assert not verdict.valid and "1.330 s > 1.0 s" in verdict.summary


def test_failover_rejects_sessions_that_never_move() -> None:
    history = saved("kill_stuck")
    verdict = check_failover_within(history, history.windows[0], max_s=10.0)
    assert not verdict.valid
    assert sorted(s["session"] for s in verdict.details["not_failed_over"]) == ["SU1", "SU4"]


def test_failover_without_sessions_of_the_node_is_invalid() -> None:
    history = saved("steady")
    verdict = check_failover_within(history, FaultWindow("kill", "node9", T0 + 5, T0 + 6), max_s=10.0)
    assert not verdict.valid and "no session of node9" in verdict.summary


# --- error budget --------------------------------------------------------------------------------------


def test_error_budget_accepts_failures_inside_windows() -> None:
    verdict = check_error_budget(saved("kill_failover"), outside_windows=0, inside_windows=2, grace_s=1.0)
    assert verdict.valid, verdict
    assert verdict.details["inside"]["failed"] == 2 and verdict.details["outside"]["failed"] == 0


def test_error_budget_rejects_failures_outside_windows() -> None:
    verdict = check_error_budget(saved("errors_outside"), outside_windows=0, inside_windows=10, grace_s=1.0)
    assert not verdict.valid
    assert [r["status"] for r in verdict.details["failed_outside"]] == [503, 0]


def test_error_budget_ratio() -> None:
    history = saved("errors_outside")  # 2 of 96 failed = 2.1 %
    assert check_error_budget(history, outside_windows=0.03, inside_windows=0, grace_s=0).valid
    assert not check_error_budget(history, outside_windows=0.02, inside_windows=0, grace_s=0).valid


def test_error_budget_rejects_inside_budget_overrun() -> None:
    verdict = check_error_budget(saved("kill_stuck"), outside_windows=0, inside_windows=2, grace_s=1.0)
    assert not verdict.valid and "failed inside windows" in verdict.summary


@pytest.mark.parametrize("budget", [-1, 1.5, True, "2"])
def test_error_budget_bad_budget_is_an_invalid_verdict(budget: object) -> None:
    history = saved("steady")
    verdict = check_error_budget(history, outside_windows=budget, inside_windows=0, grace_s=0)  # type: ignore[arg-type]
    assert not verdict.valid and "budget" in verdict.summary


# --- distribution --------------------------------------------------------------------------------------


def test_distribution_accepts_even_spread() -> None:
    verdict = check_distribution(saved("steady"), {"node1": 1, "node2": 1, "node3": 1}, tolerance=0.05)
    assert verdict.valid, verdict
    assert verdict.details["new_sessions"] == 6


def test_distribution_rejects_against_other_factors() -> None:
    verdict = check_distribution(saved("steady"), {"node1": 2, "node2": 1, "node3": 1}, tolerance=0.05)
    assert not verdict.valid and "node1 0.333 vs 0.500" in verdict.summary


def test_distribution_rejects_skew_and_unexpected_nodes() -> None:
    assert not check_distribution(saved("skewed"), {"node1": 1, "node2": 1}, tolerance=0.1).valid
    verdict = check_distribution(saved("skewed"), {"node1": 1}, tolerance=0.2)
    assert verdict.valid  # 5/6 = 0.83 is within 0.2 of 1.0, node2's 1/6 within 0.2 of 0
    assert verdict.details["per_node"]["node2"]["expected"] == 0


def test_distribution_counts_only_new_sessions() -> None:
    # failover moves (route already set) do not count as new sessions
    history = saved("kill_failover")
    assert check_distribution(history, {"node1": 1, "node2": 1, "node3": 1}, tolerance=0.01).valid


# --- every node served, status after, log ---------------------------------------------------------------


def test_every_node_served() -> None:
    assert check_every_node_served(saved("steady"), ["node1", "node2", "node3"]).valid
    verdict = check_every_node_served(saved("skewed"), ["node1", "node2", "node3"])
    assert not verdict.valid and verdict.details["missing"] == ["node3"]
    assert not check_every_node_served(saved("steady"), []).valid


def test_every_node_served_ignores_failed_answers() -> None:
    record = RequestRecord(T0, T0 + 1, "u1", None, None, None, "node1", 500, 1.0, "HTTP 500", "/app/")
    assert not check_every_node_served(History([record]), ["node1"]).valid


def test_no_status_after() -> None:
    history = saved("late_503")  # one 503 at 6.2 s
    verdict = check_no_status_after(history, 503, T0 + 5.0)
    assert not verdict.valid and verdict.details["hits"] == 1
    assert check_no_status_after(history, 503, T0 + 7.0).valid
    assert check_no_status_after(saved("steady"), 503, T0).valid
    assert not check_no_status_after(history, 503, T0 + 100).valid  # nothing to judge


def test_log_free_of() -> None:
    log = "[notice] started\n[error] AH01114: failed to make connection\n[notice] ok\n"
    verdict = check_log_free_of(log, r"AH0111[0-9]")
    assert not verdict.valid and verdict.details["matches"] == [{"line": 2, "text": log.splitlines()[1]}]
    assert check_log_free_of(log, re.compile("segfault|child pid .* exit signal")).valid
    assert not check_log_free_of(log, "([").valid  # a bad pattern is an invalid verdict, not an exception


# --- verdicts ------------------------------------------------------------------------------------------


def test_checkers_never_raise() -> None:
    verdict = check_sticky_sessions(None)  # type: ignore[arg-type]
    assert not verdict.valid
    assert verdict.name == "sticky_sessions"
    assert "AttributeError" in verdict.summary and "exception" in verdict.details


def test_verdict_str_is_readable() -> None:
    verdict = check_sticky_sessions(saved("moved_without_fault"))
    text = str(verdict)
    assert text.startswith("[INVALID] sticky_sessions: 2 move(s)")
    assert "SU2" in text and "\n    offenders: " in text
    long = Verdict("x", True, {"blob": "y" * 5000}, "ok")
    assert len(str(long)) < 2000 and "(5000 chars)" in str(long)


def test_all_valid_and_format() -> None:
    good, bad = Verdict("a", True, {}, "fine"), Verdict("b", False, {}, "broken")
    assert all_valid([good, good]) and all_valid([])
    assert not all_valid([good, bad])
    assert format_verdicts([good, bad]).splitlines()[0] == "[INVALID] b: broken"
    assert bad.to_dict() == {"name": "b", "valid": False, "summary": "broken", "details": {}}


def test_moves_inside_a_balancer_window_are_excused_once() -> None:
    from harness.judge.checks import check_sticky_sessions
    from harness.judge.history import FaultWindow, History, RequestRecord

    def rec(t: float, node: str) -> RequestRecord:
        return RequestRecord(t=t, t_end=t + 0.01, user="u1", session="S1", route=node, new_route=node, node=node,
                             status=200, latency_ms=10.0, error=None, path="/app/")

    records = (rec(0, "node2"), rec(1, "node2"), rec(5, "node1"), rec(6, "node1"), rec(30, "node2"))
    restart = FaultWindow("balancer-restart", "balancer", 4.0, 5.5)
    verdict = check_sticky_sessions(History(records, (restart,)), faulted_nodes_grace_s=1.0)
    assert not verdict.valid and verdict.details["excused_moves"] == 1 and verdict.details["offending_moves"] == 1
    assert check_sticky_sessions(History(records[:4], (restart,)), faulted_nodes_grace_s=1.0).valid
