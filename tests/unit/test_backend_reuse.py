"""backend_reuse: connections a node accepted per request it answered, from the node's own counters."""

from __future__ import annotations

import math

import pytest

from harness.descriptions.expectations import UnknownExpectation, nodes_named, parse_expectation
from harness.judge.backend_reuse import check_backend_reuse
from harness.run.repro_checks import judge_names


def test_pooled_connections_are_valid_and_one_per_request_is_not() -> None:
    pooled = check_backend_reuse("node1", {"accepted": 11, "served": 515, "options_probes": 6}, 0.5)
    assert pooled.valid and pooled.details["ratio"] == round(11 / 521, 3)
    fresh = check_backend_reuse("node1", {"accepted": 521, "served": 515, "options_probes": 6}, 0.5)
    assert fresh.invalid and "521 connections for 521 requests (1.00 per request" in fresh.summary


def test_no_counts_or_too_few_requests_are_unknown() -> None:
    assert check_backend_reuse("node1", None, 0.5).outcome == "unknown"
    assert check_backend_reuse("node1", {"served": 400}, 0.5).outcome == "unknown"
    few = check_backend_reuse("node1", {"accepted": 1, "served": 10}, 0.5)
    assert few.outcome == "unknown" and "need 50" in few.summary
    with pytest.raises(ValueError, match="max_ratio"):
        check_backend_reuse("node1", {"accepted": 1, "served": 100}, math.nan)


def test_the_name_parses_and_names_its_node() -> None:
    assert parse_expectation("backend_reuse:node2:0.25") == ("backend_reuse", ("node2", 0.25))
    assert nodes_named(*parse_expectation("backend_reuse:node2:0.25")) == ("node2",)
    with pytest.raises(UnknownExpectation, match=r"backend_reuse:node1:0\.5"):
        parse_expectation("backend_reuse:node1")
    with pytest.raises(UnknownExpectation, match="ratio"):
        parse_expectation("backend_reuse:node1:-1")


def test_judged_over_the_node_counters_handed_in() -> None:
    counters = {"node1": {"accepted": 300, "served": 300}}

    def broken() -> None:
        raise AssertionError("not fetched for a node name")

    verdicts = judge_names(
        ("backend_reuse:node1:0.5", "backend_reuse:node1:1.5"),
        nodes=("node1",),
        history=broken,
        state=broken,  # type: ignore[arg-type]
        logs=broken,  # type: ignore[arg-type]
        node_http=counters.get,
    )
    assert [v.outcome for v in verdicts] == ["invalid", "valid"]

    def unreadable(node: str) -> None:
        raise OSError(f"{node}: connection refused")

    verdict = judge_names(
        ("backend_reuse:node1:0.5",),
        nodes=("node1",),
        history=broken,
        state=broken,
        logs=broken,
        node_http=unreadable,  # type: ignore[arg-type]
    )[0]
    assert verdict.outcome == "unknown" and "connection refused" in verdict.summary
