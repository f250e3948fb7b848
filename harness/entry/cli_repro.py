"""`harness repro KEY|FILE`: run one reproduction (harness.entry.repro.run_repro) and say how it went.

Prints each run's verdicts with its evidence folder, how many of N runs failed, and the folder of the whole
call (pytest.log, report.html). Exit status: 0 every run valid, 1 some run failed (invalid, unknown or an
error), 2 bad input (an unknown key lists the known ones; a bad file is named with the field) or nothing ran
(the entry does not apply to these options, or a flavor refused it: the reason is printed).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from harness.descriptions.options import OPTIONS, HarnessOptions

DETAIL_WIDTH = 160
CLUSTER_FLAGS = (  # what a cluster is built from (also `harness up`'s)
    "--balancer",
    "--node-flavor",
    "--modcluster-source",
    "--modcluster-mode",
    "--wildfly-version",
    "--wildfly-archive",
)
_FLAGS = CLUSTER_FLAGS + ("--evidence-dir", "--keep-on-failure")


def command(args: argparse.Namespace) -> int:
    from harness.entry.repro import ReproInputError, run_repro

    options = HarnessOptions.from_values(vars(args))
    echo = None if args.quiet else sys.stdout
    try:
        outcome = run_repro(args.entry, options, args.repeat, echo=echo, timeout_s=args.timeout)
    except ReproInputError as exc:
        print(f"harness repro: {exc}", file=sys.stderr)
        return 2
    print(report(outcome))
    return outcome.exit_code


def report(outcome: Any) -> str:
    """The lines `harness repro` prints for a ReproOutcome."""
    from harness.entry.repro import error_headline

    lines = [f"[harness repro] {outcome.key}: " + " ".join(f"{k}={v}" for k, v in outcome.build.items())]
    total = len(outcome.runs)
    for run in outcome.runs:
        where = f"evidence: {run.evidence}" if run.evidence else "evidence: (not written)"
        lines.append(f"run {run.index} of {total}: {run.outcome.upper()}  {where}")
        for verdict in sorted(run.verdicts, key=lambda v: v.valid):
            text = str(verdict).splitlines()
            lines.append("  " + text[0])
            if not verdict.valid:  # its details, each cut to a line (all of them are in the evidence)
                lines += [
                    "  " + (line if len(line) <= DETAIL_WIDTH else line[: DETAIL_WIDTH - 3] + "...")
                    for line in text[1:]
                ]
        if run.error:
            lines.append("  error: " + error_headline(run.error))
    if outcome.known_broken:
        lines.append(f"known broken here: {outcome.known_broken}")
    if total:
        lines.append(f"[harness repro] {outcome.key}: {outcome.outcome}: {outcome.failed} of {total} runs failed")
    else:
        lines.append(f"[harness repro] {outcome.key}: {outcome.outcome}: {outcome.reason}")
    if outcome.folder is not None:
        lines.append(f"[harness repro] folder: {Path(outcome.folder).resolve()} (pytest.log, report.html)")
    return "\n".join(lines)


def add_run_options(p: argparse.ArgumentParser, flags: tuple[str, ...] = _FLAGS) -> None:
    """The run's flavor, source and evidence options (pytest's own flags and environment variables)."""
    from harness.flavors import registry

    choices = {"--balancer": tuple(registry.BALANCERS), "--node-flavor": tuple(registry.NODES)}
    for option in OPTIONS:
        if option.flag not in flags:
            continue
        if option.is_flag:
            p.add_argument(option.flag, dest=option.dest, action="store_true", help=f"{option.help}; env {option.env}")
        else:
            p.add_argument(
                option.flag,
                dest=option.dest,
                choices=choices.get(option.flag, option.choices),
                help=f"{option.help}; env {option.env}",
            )


def register(sub: Any) -> None:
    p = sub.add_parser("repro", help="run one reproduction (a catalogue key or a .yaml / .py file) N times")
    p.add_argument("entry", metavar="KEY|FILE", help="a key of scenarios/reproductions, or a .yaml / .py file")
    p.add_argument("--repeat", type=int, help="runs, each in fresh clusters (default: the entry's repeats)")
    p.add_argument("--timeout", type=float, help="seconds the whole pytest run may take")
    p.add_argument("--quiet", action="store_true", help="do not echo pytest's output (it is in pytest.log)")
    add_run_options(p)
    p.set_defaults(handler=command)
