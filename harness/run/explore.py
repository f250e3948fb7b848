"""`harness explore`: random fault schedules under load, judged by invariants; a failure is shrunk and saved.

Each schedule (harness.descriptions.schedule, seeds S, S+1, ...) runs as a reproduction in a fresh cluster
(the `run` it is given: harness.entry.repro.run_repro, a pytest subprocess, evidence kept), with the explorer's invariants as its
checks. A run whose verdicts hold an INVALID one is a violation: its signature is the set of invariants it
broke. It is shrunk (harness.run.explore_shrink) with an oracle that reruns a candidate and keeps it when it
breaks one of the same invariants; the smallest schedule is written as a reproduction YAML file with its seed,
and that file is run again (`confirm` times) to show it fails again. A run that could not be judged (the
harness failed to start or apply something: outcome "error") is counted and reported, never a violation.

Everything goes under `out/`: one folder per run (`seed-N/`, `seed-N-shrink-K/`, `found-seed-N-confirm/`),
`found-seed-N.yaml` per violation, `explore.json` with every run's outcome and the figures.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from harness.descriptions.options import HarnessOptions
from harness.descriptions.repro_yaml import reproduction_to_yaml
from harness.descriptions.reproduction import Reproduction, ReproTopology
from harness.descriptions.schedule import BALANCER_BUILDERS, NODE_BUILDERS, Schedule, generate, to_timeline
from harness.descriptions.topology import LoadProfile
from harness.run.explore_shrink import ShrinkLog, shrink

# What every run is judged by (expectation names, harness.descriptions.expectations). Not
# `serves_after_faults`: sticky users keep their sessions, so a node whose sessions all moved away during a
# fault may get no new one after it (seen on undertow + sim: a false violation, shrunk to one flap).
INVARIANTS: tuple[str, ...] = ("no_errors_outside_windows", "sticky")
HTTPD_INVARIANTS: tuple[str, ...] = ()  # the httpd balancers' own (their error_log)
LOAD = LoadProfile(users=6, spawn_rate=6, wait_s=(0.05, 0.1))
_PREFIX = re.compile(r"^(?:timeline\[\d+\]|end)\s+")


@dataclass(frozen=True)
class ExploreConfig:
    """What to explore: the run's options, the fault kinds, the cluster and schedule shape, the budgets."""

    options: HarnessOptions
    out: Path
    seed: int = 1
    minutes: float = 10.0
    kinds: tuple[str, ...] = ()  # () = every kind the run's flavors take
    nodes: int = 3
    max_faults: int = 4
    span_s: float = 30.0
    checks: tuple[str, ...] = ()  # () = the invariants for the run's balancer
    topology: dict[str, Any] = field(default_factory=dict)  # ReproTopology fields besides nodes
    shrink_runs: int = 30
    shrink_minutes: float = 30.0
    confirm: int = 2
    max_schedules: int | None = None
    run_timeout_s: float = 900.0


@dataclass
class Found:
    """One violation: the schedule that showed it, the invariants broken, the shrunk schedule and its file."""

    seed: int
    signature: tuple[str, ...]
    original: Schedule
    shrunk: Schedule
    log: ShrinkLog
    file: Path
    confirm_failed: int = 0
    confirm_runs: int = 0
    shrink_s: float = 0.0


@dataclass
class Exploration:
    """Every run's outcome and what was found."""

    runs: list[dict[str, Any]] = field(default_factory=list)
    found: list[Found] = field(default_factory=list)
    started: float = field(default_factory=time.time)
    schedule_s: float = 0.0  # time spent running schedules (not shrinking)

    def figures(self) -> dict[str, Any]:
        schedules = [r for r in self.runs if r["phase"] == "explore"]
        per_hour = 3600 * len(schedules) / self.schedule_s if self.schedule_s else 0.0
        return {
            "schedules": len(schedules),
            "violations": len(self.found),
            "errors": sum(r["outcome"] == "error" for r in schedules),
            "schedules_per_hour": round(per_hour, 1),
            "shrink_s": [round(f.shrink_s, 1) for f in self.found],
        }


