"""Load balancing and sticky sessions without faults (docker tier, any flavors).

Setup: the selected balancer with three nodes at fixed load factors 20/30/50, static proxy discovery.
Steps: run Locust users (one session each) until every node served new sessions; check that no session
ever changed node, that every node served, and that new sessions spread roughly like the load factors.
"""

from __future__ import annotations

from typing import Any

import pytest

from harness.judge.checks import check_distribution, check_every_node_served, check_sticky_sessions, format_verdicts
from harness.spec.topology import LoadProfile

pytestmark = pytest.mark.docker


def test_sessions_stick_and_spread_by_load_factor(scenario: Any) -> None:
    topology = (scenario.topology("sticky", 3)
                .with_node("node1", load=20).with_node("node2", load=30).with_node("node3", load=50))
    cluster = scenario.cluster(topology)
    cluster.get_balancer().wait_for_load("node3", 50, timeout=30)
    load = scenario.load(cluster, LoadProfile(users=60, spawn_rate=30, wait_s=(0.2, 0.4)))
    load.wait_for_records(600, timeout=90)

    history = scenario.history(load)
    verdicts = scenario.judge(
        check_sticky_sessions(history),
        check_every_node_served(history, ["node1", "node2", "node3"]),
        check_distribution(history, {"node1": 0.2, "node2": 0.3, "node3": 0.5}, tolerance=0.2),
    )
    assert all(v.valid for v in verdicts), format_verdicts(verdicts)
