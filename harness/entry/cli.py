"""`harness`: the command line. Engine set-up, image builds, sweeping leftovers, topologies by hand."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from harness.descriptions import settings

Handler = Callable[[argparse.Namespace], int]


def _engine(args: argparse.Namespace) -> int:
    from harness.machinery import engine

    if args.action == "status":
        info, reason = engine.probe()
        print(
            f"engine {info.server_version} (API {info.api_version}, {info.storage_driver})"
            if info
            else f"no engine: {reason}"
        )
        return 0 if info else 1
    try:
        engine.ensure()
    except engine.EngineUnavailable as exc:
        print(f"harness engine ensure: {exc}", file=sys.stderr)
        return 2
    return 0


def _images(args: argparse.Namespace) -> int:
    from harness.machinery import engine, images

    client = engine.client()
    if args.action == "has-base":
        return 0 if images._find(client, f"{images.BASE_REPOSITORY}:{images.BASE_SUITE}") else 1
    if args.action == "list":
        for image in client.images.list(filters={"label": f"{settings.LABEL_MANAGED}=true"}):
            print(" ".join(image.tags) or image.short_id, image.labels.get(settings.LABEL_IMAGE, ""))
        return 0
    names = args.names or ["probe"]
    try:
        for name in names:
            print(_build_named(client, name, args))
    except (images.ImageBuildError, ValueError, OSError) as exc:
        print(f"harness images build: {exc}", file=sys.stderr)
        return 1
    return 0


def _build_named(client: object, name: str, args: argparse.Namespace) -> str:
    """A flavor's image gets its inputs from the flavor (the mod_cluster source, the WildFly distribution)."""
    from harness.descriptions.options import HarnessOptions
    from harness.flavors import registry
    from harness.machinery import images

    options = HarnessOptions.from_values(vars(args))  # flags, else HARNESS_* environment, else defaults
    flavor = registry.by_image().get(name)
    if flavor is not None:
        return flavor.image_tag(client, options)
    return images.build(client, images.ImageRequest(name))


def _flavors(args: argparse.Namespace) -> int:
    from harness.flavors import registry

    for role, name, image, summary in registry.flavor_table():
        print(f"{role:9s} {name:17s} images/{image:17s} {summary}")
    return 0


def _sweep(args: argparse.Namespace) -> int:
    from harness.machinery import engine, resources

    client = engine.client()
    if args.check:
        containers, networks = resources.leftovers(client)
        print(f"{len(containers)} labelled containers, {len(networks)} labelled networks")
        for name in containers + networks:
            print(f"  {name}")
        return 1 if containers or networks else 0
    report = resources.sweep(client, everything=args.all, run=args.run)
    print(report)
    for name in report.containers + report.networks + report.temp_dirs:
        print(f"  {name}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="harness",
        description="Integration-test harness for Apache httpd + mod_cluster clusters. "
        "Scenarios run with pytest (pytest scenarios/); this command sets up and inspects.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("engine", help="find or start a Docker engine")
    p.add_argument(
        "action",
        choices=["ensure", "status"],
        help="ensure: use the engine that answers, else (root, Debian) install docker.io and start "
        "dockerd; status: say whether one answers",
    )
    p.set_defaults(handler=_engine)

    p = sub.add_parser("images", help="build or list the harness's images")
    p.add_argument("action", choices=["build", "list", "has-base"])
    p.add_argument("names", nargs="*", help="image names (folders under images/); default: probe")
    p.add_argument(
        "--modcluster-source",
        dest="harness_modcluster_source",
        help="for httpd-modcluster: checkout, git URL@ref or archive (env HARNESS_MODCLUSTER_SOURCE)",
    )
    p.add_argument("--wildfly-version", dest="harness_wildfly_version", help="for wildfly-node (default 39.0.1.Final)")
    p.add_argument("--wildfly-archive", dest="harness_wildfly_archive", help="for wildfly-node: a local archive")
    p.set_defaults(handler=_images)

    p = sub.add_parser("flavors", help="list the balancer and node flavors (role, name, image, what it is)")
    p.set_defaults(handler=_flavors)

    p = sub.add_parser("sweep", help="remove containers, networks and temp dirs left by runs that are gone")
    p.add_argument("--all", action="store_true", help="remove every labelled object, also of live or kept runs")
    p.add_argument("--run", help="remove only this run id's objects")
    p.add_argument("--check", action="store_true", help="only list labelled objects; exit 1 when any exist")
    p.set_defaults(handler=_sweep)

    from harness.entry import cli_bisect, cli_explore, cli_repro, cli_up, matrix

    cli_up.register(sub)
    matrix.register(sub)
    cli_repro.register(sub)
    cli_bisect.register(sub)
    cli_explore.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        from harness.descriptions.base import SpecError
        from harness.descriptions.options import OptionError
        from harness.flavors.base import FlavorRefused, FlavorUnavailable
        from harness.machinery.engine import EngineUnavailable

        if isinstance(exc, (EngineUnavailable, FlavorUnavailable, FlavorRefused, OptionError, SpecError)):
            print(f"harness {args.command}: {exc}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
