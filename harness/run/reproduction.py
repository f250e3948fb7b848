"""The reproduction runner: a field failure written as a `Reproduction` (harness.descriptions.reproduction),
run as a scenario, once or `repeats` times in fresh clusters.

One run: start the topology (the run's flavors with the entry's fields: `topology_for`), start the load and
wait for a steady state, execute the timeline (harness.run.repro_steps: every step recorded with its times
and outcome), heal what is still active, then judge the final `checks` (harness.run.repro_checks). The step
records go into the evidence as `steps.json`, the verdicts into its summary.

`run_repeated` runs N times: with N = 1 in the test's own ScenarioRun (evidence as for any scenario), with
N > 1 each run in a child ScenarioRun with its own cluster and evidence folder; the test's run then holds
one verdict per run and a `repeats` verdict saying how many of N failed. `facts_for` and `build_info` say
what a run is (flavors, mode, the mod_cluster source and its commit) for `applies` / `known_broken`.
"""

from __future__ import annotations

import subprocess
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from harness.descriptions.base import SpecError
from harness.descriptions.options import HarnessOptions
from harness.descriptions.reproduction import Reproduction
from harness.descriptions.timeline import Inject
from harness.descriptions.topology import Topology
from harness.descriptions.where import RunFacts, Where
from harness.flavors import registry
from harness.judge.checks import Verdict
from harness.judge.verdict import Outcome
from harness.run.repro_checks import labelled, outcome_of
from harness.run.repro_samples import judge_checks, start_sampler, stop_sampler
from harness.run.repro_steps import StepRecord, Timeline
from harness.run.sampler import DEFAULT_INTERVAL_S

STEADY_TIMEOUT_S = 60.0


def validate_reproduction(repro: Reproduction) -> Reproduction:
    """`repro` itself once the flavor names it uses are the registry's; else SpecError naming the field.
    (Everything else was checked when it was built.)"""
    wheres: list[tuple[str, Where]] = [("applies", repro.applies)]
    wheres += [(f"known_broken[{i}].where", k.where) for i, k in enumerate(repro.known_broken)]
    for field_name, where in wheres:
        for role, known in (("balancer", registry.BALANCERS), ("node", registry.NODES)):
            for i, name in enumerate(getattr(where, role)):
                if name not in known:
                    raise SpecError(
                        f"{field_name}.{role}[{i}]", f"no {role} flavor {name!r}; known: {', '.join(known)}"
                    )
    return repro


def facts_for(options: HarnessOptions) -> RunFacts:
    """What `Where` asks of a run; the mod_cluster line and release only when httpd-modcluster runs one."""
    line = release = None
    if options.balancer == "httpd-modcluster" and options.modcluster_source:
        source = _source(options)
        if source is not None:
            line, release = source.line, source.release
    return RunFacts(options.balancer, options.node, options.modcluster_mode, line, release)


def build_info(options: HarnessOptions) -> dict[str, str]:
    """What was under test, as text: flavors, mode, the mod_cluster source (release, line, origin, commit)."""
    info = {"balancer": options.balancer, "node": options.node, "modcluster_mode": options.modcluster_mode}
    if options.balancer in ("undertow",) or options.node == "wildfly":
        info["wildfly"] = options.wildfly_archive or options.wildfly_version
    source = _source(options) if options.modcluster_source else None
    if source is not None:
        info.update(
            modcluster_release=source.release,
            modcluster_line=source.line,
            modcluster_source=source.origin,
            modcluster_commit=_commit(Path(source.root)),
        )
    return info


def topology_for(repro: Reproduction, options: HarnessOptions) -> Topology:
    """The entry's topology with the run's flavors and what they need (registry.topology_for)."""
    shape = repro.topology
    base = registry.topology_for(
        options, shape.name, shape.nodes, discovery=shape.discovery, balancer=dict(shape.balancer), **shape.node
    )
    return shape.with_per_node(base)


