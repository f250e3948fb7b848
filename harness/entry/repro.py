"""Run one reproduction and get a structured answer: `run_repro(entry, options, repeat) -> ReproOutcome`.

The reproduction runs where every scenario runs: a pytest subprocess over
`scenarios/reproductions/test_reproductions.py` with `--repro FILE` (so the session sweep, the `scenario`
fixture's evidence and cleanup, the run report and interrupts behave as in the suite), evidence collected for
passing runs too. The subprocess writes one JSON file (`outcome.json`, this module's `write_outcome`), read
back into a `ReproOutcome`. Everything of one call goes under `<evidence dir>/repro-<KEY>/`: the entry as
YAML, `pytest.log`, `report.html`, `outcome.json` and each run's evidence folder.

`ReproOutcome.outcome`: valid (every run valid) | invalid (some run's verdict invalid) | error (some run
raised: a build or a start failed) | unknown (thin evidence) | skipped (the entry does not apply to these
options, or a flavor refused it: `reason` says why). `exit_code`: 0 all runs valid, 1 some failed, 2 could not
run (bad input, skipped). Bad input (an unknown key, a bad file, bad options) raises `ReproInputError`
before anything starts. `harness bisect` calls `run_repro` once per commit.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from harness.descriptions.options import HarnessOptions
from harness.descriptions.reproduction import Reproduction
from harness.judge.verdict import Verdict

ROOT = Path(__file__).resolve().parents[2]
TEST_FILE = Path("scenarios") / "reproductions" / "test_reproductions.py"
OUTCOME_FILE = "outcome.json"
# pytest options of the reproduction test (registered by harness.entry.pytest_plugin)
PYTEST_OPTIONS = (
    ("--repro", "harness_repro", "run only this reproduction: a catalogue key or a .yaml / .py file"),
    ("--repro-repeat", "harness_repro_repeat", "runs of it, each in fresh clusters (default: its repeats)"),
    ("--repro-outcome", "harness_repro_outcome", "write the runs' verdicts and steps to this JSON file"),
)


class ReproInputError(ValueError):
    """The reproduction or the options cannot be used; nothing was started."""


@dataclass(frozen=True)
class RunResult:
    """One run: valid | invalid | unknown | error, its verdicts, step records, evidence folder, error text."""

    index: int
    outcome: str
    verdicts: tuple[Verdict, ...] = ()
    steps: tuple[Mapping[str, Any], ...] = ()
    evidence: Path | None = None
    error: str = ""

    @property
    def valid(self) -> bool:
        return self.outcome == "valid"


@dataclass(frozen=True)
class ReproOutcome:
    key: str
    outcome: str
    runs: tuple[RunResult, ...] = ()
    build: Mapping[str, str] = field(default_factory=dict)
    reason: str = ""  # skipped or error: why
    known_broken: str | None = None  # the entry is expected to fail here (the outcome is still the truth)
    folder: Path | None = None  # pytest.log, report.html, outcome.json, the runs' evidence
    pytest_exit: int | None = None

    @property
    def failed(self) -> int:
        return sum(not r.valid for r in self.runs)

    @property
    def valid(self) -> bool:
        return self.outcome == "valid"

    @property
    def exit_code(self) -> int:
        if not self.runs:
            return 2
        return 0 if self.valid else 1

    def summary(self) -> str:
        if not self.runs:
            return f"{self.key}: {self.outcome}: {self.reason}"
        return f"{self.key}: {self.outcome}: {self.failed} of {len(self.runs)} runs failed"


_EXCEPTION_LINE = re.compile(r"^(?:[A-Za-z_][\w.]*\.)?[A-Z]\w*(?:Error|Exception|Exited|Unhealthy|Timeout|Refused)\b.*")


def error_headline(text: str) -> str:
    """The line of an error text that says what went wrong: the last exception line (`ContainerExited:
    container ... exited (exit code 3); its log tail:` and the two lines after it), else the last line."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    found = [i for i, line in enumerate(lines) if _EXCEPTION_LINE.match(line)]
    if not found:
        return lines[-1] if lines else ""
    headline = lines[found[-1]]
    if headline.endswith(":") and found[-1] + 2 < len(lines):  # "... its log tail:": the lines that say why
        headline += " " + " / ".join(lines[found[-1] + 1 : found[-1] + 3])
    return headline


