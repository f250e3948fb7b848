"""Balancing by mod_jk (docker tier): httpd-modjk in front of Tomcat nodes, whatever --balancer selects.

Module cluster (read only): node1 lbfactor 3, node2 lbfactor 1, sticky_session=1 (the default), method
Sessions (new sessions are balanced by lbfactor, whatever the sticky traffic).
- Sticky sessions under Locust load: no session changes node (no fault), both nodes serve.
- lbfactor 3:1: Locust users each open one session; about 3 of 4 new sessions go to node1.
Own clusters:
- sticky_session=0: the requests of one client (one cookie jar) are spread over both nodes.
- Activation through the status worker, as an operator does it: a disabled worker takes no new session but
  keeps serving its sticky ones; a stopped worker takes no request at all (its sessions move, once).
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from harness.descriptions.jk import JkBalancer
from harness.descriptions.topology import LoadProfile
from harness.flavors.httpd_modjk.balancer import ModjkBalancer
from harness.judge.checks import (
    check_distribution,
    check_every_node_served,
    check_sticky_sessions,
    distribution_sessions_needed,
    format_verdicts,
)
from harness.judge.history import History
from harness.machinery.waiting import hold
from scenarios.modjk.support import FAST_JK, modjk_topology, served_by, tomcat

pytestmark = pytest.mark.docker

WEIGHTED = modjk_topology(
    "jk-weighted",
    [tomcat("node1", lbfactor=3), tomcat("node2", lbfactor=1)],
    JkBalancer(method="S", maintain=1, watchdog_interval=1, recover_time=1),
)


@pytest.fixture(scope="module")
def weighted(module_scenario: Any) -> Any:
    return module_scenario.cluster(WEIGHTED)


def test_sessions_stick_under_load(module_scenario: Any, weighted: Any) -> None:
    load = module_scenario.load(weighted, LoadProfile(users=8, spawn_rate=8, wait_s=(0.05, 0.1)))
    load.wait_for_steady_state(timeout=30, window_s=2.0, min_rps=5, max_error_rate=0.0)
    load.wait_for_records(len(load.records()) + 300, timeout=60)
    history = load.stop().history
    verdicts = module_scenario.judge(
        check_sticky_sessions(history), check_every_node_served(history, ["node1", "node2"])
    )
    assert all(v.valid for v in verdicts), format_verdicts(verdicts)
    assert verdicts[0].details["excused_moves"] == 0 and verdicts[0].details["sessions_judged"] >= 8


def test_lbfactor_3_to_1_balances_new_sessions(module_scenario: Any, weighted: Any) -> None:
    factors = {"node1": 3.0, "node2": 1.0}
    users = distribution_sessions_needed(factors) + 12  # each user opens one session
    load = module_scenario.load(weighted, LoadProfile(users=users, spawn_rate=20, wait_s=(0.2, 0.4)))
    load.wait_for_records(5 * users, timeout=60)
    history = load.stop().history
    verdict = module_scenario.judge(check_distribution(history, factors))[0]
    assert verdict.valid, format_verdicts([verdict])


def test_sticky_session_0_spreads_one_clients_requests(scenario: Any) -> None:
    cluster = scenario.cluster(
        modjk_topology(
            "jk-nosticky",
            [tomcat("node1"), tomcat("node2")],
            JkBalancer(sticky_session=False, maintain=1, recover_time=1),
        )
    )
    nodes = served_by(cluster.url("/app/"), 12, keep_cookies=True)
    assert set(nodes) == {"node1", "node2"}, nodes
    assert max(nodes.count("node1"), nodes.count("node2")) <= 9, nodes  # round robin by requests, not sessions


def test_disabled_worker_keeps_sticky_sessions_and_stopped_takes_none(scenario: Any) -> None:
    cluster = scenario.cluster(modjk_topology("jk-activation", [tomcat("node1"), tomcat("node2")], FAST_JK))
    balancer = cluster.get_balancer()
    assert isinstance(balancer, ModjkBalancer)
    load = scenario.load(cluster, LoadProfile(users=6, spawn_rate=6, wait_s=(0.05, 0.1)))
    load.wait_for_steady_state(timeout=30, window_s=2.0, min_rps=5, max_error_rate=0.0)

    disabled_at = time.time()
    state = balancer.set_activation("node2", "disabled")
    assert state.nodes["node2"].contexts == {"/app": "DISABLED"}, state.summary()
    load.wait_for_records(len(load.records()) + 100, timeout=30)
    assert set(served_by(cluster.url("/app/"), 10, keep_cookies=False)) == {"node1"}  # no new session on node2
    sticky = History(tuple(load.records()))
    kept = [r for r in sticky.records if r.node == "node2" and r.t > disabled_at + 0.5]
    assert kept, "node2's sticky sessions were not served after it was disabled"

    window = cluster.open_window("stopped", ("node2",), "activation stopped through the status worker")
    state = balancer.set_activation("node2", "stopped")
    stopped_at = time.time()
    assert state.nodes["node2"].contexts == {"/app": "STOPPED"}, state.summary()
    hold(3.0)  # keep the load on the stopped worker's sessions
    cluster.close_window(window)
    load.wait_for_records(len(load.records()) + 50, timeout=30)
    load.stop()
    assert set(served_by(cluster.url("/app/"), 10, keep_cookies=False)) == {"node1"}
    history = scenario.history(load)
    after_stop = [r for r in history.records if r.node == "node2" and r.t > stopped_at + 0.5]
    assert not after_stop, f"{len(after_stop)} requests served by the stopped node2, first: {after_stop[0]}"
    verdicts = scenario.judge(check_sticky_sessions(history, faulted_nodes_grace_s=1.0))
    assert all(v.valid for v in verdicts), format_verdicts(verdicts)
