"""`harness explore --minutes N --seed S [--faults ...]`: random fault schedules under load (harness.run.explore).

Prints a line per schedule and per shrinking run, then the figures (schedules per hour, violations, time to
shrink) and, for each violation, the saved reproduction file and how many of its confirming runs failed.
Exit status: 0 no violation, 1 at least one, 2 bad input (an unknown fault kind, one the flavors do not take).
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path
from typing import Any

from harness.descriptions.options import HarnessOptions


def command(args: argparse.Namespace) -> int:
    from harness.descriptions.base import SpecError
    from harness.entry.repro import run_repro
    from harness.run.explore import ExploreConfig, Explorer

    options = HarnessOptions.from_values(vars(args))
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1, 10**6)
    out = Path(args.out) if args.out else options.evidence_dir / f"explore-{seed}"
    kinds = tuple(k.strip() for k in args.faults.split(",") if k.strip()) if args.faults else ()
    try:
        topology = topology_fields(args.topology)
    except (SpecError, ValueError) as exc:
        print(f"harness explore: --topology: {exc}", file=sys.stderr)
        return 2
    config = ExploreConfig(
        options,
        out,
        seed=seed,
        minutes=args.minutes,
        kinds=kinds,
        nodes=args.nodes,
        max_faults=args.max_faults,
        span_s=args.span,
        shrink_runs=args.shrink_runs,
        shrink_minutes=args.shrink_minutes,
        confirm=args.confirm,
        max_schedules=args.schedules,
        topology=topology,
    )
    try:
        explorer = Explorer(config, run_repro, echo=sys.stdout)
    except SpecError as exc:
        print(f"harness explore: {exc}", file=sys.stderr)
        return 2
    print(f"[harness explore] seed {seed}; {options.balancer} + {options.node}; files under {out}", flush=True)
    result = explorer.explore()
    figures = result.figures()
    print(
        f"[harness explore] {figures['schedules']} schedule(s) ({figures['schedules_per_hour']}/h), "
        f"{figures['errors']} error(s), {figures['violations']} violation(s)"
    )
    for found in result.found:
        print(
            f"[harness explore] seed {found.seed} broke {', '.join(found.signature)}: {found.file} "
            f"({len(found.shrunk.events)} fault(s) after {found.log.runs} shrinking runs, {found.shrink_s:.0f} s; "
            f"{found.confirm_failed} of {found.confirm_runs} confirming runs failed)"
        )
    return 1 if result.found else 0


def topology_fields(text: str | None) -> dict[str, Any]:
    """ReproTopology fields besides `nodes` from a YAML mapping, given inline or as a file; checked here."""
    from harness.descriptions.base import SpecError
    from harness.descriptions.repro_topology import repro_topology_from_dict
    from harness.descriptions.repro_yaml import parse_yaml

    if not text:
        return {}
    path = Path(text)
    source = str(path) if path.is_file() else "--topology"
    data = parse_yaml(path.read_text(encoding="utf-8") if path.is_file() else text, source)
    if not isinstance(data, dict):
        raise SpecError("topology", f"got {data!r}; expected a mapping of ReproTopology fields (balancer, node, ...)")
    if "nodes" in data:
        raise SpecError("topology.nodes", "the node count is --nodes")
    typed = repro_topology_from_dict({"nodes": 100, **data})  # a bad field is named here, before anything starts
    return {name: getattr(typed, name) for name in data}


def _positive(kind: type) -> Any:
    def parse(text: str) -> Any:
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"got {text}; expected a number above 0")
        return value

    return parse


def register(sub: Any) -> None:
    from harness.descriptions.schedule import BALANCER_BUILDERS, NODE_BUILDERS
    from harness.entry.cli_repro import add_run_options

    p = sub.add_parser(
        "explore",
        help="random fault schedules under load, judged by invariants; a failure is shrunk and saved",
        description="Random fault schedules (one node, a minority, all; overlapping) under Locust load, each in a "
        "fresh cluster, judged by invariants. A violation is shrunk to a minimal schedule, written as a "
        "reproduction YAML with its seed, and run again to confirm it fails.",
    )
    p.add_argument("--minutes", type=_positive(float), default=10.0, help="how long to explore (default 10)")
    p.add_argument("--seed", type=int, help="the first schedule's seed (schedule i uses seed+i; default: random)")
    kinds = ", ".join([*NODE_BUILDERS, *BALANCER_BUILDERS])
    p.add_argument("--faults", help=f"comma-separated fault kinds (default: all the flavors take): {kinds}")
    p.add_argument("--nodes", type=_positive(int), default=3, help="nodes per cluster (default 3)")
    p.add_argument("--max-faults", type=_positive(int), default=4, help="fault groups per schedule (default 4)")
    p.add_argument("--span", type=_positive(float), default=30.0, help="seconds over which faults start (default 30)")
    p.add_argument("--schedules", type=_positive(int), help="stop after this many schedules")
    p.add_argument("--shrink-runs", type=_positive(int), default=30, help="runs to shrink one violation (default 30)")
    p.add_argument("--shrink-minutes", type=_positive(float), default=30.0, help="time to shrink one (default 30)")
    p.add_argument("--confirm", type=int, default=2, help="runs of the saved file to confirm it fails (default 2)")
    p.add_argument(
        "--topology",
        help="ReproTopology fields besides nodes, as YAML inline or a file, e.g. "
        "'{node: {sticky_session: false}, balancer: {enable_ws_tunnel: true}}'",
    )
    p.add_argument("--out", help="folder for the runs and found files (default <evidence dir>/explore-SEED)")
    add_run_options(p)
    p.set_defaults(handler=command)
