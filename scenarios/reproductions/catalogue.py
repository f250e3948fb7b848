"""Field failures as data. Each entry is a Reproduction: the topology, load and faults that showed the bug,
and the expectations that hold once it is fixed. Add one per bug, named by its issue.

Every entry is validated as the catalogue is built (`validate_reproduction`): an unknown expectation name
fails here, naming the known ones, before any container starts. Each expectation states the evidence it
needs (see harness/run/reproduction.py): a history too thin to tell is an unknown verdict, which fails.

A reproduction of a bug that is not fixed yet is listed in KNOWN_BROKEN with the flavors it shows in and the
reason: there it runs as a strict xfail, so the day the bug is fixed the run says XPASS(strict) and the entry
goes away.
"""

from __future__ import annotations

from collections.abc import Callable

from harness.descriptions.options import HarnessOptions
from harness.descriptions.topology import (
    BalancerSpec,
    Kill,
    LoadProfile,
    Pause,
    Reproduction,
    StaticProxies,
    Stop,
    Topology,
)
from harness.run.reproduction import validate_reproduction

_LOAD = LoadProfile(users=6, spawn_rate=6, wait_s=(0.05, 0.1))


def _two_nodes(name: str, balancer: str, node: str, **node_fields: object) -> Topology:
    return Topology.simple(
        name,
        2,
        flavor=node,
        balancer=BalancerSpec(flavor=balancer),
        discovery=StaticProxies(),
        status_interval_s=1.0,
        **node_fields,
    )


def catalogue(balancer: str, node: str) -> list[Reproduction]:
    """The reproductions for the selected flavors, each validated."""
    return [validate_reproduction(repro) for repro in _entries(balancer, node)]


def _entries(balancer: str, node: str) -> list[Reproduction]:
    return [
        Reproduction(
            issue="kill-under-load-fails-over",
            topology=_two_nodes("repro-kill", balancer, node),
            load=_LOAD,
            faults=(Kill("node1"),),
            expectations=("sticky", "failover_within:10", "no_errors_outside_windows", "every_node_served"),
            notes="A killed node's sessions must move to a live node once, quickly, with StickySessionForce=No.",
        ),
        Reproduction(
            issue="graceful-stop-loses-no-request",
            topology=_two_nodes("repro-stop", balancer, node, stop_context_timeout_s=5.0),
            load=_LOAD,
            faults=(Stop("node1", timeout_s=10.0),),
            # no failed request at any time, with the stop under load (each window overlaps requests); moved:1
            # is the sticky rule plus its evidence: node1's sessions moved once, to node2
            expectations=("moved:1", "no_errors"),
            notes="Disable, drain, stop, remove: a graceful stop must not fail a single request.",
        ),
        Reproduction(
            issue="frozen-node-recovers",
            topology=_two_nodes("repro-pause", balancer, node),
            load=_LOAD,
            faults=(Pause("node1"),),
            # healthy again = every node, the frozen one included, serves successfully after the thaw
            expectations=("sticky", "serves_after_faults"),
            notes="A frozen JVM (cgroup freezer): after it thaws the cluster must be healthy again.",
        ),
    ]


# issue -> [(where it shows, reason)], for bugs reproduced but not fixed (run there as strict xfails)
KNOWN_BROKEN: dict[str, list[tuple[Callable[[HarnessOptions], bool], str]]] = {
    "graceful-stop-loses-no-request": [
        (
            lambda o: o.balancer == "httpd-modcluster" and o.modcluster_mode == "lbmethod_cluster",
            "mod_lbmethod_cluster (2.x main, 2026-11): each graceful stop costs one HTTP 503 to a sticky request for "
            "the stopping node (seen 5 of 5 runs; proxy_cluster mode loses none)",
        )
    ],
}


def known_broken(issue: str, options: HarnessOptions) -> str | None:
    """The reason this reproduction is expected to fail with these options, or None."""
    return next((reason for applies, reason in KNOWN_BROKEN.get(issue, []) if applies(options)), None)