def fault_kinds(options: HarnessOptions, wanted: Sequence[str] = ()) -> tuple[str, ...]:
    """The kinds the explorer draws from: `wanted` (each checked), else every kind with a builder that the
    run's node flavor (node faults) or balancer flavor (balancer faults) takes."""
    from harness.descriptions.base import SpecError
    from harness.flavors import registry

    node_takes = registry.node_flavor(options.node, "--node-flavor").faults
    balancer_takes = registry.balancer_flavor(options.balancer, "--balancer").faults
    usable = [k for k in NODE_BUILDERS if k in node_takes] + [k for k in BALANCER_BUILDERS if k in balancer_takes]
    if not wanted:
        return tuple(usable)
    refused = [k for k in wanted if k not in usable]
    if refused:
        raise SpecError(
            "--faults",
            f"{', '.join(refused)}: not taken by {options.balancer} + {options.node}; usable: {', '.join(usable)}",
        )
    return tuple(dict.fromkeys(wanted))


def invariants(options: HarnessOptions) -> tuple[str, ...]:
    return INVARIANTS + (HTTPD_INVARIANTS if options.balancer.startswith("httpd") else ())


def reproduction_of(schedule: Schedule, config: ExploreConfig, checks: Sequence[str], note: str = "") -> Reproduction:
    """The schedule as a reproduction: its seed in the key, the schedule in the notes."""
    notes = f"Found by harness explore (seed {schedule.seed}). {note}\n{schedule.describe()}".strip()
    return Reproduction(
        key=f"explore-seed-{schedule.seed}",
        summary=f"explored schedule: {len(schedule.events)} fault(s) on {schedule.nodes} node(s), seed {schedule.seed}",
        topology=ReproTopology(nodes=schedule.nodes, **config.topology),
        load=LOAD,
        timeline=to_timeline(schedule),
        checks=tuple(checks),
        notes=notes,
    )


def signature(outcome: Any) -> tuple[str, ...]:
    """The invariants an outcome broke: the names of its INVALID verdicts without step prefixes and
    arguments ("timeline[7] heal kill:node1" -> "heal")."""
    names: set[str] = set()
    for run in outcome.runs:
        for verdict in run.verdicts:
            if verdict.invalid and verdict.name not in ("repeats",) and not verdict.name.startswith("run "):
                names.add(_PREFIX.sub("", verdict.name).split()[0].split(":")[0])
    return tuple(sorted(names))


