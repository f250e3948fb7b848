"""Balancer restarts and network partitions under load (docker tier, any flavors).

Setup: the selected balancer with two nodes, static proxies, STATUS every second, Locust users with sessions.
Steps (one test each): restart the balancer gracefully / hard, or cut node1 off the network (disconnect, heal
by reconnecting with the same address), inside a fault block; heal; the cluster must be healthy again
(nodes re-register after a hard restart loses the balancer's shared memory), sessions never move without a
fault, and after healing no request fails.

Minimum evidence (below it a verdict is UNKNOWN and the test fails): every user's session judged for
stickiness and each fault window overlapping at least one request per user (the fault happened under load).
No move is required of the partition: a 3 s cut is shorter than a balancer's wait on a silent node (seen:
Undertow holds node1's requests until the network is back, so its sessions stay), and a move, if any, must
be excused by the window. The requests after healing are waited for, so "no request fails
after healing" is judged on them.
"""

from __future__ import annotations

from typing import Any

import pytest

from harness.descriptions.topology import BalancerRestart, LoadProfile, Partition
from harness.judge.checks import (
    all_valid,
    check_error_budget,
    check_every_node_served,
    check_sticky_sessions,
    format_verdicts,
)
from harness.machinery.waiting import hold

pytestmark = pytest.mark.docker

GRACE_S = 3.0
USERS = 4


@pytest.mark.parametrize(
    "fault, moves",
    [
        pytest.param(BalancerRestart(graceful=True), 0, id="graceful-restart"),
        pytest.param(BalancerRestart(graceful=False), 0, id="hard-restart"),
        pytest.param(Partition("node1", mode="disconnect"), 0, id="partition-node1"),
    ],
)
def test_cluster_recovers_and_sessions_hold(scenario: Any, fault: Any, moves: int) -> None:
    cluster = scenario.cluster(scenario.topology("recover", 2))
    load = scenario.load(cluster, LoadProfile(users=USERS, spawn_rate=USERS, wait_s=(0.05, 0.1)))
    load.wait_for_steady_state(timeout=30, window_s=2.0, min_rps=5, max_error_rate=0.0)

    with scenario.fault(cluster, fault):
        hold(3.0)
    load.wait_for_records(len(load.records()) + 100, timeout=60)

    history = scenario.history(load)
    verdicts = scenario.judge(
        check_sticky_sessions(history, faulted_nodes_grace_s=GRACE_S, min_sessions=USERS, min_moved=moves),
        check_every_node_served(history, ["node1", "node2"]),
        check_error_budget(history, outside_windows=0, inside_windows=1.0, grace_s=GRACE_S, min_per_window=USERS),
    )
    assert all_valid(verdicts), format_verdicts(verdicts)
