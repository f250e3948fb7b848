"""`harness bisect KEY|FILE --good REF --bad REF --modcluster-source CHECKOUT`: the commit that broke or fixed it.

Each candidate commit of the checkout (a private `--shared` clone, harness.run.bisect; the checkout itself is
not touched) is built into the balancer image (cached by the tree of native/, so a commit seen before is not
compiled again) and the reproduction is run there with `harness.entry.repro.run_repro`, repeated as the
entry's `repeats` say (or `--repeat`). A commit where every run is valid has the bug *absent*; one where a run
is invalid has it *present*; one that does not build or start, or whose evidence is too thin (unknown), is
skipped as `git bisect skip` does. --good older than --bad seeks the first bad commit; --bad older than --good
seeks the first fixed one.

Printed: a line per step as it goes, then the table of every step (commit, bug present/absent/skip, failed
runs, seconds, subject and verdicts) and the answer; written to <evidence dir>/bisect-<KEY>/: bisect.md and
bisect.json beside each step's reproduction folder (named by commit). Exit status: 0 a commit was named, 1 none
could be (only skipped commits left: the candidates are listed), 2 bad input or an end that contradicts its name.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from pathlib import Path
from typing import Any

from harness.descriptions.options import HarnessOptions
from harness.run.bisect import BisectResult, Evaluation, Outcome

HTTPD = "httpd-modcluster"
BALANCER_ENV = "HARNESS_BALANCER"
# run_repro's outcome -> what the commit says about the bug
BUG: dict[str, Outcome] = {"valid": "absent", "invalid": "present"}


def evaluation_of(outcome: Any) -> Evaluation:
    """A ReproOutcome as a bisect step: valid -> absent, invalid -> present, anything else -> skip."""
    from harness.entry.repro import error_headline

    word = BUG.get(outcome.outcome, "skip")
    if outcome.runs:
        failing = sorted({v.name for run in outcome.runs for v in run.verdicts if not v.valid})
        errors = [error_headline(run.error) for run in outcome.runs if run.error.strip()]
        detail = ", ".join(failing) or "; ".join(errors[:1]) or "every check valid"
        summary = f"{outcome.outcome}: {detail}"
    else:
        summary = f"{outcome.outcome}: {(outcome.reason or '').strip().splitlines()[0] if outcome.reason else ''}"
    return Evaluation(word, summary[:300], outcome.failed, len(outcome.runs))


def write_result(folder: Path, key: str, result: BisectResult, table: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "bisect.md").write_text(f"# harness bisect {key}\n\n```\n{table}\n```\n", encoding="utf-8")
    data = dataclasses.asdict(result) | {"sought": result.sought, "key": key}
    (folder / "bisect.json").write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")


def command(args: argparse.Namespace) -> int:
    from harness.entry.repro import ReproInputError, resolve, run_repro
    from harness.run.bisect import BisectError, Bisector, format_result

    if not args.harness_modcluster_source:
        print(
            "harness bisect: --modcluster-source CHECKOUT is required (a git checkout with the history)",
            file=sys.stderr,
        )
        return 2
    options = HarnessOptions.from_values(vars(args))
    if not args.harness_balancer and not os.environ.get(BALANCER_ENV):
        options = dataclasses.replace(options, balancer=HTTPD)  # bisect builds mod_cluster: httpd by default
    if options.balancer != HTTPD:
        print(
            f"harness bisect: --balancer {options.balancer}: bisect builds mod_cluster commits, so the "
            f"balancer must be {HTTPD}",
            file=sys.stderr,
        )
        return 2
    try:
        repro = resolve(args.entry)
    except ReproInputError as exc:
        print(f"harness bisect: {exc}", file=sys.stderr)
        return 2
    folder = Path(options.evidence_dir) / f"bisect-{repro.key}"
    echo = None if args.quiet else sys.stdout

    def evaluate(commit: str, tree: Path) -> Evaluation:
        step = dataclasses.replace(options, modcluster_source=str(tree))
        outcome = run_repro(repro, step, args.repeat, folder=folder / commit[:12], echo=echo, timeout_s=args.timeout)
        return evaluation_of(outcome)

    try:
        bisector = Bisector(
            Path(args.harness_modcluster_source).expanduser(),
            args.good,
            args.bad,
            evaluate,
            verify_ends=not args.no_verify_ends,
        )
        result = bisector.run()
    except (BisectError, ReproInputError) as exc:
        print(f"harness bisect: {exc}", file=sys.stderr)
        return 2
    table = format_result(result)
    print(table)
    write_result(folder, repro.key, result, table)
    print(f"[harness bisect] folder: {folder.resolve()} (bisect.md, bisect.json, one folder per commit)")
    return 0 if result.first else 1


def register(sub: Any) -> None:
    from harness.entry.cli_repro import add_run_options

    p = sub.add_parser("bisect", help="find the commit that broke (or fixed) a reproduction, with git bisect")
    p.add_argument("entry", metavar="KEY|FILE", help="a key of scenarios/reproductions, or a .yaml / .py file")
    p.add_argument("--good", required=True, help="a commit or tag where the reproduction passes")
    p.add_argument("--bad", required=True, help="a commit or tag where it fails")
    p.add_argument("--repeat", type=int, help="runs per commit (default: the entry's repeats); bad if any fails")
    p.add_argument("--timeout", type=float, help="seconds one commit's runs may take")
    p.add_argument("--no-verify-ends", action="store_true", help="trust --good and --bad without running them")
    p.add_argument("--quiet", action="store_true", help="do not echo each step's pytest output")
    add_run_options(p)
    p.set_defaults(handler=command)
