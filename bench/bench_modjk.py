"""Benchmark: the httpd-modjk balancer with Tomcat nodes. Prints figures.

    python bench/bench_modjk.py [--nodes 3] [--repeat 2] [--modes none C P I A] [--faults kill freeze]

Figures: the time to a ready topology (httpd + mod_jk, N Tomcat nodes started one after another, every
worker resolved and OK in the status worker, /app answering through the balancer), median of the repeats;
then, per ping_mode (ping_timeout 1000 ms, connection_ping_interval 2 s, socket_connect_timeout 1000 ms,
maintenance every second), the detection time of a kill and a freeze of node1 under Locust load: from the
fault to the end of the first request of a node1 session served by node2 (capped at 8 s: not detected).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.descriptions import settings
from harness.descriptions.faults import FaultSpec, Kill, Pause
from harness.descriptions.options import HarnessOptions
from harness.descriptions.topology import LoadProfile, Topology
from harness.machinery import engine
from harness.machinery.load import LoadRun
from harness.machinery.resources import Resources
from harness.run.cluster import Cluster
from harness.run.faults import inject
from scenarios.modjk.support import modjk_topology, probed_tomcat, tomcat, wait_detected

CAP_S = 8.0
FAULTS: dict[str, FaultSpec] = {"kill": Kill("node1"), "freeze": Pause("node1")}


def ready_time(client: Any, nodes: int) -> dict[str, float]:
    topology = modjk_topology("bench-jk-ready", [tomcat(f"node{i}") for i in range(1, nodes + 1)])
    with Resources(client, scope="bench-jk-ready") as scope:
        cluster = Cluster(topology, scope, HarnessOptions.from_values({})).start(180)
        return dict(cluster.timings)


def detection(client: Any, mode: str, faults: list[str], out: Path) -> dict[str, float | None]:
    topology: Topology = modjk_topology(f"bench-jk-{mode.lower()}", [probed_tomcat("node1", mode), tomcat("node2")])
    found: dict[str, float | None] = {}
    with Resources(client, scope=f"bench-jk-{mode.lower()}") as scope:
        cluster = Cluster(topology, scope, HarnessOptions.from_values({})).start(120)
        for name in faults:
            with LoadRun() as load:
                load.start(
                    cluster.url(""), LoadProfile(users=8, spawn_rate=8, wait_s=(0.05, 0.1)), out / f"{mode}-{name}"
                )
                load.wait_for_steady_state(timeout=30, window_s=2.0, min_rps=5, max_error_rate=0.0)
                with inject(cluster, FAULTS[name], heal_timeout=60) as window:
                    found[name] = wait_detected(load, window, "node1", CAP_S)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--modes", nargs="+", default=["none", "C", "P", "I", "A"])
    parser.add_argument("--faults", nargs="+", default=list(FAULTS), choices=list(FAULTS))
    args = parser.parse_args()
    settings.configure_testcontainers()
    client = engine.client()
    runs = [ready_time(client, args.nodes) for _ in range(args.repeat)]
    for key in ("balancer_ready_s", "cluster_ready_s"):
        values = [run[key] for run in runs]
        print(
            f"ready, {args.nodes} Tomcat nodes: {key} median {statistics.median(values):.1f}s "
            f"(runs: {', '.join(f'{v:.1f}' for v in values)})",
            flush=True,
        )
    out = Path(f"/tmp/bench-modjk-{int(time.time())}")
    print(f"{'ping_mode':<10}" + "".join(f"{name:>12}" for name in args.faults), flush=True)
    for mode in args.modes:
        found = detection(client, mode, args.faults, out)
        cells = ["not det." if found[n] is None else f"{found[n]:.3f}s" for n in args.faults]
        print(f"{mode:<10}" + "".join(f"{cell:>12}" for cell in cells), flush=True)


if __name__ == "__main__":
    main()
