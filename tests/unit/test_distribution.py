"""The distribution checker: a chi-square goodness-of-fit test on sessions, its sample-size rule, and the
standard-library statistics under it (checked against known table values and exact enumeration)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from harness.judge import stats
from harness.judge.checks import check_distribution, distribution_sessions_needed, first_nodes
from harness.judge.history import History, RequestRecord, load_history

DATA = Path(__file__).parent / "data" / "histories"
T0 = 1_700_000_000.0
TWO = {"node1": 80, "node2": 20}
THREE = {"node1": 50, "node2": 30, "node3": 20}


def saved(name: str) -> History:
    return load_history(DATA / f"{name}.jsonl")


def first(session: str, node: str | None, t: float = 0.0, status: int = 200) -> RequestRecord:
    return RequestRecord(T0 + t, T0 + t + 0.01, "u", session, None, node, node, status, 10.0, None, "/app/")


# --- the sample-size rule ------------------------------------------------------------------------------


def test_sessions_needed_for_80_20_against_an_even_split() -> None:
    assert distribution_sessions_needed(TWO) == 21
    assert distribution_sessions_needed({"node1": 0.8, "node2": 0.2}, alpha=0.01, power=0.8) == 21


def test_sessions_needed_for_50_30_20_against_an_even_split() -> None:
    assert distribution_sessions_needed(THREE) == 94
    assert distribution_sessions_needed({"node1": 20, "node2": 30, "node3": 50}) == 94  # the scenario's loads


def test_sessions_needed_grows_with_power_and_strictness() -> None:
    assert distribution_sessions_needed(TWO, power=0.9) > 21
    assert distribution_sessions_needed(TWO, alpha=0.05) < 21
    assert distribution_sessions_needed(TWO, alternative={"node1": 70, "node2": 30}) > 21


def _exact_rejection_2(n: int, shares: list[float], truth: list[float], alpha: float) -> float:
    critical = stats.chi2_isf(alpha, 1)
    return sum(
        math.comb(n, a) * truth[0] ** a * truth[1] ** (n - a)
        for a in range(n + 1)
        if stats.chi_square([a, n - a], shares) > critical
    )


def _exact_rejection_3(n: int, shares: list[float], truth: list[float], alpha: float) -> float:
    critical = stats.chi2_isf(alpha, 2)
    total = 0.0
    for a in range(n + 1):
        for b in range(n - a + 1):
            c = n - a - b
            if stats.chi_square([a, b, c], shares) > critical:
                ways = math.factorial(n) // (math.factorial(a) * math.factorial(b) * math.factorial(c))
                total += ways * truth[0] ** a * truth[1] ** b * truth[2] ** c
    return total


def test_the_rule_holds_by_exact_enumeration() -> None:
    """At the planned sample the exact power against the even split is about 80 % (the noncentral
    chi-square is an approximation: 80.8 % for 21 sessions, 79.8 % for 94), and the exact false-rejection
    rate of a true 80/20 or 50/30/20 is about alpha (1.4 % and 1.0 %)."""
    assert _exact_rejection_2(21, [0.8, 0.2], [0.5, 0.5], 0.01) == pytest.approx(0.808, abs=0.001)
    assert _exact_rejection_2(21, [0.8, 0.2], [0.8, 0.2], 0.01) == pytest.approx(0.0144, abs=0.001)
    assert _exact_rejection_3(94, [0.5, 0.3, 0.2], [1 / 3] * 3, 0.01) == pytest.approx(0.798, abs=0.001)
    assert _exact_rejection_3(94, [0.5, 0.3, 0.2], [0.5, 0.3, 0.2], 0.01) == pytest.approx(0.0101, abs=0.001)
    assert stats.power(21, [0.8, 0.2], [0.5, 0.5], 0.01) >= 0.8 > stats.power(20, [0.8, 0.2], [0.5, 0.5], 0.01)
    assert (
        stats.power(94, [0.5, 0.3, 0.2], [1 / 3] * 3, 0.01) >= 0.8 > stats.power(93, [0.5, 0.3, 0.2], [1 / 3] * 3, 0.01)
    )


# --- two nodes, 80/20 ----------------------------------------------------------------------------------


def test_80_20_observed_is_valid_against_80_20() -> None:
    verdict = check_distribution(saved("dist_80_20"), TWO)
    assert verdict.valid, verdict
    assert verdict.details["sessions"] == 40 and verdict.details["sessions_needed"] == 21
    assert verdict.details["alpha"] == 0.01 and verdict.details["p_value"] == pytest.approx(1.0)
    assert "alpha=0.01" in verdict.summary and "p=1 >= alpha=0.01" in verdict.summary


def test_a_drawn_80_20_sample_is_valid() -> None:
    verdict = check_distribution(saved("dist_drawn_80_20"), TWO)  # 46/14 drawn with a fixed seed
    assert verdict.valid and verdict.details["per_node"]["node1"]["sessions"] == 46, verdict


@pytest.mark.parametrize("name", ["dist_even_2", "dist_drawn_even_2"])
def test_an_even_split_is_invalid_against_80_20(name: str) -> None:
    verdict = check_distribution(saved(name), TWO)
    assert verdict.invalid, verdict
    assert verdict.details["p_value"] < 0.01 and "< alpha=0.01" in verdict.summary


def test_node1_without_any_session_is_invalid() -> None:
    verdict = check_distribution(saved("dist_node1_none"), TWO)
    assert verdict.invalid and verdict.details["per_node"]["node1"]["sessions"] == 0, verdict
    assert verdict.details["chi_square"] == pytest.approx(160.0)  # (0-32)²/32 + (40-8)²/8


def test_too_few_sessions_are_unknown() -> None:
    verdict = check_distribution(saved("dist_too_few_2"), TWO)  # 8/2: fits, but 10 < 21 sessions
    assert verdict.unknown and not verdict.valid, verdict
    assert "10 session(s), need 21" in verdict.summary


def test_the_needed_number_is_enough() -> None:
    history = History([first(f"s{i}", "node1" if i < 17 else "node2", i) for i in range(21)])
    assert check_distribution(history, TWO).valid
    assert check_distribution(History(history.records[:20]), TWO).unknown


# --- three nodes, 50/30/20 -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["dist_50_30_20", "dist_drawn_50_30_20"])
def test_50_30_20_observed_is_valid(name: str) -> None:
    verdict = check_distribution(saved(name), THREE)
    assert verdict.valid and verdict.details["df"] == 2, verdict


@pytest.mark.parametrize("name", ["dist_even_3", "dist_drawn_even_3", "dist_three_node1_none"])
def test_three_way_misfits_are_invalid(name: str) -> None:
    verdict = check_distribution(saved(name), THREE)
    assert verdict.invalid, verdict


def test_three_way_too_few_is_unknown() -> None:
    verdict = check_distribution(saved("dist_too_few_3"), THREE)
    assert verdict.unknown and "50 session(s), need 94" in verdict.summary, verdict


# --- rules of counting ---------------------------------------------------------------------------------


def test_sessions_not_requests_are_counted() -> None:
    # one busy session on node2 does not outweigh many sessions on node1
    records = [first(f"s{i}", "node1", i) for i in range(32)] + [first(f"t{i}", "node2", i) for i in range(8)]
    records += [
        RequestRecord(T0 + 50 + i, T0 + 50.01 + i, "u", "t0", "node2", "node2", "node2", 200, 1.0, None, "/app/")
        for i in range(500)
    ]
    verdict = check_distribution(History(records), TWO)
    assert verdict.valid and verdict.details["sessions"] == 40, verdict


def test_a_failover_move_counts_for_the_first_node() -> None:
    history = load_history(DATA / "kill_failover.jsonl")
    assert first_nodes(history) == {f"SU{i}": f"node{(i - 1) % 3 + 1}" for i in range(1, 7)}


def test_first_node_is_the_answering_node_even_without_a_cookie_back() -> None:
    answered = RequestRecord(T0, T0 + 1, "u", "a", None, None, "node1", 200, 1.0, None, "/app/")
    rewritten = RequestRecord(T0, T0 + 1, "u", "b", None, "node3", "node2", 200, 1.0, None, "/app/")
    assert first_nodes(History([answered, rewritten])) == {"a": "node1", "b": "node2"}


def test_first_node_falls_back_to_the_route_and_skips_unanswered_sessions() -> None:
    routed = RequestRecord(T0, T0 + 1, "u", "a", None, "node2", None, 200, 1.0, None, "/app/")
    nothing = RequestRecord(T0, T0 + 1, "u", "b", None, None, None, 0, 1.0, "refused", "/app/")
    assert first_nodes(History([routed, nothing, first("a", "node1", 2)])) == {"a": "node2"}


def test_a_session_on_an_unexpected_node_is_invalid() -> None:
    history = History([first(f"s{i}", "node1", i) for i in range(40)] + [first("x", "node3", 1)])
    verdict = check_distribution(history, TWO)
    assert verdict.invalid and "node3" in verdict.summary
    few = History(history.records[:5])  # s0, s1, x, s2, s3: too few sessions, but node3 is evidence enough
    assert check_distribution(few, {**TWO, "node3": 0}).invalid
    assert check_distribution(History([r for r in few.records if r.node != "node3"]), TWO).unknown
    assert check_distribution(history, {**TWO, "node3": 0}).invalid


def test_an_empty_history_is_unknown() -> None:
    verdict = check_distribution(History([]), TWO)
    assert verdict.unknown and verdict.details["sessions"] == 0


# --- arguments -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [math.nan, math.inf, -1.0, "1", None])
def test_bad_load_factors_are_refused_at_the_call(bad: object) -> None:
    with pytest.raises(ValueError, match=r"expected\['node2'\]"):
        check_distribution(None, {"node1": 1, "node2": bad})  # type: ignore[arg-type, dict-item]


@pytest.mark.parametrize(
    "expected, fragment",
    [
        ({"node1": 1}, "two or more nodes"),
        ({"node1": 1, "node2": 0}, "two or more nodes"),
        ({"node1": 0, "node2": 0}, "positive sum"),
        ([1, 2], "mapping"),
        ({"node1": 1, "node2": 1}, "^alternative: equals the expected shares"),
    ],
)
def test_bad_expectations_are_refused(expected: object, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        check_distribution(None, expected)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"alpha": math.nan}, "alpha"),
        ({"alpha": 0}, "alpha"),
        ({"alpha": 0.6}, "alpha"),
        ({"alpha": -0.1}, "alpha"),
        ({"power": math.inf}, "power"),
        ({"power": 1.0}, "power"),
        ({"power": 0.005}, "power"),
        ({"power": 0.01}, "power: expected a number in \\(0.01, 0.999\\]"),
        ({"alternative": {"node1": 1}}, "alternative"),
        ({"alternative": {"node1": math.nan, "node2": 1}}, "alternative"),
    ],
)
def test_bad_test_parameters_are_refused(kwargs: dict[str, object], name: str) -> None:
    with pytest.raises(ValueError, match=rf"^{name}"):
        check_distribution(None, TWO, **kwargs)  # type: ignore[arg-type]


def test_an_even_expectation_needs_an_explicit_alternative() -> None:
    even = {"node1": 1, "node2": 1, "node3": 1}
    assert check_distribution(saved("dist_even_3"), even, alternative=THREE).valid  # 102 >= needed
    assert distribution_sessions_needed(even, alternative=THREE) == distribution_sessions_needed(
        even, alternative={"node1": 0.5, "node2": 0.3, "node3": 0.2}
    )


def test_checker_exception_is_an_invalid_verdict() -> None:
    verdict = check_distribution(object(), TWO)  # type: ignore[arg-type]
    assert verdict.invalid and verdict.name == "distribution" and "checker failed" in verdict.summary


# --- statistics ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "x, df, p",
    [
        (3.841458820694124, 1, 0.05),
        (6.634896601021213, 1, 0.01),
        (9.21034037197618, 2, 0.01),
        (11.344866730144373, 3, 0.01),
        (0.0, 4, 1.0),
        (2.0, 2, math.exp(-1.0)),
        (40.0, 2, math.exp(-20.0)),
        (0.5, 5, 0.9921232932326296),
        (18.307038053275146, 10, 0.05),
    ],
)
def test_chi2_sf_matches_table_values(x: float, df: int, p: float) -> None:
    assert stats.chi2_sf(x, df) == pytest.approx(p, rel=1e-9)


@pytest.mark.parametrize("p, df", [(0.05, 1), (0.01, 2), (0.001, 5), (0.5, 3)])
def test_chi2_isf_inverts_sf(p: float, df: int) -> None:
    assert stats.chi2_sf(stats.chi2_isf(p, df), df) == pytest.approx(p, rel=1e-9)


def test_gamma_q_of_a_half_is_erfc() -> None:
    for x in (0.1, 0.5, 1.4, 1.6, 3.0, 10.0):
        assert stats.gamma_q(0.5, x) == pytest.approx(math.erfc(math.sqrt(x)), rel=1e-10)


def test_noncentral_sf() -> None:
    assert stats.ncx2_sf(3.0, 2, 0.0) == pytest.approx(stats.chi2_sf(3.0, 2), rel=1e-12)
    # df 1: X = (Z + sqrt(nc))², so P(X > c²) = P(Z > c - sqrt(nc)) + P(Z < -c - sqrt(nc))
    c, nc = 2.0, 4.0
    phi = lambda z: 0.5 * math.erfc(z / math.sqrt(2))  # noqa: E731 - upper normal tail
    assert stats.ncx2_sf(c * c, 1, nc) == pytest.approx(phi(c - 2.0) + 1 - phi(-c - 2.0), rel=1e-9)


def test_effect_size_and_statistic() -> None:
    assert stats.effect_size([0.8, 0.2], [0.5, 0.5]) == pytest.approx(0.5625)
    assert stats.chi_square([20, 20], [0.8, 0.2]) == pytest.approx(22.5)
    with pytest.raises(ValueError, match="shares"):
        stats.sessions_needed([1.0], [1.0], 0.01, 0.8)


def test_noncentral_sf_with_a_small_noncentrality() -> None:
    c, nc = 2.0, 1.0
    phi = lambda z: 0.5 * math.erfc(z / math.sqrt(2))  # noqa: E731 - upper normal tail
    assert stats.ncx2_sf(c * c, 1, nc) == pytest.approx(phi(c - 1.0) + 1 - phi(-c - 1.0), rel=1e-9)


def test_sessions_needed_is_an_int_and_can_be_one() -> None:
    assert stats.sessions_needed([0.99, 0.01], [0.01, 0.99], 0.01, 0.8) == 1
    assert type(stats.sessions_needed([0.8, 0.2], [0.5, 0.5], 0.01, 0.8)) is int
    assert type(stats.sessions_needed([0.5, 0.3, 0.2], [1 / 3] * 3, 0.01, 0.8)) is int


@pytest.mark.parametrize("p", [0.99, 0.9, 0.5, 0.05, 1e-6])
def test_chi2_isf_with_two_degrees_of_freedom_is_minus_two_log_p(p: float) -> None:
    # df 2: P(X >= x) = exp(-x / 2); large p put the critical value below 1
    assert stats.chi2_isf(p, 2) == pytest.approx(-2 * math.log(p), rel=1e-12)


@pytest.mark.parametrize("df", [1, 2, 3])
def test_noncentral_sf_is_a_probability(df: int) -> None:
    for nc in [0.5 * i for i in range(1, 41)]:  # the Poisson weights' rounded sum exceeds 1 for some of these
        assert 1.0 - 1e-12 <= stats.ncx2_sf(0.0, df, nc) <= 1.0
        assert 0.0 <= stats.ncx2_sf(1.0, df, nc) <= 1.0
