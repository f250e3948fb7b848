"""Benchmark: cold and warm image builds, and the start time of the sanity topology. Prints figures.

    python bench/bench_images.py [--images probe ...] [--cold-base] [--repeat N] [--modcluster-source PATH]

With --modcluster-source: also the httpd-modcluster image (cold/warm) and its start-to-ready time.

Cold: the image (and, with --cold-base, the base image and its cached mmdebstrap tarball) is removed first,
so the build runs every step. Warm: the same request again in a new process state (tag lookup, no build).
Topology: a private network plus two probe containers, until both log "ready".
"""

from __future__ import annotations

import argparse
import statistics
import time

from testcontainers.core.wait_strategies import LogMessageWaitStrategy

from harness.descriptions import settings
from harness.machinery import engine, images
from harness.machinery.resources import Resources


def _timed(fn):  # type: ignore[no-untyped-def]
    started = time.monotonic()
    value = fn()
    return time.monotonic() - started, value


def remove_image(client, tag: str) -> None:  # type: ignore[no-untyped-def]
    try:
        client.images.remove(tag, force=True, noprune=False)
    except Exception:
        pass


def bench_build(client, name: str, cold_base: bool) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    request = images.ImageRequest(name)
    tag = images.build(client, request)
    remove_image(client, tag)
    if cold_base:
        remove_image(client, f"{images.BASE_REPOSITORY}:{images.BASE_SUITE}")
        (settings.cache_dir() / f"base-{images.BASE_SUITE}.tar").unlink(missing_ok=True)
    images.forget_session_cache()
    cold, _ = _timed(lambda: images.build(client, request))
    images.forget_session_cache()
    warm, _ = _timed(lambda: images.build(client, request))
    return cold, warm


def bench_topology(client, tag: str) -> float:  # type: ignore[no-untyped-def]
    scope = Resources(client, scope="bench")
    try:
        started = time.monotonic()
        net = scope.network("bench")
        for name in ("alpha", "beta"):
            scope.container(
                tag,
                name=name,
                role="probe",
                network=net,
                wait=LogMessageWaitStrategy('"event": "ready"').with_startup_timeout(30),
            )
        return time.monotonic() - started
    finally:
        scope.close()


def bench_httpd(client, source_path: str, repeat: int) -> None:  # type: ignore[no-untyped-def]
    from harness.descriptions.balancer import BalancerSpec
    from harness.flavors.httpd_modcluster import source as modcluster_source
    from harness.flavors.httpd_modcluster.balancer import image_for, start_httpd_balancer

    source = modcluster_source.resolve(source_path)
    tag = image_for(client, source)
    remove_image(client, tag)
    images.forget_session_cache()
    cold, _ = _timed(lambda: image_for(client, source))
    images.forget_session_cache()
    warm, _ = _timed(lambda: image_for(client, source))
    print(f"image httpd-modcluster ({source.release}) cold build {cold:6.1f} s   warm (reuse) {warm:6.3f} s")
    starts = []
    for _ in range(repeat):
        with Resources(client, scope="bench-httpd") as scope:
            net = scope.network("bench-httpd")
            started = time.monotonic()
            start_httpd_balancer(scope, net, BalancerSpec(), source, image=tag)
            starts.append(time.monotonic() - started)
    print(
        f"httpd balancer container start to ready (VERSION answered): median {statistics.median(starts):.2f} s "
        f"over {len(starts)} (min {min(starts):.2f}, max {max(starts):.2f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", nargs="*", default=["probe"])
    parser.add_argument("--cold-base", action="store_true", help="also rebuild the base image from Debian packages")
    parser.add_argument("--repeat", type=int, default=3, help="topology start repetitions")
    parser.add_argument("--modcluster-source", help="also measure the httpd-modcluster image from this source")
    args = parser.parse_args()
    settings.configure_testcontainers()
    client = engine.client()
    for name in args.images:
        cold, warm = bench_build(client, name, args.cold_base)
        print(f"image {name:16s} cold build {cold:7.1f} s   warm (reuse) {warm:6.3f} s")
    tag = images.build(client, images.ImageRequest("probe"))
    starts = [bench_topology(client, tag) for _ in range(args.repeat)]
    print(
        f"sanity topology (network + 2 probes ready): median {statistics.median(starts):.2f} s "
        f"over {len(starts)} (min {min(starts):.2f}, max {max(starts):.2f})"
    )
    if args.modcluster_source:
        bench_httpd(client, args.modcluster_source, args.repeat)


if __name__ == "__main__":
    main()
