"""`harness matrix`: one pytest selection across combinations of mod_cluster sources, modes and flavors.

Every combination of the given --modcluster-source, --modcluster-mode, --node-flavor, --balancer and
--wildfly-version values (each repeatable) is checked by the flavor registry first: a combination it refuses
(lbmethod_cluster with a 1.3 source, the undertow balancer with lbmethod_cluster) is shown as refused with
the reason and not run. A balancer that takes no mod_cluster source (undertow) runs once whatever sources
are given. The others run one after another as pytest subprocesses with JUnit XML, evidence and a run
report each under OUT/<combination>/; images are shared between them by their content tags. The table of
scenario x combination is harness.entry.matrix_report's.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.descriptions.options import DEFAULT_WILDFLY_VERSION, MODCLUSTER_MODES, HarnessOptions
from harness.entry.matrix_plan import Combination, combinations, judge

COMBINATION_FILE = "combination.json"


def registry_check(options: HarnessOptions) -> None:
    from harness.flavors import registry

    registry.validate_options(options)


def source_label(given: str) -> str:
    from harness.flavors.httpd_modcluster.flavor import source_for

    return source_for(given).release


def run_one(combo: Combination, folder: Path, pytest_args: Sequence[str], timeout_s: float | None) -> Combination:
    """pytest for one combination, output in folder/pytest.log; JUnit XML, evidence and run report beside it."""
    folder.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        "-m",
        "pytest",
        *pytest_args,
        *combo.pytest_flags(),
        "-p",
        "no:cacheprovider",
        "--junitxml",
        str(folder / "junit.xml"),
        "--evidence-dir",
        str(folder / "evidence"),
        "--run-report",
        str(folder / "report.html"),
    ]
    started = time.monotonic()
    print(f"[harness matrix] {combo.label}: pytest {' '.join(pytest_args)}", flush=True)
    with open(folder / "pytest.log", "w", encoding="utf-8") as log:
        log.write(" ".join(command) + "\n")
        log.flush()
        try:
            code = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, timeout=timeout_s).returncode
            outcome = f"ran (exit {code})"
        except subprocess.TimeoutExpired:
            outcome = f"timed out after {timeout_s} s"
    done = dataclasses.replace(combo, outcome=outcome, seconds=round(time.monotonic() - started, 1))
    print(f"[harness matrix] {combo.label}: {outcome} in {done.seconds} s", flush=True)
    return done


def save(combo: Combination, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / COMBINATION_FILE).write_text(json.dumps(combo.to_dict(), indent=2) + "\n", encoding="utf-8")


def saved(folders: Sequence[Path]) -> list[tuple[Combination, Path]]:
    """Combinations saved under the given folders (a matrix output folder, or one combination's folder)."""
    found = []
    for base in folders:
        for path in sorted([base / COMBINATION_FILE] + list(base.glob(f"*/{COMBINATION_FILE}"))):
            if path.is_file():
                found.append((Combination.from_dict(json.loads(path.read_text(encoding="utf-8"))), path.parent))
    return found


def _command(args: argparse.Namespace) -> int:
    from harness.entry import matrix_report

    out = Path(args.out)
    if args.from_folders:
        results = saved([Path(f) for f in args.from_folders])
    else:
        combos = combinations(
            args.balancer or ["httpd-modcluster"],
            args.node_flavor or ["sim"],
            args.modcluster_source or [None],
            args.modcluster_mode or ["proxy_cluster"],
            args.wildfly_version or [DEFAULT_WILDFLY_VERSION],
        )
        results = []
        for combo in judge(combos, registry_check, source_label):
            folder = out / combo.slug
            if not combo.refused:
                combo = run_one(combo, folder, args.pytest_args, args.timeout)
            else:
                print(f"[harness matrix] {combo.label}: refused: {combo.refused}", flush=True)
            save(combo, folder)
            results.append((combo, folder))
    table = matrix_report.build(results)
    page = matrix_report.write(table, out)
    print(matrix_report.markdown(table))
    print(f"[harness matrix] report: {page.resolve()}")
    return 0 if table.all_passed() else 1


def register(sub: Any) -> None:
    p = sub.add_parser(
        "matrix",
        help="run a pytest selection for every combination of sources, modes and "
        "flavors; one report (scenario x combination)",
    )
    p.add_argument("--modcluster-source", action="append", help="a mod_cluster source (repeatable)")
    p.add_argument("--modcluster-mode", action="append", choices=MODCLUSTER_MODES, help="repeatable")
    p.add_argument("--node-flavor", action="append", help="repeatable (default sim)")
    p.add_argument("--balancer", action="append", help="repeatable (default httpd-modcluster)")
    p.add_argument("--wildfly-version", action="append", help=f"repeatable (default {DEFAULT_WILDFLY_VERSION})")
    p.add_argument("--out", default="evidence/matrix", help="output folder (default evidence/matrix)")
    p.add_argument("--timeout", type=float, default=None, help="seconds one combination may take")
    p.add_argument(
        "--from",
        dest="from_folders",
        action="append",
        help="do not run: build the report from combination folders of earlier runs (repeatable)",
    )
    p.add_argument("pytest_args", nargs="*", help="after --: the pytest selection, e.g. -- scenarios/failover -k kill")
    p.set_defaults(handler=_command)
