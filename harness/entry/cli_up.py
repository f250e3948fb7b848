"""`harness up | status | down`: the scenarios' topologies by hand, for poking at a bug interactively.

`up` starts a topology and leaves it running (its objects are labelled keep, so sweeps leave them alone);
`status` shows each running topology with its balancer's state; `down` removes one or all of them.
What `up` started is remembered in the cache folder (`up/<name>.json`).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from harness.descriptions import settings
from harness.descriptions.base import SpecError
from harness.descriptions.options import HarnessOptions, OptionError


def _state_dir() -> Path:
    path = settings.cache_dir() / "up"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _topology(args: argparse.Namespace, options: HarnessOptions) -> Any:
    from harness.descriptions.topology import Advertise, topology_from_dict
    from harness.flavors import registry

    if args.topology:
        try:
            return topology_from_dict(json.loads(Path(args.topology).read_text()))
        except SpecError as exc:
            raise OptionError(f"--topology {args.topology}: {exc}") from exc
        except (OSError, json.JSONDecodeError) as exc:
            raise OptionError(f"--topology {args.topology}: {exc}") from exc
    discovery = Advertise(group="224.0.1.150", port=23370) if args.advertise else None
    return registry.topology_for(options, args.name, args.nodes, discovery=discovery)


def up(args: argparse.Namespace) -> int:
    from harness.flavors import registry
    from harness.machinery import engine
    from harness.machinery.resources import Resources
    from harness.run.cluster import Cluster

    options = HarnessOptions.from_values(vars(args))
    registry.validate_options(options)  # every refusal before anything is created
    topology = registry.resolve(_topology(args, options), options)
    settings.configure_testcontainers()
    scope = Resources(engine.client(), scope=topology.name, keep=True)
    cluster = Cluster(topology, scope, options)
    try:
        cluster.start()
    except BaseException:
        scope.close()
        raise
    record = {
        "name": topology.name,
        "run": settings.run_id(),
        "balancer": options.balancer,
        "proxy": cluster.url("/"),
        "nodes": cluster.addresses,
        "topology": topology.to_dict(),
        "manager": cluster.get_balancer().manager_url(),
        "mcmp": list(cluster.get_balancer().mcmp_address()),
    }
    (_state_dir() / f"{topology.name}.json").write_text(json.dumps(record, indent=2))
    print(f"topology {topology.name} is up (run {settings.run_id()}): {cluster.get_balancer().snapshot().summary()}")
    print(f"  proxy    {record['proxy']}")
    if record["manager"]:
        print(f"  manager  {record['manager']}")
    for name, ip in cluster.addresses.items():
        print(f"  {name:8s} {ip}")
    print(f"remove it with: harness down {topology.name}")
    return 0


def status(args: argparse.Namespace) -> int:
    from harness.protocol.balancer_info import parse_info
    from harness.protocol.mcmp_client import McmpClient, McmpTransportError

    records = [_read_record(p) for p in sorted(_state_dir().glob("*.json"))]
    records = [r for r in records if not args.name or r["name"] == args.name]
    if not records:
        print("no topology is up" + (f" under the name {args.name}" if args.name else ""))
        return 1
    for record in records:
        print(f"{record['name']} (run {record['run']}, balancer {record['balancer']}): proxy {record['proxy']}")
        host, port = record["mcmp"]
        try:
            with McmpClient(host, int(port), timeout=3) as client:
                info = parse_info(client.info().body)
            for node in info.nodes:
                contexts = ", ".join(f"{c.path}={c.status}" for c in info.contexts_of(node.name))
                print(f"  {node.name}: {node.host}:{node.port} load={node.load} {contexts}")
        except (McmpTransportError, OSError, ValueError) as exc:
            print(f"  balancer state unavailable over MCMP {host}:{port}: {exc}")
    return 0


def down(args: argparse.Namespace) -> int:
    from harness.machinery import engine, resources

    client = engine.client()
    paths = sorted(_state_dir().glob("*.json"))
    chosen = [p for p in paths if args.all or p.stem == args.name]
    if not chosen:
        known = ", ".join(p.stem for p in paths) or "none"
        print(f"harness down: no topology named {args.name!r} is up (up: {known})")
        return 1
    for path in chosen:
        record = _read_record(path)
        print(f"{record['name']}: {resources.sweep(client, run=record['run'])}")
        path.unlink()
    return 0


_RECORD_KEYS = ("name", "run", "balancer", "proxy", "mcmp")


def _read_record(path: Path) -> dict[str, Any]:
    """One `harness up` state file; a damaged one is an OptionError naming the file and how to clear it."""
    try:
        record = json.loads(path.read_text())
        missing = [key for key in _RECORD_KEYS if key not in record] if isinstance(record, dict) else ["(all)"]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise OptionError(
            f"state file {path} is unreadable ({exc}); remove it, then `harness sweep --all` removes what it described"
        ) from exc
    if missing:
        raise OptionError(
            f"state file {path} lacks {', '.join(missing)}; remove it, then `harness sweep --all` "
            "removes what it described"
        )
    return dict(record)


def register(sub: Any) -> None:
    from harness.entry.cli_repro import CLUSTER_FLAGS, add_run_options

    p = sub.add_parser("up", help="start a topology and leave it running")
    p.add_argument("name", nargs="?", default="poke", help="topology name (default: poke)")
    p.add_argument("--nodes", type=int, default=2, help="number of nodes (default 2)")
    p.add_argument("--topology", help="a topology JSON file (as saved in evidence folders)")
    p.add_argument("--advertise", action="store_true", help="discovery by advertise instead of a static list")
    add_run_options(p, CLUSTER_FLAGS)
    p.set_defaults(handler=up)
    p = sub.add_parser("status", help="show the topologies started with `harness up`")
    p.add_argument("name", nargs="?")
    p.set_defaults(handler=status)
    p = sub.add_parser("down", help="remove a topology started with `harness up`")
    p.add_argument("name", nargs="?", default="poke")
    p.add_argument("--all", action="store_true", help="remove every topology started with `harness up`")
    p.set_defaults(handler=down)
