"""Load balancing and sticky sessions without faults (docker tier, any flavors).

Setup: the selected balancer with three nodes at fixed load factors 20/30/50, static proxy discovery.
Steps: run Locust users (one session each) until every user's session is recorded; check that no session
ever changed node, that every node served, and that sessions spread like the load factors: a chi-square
goodness-of-fit test at alpha=0.01 on the first node of each session. Minimum evidence: the sessions the
test needs to reject an even split with 80 % power (94 for 20/30/50); the users are planned from it, and
with fewer sessions the verdict is UNKNOWN, a failure.
"""

from __future__ import annotations

from typing import Any

import pytest

from harness.descriptions.topology import LoadProfile
from harness.judge.checks import (
    all_valid,
    check_distribution,
    check_every_node_served,
    check_sticky_sessions,
    distribution_sessions_needed,
    first_nodes,
    format_verdicts,
)
from harness.machinery.waiting import wait_until

pytestmark = pytest.mark.docker

LOADS = {"node1": 20, "node2": 30, "node3": 50}
SESSIONS = distribution_sessions_needed(LOADS, alpha=0.01, power=0.8)  # 94: an even split fails then
USERS = SESSIONS + SESSIONS // 10  # one session per user, and a margin


def test_sessions_stick_and_spread_by_load_factor(scenario: Any) -> None:
    topology = scenario.topology("sticky", 3)
    for name, factor in LOADS.items():
        topology = topology.with_node(name, load=factor)
    cluster = scenario.cluster(topology)
    cluster.get_balancer().wait_for_load("node3", 50, timeout=30)
    load = scenario.load(cluster, LoadProfile(users=USERS, spawn_rate=30, wait_s=(1.0, 2.0)))
    wait_until(
        lambda: len(first_nodes(load.history())) >= USERS,
        timeout=90,
        what=f"{USERS} sessions recorded",
        describe=lambda: f"{len(first_nodes(load.history()))} sessions",
    )
    load.wait_for_records(len(load.records()) + 2 * USERS, timeout=60)  # every session served again

    history = scenario.history(load)
    verdicts = scenario.judge(
        check_sticky_sessions(history, min_sessions=USERS),
        check_every_node_served(history, list(LOADS)),
        check_distribution(history, LOADS, alpha=0.01, power=0.8),
    )
    assert all_valid(verdicts), format_verdicts(verdicts)
