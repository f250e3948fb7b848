"""Benchmark: WildFly nodes and the Undertow balancer. Prints figures.

    python bench/bench_wildfly.py [--nodes 1 3] [--parallel 1 2] [--version V | --archive PATH]

Figures: the warm image lookup; rendering a configuration with jboss-cli (what a cold configuration cache
costs, once per structure); one node's start (container, cached configuration, JVM boot to WFLYSRV0025,
the app answering) and its memory; the time to a ready topology (Undertow advertising, N nodes discovering
it, every node's /app ENABLED on the balancer) for each N and each degree of parallel JVM boots. Targets:
Undertow + 3 WildFly nodes ready in <= 30 s with warm images.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.descriptions import settings
from harness.descriptions.topology import Advertise, BalancerSpec, NodeSpec, Topology
from harness.flavors.undertow.balancer import start_undertow_balancer
from harness.flavors.wildfly.dist import balancer_config, node_config
from harness.flavors.wildfly.node import start_container, start_wildfly_node, start_wildfly_nodes, wildfly_image
from harness.machinery import engine
from harness.machinery.resources import Resources

T = TypeVar("T")
ADVERTISE = Advertise(group="224.0.9.9", port=23901, security_key=f"bench-{settings.run_id()}", frequency_s=1.0)


def timed(fn: Callable[[], T]) -> tuple[float, T]:
    started = time.monotonic()
    value = fn()
    return time.monotonic() - started, value


def memory_mib(container: Any) -> float:
    stats = container.get_wrapped_container().stats(stream=False)
    memory = stats["memory_stats"]
    return float(memory.get("usage", 0) - memory.get("stats", {}).get("inactive_file", 0)) / 2**20


def bench_render(client: Any, image: str) -> tuple[float, float]:
    """jboss-cli embed-server render of a node and a balancer configuration (cache bypassed)."""
    with Resources(client, scope="bench-render") as scope:
        net = scope.network("bench-render")
        node = start_container(
            scope,
            image,
            name="node1",
            role="node",
            network=net,
            config=node_config(NodeSpec("node1", flavor="wildfly"), ADVERTISE),
        )
        balancer = start_container(
            scope,
            image,
            name="balancer",
            role="balancer",
            network=net,
            config=balancer_config(BalancerSpec(flavor="undertow"), ADVERTISE),
        )
        return node.configure(use_cache=False), balancer.configure(use_cache=False)


def bench_single_node(client: Any, image: str) -> tuple[float, float, float]:
    """(start seconds, memory MiB after start, memory MiB after 200 requests) of one node, no balancer."""
    with Resources(client, scope="bench-node") as scope:
        net = scope.network("bench-node")
        seconds, node = timed(
            lambda: start_wildfly_node(scope, image, NodeSpec("node1", flavor="wildfly"), ADVERTISE, net)
        )
        after_start = memory_mib(node.server.container)
        for _ in range(200):
            node.answers()
        return seconds, after_start, memory_mib(node.server.container)


def bench_topology(client: Any, image: str, n: int, parallel: int) -> dict[str, float]:
    topology = Topology.simple(
        "bench",
        n,
        flavor="wildfly",
        balancer=BalancerSpec(flavor="undertow"),
        discovery=ADVERTISE,
        status_interval_s=1.0,
    )
    with Resources(client, scope=f"bench-{n}") as scope:
        started = time.monotonic()
        net = scope.network(f"bench-{n}")
        balancer = start_undertow_balancer(scope, image, topology.balancer, topology.discovery, net)
        balancer_ready = time.monotonic() - started
        nodes = start_wildfly_nodes(scope, image, topology.nodes, topology.discovery, net, parallel=parallel)
        for name in topology.node_names:
            balancer.wait_for_context(name, "/app", "ENABLED", timeout=60)
        total = time.monotonic() - started
        memory = [memory_mib(node.server.container) for node in nodes.values()]
        return {
            "balancer": balancer_ready,
            "total": total,
            "node_mib": statistics.mean(memory),
            "balancer_mib": memory_mib(balancer.server.container),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, nargs="+", default=[1, 3])
    parser.add_argument("--parallel", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--version", default=None)
    parser.add_argument("--archive", default=None)
    args = parser.parse_args()
    settings.configure_testcontainers()
    client = engine.client()
    lookup, image = timed(lambda: wildfly_image(client, args.version, args.archive))
    print(
        f"image {image}: first lookup in this process {lookup:.1f}s (archive SHA-1 + context hash; "
        "includes the build when the image was missing)"
    )
    node_render, balancer_render = bench_render(client, image)
    print(f"jboss-cli render (cold configuration cache): node {node_render:.1f}s, balancer {balancer_render:.1f}s")
    seconds, start_mib, used_mib = bench_single_node(client, image)
    print(
        f"one node, warm configuration: ready in {seconds:.1f}s; memory {start_mib:.0f} MiB after start, "
        f"{used_mib:.0f} MiB after 200 requests"
    )
    for n in args.nodes:
        for parallel in sorted({min(p, n) for p in args.parallel}):
            figures = bench_topology(client, image, n, parallel)
            print(
                f"Undertow + {n} WildFly node(s), {parallel} JVM boot(s) at a time: ready in {figures['total']:.1f}s "
                f"(balancer {figures['balancer']:.1f}s); memory per node {figures['node_mib']:.0f} MiB, "
                f"balancer {figures['balancer_mib']:.0f} MiB"
            )


if __name__ == "__main__":
    main()