@dataclass
class RunRecord:
    """One run of a reproduction: its outcome (valid | invalid | unknown | error), the verdicts and step
    records as plain data, the evidence folder it goes to, the error text of a run that raised."""

    index: int
    outcome: str = "unknown"
    verdicts: list[dict[str, Any]] = field(default_factory=list)
    steps: list[dict[str, Any]] = field(default_factory=list)
    evidence: str | None = None
    error: str = ""
    started: float = 0.0
    ended: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def run_reproduction(
    scenario: Any, repro: Reproduction, sample_interval_s: float = DEFAULT_INTERVAL_S
) -> list[Verdict]:
    """Run `repro` once in a ScenarioRun; return every verdict (timeline steps and final checks), recorded
    for the evidence; the step records go to `scenario.evidence_json["steps.json"]`. A final check over the
    balancer's samples starts a sampler polling every `sample_interval_s` (harness.run.repro_samples)."""
    validate_reproduction(repro)
    records: list[StepRecord] = []
    scenario.evidence_json["steps.json"] = lambda: [r.to_dict() for r in records]
    scenario.evidence_json["reproduction.json"] = repro.to_dict()
    injected = [s.fault for s in repro.timeline if isinstance(s, Inject)]
    topology = topology_for(repro, scenario.options)
    cluster = _setup(records, "cluster", "start the cluster", lambda: scenario.cluster(topology, faults=injected))
    sampler = start_sampler(repro, cluster, sample_interval_s)  # None unless a check judges the balancer's samples
    try:
        load = None
        if repro.load is not None:
            load = _setup(records, "load", "start the load", lambda: scenario.load(cluster, repro.load))
            _setup(
                records,
                "steady",
                "wait for a steady load (>= 1 req/s, no error, over 2 s)",
                lambda: load.wait_for_steady_state(STEADY_TIMEOUT_S, window_s=2.0, min_rps=1.0, max_error_rate=0.0),
            )
        timeline = Timeline(scenario, cluster, load, records)
        timeline.run(repro.timeline)
    finally:
        stop_sampler(sampler, scenario)
    if repro.checks:
        judge = lambda: judge_checks(timeline, repro.checks, sampler)  # noqa: E731
        final = _setup(records, "checks", "judge " + ", ".join(repro.checks), judge)
        records[-1].data["verdicts"] = [v.to_dict() for v in final]
        records[-1].outcome = "ok" if all(v.valid for v in final) else "failed"
    verdicts: list[Verdict] = scenario.judge(*timeline.verdicts)
    return verdicts


def run_repeated(scenario: Any, repro: Reproduction, runs: int | None = None) -> list[RunRecord]:
    """`runs` (default: the entry's `repeats`) runs in fresh clusters; a run that raised is an error record
    (the next run still happens). N > 1: children of `scenario`, which gets a verdict per run and `repeats`."""
    count = repro.repeats if runs is None else runs
    results: list[RunRecord] = []
    for index in range(1, count + 1):
        run = scenario if count == 1 else scenario.child(f"run{index}of{count}")
        result = RunRecord(index, started=time.time(), evidence=str(run.evidence_path))
        try:
            verdicts = run_reproduction(run, repro)
            result.outcome = outcome_of(verdicts)
        except Exception as exc:
            result.outcome, result.error = "error", "".join(traceback.format_exception(exc)).strip()
        result.ended = time.time()
        result.verdicts = [v.to_dict() for v in run.verdicts]
        result.steps = run.evidence_json["steps.json"]() if "steps.json" in run.evidence_json else []
        results.append(result)
        if count > 1:
            try:
                run.finish(failed=result.outcome != "valid")
            except Exception as exc:  # teardown of this run: recorded, the next run still starts fresh
                result.outcome, result.error = "error", f"{result.error}\nteardown: {type(exc).__name__}: {exc}".strip()
            scenario.judge(_run_verdict(result, run.verdicts))
    if count > 1:
        scenario.judge(repeats_verdict(results))
    return results


def repeats_verdict(results: list[RunRecord]) -> Verdict:
    failed = [r for r in results if r.outcome != "valid"]
    details = {"runs": len(results), "failed": len(failed), "outcomes": [r.outcome for r in results]}
    return Verdict("repeats", not failed, details, f"{len(failed)} of {len(results)} runs failed")


def _run_verdict(result: RunRecord, verdicts: list[Verdict]) -> Verdict:
    bad = [v for v in verdicts if not v.valid]
    outcome: Outcome = "valid" if result.outcome == "valid" else "unknown" if result.outcome == "unknown" else "invalid"
    summary = result.error.splitlines()[-1] if result.error else "; ".join(f"{v.name}: {v.summary}" for v in bad)
    details = {"evidence": result.evidence, "failed": [v.to_dict() for v in bad]}
    return labelled(f"run {result.index}:", [Verdict("reproduction", outcome, details, summary or "all valid")])[0]


def _setup(records: list[StepRecord], verb: str, describe: str, action: Any) -> Any:
    record = StepRecord("checks" if verb == "checks" else "setup", verb, describe).begin()
    records.append(record)
    try:
        value = action()
    except BaseException as exc:
        record.end("error", f"{type(exc).__name__}: {exc}")
        raise
    record.end("ok")
    return value


def _source(options: HarnessOptions) -> Any:
    from harness.flavors.base import FlavorUnavailable
    from harness.flavors.httpd_modcluster.flavor import source_for

    try:
        return source_for(options.modcluster_source)
    except FlavorUnavailable:
        return None


def _commit(root: Path) -> str:
    try:
        done = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""
