"""Mutation testing of the pure core with mutmut 3: one run per module, against that module's own unit tests.

    python tests/mutation.py [MODULE ...] [--max-children N] [--fail-under PERCENT] [--survivors]

MODULE: a path from MODULES (harness/protocol/mcmp.py) or its file name (mcmp.py, mcmp); default: all of them.
Each module runs in its own folder mutants/<name>/, a copy of harness/, tests/, conftest.py, tox.ini and
pyproject.toml (plus scenarios/, whose support modules unit tests import) whose [tool.mutmut] section gets only_mutate = the module and the test selection = its test
files (MODULES), so a module's mutants only meet its own tests and runs share nothing. Then a table: module,
mutants, killed (a test failed or timed out), survived (the tests passed, or none ran it), score = killed /
mutants. `--survivors` lists the surviving mutants (see one with `cd mutants/<name> && mutmut show NAME`).
Exit status: 1 when a module scores under --fail-under (default 0), 2 when mutmut itself failed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[1]
UNIT = "tests/unit/"
MODULES: dict[str, tuple[str, ...]] = {
    "harness/judge/checks.py": (UNIT + "test_checks.py",),
    "harness/judge/history.py": (UNIT + "test_history.py",),
    "harness/judge/verdict.py": (UNIT + "test_checks.py",),
    "harness/judge/bounds.py": (UNIT + "test_checks.py", UNIT + "test_distribution.py"),
    "harness/judge/stats.py": (UNIT + "test_distribution.py",),
    "harness/judge/distribution.py": (UNIT + "test_distribution.py",),
    "harness/protocol/mcmp.py": (UNIT + "test_mcmp.py",),
    "harness/protocol/mcmp_client.py": (UNIT + "test_mcmp.py",),
    "harness/protocol/balancer_info.py": (UNIT + "test_balancer_info.py", UNIT + "test_recorded_replies.py"),
    "harness/protocol/manager_page.py": (UNIT + "test_manager_page.py", UNIT + "test_recorded_replies.py"),
    "harness/protocol/manager_model.py": (UNIT + "test_manager_page.py",),
    "harness/protocol/html_events.py": (UNIT + "test_manager_page.py",),
    "harness/protocol/advertise.py": (UNIT + "test_advertise.py",),
}
COPIED = ("harness", "tests", "scenarios", "conftest.py", "tox.ini")  # unit tests import scenarios.*.support
KILLED = {1, 3, 24, -24, 36, 152, 255}  # mutmut's exit codes for "a test failed" and "timed out"
SURVIVED = {0, 5, 33}  # the tests passed, or no test ran the mutant


@dataclass(frozen=True)
class Score:
    module: str
    mutants: int
    killed: int
    survived: int
    survivors: tuple[str, ...]

    @property
    def percent(self) -> float:
        return 100.0 * self.killed / self.mutants if self.mutants else 100.0


def pick(names: list[str]) -> list[str]:
    """The MODULES keys named by `names` (path, file name or stem); all of them for none."""
    if not names:
        return list(MODULES)
    picked = []
    for name in names:
        found = [m for m in MODULES if name in (m, Path(m).name, Path(m).stem)]
        if len(found) != 1:
            raise SystemExit(
                f"mutation: module {name!r} is {'ambiguous' if found else 'unknown'}; known: {', '.join(MODULES)}"
            )
        picked += found
    return picked


def toml_section(settings: dict[str, object]) -> str:
    """A [tool.mutmut] section (strings, numbers, booleans and lists of strings: JSON spells them as TOML does)."""
    lines = ["[tool.mutmut]"]
    for key, value in settings.items():
        lines.append(f"{key} = {str(value).lower() if isinstance(value, bool) else json.dumps(value)}")
    return "\n".join(lines) + "\n"


def pyproject_for(module: str, tests: tuple[str, ...], text: str) -> str:
    """`text` (the project's pyproject.toml) with its [tool.mutmut] section narrowed to `module` and `tests`."""
    settings = dict(tomllib.loads(text).get("tool", {}).get("mutmut", {}))
    settings.update(only_mutate=[module], pytest_add_cli_args_test_selection=list(tests))
    rest = re.sub(r"(?ms)^\[tool\.mutmut\]\n.*?(?=^\[|\Z)", "", text)
    return rest.rstrip("\n") + "\n\n" + toml_section(settings)


def prepare(module: str, folder: Path) -> None:
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", ".hypothesis", "*.pyc")
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, folder / name, ignore=ignore)
        else:
            shutil.copy2(source, folder / name)
    text = (ROOT / "pyproject.toml").read_text()
    (folder / "pyproject.toml").write_text(pyproject_for(module, MODULES[module], text))


def score(module: str, meta: dict[str, object]) -> Score:
    codes: dict[str, int | None] = meta.get("exit_code_by_key", {})  # type: ignore[assignment]
    killed = sum(code in KILLED for code in codes.values())
    survivors = tuple(sorted(name for name, code in codes.items() if code in SURVIVED))
    return Score(module, len(codes), killed, len(survivors), survivors)


def run(module: str, max_children: int) -> Score:
    folder = ROOT / "mutants" / Path(module).stem
    prepare(module, folder)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # the copy's harness, not the checkout's
    log = folder / "mutmut.log"
    with log.open("w") as out:
        done = subprocess.run(
            [sys.executable, "-m", "mutmut", "run", "--max-children", str(max_children)],
            cwd=folder,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
        )
    meta = folder / "mutants" / f"{module}.meta"
    if done.returncode != 0 or not meta.is_file():
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
        print(f"mutation: mutmut failed on {module} (exit {done.returncode}; log {log}):\n{tail}", file=sys.stderr)
        raise SystemExit(2)
    return score(module, json.loads(meta.read_text()))


def table(scores: list[Score]) -> str:
    rows = [f"{'module':<36} {'mutants':>7} {'killed':>7} {'survived':>8} {'score':>7}"]
    rows += [f"{s.module:<36} {s.mutants:>7} {s.killed:>7} {s.survived:>8} {s.percent:>6.1f}%" for s in scores]
    return "\n".join(rows)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", metavar="MODULE")
    parser.add_argument("--max-children", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--fail-under", type=float, default=0.0, metavar="PERCENT")
    parser.add_argument("--survivors", action="store_true", help="list the surviving mutants of each module")
    args = parser.parse_args(argv)
    scores = []
    for module in pick(args.modules):
        print(f"mutation: {module} against {', '.join(MODULES[module])}", flush=True)
        scores.append(run(module, args.max_children))
    print(table(scores))
    if args.survivors:
        for s in scores:
            print("\n".join([f"\n{s.module}:"] + [f"  {name}" for name in s.survivors]))
    return 1 if any(s.percent < args.fail_under for s in scores) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
