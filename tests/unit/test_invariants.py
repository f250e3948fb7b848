"""Unit tier: the balancer-sample invariants (served_by_registered, converges_within, no_child_crash), the
sticky checker's "moved once" rule, the sampler thread over a fake snapshot, and the runner's wiring."""

from __future__ import annotations

import threading

from hypothesis import given
from hypothesis import strategies as st

from harness.descriptions.faults import Kill
from harness.descriptions.reproduction import Reproduction
from harness.descriptions.timeline import Heal, Hold, Inject
from harness.judge.checks import check_sticky_sessions
from harness.judge.history import FaultWindow, History, RequestRecord
from harness.judge.invariants import check_converges_within, check_served_by_registered, expected_enabled
from harness.judge.samples import BalancerSample, NodeSample, read_samples, to_jsonl
from harness.machinery.contracts import BalancerState, NodeState
from harness.run.repro_checks import judge_names
from harness.run.reproduction import run_reproduction
from harness.run.sampler import BalancerSampler
from tests.unit.repro_fakes import FakeScenario

T0 = 1_700_000_000.0
UP = {"node1": NodeSample(True, {"/app": "ENABLED"}), "node2": NodeSample(True, {"/app": "ENABLED"})}
EXPECTED = expected_enabled({"node1": ("/app",), "node2": ("/app",)})


def req(t: float, node: str, route: str | None = None, status: int = 200, session: str = "s1") -> RequestRecord:
    return RequestRecord(T0 + t, T0 + t + 0.05, "u1", session, route, node, node, status, 50.0, None, "/app/")


def polls(views: list[dict[str, NodeSample] | None], every: float = 0.5) -> list[BalancerSample]:
    return [
        BalancerSample(T0 + i * every, T0 + i * every + 0.02, v, None if v is not None else "refused")
        for i, v in enumerate(views)
    ]


def without(node: str) -> dict[str, NodeSample]:
    return {k: v for k, v in UP.items() if k != node}


# --- served_by_registered ------------------------------------------------------------------------------


def test_served_by_registered_valid_invalid_and_unknown() -> None:
    requests = tuple(req(0.1 + 0.5 * i, f"node{1 + i % 2}") for i in range(20))
    samples = polls([UP] * 22)
    assert check_served_by_registered(History(requests), samples).valid
    gone = polls([UP] * 10 + [without("node1")] * 12)  # node1 answers at 5.1 s, 6.1 s, ... while unregistered
    verdict = check_served_by_registered(History(requests), gone)
    assert verdict.invalid and verdict.details["violations"] == 5, verdict
    assert verdict.details["offenders"][0]["before"][1] == "not registered"
    assert check_served_by_registered(History(requests[:3]), samples).unknown  # too few requests
    assert check_served_by_registered(History(requests), polls([UP])).unknown  # too few samples


def test_served_by_registered_excuses_ambiguity_and_sticky_requests_to_a_disabled_context() -> None:
    disabled = {**UP, "node1": NodeSample(True, {"/app": "DISABLED"})}
    requests = tuple(req(0.1 + 0.5 * i, "node1", route="node1") for i in range(12))
    assert check_served_by_registered(History(requests), polls([disabled] * 14)).valid
    new_sessions = tuple(req(0.1 + 0.5 * i, "node1") for i in range(12))
    assert check_served_by_registered(History(new_sessions), polls([disabled] * 14)).invalid
    flip = polls([UP, without("node1")] * 7)  # each request sits between an up and a gone sample
    verdict = check_served_by_registered(History(new_sessions), flip)
    assert verdict.valid and verdict.details["ambiguous_excused"] == 12, verdict
    errors = polls([None] * 14)
    assert check_served_by_registered(History(new_sessions), errors).unknown


@given(st.lists(st.sampled_from(["up", "gone", "down", "error"]), min_size=3, max_size=30))
def test_served_by_registered_is_invalid_only_between_two_samples_that_both_say_no(kinds: list[str]) -> None:
    views = {"up": UP, "gone": without("node1"), "down": {**UP, "node1": NodeSample(False, {"/app": "ENABLED"})}}
    samples = polls([views.get(k) for k in kinds])
    requests = tuple(req(0.1 + 0.5 * i, "node1") for i in range(len(kinds) - 1))
    verdict = check_served_by_registered(History(requests), samples, min_requests=1, min_samples=1)
    both_no = any(a in ("gone", "down") and b in ("gone", "down") for a, b in zip(kinds, kinds[1:]))
    assert verdict.invalid == both_no, (kinds, verdict)


# --- converges_within ----------------------------------------------------------------------------------

HEALED = [FaultWindow("kill", ("node1",), T0 - 5, T0)]


def test_converges_within_valid_invalid_and_unknown() -> None:
    down = {**UP, "node1": NodeSample(False, {"/app": "ENABLED"})}
    settles = polls([down, down, UP, UP, UP])
    assert check_converges_within(settles, HEALED, EXPECTED, 2.0).valid
    verdict = check_converges_within(settles, HEALED, EXPECTED, 0.5)
    assert verdict.invalid and verdict.details["converged_s"] == 1.02, verdict
    stuck = polls([down] * 8)
    verdict = check_converges_within(stuck, HEALED, EXPECTED, 2.0)
    assert verdict.invalid and "node1 down" in verdict.summary, verdict
    relapse = polls([UP, UP, UP, UP, UP, UP, down, UP])
    verdict = check_converges_within(relapse, HEALED, EXPECTED, 2.0)
    assert verdict.invalid and "relapse" in verdict.details, verdict
    assert check_converges_within(polls([down, down]), HEALED, EXPECTED, 5.0).unknown  # sampling stopped early
    assert check_converges_within([], HEALED, EXPECTED, 2.0).unknown
    assert check_converges_within(settles, [FaultWindow("kill", ("node1",), T0, None)], EXPECTED, 2.0).unknown


