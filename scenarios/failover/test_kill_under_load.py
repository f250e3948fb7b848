"""Failover when a node's server process is killed under load (docker tier, any flavors).

Setup: the selected balancer with two nodes (node1, node2), static proxy discovery, STATUS every second,
StickySessionForce No (the Java default); Locust users each holding one session.
Steps: wait for steady load with no errors; kill node1's server process (SIGKILL, the container and its
address stay) inside a fault block; keep the load running for a few seconds; heal (start node1 again) and
wait for the cluster to be healthy. Verdicts: no session moves without a fault; sessions of node1 moved
to node2 at most once and within the failover bound; hardly any errors outside the window.
Minimum evidence (else UNKNOWN, a failure): every user's session judged, node1's sessions moved (at least
one excused move, at least one session of node1 failed over), each user's requests overlap the window.
"""

from __future__ import annotations

from typing import Any

import pytest

from harness.descriptions.topology import Kill, LoadProfile
from harness.judge.checks import (
    all_valid,
    check_error_budget,
    check_every_node_served,
    check_failover_within,
    check_sticky_sessions,
    format_verdicts,
)
from harness.machinery.waiting import hold

pytestmark = pytest.mark.docker

FAILOVER_BOUND_S = 10.0
USERS = 6


def test_sessions_fail_over_once_when_a_node_is_killed(scenario: Any) -> None:
    cluster = scenario.cluster(scenario.topology("kill", 2))
    load = scenario.load(cluster, LoadProfile(users=USERS, spawn_rate=USERS, wait_s=(0.05, 0.1)))
    load.wait_for_steady_state(timeout=30, window_s=2.0, min_rps=5, max_error_rate=0.0)

    with scenario.fault(cluster, Kill("node1")) as window:
        hold(5.0)  # keep load flowing through the fault
    load.wait_for_records(len(load.records()) + 50, timeout=30)

    history = scenario.history(load)
    verdicts = scenario.judge(
        check_every_node_served(history, ["node1", "node2"]),
        check_sticky_sessions(history, faulted_nodes_grace_s=2.0, min_sessions=USERS, min_moved=1),
        check_failover_within(history, cluster.windows[0], FAILOVER_BOUND_S, min_sessions=1),
        check_error_budget(
            history, outside_windows=0, inside_windows=0.5, grace_s=FAILOVER_BOUND_S, min_per_window=USERS
        ),
    )
    assert all_valid(verdicts), format_verdicts(verdicts)
    assert window.targets == ("node1",)
