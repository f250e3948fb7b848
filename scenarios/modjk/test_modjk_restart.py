"""A hard restart of httpd + mod_jk under load (docker tier), whatever --balancer selects.

Setup: httpd-modjk with two Tomcat nodes; Locust users each holding one session.
Steps: SIGKILL every httpd process inside the balancer container and start httpd again (a BalancerRestart
fault, hard) while the load runs. Expected: httpd is not the container's main process, so the container
(same id, same address) keeps running while httpd is down; the workers are static and the route is in the
session cookie, so after the restart every session is still served by its node: not a single move.
"""

from __future__ import annotations

from typing import Any

import pytest

from harness.descriptions.topology import BalancerRestart, LoadProfile
from harness.judge.checks import check_sticky_sessions, format_verdicts
from harness.machinery.containers import container_alive
from harness.machinery.waiting import hold
from scenarios.modjk.support import modjk_topology, tomcat

pytestmark = pytest.mark.docker


def test_sessions_hold_across_a_hard_httpd_restart(scenario: Any) -> None:
    cluster = scenario.cluster(modjk_topology("jk-restart", [tomcat("node1"), tomcat("node2")]))
    balancer = cluster.get_balancer()
    before = (balancer.container.get_wrapped_container().id, balancer.ip)
    load = scenario.load(cluster, LoadProfile(users=6, spawn_rate=6, wait_s=(0.05, 0.1)))
    load.wait_for_steady_state(timeout=30, window_s=2.0, min_rps=5, max_error_rate=0.0)

    with scenario.fault(cluster, BalancerRestart(graceful=False)):
        hold(2.0)
    load.wait_for_records(len(load.records()) + 100, timeout=30)
    container_alive(balancer.container)
    assert (balancer.container.get_wrapped_container().id, balancer.ip) == before

    verdict = scenario.judge(check_sticky_sessions(scenario.history(load)))[0]
    assert verdict.valid, format_verdicts([verdict])
    assert verdict.details["excused_moves"] == 0, verdict.details  # routes come from the cookies