def aggregate(outcomes: list[str]) -> str:
    """One word for several runs: invalid beats error beats unknown beats valid."""
    for word in ("invalid", "error", "unknown"):
        if word in outcomes:
            return word
    return "valid" if outcomes else "unknown"


# --- the outcome file (written by the test, read here) -----------------------------------------------------
def write_outcome(path: Path | str, data: Mapping[str, Any]) -> None:
    """`{"key", "build", "known_broken", "skipped", "error", "runs": [RunRecord.to_dict()]}` as JSON."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")


def read_outcome(path: Path, key: str, folder: Path | None = None, pytest_exit: int | None = None) -> ReproOutcome:
    data = json.loads(path.read_text(encoding="utf-8"))
    runs = tuple(_run_result(r) for r in data.get("runs", []))
    if data.get("skipped"):
        word, reason = "skipped", str(data["skipped"])
    elif not runs:
        word, reason = "error", str(data.get("error") or "no run was recorded")
    else:
        word, reason = aggregate([r.outcome for r in runs]), ""
    return ReproOutcome(
        key=str(data.get("key", key)),
        outcome=word,
        runs=runs,
        build=dict(data.get("build", {})),
        reason=reason,
        known_broken=data.get("known_broken"),
        folder=folder,
        pytest_exit=pytest_exit,
    )


def _run_result(data: Mapping[str, Any]) -> RunResult:
    verdicts = tuple(Verdict(v["name"], v["outcome"], v.get("details"), v.get("summary", "")) for v in data["verdicts"])
    evidence = Path(data["evidence"]) if data.get("evidence") else None
    return RunResult(
        index=int(data["index"]),
        outcome=str(data["outcome"]),
        verdicts=verdicts,
        steps=tuple(data.get("steps", [])),
        evidence=evidence if evidence is not None and evidence.is_dir() else None,
        error=str(data.get("error", "")),
    )


# --- running ------------------------------------------------------------------------------------------------
def resolve(entry: Reproduction | str | Path) -> Reproduction:
    """A Reproduction as given, a catalogue key, or a .yaml / .py file; ReproInputError naming what is wrong."""
    if isinstance(entry, Reproduction):
        from harness.descriptions.base import SpecError
        from harness.run.reproduction import validate_reproduction

        try:
            return validate_reproduction(entry)
        except SpecError as exc:
            raise ReproInputError(f"{entry.key}: {exc}") from None
    from harness.run.repro_catalogue import CatalogueError

    if (ROOT / TEST_FILE).is_file() and str(ROOT) not in sys.path:
        sys.path.append(str(ROOT))  # the catalogue lives beside the harness, in the checkout's scenarios/
    try:
        from scenarios.reproductions.catalogue import lookup
    except ImportError as exc:
        raise ReproInputError(f"the catalogue (scenarios/reproductions) is not importable here: {exc}") from exc
    try:
        return lookup(str(entry))
    except CatalogueError as exc:
        raise ReproInputError(str(exc)) from None


def run_repro(
    entry: Reproduction | str | Path,
    options: HarnessOptions,
    repeat: int | None = None,
    *,
    folder: Path | None = None,
    echo: TextIO | None = None,
    timeout_s: float | None = None,
) -> ReproOutcome:
    """Run `entry` `repeat` times (default: its `repeats`) with `options` (flavors, source, evidence dir).

    `folder`: where this call's files go (default `<evidence dir>/repro-<KEY>`); `echo`: a stream that gets
    pytest's output as it comes (it always goes to `folder/pytest.log`); `timeout_s`: for the whole pytest run.
    Raises ReproInputError (nothing started) for a bad entry, bad options or a bad `repeat`."""
    from harness.descriptions.options import OptionError
    from harness.descriptions.repro_yaml import reproduction_to_yaml
    from harness.descriptions.where import Where
    from harness.flavors import registry
    from harness.run.reproduction import facts_for

    repro = resolve(entry)
    if repeat is not None and not 1 <= repeat <= 1000:
        raise ReproInputError(f"--repeat: got {repeat}; expected 1..1000")
    try:
        registry.validate_options(options)
    except OptionError as exc:
        raise ReproInputError(str(exc)) from exc
    flavors = Where(balancer=repro.applies.balancer, node=repro.applies.node, mode=repro.applies.mode)
    mismatch = flavors.mismatch(facts_for(options))  # line and releases: decided by the run (default source)
    if mismatch is not None:
        reason = f"applies where {repro.applies.describe()}; {mismatch}"
        return ReproOutcome(repro.key, "skipped", reason=reason, build={"balancer": options.balancer})
    out = Path(folder) if folder is not None else options.evidence_dir / f"repro-{repro.key}"
    out.mkdir(parents=True, exist_ok=True)
    (out / OUTCOME_FILE).unlink(missing_ok=True)
    entry_file = out / "reproduction.yaml"
    entry_file.write_text(reproduction_to_yaml(repro), encoding="utf-8")
    command = pytest_command(entry_file, options, out, repeat)
    code = _run(command, out / "pytest.log", echo, timeout_s)
    if not (out / OUTCOME_FILE).is_file():
        tail = "\n".join((out / "pytest.log").read_text(encoding="utf-8", errors="replace").splitlines()[-15:])
        return ReproOutcome(repro.key, "error", reason=f"pytest exited {code} before the run:\n{tail}", folder=out)
    return read_outcome(out / OUTCOME_FILE, repro.key, out, code)


def pytest_command(entry_file: Path, options: HarnessOptions, out: Path, repeat: int | None) -> list[str]:
    """The pytest subprocess for one reproduction: the run's options as flags, evidence always collected."""
    flags = {
        "--balancer": options.balancer,
        "--node-flavor": options.node,
        "--modcluster-mode": options.modcluster_mode,
        "--modcluster-source": options.modcluster_source,
        "--wildfly-version": options.wildfly_version,
        "--wildfly-archive": options.wildfly_archive,
    }
    command = [sys.executable, "-m", "pytest", str(ROOT / TEST_FILE), "-p", "no:cacheprovider", "-q"]
    for flag, value in flags.items():
        if value:
            command += [flag, str(value)]
    command += ["--repro", str(entry_file.resolve()), "--repro-outcome", str((out / OUTCOME_FILE).resolve())]
    command += ["--evidence-dir", str(out.resolve()), "--run-report", str((out / "report.html").resolve())]
    command += ["--collect-evidence"] + (["--keep-on-failure"] if options.keep_on_failure else [])
    return command + (["--repro-repeat", str(repeat)] if repeat is not None else [])


def _run(command: list[str], log_path: Path, echo: TextIO | None, timeout_s: float | None) -> int:
    """Run pytest, its output to `log_path` (and `echo`); SIGTERM after `timeout_s` (pytest then cleans up)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST")}  # not a worker of ours
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    with open(log_path, "w", encoding="utf-8") as log:
        log.write(" ".join(command) + "\n")
        log.flush()
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        fired: list[bool] = []

        def stop() -> None:
            fired.append(True)
            process.terminate()

        timer = threading.Timer(timeout_s, stop) if timeout_s is not None else None
        if timer is not None:
            timer.start()
        try:
            for line in process.stdout or ():
                log.write(line)
                if echo is not None:
                    echo.write(line)
                    echo.flush()
            code = process.wait()
        except BaseException:
            process.terminate()  # pytest turns SIGTERM into an interrupt: it removes what it started
            process.wait(timeout=120)
            raise
        finally:
            if timer is not None:
                timer.cancel()
        if fired:
            log.write(f"[harness repro] timed out after {timeout_s} s\n")
        return code
