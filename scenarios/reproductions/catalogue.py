"""Field failures as data: the reproductions `pytest scenarios/reproductions` and `harness repro KEY` run.

Each entry is a Reproduction (harness.descriptions.reproduction): the topology, load and timeline that showed
the bug, and the checks that hold once it is fixed. The Python entries are below; every `*.yaml` file of
this folder is one more entry (harness.run.repro_catalogue reads them). Add one per bug, keyed by its issue.

Entries are written without flavors: the run's --balancer / --node-flavor choose them (`applies` says where
an entry makes sense; elsewhere it is skipped with the reason). Every entry is validated as the catalogue is
built: an unknown check name, a heal without its inject, a node that does not exist fail here, naming the
file and field, before any container starts. Each check states the evidence it needs
(harness.descriptions.expectations): a history too thin to tell is an unknown verdict, which fails.

A reproduction of a bug that is not fixed yet has `known_broken` entries (where it shows, and why): there it
runs as a strict xfail, so the day the bug is fixed the run says XPASS(strict) and the entry goes away.
"""

from __future__ import annotations

from pathlib import Path

from harness.descriptions.faults import Pause, Stop
from harness.descriptions.options import HarnessOptions
from harness.descriptions.reproduction import KnownBroken, Observation, Reproduction, ReproTopology, Where
from harness.descriptions.topology import LoadProfile
from harness.run.repro_catalogue import find, load_folder, unique
from harness.run.reproduction import validate_reproduction

FOLDER = Path(__file__).parent
LOAD = LoadProfile(users=6, spawn_rate=6, wait_s=(0.05, 0.1))

ENTRIES = (
    Reproduction(
        key="graceful-stop-loses-no-request",
        summary="Disable, drain, stop, remove: a graceful stop must not fail a single request.",
        topology=ReproTopology(nodes=2, node={"stop_context_timeout_s": 5.0}),
        load=LOAD,
        faults=(Stop("node1", timeout_s=10.0),),
        # no failed request at any time, with the stop under load (each window overlaps requests); moved:1 is
        # the sticky rule plus its evidence: node1's sessions moved once, to node2
        checks=("moved:1", "no_errors"),
        known_broken=(
            KnownBroken(
                Where(balancer=("httpd-modcluster",), mode=("lbmethod_cluster",)),
                "mod_lbmethod_cluster (2.x main 7514efd): each graceful stop costs one HTTP 503 from httpd to a "
                "sticky request for the stopping node (3 of 3 runs, 1 of ~380 requests in the window; proxy_cluster "
                "mode loses none). mod_manager gives the balancer b_max (Maxattempts) without max_attempts_set, so "
                "mod_proxy makes no second attempt; `ProxySet maxattempts=1` on the balancer removes it (entry "
                "lbmethod-graceful-stop-with-maxattempts)",
            ),
        ),
        observed=(
            Observation("mod_proxy_cluster 2.x 7514efd, lbmethod_cluster", "invalid", "2026-12-02", "3 of 3 runs"),
            Observation("mod_proxy_cluster 2.x 7514efd, proxy_cluster", "valid", "2026-11-30", "5 of 5 runs"),
        ),
    ),
    Reproduction(
        key="lbmethod-graceful-stop-with-maxattempts",
        summary="The lbmethod_cluster graceful-stop 503 is the missing retry: with ProxySet maxattempts=1, none.",
        topology=ReproTopology(
            nodes=2,
            node={"stop_context_timeout_s": 5.0},
            balancer={"overlay": ('<Proxy "balancer://mycluster">\n    ProxySet maxattempts=1\n</Proxy>',)},
        ),
        load=LOAD,
        faults=(Stop("node1", timeout_s=10.0),),
        checks=("moved:1", "no_errors"),
        applies=Where(balancer=("httpd-modcluster",), mode=("lbmethod_cluster",)),
        observed=(
            Observation("mod_proxy_cluster 2.x 7514efd, lbmethod_cluster", "valid", "2026-12-02", "3 of 3 runs"),
        ),
        notes="The control of graceful-stop-loses-no-request's known breakage: the same stop, the retry enabled.",
    ),
    Reproduction(
        key="frozen-node-recovers",
        summary="A frozen JVM (cgroup freezer): after it thaws the cluster must be healthy again.",
        load=LOAD,
        faults=(Pause("node1"),),
        # healthy again = every node, the frozen one included, serves successfully after the thaw
        checks=("sticky", "serves_after_faults"),
    ),
)


def catalogue() -> list[Reproduction]:
    """Every reproduction (the Python entries, then the YAML files by name), each validated, keys unique."""
    entries = [validate_reproduction(r) for r in ENTRIES] + load_folder(FOLDER)
    return unique(entries, str(FOLDER))


def lookup(selector: str) -> Reproduction:
    """A catalogue key, or a .yaml / .py file (harness.run.repro_catalogue.find)."""
    return find(selector, catalogue())


def known_broken(key: str, options: HarnessOptions) -> str | None:
    """Why the catalogue's entry `key` is expected to fail with these options (its known_broken), or None: for
    scenarios that show the same bug outside the catalogue (they run as strict xfails there too)."""
    from harness.run.reproduction import facts_for

    return lookup(key).where_broken(facts_for(options))