@given(st.lists(st.booleans(), min_size=1, max_size=20), st.floats(0.0, 12.0))
def test_converges_within_matches_the_last_mismatch(good: list[bool], bound: float) -> None:
    samples = polls([UP if g else without("node2") for g in good])
    verdict = check_converges_within(samples, HEALED, EXPECTED, bound)
    if good[-1]:
        last_bad = max((i for i, g in enumerate(good) if not g), default=-1)
        settled = samples[last_bad + 1].t_end - T0
        assert verdict.valid == (settled <= bound), (good, bound, verdict)
    else:
        assert not verdict.valid


# --- samples, sampler ----------------------------------------------------------------------------------


def test_samples_round_trip_as_json_lines() -> None:
    samples = polls([UP, None, without("node1")])
    assert read_samples(to_jsonl(samples)) == samples


def test_the_sampler_polls_records_errors_and_stops() -> None:
    calls = {"n": 0}
    lock = threading.Event()

    def snapshot() -> BalancerState:
        calls["n"] += 1
        if calls["n"] >= 4:
            lock.set()
        if calls["n"] % 2 == 0:
            raise ConnectionError("refused")
        return BalancerState({"node1": NodeState("node1", True, 1, {"/app": "ENABLED"})})

    sampler = BalancerSampler(snapshot, interval_s=0.01).start()
    assert lock.wait(10)
    assert sampler.stop()
    samples = sampler.samples()
    assert len(samples) >= 4 and samples[0].ok and not samples[1].ok and "refused" in str(samples[1].error)
    assert len(sampler.samples()) == len(samples)  # nothing after stop
    assert sampler.stats()["failed"] == sum(not s.ok for s in samples)


# --- no_child_crash, sticky once -----------------------------------------------------------------------


def test_no_child_crash_finds_httpd_children_killed_by_a_signal() -> None:
    def judge(log: str) -> str:
        verdicts = judge_names(["no_child_crash"], nodes=(), history=lambda: None, state=BalancerState,
                               logs=lambda: {"error_log": log})  # fmt: skip
        return verdicts[0].outcome

    crash = "[core:notice] [pid 1] AH00052: child pid 47 exit signal Segmentation fault (11)\n"
    assert judge(crash) == "invalid"
    assert judge("[mpm_event:notice] AH00489: Apache/2.4.62 configured -- resuming normal operations\n") == "valid"
    assert judge("") == "unknown"


def test_sticky_flags_a_second_move_and_a_move_back_after_the_heal() -> None:
    window = FaultWindow("kill", ("node1",), T0 + 1.0, T0 + 3.0)
    once = (req(0.0, "node1"), req(1.5, "node2"), req(2.5, "node2"), req(6.0, "node2"))
    assert check_sticky_sessions(History(once, (window,)), faulted_nodes_grace_s=0.5, min_moved=1).valid
    back = (*once, req(7.0, "node1"))  # back to node1 after the heal
    assert check_sticky_sessions(History(back, (window,)), faulted_nodes_grace_s=0.5).invalid
    twice = (req(0.0, "node1"), req(1.5, "node2"), req(2.0, "node1"), req(2.5, "node2"))  # within the window
    assert check_sticky_sessions(History(twice, (window,)), faulted_nodes_grace_s=0.5).invalid


# --- the runner ----------------------------------------------------------------------------------------


def test_a_reproduction_samples_only_when_a_check_needs_it_and_judges_in_order() -> None:
    history = History(tuple(req(0.1 + 0.5 * i, "node1") for i in range(5)))
    plain = Reproduction("X-1", timeline=(Inject(Kill("node1")), Hold(0.01), Heal("kill:node1")), checks=("sticky",))
    scenario = FakeScenario(history)
    run_reproduction(scenario, plain)
    assert "balancer_samples.jsonl" not in scenario.attachments
    sampled = Reproduction(
        "X-2",
        timeline=(Inject(Kill("node1")), Hold(0.3), Heal("kill:node1"), Hold(0.3)),
        checks=("sticky", "converges_within:5", "served_by_registered", "no_child_crash"),
    )
    scenario = FakeScenario(history)
    verdicts = run_reproduction(scenario, sampled, sample_interval_s=0.05)
    names = [v.name for v in verdicts][-4:]
    assert names == ["sticky_sessions", "converges_within:5", "served_by_registered", "no_child_crash"]
    samples = read_samples(scenario.attachments["balancer_samples.jsonl"])
    assert len(samples) >= 4 and scenario.evidence_json["balancer_sampler.json"]["joined"] is True
    assert any(s.nodes and s.nodes["node1"].up is False for s in samples)  # the sampler saw the kill
    assert samples[-1].nodes and samples[-1].nodes["node1"].up is True  # and the heal
