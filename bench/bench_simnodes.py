"""Benchmark: how fast N simulated nodes become registered-and-routable behind a real httpd + mod_cluster,
and how much memory they take.

    python3 bench/bench_simnodes.py --source <mod_cluster checkout> [--nodes 1,50,500] [--per-container 50]

For each N: a fresh network and balancer (Maxnode/Maxhost/Maxcontext raised to N + 10), then N sim nodes
packed `--per-container` to a container, static proxies, 10 s status interval (`--status-interval`). The clock starts
before the first container is created (image already built) and stops when every node has been seen
OK and established by its own process AND a request sticky to it (`;jsessionid=X.<node>`) came back
from it through the balancer. Memory is the engine's figure per container (usage minus inactive file
cache), summed, and divided by N. Target from the issue: 500 nodes in <= 60 s at <= 20 MB each.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import requests

from harness.descriptions import settings
from harness.descriptions.balancer import BalancerSpec
from harness.descriptions.node import NodeSpec, StaticProxies
from harness.flavors.httpd_modcluster.balancer import HttpdBalancer, start_httpd_balancer
from harness.flavors.httpd_modcluster.source import resolve
from harness.flavors.sim import node as nodes_sim
from harness.machinery import engine
from harness.machinery.resources import Resources
from harness.machinery.waiting import wait_until

TARGET_S, TARGET_MB = 60.0, 20.0


def _routable(balancer: HttpdBalancer, pending: set[str], session: requests.Session) -> set[str]:
    """The nodes of `pending` that answered a request sticky to them through the balancer."""
    done = set()
    for name in sorted(pending):
        session.cookies.clear()  # a cookie from an earlier answer would win over the path parameter
        try:
            reply = session.get(balancer.proxy_url(f"/app/;jsessionid=BENCH.{name}"), timeout=5)
        except requests.RequestException:
            continue
        if reply.status_code == 200 and reply.headers.get("X-Harness-Node") == name:
            done.add(name)
    return done


def _registered(groups: list[nodes_sim.SimContainer]) -> set[str]:
    names: set[str] = set()
    for group in groups:
        for name, node in group.control.state()["nodes"].items():
            proxies = node["mcmp"]["proxies"]
            if proxies and all(p["state"] == "OK" and p["established"] for p in proxies):
                names.add(name)
    return names


def run(
    client: object, source_dir: str, count: int, per_container: int, workers: int = 0, interval: float = 10.0
) -> dict[str, float]:
    source = resolve(source_dir)
    specs = [NodeSpec(f"node{i}", status_interval_s=interval) for i in range(1, count + 1)]
    margin = count + 10
    spec = BalancerSpec(max_node=margin, max_host=margin, max_context=margin)
    with Resources(client, scope=f"bench{count}") as scope:  # type: ignore[arg-type]
        network = scope.network(f"bench{count}")
        balancer = start_httpd_balancer(scope, network, spec, source)
        image = nodes_sim.sim_image(scope.client)
        started = time.monotonic()
        chunks = list(nodes_sim.chunks(specs, per_container))
        with ThreadPoolExecutor(max_workers=4) as pool:  # container creation overlaps
            groups = list(
                pool.map(
                    lambda item: nodes_sim.start_sim_container(
                        scope,
                        image,
                        network,
                        item[1],
                        StaticProxies(),
                        name=f"sims{item[0]}",
                        wait=False,
                        mcmp_workers=workers,
                    ),
                    enumerate(chunks),
                )
            )
        for group in groups:
            group.wait_ready(60)
        processes_ready = time.monotonic() - started
        wait_until(
            lambda: len(_registered(groups)) == count,
            timeout=300,
            interval=0.25,
            what=f"{count} sim nodes registered",
            describe=lambda: f"{len(_registered(groups))} registered",
        )
        registered = time.monotonic() - started
        pending = {s.name for s in specs}
        with requests.Session() as session:
            session.trust_env = False

            def all_routable() -> bool:
                pending.difference_update(_routable(balancer, pending, session))
                return not pending

            wait_until(
                all_routable,
                timeout=300,
                interval=0.25,
                what=f"{count} sim nodes routable",
                describe=lambda: f"{len(pending)} not routable yet, e.g. {sorted(pending)[:5]}",
            )
        routable = time.monotonic() - started
        memory = [group.memory_bytes() for group in groups]
        proxies = [p for g in groups for n in g.control.state()["nodes"].values() for p in n["mcmp"]["proxies"]]
        retried = sum(p["registrations"] > 1 or p["sent"].get("INFO", 0) > 1 for p in proxies)
        return {
            "nodes": count,
            "containers": len(groups),
            "processes_ready_s": processes_ready,
            "registered_s": registered,
            "routable_s": routable,
            "memory_total_mb": sum(memory) / 2**20,
            "memory_per_container_mb": max(memory) / 2**20,
            "memory_per_node_mb": sum(memory) / 2**20 / count,
            "retried": retried,
            "balancer": source.release,
        }  # type: ignore[dict-item]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--source",
        default=os.environ.get("HARNESS_MODCLUSTER_SOURCE"),
        help="mod_cluster source (default: env HARNESS_MODCLUSTER_SOURCE)",
    )
    parser.add_argument("--nodes", default="1,50,500", help="comma-separated node counts")
    parser.add_argument("--per-container", type=int, default=50, help="nodes hosted by one container")
    parser.add_argument("--mcmp-workers", type=int, default=0, help="MCMP threads per container (0: default)")
    parser.add_argument(
        "--status-interval",
        type=float,
        default=10.0,
        help="seconds between STATUS (and between retries after an error reply)",
    )
    args = parser.parse_args()
    if not args.source:
        parser.error("give --source or HARNESS_MODCLUSTER_SOURCE (a mod_cluster checkout)")
    settings.configure_testcontainers()
    client = engine.client()
    rows = []
    for count in (int(n) for n in args.nodes.split(",")):
        row = run(client, args.source, count, args.per_container, args.mcmp_workers, args.status_interval)
        rows.append(row)
        print(
            f"{row['balancer']}: {count} nodes in {row['containers']} containers "
            f"({args.mcmp_workers or 'default'} MCMP threads each, status every {args.status_interval:g} s): "
            "processes ready "
            f"{row['processes_ready_s']:.1f}s, registered {row['registered_s']:.1f}s, routable "
            f"{row['routable_s']:.1f}s; memory {row['memory_total_mb']:.1f} MB total, "
            f"{row['memory_per_container_mb']:.1f} MB per container, {row['memory_per_node_mb']:.2f} MB per node; "
            f"{row['retried']} nodes had to register again after an error reply",
            flush=True,
        )
    ok = all(r["routable_s"] <= TARGET_S and r["memory_per_node_mb"] <= TARGET_MB for r in rows)
    print(f"target (<= {TARGET_S:.0f} s, <= {TARGET_MB:.0f} MB per node): {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
