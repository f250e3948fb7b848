"""Checkers against saved histories (tests/unit/data/histories, made by generate.py there).

Saved cases: 6 users, 16 requests each, 0.5 s apart; u1,u4 on node1, u2,u5 on node2, u3,u6 on node3.
Every checker is shown three ways: a history where it is valid, one where it is invalid, one where it is
unknown (too little evidence), and its bad bounds are refused at the call.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from harness.judge.checks import (
    Verdict,
    all_valid,
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
BAD_BOUNDS = [math.nan, math.inf, -math.inf, -1.0, -1]


def saved(name: str) -> History:
    windows = DATA / f"{name}.windows.jsonl"
    return load_history(DATA / f"{name}.jsonl", windows if windows.exists() else None)


def served(
    t: float, node: str, session: str = "s1", route: str | None = "node1", status: int = 200, error: str | None = None
) -> RequestRecord:
    return RequestRecord(T0 + t, T0 + t + 0.01, "u1", session, route, node, node, status, 10.0, error, "/app/")


# --- sticky sessions -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["steady", "kill_failover", "two_kills", "kill_stuck"])
def test_sticky_accepts(name: str) -> None:
    verdict = check_sticky_sessions(saved(name))
    assert verdict.valid and verdict.outcome == "valid", verdict


def test_sticky_counts_moves_excused_by_a_kill() -> None:
    verdict = check_sticky_sessions(saved("kill_failover"), min_sessions=6, min_moved=2)
    assert verdict.valid, verdict
    assert verdict.details["excused_moves"] == 2
    assert verdict.details["sessions_judged"] == 6


def test_sticky_rejects_moves_without_fault() -> None:
    verdict = check_sticky_sessions(saved("moved_without_fault"))
    assert verdict.invalid and not verdict.valid and not verdict.unknown
    offenders = verdict.details["offenders"]
    moves = [(o["session"], o["from"], o["to"]) for o in offenders]
    assert moves == [("SU2", "node2", "node1"), ("SU5", "node2", "node3")]
    assert offenders[0]["t"] == pytest.approx(T0 + 4.1)
    assert "2 move(s) in 2 session(s)" in verdict.summary


def test_sticky_rejects_second_move_in_one_window() -> None:
    verdict = check_sticky_sessions(saved("kill_moved_twice"))
    assert verdict.invalid
    reasons = [o["reason"] for o in verdict.details["offenders"]]
    assert reasons == ["no fault on node2 around the move", "moved again within fault window(s) [0] on node1"]


def test_sticky_offence_beats_missing_evidence() -> None:
    verdict = check_sticky_sessions(saved("moved_without_fault"), min_sessions=100, min_moved=100)
    assert verdict.invalid, verdict


def test_sticky_grace_after_window_end() -> None:
    records = [served(0, "node1"), served(1, "node1"), served(9, "node2")]
    window = FaultWindow("kill", ("node1",), T0 + 2, T0 + 6)
    assert check_sticky_sessions(History(records, [window]), faulted_nodes_grace_s=5).valid
    assert check_sticky_sessions(History(records, [window]), faulted_nodes_grace_s=3).valid  # 6 + 3 >= 9
    late = check_sticky_sessions(History(records, [window]), faulted_nodes_grace_s=1)
    assert late.invalid and late.details["offending_moves"] == 1


def test_sticky_window_on_another_node_does_not_excuse() -> None:
    records = [served(0, "node1"), served(3, "node2")]
    assert check_sticky_sessions(History(records, [FaultWindow("kill", ("node2",), T0 + 1, T0 + 5)])).invalid


def test_sticky_with_nothing_to_judge_is_unknown() -> None:
    verdict = check_sticky_sessions(History([served(0, "node1")]))
    assert verdict.unknown and not verdict.valid
    assert "0 session(s) with two served requests, need 1" in verdict.summary


def test_sticky_below_min_sessions_is_unknown() -> None:
    assert check_sticky_sessions(saved("steady"), min_sessions=6).valid
    verdict = check_sticky_sessions(saved("steady"), min_sessions=7)
    assert verdict.unknown and "6 session(s)" in verdict.summary and "need 7" in verdict.summary


def test_sticky_without_the_expected_move_is_unknown() -> None:
    assert check_sticky_sessions(saved("kill_failover"), min_moved=2).valid
    verdict = check_sticky_sessions(saved("kill_failover"), min_moved=3)
    assert verdict.unknown and "2 session move(s) excused by a fault, need 3" in verdict.summary


def test_a_partition_window_excuses_the_partitioned_nodes_move() -> None:
    history = saved("partition_moved")  # window targets ("node1", "balancer"); u1, u4 leave node1 inside it
    assert history.windows[0].targets == ("node1", "balancer")
    verdict = check_sticky_sessions(history, faulted_nodes_grace_s=1.0, min_moved=2)
    assert verdict.valid, verdict
    assert verdict.details["excused_moves"] == 2


def test_a_partition_window_excuses_no_other_node() -> None:
    records = [served(0, "node2"), served(1, "node2"), served(6, "node3")]
    window = FaultWindow("partition", ("node1", "balancer"), T0 + 5, T0 + 8)
    verdict = check_sticky_sessions(History(records, [window]))
    assert verdict.invalid and verdict.details["offenders"][0]["reason"] == "no fault on node2 around the move"


def test_a_partition_window_from_an_old_file_excuses_too() -> None:
    history = saved("partition_moved_old_format")  # "target": "node1,balancer"
    assert history.windows == saved("partition_moved").windows
    assert check_sticky_sessions(history, faulted_nodes_grace_s=1.0, min_moved=2).valid


def test_moves_inside_a_balancer_window_are_excused_once() -> None:
    def rec(t: float, node: str) -> RequestRecord:
        return RequestRecord(
            t=t,
            t_end=t + 0.01,
            user="u1",
            session="S1",
            route=node,
            new_route=node,
            node=node,
            status=200,
            latency_ms=10.0,
            error=None,
            path="/app/",
        )

    records = (rec(0, "node2"), rec(1, "node2"), rec(5, "node1"), rec(6, "node1"), rec(30, "node2"))
    restart = FaultWindow("balancer-restart", ("balancer",), 4.0, 5.5)
    verdict = check_sticky_sessions(History(records, (restart,)), faulted_nodes_grace_s=1.0)
    assert verdict.invalid and verdict.details["excused_moves"] == 1 and verdict.details["offending_moves"] == 1
    assert check_sticky_sessions(History(records[:4], (restart,)), faulted_nodes_grace_s=1.0).valid


@pytest.mark.parametrize("bad", BAD_BOUNDS)
def test_sticky_refuses_bad_bounds_at_the_call(bad: float) -> None:
    with pytest.raises(ValueError, match=r"^faulted_nodes_grace_s: "):
        check_sticky_sessions(None, faulted_nodes_grace_s=bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^min_moved: "):
        check_sticky_sessions(None, min_moved=bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_sticky_refuses_bad_minimum_sessions(bad: object) -> None:
    with pytest.raises(ValueError, match=r"^min_sessions: "):
        check_sticky_sessions(None, min_sessions=bad)  # type: ignore[arg-type]


# --- failover ------------------------------------------------------------------------------------------


def test_failover_accepts_and_measures() -> None:
    history = saved("kill_failover")
    verdict = check_failover_within(history, history.windows[0], max_s=2.0)
    assert verdict.valid, verdict
    assert verdict.details["per_session_s"] == {"SU4": 1.33, "SU1": 1.03}
    assert verdict.details["measured_max_s"] == 1.33
    assert check_failover_within(history, history.windows[0], max_s=1.33).valid  # the bound is inclusive
    assert verdict.summary == "2 sessions of node1 failed over in <= 1.330 s"


def test_failover_rejects_when_slower_than_limit() -> None:
    history = saved("kill_failover")
    verdict = check_failover_within(history, history.windows[0], max_s=1.0)
    assert verdict.invalid and "1.330 s > 1 s" in verdict.summary


def test_failover_rejects_sessions_that_never_move() -> None:
    history = saved("kill_stuck")
    verdict = check_failover_within(history, history.windows[0], max_s=10.0)
    assert verdict.invalid
    assert sorted(s["session"] for s in verdict.details["not_failed_over"]) == ["SU1", "SU4"]
    assert verdict.summary == "2 session(s) of node1 never reached another node"


def test_failover_without_sessions_of_the_node_is_unknown() -> None:
    history = saved("steady")
    verdict = check_failover_within(history, FaultWindow("kill", ("node9",), T0 + 5, T0 + 6), max_s=10.0)
    assert verdict.unknown and "0 session(s) of node9" in verdict.summary and "need 1" in verdict.summary


def test_failover_below_min_sessions_is_unknown() -> None:
    history = saved("kill_failover")
    assert check_failover_within(history, history.windows[0], 10.0, min_sessions=2).valid
    verdict = check_failover_within(history, history.windows[0], 10.0, min_sessions=3)
    assert verdict.unknown and "2 session(s) of node1" in verdict.summary


def test_failover_ignores_sessions_unobserved_after_the_start() -> None:
    records = [served(0, "node1", "a"), served(1, "node1", "a"), served(0, "node1", "b"), served(6, "node2", "b")]
    verdict = check_failover_within(History(records), FaultWindow("kill", ("node1",), T0 + 5, None), 3.0)
    assert verdict.valid and verdict.details["sessions_unobserved"] == 1
    assert verdict.details["per_session_s"] == {"b": 1.01}


@pytest.mark.parametrize(
    "reply",
    [
        {"status": 503, "error": "HTTP 503"},
        {"status": 500, "error": "HTTP 500"},
        {"status": 200, "error": "ReadTimeout() after HTTP 200"},
    ],
)
def test_a_failed_reply_from_another_node_is_no_failover(reply: dict[str, object]) -> None:
    records = [served(0, "node1"), served(6, "node2", **reply)]  # type: ignore[arg-type]
    verdict = check_failover_within(History(records), FaultWindow("kill", ("node1",), T0 + 5, T0 + 8), 10.0)
    assert verdict.invalid, verdict
    assert verdict.details["sessions_failed_over"] == 0 and verdict.details["sessions_not_failed_over"] == 1


def test_a_successful_reply_after_failed_ones_is_the_failover() -> None:
    records = [served(0, "node1"), served(6, "node2", status=503, error="HTTP 503"), served(7, "node2")]
    verdict = check_failover_within(History(records), FaultWindow("kill", ("node1",), T0 + 5, T0 + 8), 10.0)
    assert verdict.valid and verdict.details["per_session_s"] == {"s1": 2.01}


def test_failover_of_a_partitioned_node() -> None:
    history = saved("partition_moved")  # targets node1 and balancer: node1's sessions reach node2
    verdict = check_failover_within(history, history.windows[0], 1.0)
    assert verdict.valid and verdict.details["targets"] == ["node1"], verdict


@pytest.mark.parametrize("bad", [*BAD_BOUNDS, 0])
def test_failover_refuses_bad_bounds_at_the_call(bad: float) -> None:
    window = FaultWindow("kill", ("node1",), T0, None)
    if bad != 0:
        with pytest.raises(ValueError, match=r"^max_s: "):
            check_failover_within(None, window, bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^min_sessions: "):
        check_failover_within(None, window, 1.0, min_sessions=bad)  # type: ignore[arg-type]


def test_failover_needs_a_node_among_the_targets() -> None:
    with pytest.raises(ValueError, match="window"):
        check_failover_within(saved("steady"), FaultWindow("balancer_restart", ("balancer",), T0, None), 1.0)


# --- error budget --------------------------------------------------------------------------------------


def test_error_budget_accepts_failures_inside_windows() -> None:
    verdict = check_error_budget(saved("kill_failover"), outside_windows=0, inside_windows=2, grace_s=1.0)
    assert verdict.valid, verdict
    assert verdict.details["inside"]["failed"] == 2 and verdict.details["outside"]["failed"] == 0
    assert verdict.details["requests_per_window"] == [35]
    assert verdict.summary == "outside 0 failed, inside 2 failed"


def test_error_budget_rejects_failures_outside_windows() -> None:
    verdict = check_error_budget(saved("errors_outside"), outside_windows=0, inside_windows=10, grace_s=1.0)
    assert verdict.invalid
    assert [r["status"] for r in verdict.details["failed_outside"]] == [503, 0]
    assert verdict.summary == "2/96 failed outside windows (budget 0)"


def test_error_budget_ratio() -> None:
    history = saved("errors_outside")  # 2 of 96 failed = 2.1 %
    assert check_error_budget(history, outside_windows=0.03, inside_windows=0, grace_s=0).valid
    assert check_error_budget(history, outside_windows=2 / 96, inside_windows=0, grace_s=0).valid
    assert check_error_budget(history, outside_windows=0.02, inside_windows=0, grace_s=0).invalid
    assert check_error_budget(history, outside_windows=2, inside_windows=0, grace_s=0).valid
    assert check_error_budget(history, outside_windows=1, inside_windows=0, grace_s=0).invalid


def test_error_budget_rejects_inside_budget_overrun() -> None:
    verdict = check_error_budget(saved("kill_stuck"), outside_windows=0, inside_windows=2, grace_s=1.0)
    assert verdict.invalid and "failed inside windows" in verdict.summary


def test_error_budget_of_an_empty_history_is_unknown() -> None:
    verdict = check_error_budget(History([]), outside_windows=0, inside_windows=0, grace_s=0)
    assert verdict.unknown and not verdict.valid and "no requests recorded" in verdict.summary
    ratio = check_error_budget(History([]), outside_windows=0.5, inside_windows=0.5, grace_s=0, min_per_window=0)
    assert ratio.unknown


def test_error_budget_without_requests_in_the_window_is_unknown() -> None:
    history = saved("recover_idle_window")  # requests before and after the window, none in it
    verdict = check_error_budget(history, outside_windows=0, inside_windows=1.0, grace_s=3.0)
    assert verdict.unknown and verdict.details["requests_per_window"] == [0], verdict
    assert verdict.details["inside"]["requests"] > 0  # the grace reaches requests: only the window itself counts
    assert check_error_budget(history, outside_windows=0, inside_windows=1.0, grace_s=3.0, min_per_window=0).valid


def test_error_budget_min_per_window_is_inclusive() -> None:
    history = saved("kill_failover")
    assert check_error_budget(history, outside_windows=0, inside_windows=2, grace_s=1, min_per_window=35).valid
    verdict = check_error_budget(history, outside_windows=0, inside_windows=2, grace_s=1, min_per_window=36)
    assert verdict.unknown and "fewer than 36" in verdict.summary


@pytest.mark.parametrize("budget", [-1, 1.5, True, "2", math.nan, math.inf, -0.5, None])
def test_error_budget_refuses_a_bad_budget_at_the_call(budget: object) -> None:
    with pytest.raises(ValueError, match=r"^outside_windows: "):
        check_error_budget(None, outside_windows=budget, inside_windows=0, grace_s=0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^inside_windows: "):
        check_error_budget(None, outside_windows=0, inside_windows=budget, grace_s=0)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", BAD_BOUNDS)
def test_error_budget_refuses_bad_grace_and_minimum(bad: float) -> None:
    with pytest.raises(ValueError, match=r"^grace_s: "):
        check_error_budget(None, outside_windows=0, inside_windows=0, grace_s=bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^min_per_window: "):
        check_error_budget(
            None,
            outside_windows=0,
            inside_windows=0,
            grace_s=0,  # type: ignore[arg-type]
            min_per_window=bad,
        )  # type: ignore[arg-type]


def test_error_budget_boundaries_are_accepted() -> None:
    history = saved("kill_failover")
    assert check_error_budget(history, outside_windows=1.0, inside_windows=0.0, grace_s=0, min_per_window=0).invalid
    assert check_error_budget(history, outside_windows=0, inside_windows=1.0, grace_s=0.0).valid


# --- the recover scenario's checks on a history with an idle fault window -------------------------------


def test_recover_checks_on_an_idle_partition_window_are_not_valid() -> None:
    """test_cluster_recovers_and_sessions_hold[partition-node1] got three valid verdicts on such a history:
    no request inside the partition window, no session moved. Its checks now say so."""
    history = saved("recover_idle_window")
    verdicts = [
        check_sticky_sessions(history, faulted_nodes_grace_s=3.0, min_sessions=4, min_moved=1),
        check_every_node_served(history, ["node1", "node2"]),
        check_error_budget(history, outside_windows=0, inside_windows=1.0, grace_s=3.0, min_per_window=4),
    ]
    assert [v.outcome for v in verdicts] == ["unknown", "valid", "unknown"], format_verdicts(verdicts)
    assert not all_valid(verdicts)
    text = format_verdicts(verdicts)
    heads = [line for line in text.splitlines() if line.startswith("[")]
    assert [h.split(":")[0] for h in heads] == [
        "[UNKNOWN] sticky_sessions",
        "[UNKNOWN] error_budget",
        "[VALID] every_node_served",
    ]
    # the same checks pass a partition that was felt: requests in the window, node1's sessions moved
    felt = saved("partition_moved")
    assert all_valid(
        [
            check_sticky_sessions(felt, faulted_nodes_grace_s=3.0, min_sessions=4, min_moved=1),
            check_every_node_served(felt, ["node1", "node2"]),
            check_error_budget(felt, outside_windows=0, inside_windows=1.0, grace_s=3.0, min_per_window=4),
        ]
    )


# --- every node served, status after, log ---------------------------------------------------------------


def test_every_node_served() -> None:
    assert check_every_node_served(saved("steady"), ["node1", "node2", "node3"]).valid
    verdict = check_every_node_served(saved("skewed"), ["node1", "node2", "node3"])
    assert verdict.invalid and verdict.details["missing"] == ["node3"]
    assert verdict.summary == "never served successfully: node3"


def test_every_node_served_refuses_no_names_and_bad_after() -> None:
    with pytest.raises(ValueError, match=r"^nodes: no node names given$"):
        check_every_node_served(saved("steady"), [])
    for bad in BAD_BOUNDS:
        with pytest.raises(ValueError, match=r"^after: "):
            check_every_node_served(saved("steady"), ["node1"], after=bad)


def test_every_node_served_ignores_failed_answers() -> None:
    for status, error in ((500, "HTTP 500"), (200, "ReadTimeout() after HTTP 200"), (404, "HTTP 404")):
        record = RequestRecord(T0, T0 + 1, "u1", None, None, None, "node1", status, 1.0, error, "/app/")
        assert check_every_node_served(History([record]), ["node1"]).invalid


def test_every_node_served_of_nothing_is_unknown() -> None:
    assert check_every_node_served(History([]), ["node1"]).unknown


def test_every_node_served_after_a_time() -> None:
    history = saved("frozen_back")  # node1 serves u4 throughout and u1 again after the pause (8 s)
    assert check_every_node_served(history, ["node1", "node2"], after=T0 + 8.0).valid
    never_back = check_every_node_served(saved("frozen_never_back"), ["node1", "node2"], after=T0 + 8.0)
    assert never_back.invalid and never_back.details["missing"] == ["node1"]
    assert "at or after" in never_back.summary
    no_load = check_every_node_served(saved("frozen_no_load_after"), ["node1", "node2"], after=T0 + 8.0)
    assert no_load.unknown and no_load.details["requests"] == 0
    first = min(r.t for r in history.records)
    assert check_every_node_served(history, ["node1"], after=first).details["requests"] == len(history)


def test_no_status_after() -> None:
    history = saved("late_503")  # one 503 at 6.2 s
    verdict = check_no_status_after(history, 503, T0 + 5.0)
    assert verdict.invalid and verdict.details["hits"] == 1
    assert verdict.summary.startswith("1/") and "got 503, first 1.200 s after" in verdict.summary
    assert check_no_status_after(history, 503, T0 + 7.0).valid
    assert check_no_status_after(saved("steady"), 503, T0).valid
    assert check_no_status_after(history, 503, T0 + 100).unknown  # nothing to judge
    last = max(r.t for r in history.records)
    assert check_no_status_after(history, 503, last).details["requests_after"] == 1  # at `t` counts


@pytest.mark.parametrize("bad", [*BAD_BOUNDS, 600, 2.5])
def test_no_status_after_refuses_bad_arguments(bad: float) -> None:
    with pytest.raises(ValueError, match=r"^status: "):
        check_no_status_after(saved("steady"), bad, T0)  # type: ignore[arg-type]
    if bad not in (600, 2.5):
        with pytest.raises(ValueError, match=r"^t: "):
            check_no_status_after(saved("steady"), 503, bad)


def test_log_free_of() -> None:
    log = "[notice] started\n[error] AH01114: failed to make connection\n[notice] ok\n"
    verdict = check_log_free_of(log, r"AH0111[0-9]")
    assert verdict.invalid and verdict.details["matches"] == [{"line": 2, "text": log.splitlines()[1]}]
    assert verdict.summary == "1 line(s) match 'AH0111[0-9]', first at line 2"
    assert check_log_free_of(log, re.compile("segfault|child pid .* exit signal")).valid
    bad = check_log_free_of(log, "([")
    assert bad.invalid and "error" in bad.summary  # a bad pattern is an invalid verdict, not an exception
    assert check_log_free_of("", "segfault").unknown  # a log not collected proves nothing


# --- verdicts ------------------------------------------------------------------------------------------


def test_checkers_never_raise_while_judging() -> None:
    verdict = check_sticky_sessions(None)  # type: ignore[arg-type]
    assert verdict.invalid
    assert verdict.name == "sticky_sessions"
    assert "AttributeError" in verdict.summary and "exception" in verdict.details
    assert verdict.summary.startswith("checker failed: AttributeError: ")
    assert "Traceback" in verdict.details["traceback"]


@pytest.mark.parametrize(
    "check",
    [
        lambda h: check_failover_within(h, FaultWindow("kill", ("node1",), T0, None), 1.0),
        lambda h: check_error_budget(h, outside_windows=0, inside_windows=0, grace_s=0),
        lambda h: check_every_node_served(h, ["node1"]),
        lambda h: check_no_status_after(h, 503, T0),
    ],
)
def test_every_checker_turns_an_exception_into_an_invalid_verdict(check: object) -> None:
    verdict = check(object())  # type: ignore[operator]
    assert verdict.invalid and "checker failed" in verdict.summary and "exception" in verdict.details


def test_verdict_str_is_readable() -> None:
    verdict = check_sticky_sessions(saved("moved_without_fault"))
    text = str(verdict)
    assert text.startswith("[INVALID] sticky_sessions: 2 move(s)")
    assert "SU2" in text and "\n    offenders: " in text
    long = Verdict("x", "valid", {"blob": "y" * 5000}, "ok")
    assert len(str(long)) < 2000 and "(5000 chars)" in str(long)
    assert str(Verdict("x", "valid", {"blob": "y" * 1500}, "ok")).endswith("y")  # 1500 chars: not cut
    assert str(Verdict("u", "unknown", {}, "too few")) == "[UNKNOWN] u: too few"
    assert str(Verdict("d", "valid", {"n": 3}, "ok")) == "[VALID] d: ok\n    n: 3"


def test_verdict_outcomes() -> None:
    good, bad, unsure = (
        Verdict("a", "valid", {}, "fine"),
        Verdict("b", "invalid", {}, "broken"),
        Verdict("c", "unknown", {}, "too few"),
    )
    assert (good.valid, good.invalid, good.unknown) == (True, False, False)
    assert (bad.valid, bad.invalid, bad.unknown) == (False, True, False)
    assert (unsure.valid, unsure.invalid, unsure.unknown) == (False, False, True)
    assert Verdict("a", True).outcome == "valid" and Verdict("a", False).outcome == "invalid"  # booleans still read
    with pytest.raises(ValueError, match="outcome"):
        Verdict("a", "maybe")  # type: ignore[arg-type]
    assert Verdict("a", "valid").details == {} and Verdict("a", "valid").summary == ""


def test_all_valid_and_format() -> None:
    good, bad, unsure = (
        Verdict("a", "valid", {}, "fine"),
        Verdict("b", "invalid", {}, "broken"),
        Verdict("c", "unknown", {}, "too few"),
    )
    assert all_valid([good, good]) and all_valid([])
    assert not all_valid([good, bad])
    assert not all_valid([good, unsure])  # unknown never counts as valid
    assert all_valid([good, unsure], unknown_ok=["c"])  # unless the test says so, by name
    assert not all_valid([bad], unknown_ok=["b"])
    assert [line.split("]")[0] for line in format_verdicts([good, unsure, bad]).splitlines()] == [
        "[INVALID",
        "[UNKNOWN",
        "[VALID",
    ]
    assert bad.to_dict() == {"name": "b", "outcome": "invalid", "valid": False, "summary": "broken", "details": {}}
    assert unsure.to_dict()["outcome"] == "unknown" and unsure.to_dict()["valid"] is False


# --- defaults, listed records, argument messages -------------------------------------------------------


def test_sticky_default_grace_is_five_seconds() -> None:
    window = FaultWindow("kill", ("node1",), T0 + 2, T0 + 6)
    within = [served(0, "node1"), served(1, "node1"), served(10.99, "node2")]  # 6 + 5 >= 10.99 + 0.01
    beyond = [served(0, "node1"), served(1, "node1"), served(11.5, "node2")]
    assert check_sticky_sessions(History(within, [window])).valid
    assert check_sticky_sessions(History(beyond, [window])).invalid


def test_error_budget_default_needs_one_request_per_window() -> None:
    records = [served(0, "node1"), served(5, "node1", session="s2")]
    window = FaultWindow("kill", ("node1",), T0 + 4.995, T0 + 5.005)
    assert check_error_budget(History(records, [window]), outside_windows=0, inside_windows=0, grace_s=0).valid
    empty = FaultWindow("kill", ("node1",), T0 + 2, T0 + 3)
    assert check_error_budget(History(records, [empty]), outside_windows=0, inside_windows=0, grace_s=0).unknown


def test_listed_records_carry_their_fields() -> None:
    record = RequestRecord(T0 + 0.12345, T0 + 0.2, "u7", "S7", "node2", "node2", None, 503, 1.0, "HTTP 503", "/app/")
    verdict = check_error_budget(History([record]), outside_windows=0, inside_windows=0, grace_s=0)
    assert verdict.details["failed_outside"] == [
        {
            "t": round(T0 + 0.12345, 3),
            "user": "u7",
            "session": "S7",
            "route": "node2",
            "node": None,
            "status": 503,
            "error": "HTTP 503",
        }
    ]


@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda: check_failover_within(None, FaultWindow("kill", ("node1",), T0, None), 1.0, min_sessions=0),  # type: ignore[arg-type]
            "min_sessions: expected an int in [1, inf), got 0",
        ),
        (
            lambda: check_sticky_sessions(None, faulted_nodes_grace_s=-1),  # type: ignore[arg-type]
            "faulted_nodes_grace_s: expected a number in [0, inf), got -1",
        ),
        (
            lambda: check_sticky_sessions(None, min_moved=1.5),  # type: ignore[arg-type]
            "min_moved: expected an int, got 1.5",
        ),
        (
            lambda: check_sticky_sessions(None, faulted_nodes_grace_s=math.nan),  # type: ignore[arg-type]
            "faulted_nodes_grace_s: expected a finite number, got nan",
        ),
        (
            lambda: check_no_status_after(None, 600, T0),  # type: ignore[arg-type]
            "status: expected an int in [0, 599], got 600",
        ),
        (
            lambda: check_error_budget(None, outside_windows=1.5, inside_windows=0, grace_s=0),  # type: ignore[arg-type]
            "outside_windows: expected a number in [0, 1], got 1.5",
        ),
        (
            lambda: check_error_budget(None, outside_windows="1", inside_windows=0, grace_s=0),  # type: ignore[arg-type]
            "outside_windows: a budget is an int count or a float ratio in [0, 1], got '1'",
        ),
    ],
)
def test_argument_errors_read_well(call: object, message: str) -> None:
    with pytest.raises(ValueError) as err:
        call()  # type: ignore[operator]
    assert str(err.value) == message


def test_bounds_open_and_closed_ends() -> None:
    from harness.judge.bounds import validate_bound, validate_count

    assert validate_bound("x", 0) == 0.0 and validate_bound("x", 1, hi=1.0) == 1.0
    with pytest.raises(ValueError) as err:
        validate_bound("x", 0, lo_open=True)
    assert str(err.value) == "x: expected a number in (0, inf), got 0"
    assert validate_bound("x", 0.5, lo=0.5) == 0.5 and validate_count("n", 3, lo=3) == 3
    with pytest.raises(ValueError, match=r"^n: expected an int in \[3, inf\), got 2$"):
        validate_count("n", 2, lo=3)
    with pytest.raises(ValueError, match=r"^x: expected a number, got True$"):
        validate_bound("x", True)


def test_verdict_messages_and_unusual_details() -> None:
    with pytest.raises(ValueError) as err:
        Verdict("a", "maybe")  # type: ignore[arg-type]
    assert str(err.value) == "outcome: expected one of valid, invalid, unknown, got 'maybe'"
    text = str(Verdict("p", "valid", {"where": [Path("/tmp/x")]}, "ok"))
    assert text == '[VALID] p: ok\n    where: ["/tmp/x"]'