class Explorer:
    """Runs schedules until the time (or `max_schedules`) is spent; shrinks and saves each violation."""

    def __init__(
        self,
        config: ExploreConfig,
        run: Callable[..., Any],
        echo: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`run`: how one reproduction runs (harness.entry.repro.run_repro, given by the entry layer)."""
        self.config, self.echo, self.clock = config, echo, clock
        self.run_repro = run
        self.kinds = fault_kinds(config.options, config.kinds)
        self.checks = tuple(config.checks) or invariants(config.options)
        self.result = Exploration()

    def say(self, text: str) -> None:
        if self.echo is not None:
            print(f"[harness explore] {text}", file=self.echo, flush=True)

    def explore(self) -> Exploration:
        config = self.config
        config.out.mkdir(parents=True, exist_ok=True)
        deadline = self.clock() + config.minutes * 60
        self.say(f"faults: {', '.join(self.kinds)}; invariants: {', '.join(self.checks)}; until {config.minutes:g} min")
        index = 0
        while self.clock() < deadline and (config.max_schedules is None or index < config.max_schedules):
            seed = config.seed + index
            index += 1
            schedule = generate(seed, config.nodes, self.kinds, max_faults=config.max_faults, span_s=config.span_s)
            started = self.clock()
            outcome = self._run(schedule, f"seed-{seed}", "explore")
            self.result.schedule_s += self.clock() - started
            broken = signature(outcome)
            self.say(
                f"seed {seed}: {len(schedule.events)} fault(s): {outcome.outcome}"
                + (f" ({', '.join(broken)})" if broken else "")
            )
            if outcome.outcome == "invalid" and broken:
                self.result.found.append(self._found(schedule, broken))
            self._write_summary()
        self.say(f"done: {json.dumps(self.result.figures())}")
        return self.result

    def _run(self, schedule: Schedule, folder: str, phase: str, repeat: int = 1, note: str = "") -> Any:
        repro = reproduction_of(schedule, self.config, self.checks, note)
        started = self.clock()
        outcome = self.run_repro(
            repro, self.config.options, repeat, folder=self.config.out / folder, timeout_s=self.config.run_timeout_s
        )
        self.result.runs.append(
            {
                "phase": phase,
                "seed": schedule.seed,
                "folder": folder,
                "outcome": outcome.outcome,
                "broken": list(signature(outcome)),
                "faults": [e.describe() for e in schedule.events],
                "nodes": schedule.nodes,
                "seconds": round(self.clock() - started, 1),
                "reason": getattr(outcome, "reason", ""),
            }
        )
        return outcome

    def _found(self, schedule: Schedule, broken: tuple[str, ...]) -> Found:
        config = self.config
        self.say(f"seed {schedule.seed} broke {', '.join(broken)}: shrinking (at most {config.shrink_runs} runs)")
        started = self.clock()
        counter = [0]

        def fails(candidate: Schedule) -> bool:
            counter[0] += 1
            outcome = self._run(candidate, f"seed-{schedule.seed}-shrink-{counter[0]}", "shrink")
            kept = outcome.outcome == "invalid" and bool(set(signature(outcome)) & set(broken))
            self.say(
                f"  shrink {counter[0]}: {len(candidate.events)} fault(s), {candidate.nodes} node(s): "
                + ("still fails" if kept else outcome.outcome)
            )
            return kept

        if fails(schedule):  # the same schedule again first: a violation seen once only is not shrunk
            shrunk, log = shrink(
                schedule, fails, max_runs=config.shrink_runs, max_seconds=config.shrink_minutes * 60, clock=self.clock
            )
        else:
            shrunk, log = (
                schedule,
                ShrinkLog(stopped="not shrunk: the schedule did not fail again (a rate, not a rule)"),
            )
        shrink_s = self.clock() - started
        note = f"It broke {', '.join(broken)}; shrunk from {len(schedule.events)} to {len(shrunk.events)} fault(s) in {log.runs} runs."
        file = config.out / f"found-seed-{schedule.seed}.yaml"
        file.write_text(
            _yaml_header(schedule, shrunk, broken, log, config)
            + reproduction_to_yaml(reproduction_of(shrunk, config, self.checks, note)),
            encoding="utf-8",
        )
        found = Found(schedule.seed, broken, schedule, shrunk, log, file, shrink_s=shrink_s)
        if config.confirm:
            outcome = self.run_repro(
                file,
                config.options,
                config.confirm,
                folder=config.out / f"found-seed-{schedule.seed}-confirm",
                timeout_s=config.run_timeout_s * config.confirm,
            )
            found.confirm_runs, found.confirm_failed = len(outcome.runs), outcome.failed
            self.say(f"  {file}: {outcome.failed} of {len(outcome.runs)} runs of the saved file failed again")
        return found

    def _write_summary(self) -> None:
        data = {
            "options": {
                "balancer": self.config.options.balancer,
                "node": self.config.options.node,
                "source": self.config.options.modcluster_source,
            },
            "seed": self.config.seed,
            "faults": list(self.kinds),
            "invariants": list(self.checks),
            "figures": self.result.figures(),
            "found": [
                {
                    "seed": f.seed,
                    "broken": list(f.signature),
                    "file": str(f.file),
                    "shrink_runs": f.log.runs,
                    "shrink_steps": f.log.steps,
                    "confirm": f"{f.confirm_failed} of {f.confirm_runs} failed",
                    "schedule": f.shrunk.describe(),
                }
                for f in self.result.found
            ],
            "runs": self.result.runs,
        }
        (self.config.out / "explore.json").write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")


def _yaml_header(
    original: Schedule, shrunk: Schedule, broken: tuple[str, ...], log: ShrinkLog, config: ExploreConfig
) -> str:
    source = config.options.modcluster_source or "(none)"
    lines = [
        f"# Found by `harness explore --seed {original.seed}` ({config.options.balancer} + {config.options.node}; source {source}).",
        f"# Broke: {', '.join(broken)}. Shrunk in {log.runs} runs ({log.stopped}); steps: {'; '.join(log.steps) or 'none'}.",
        "# Original schedule:",
        *[f"#   {line}" for line in original.describe().splitlines()],
        "",
    ]
    return "\n".join(lines)
