"""The balancer sampler in a reproduction: started only when a final check judges samples, stopped (and its
samples attached to the evidence as `balancer_samples.jsonl`, its rate and poll cost in
`balancer_sampler.json`) when the timeline ends; the final checks judged with the samples in hand.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.descriptions.expectations import SAMPLES, looks_at, parse_expectation
from harness.descriptions.reproduction import Reproduction
from harness.judge.checks import Verdict
from harness.judge.invariants import expected_enabled
from harness.judge.samples import to_jsonl
from harness.run.cluster import Cluster
from harness.run.repro_checks import sample_verdict
from harness.run.repro_steps import Timeline
from harness.run.sampler import DEFAULT_INTERVAL_S, BalancerSampler

SAMPLES_FILE = "balancer_samples.jsonl"


def _samples_named(names: Sequence[str]) -> bool:
    return any(looks_at(parse_expectation(name)[0]) == SAMPLES for name in names)


def start_sampler(
    repro: Reproduction, cluster: Cluster, interval_s: float = DEFAULT_INTERVAL_S
) -> BalancerSampler | None:
    """A running sampler of the cluster's balancer when a final check needs one, else None (no cost)."""
    if not _samples_named(repro.checks):
        return None
    return BalancerSampler(cluster.get_balancer().snapshot, interval_s).start()


def stop_sampler(sampler: BalancerSampler | None, scenario: Any) -> None:
    """Stop and join it; its samples and stats go to the scenario's evidence."""
    if sampler is None:
        return
    joined = sampler.stop()
    scenario.attach(SAMPLES_FILE, to_jsonl(sampler.samples()))
    scenario.evidence_json["balancer_sampler.json"] = {**sampler.stats(), "joined": joined}


def judge_checks(timeline: Timeline, names: Sequence[str], sampler: BalancerSampler | None) -> list[Verdict]:
    """The final checks in order: sample names over the sampler's samples, the rest as the timeline judges them;
    every verdict joins the timeline's."""
    verdicts: list[Verdict] = []
    pending: list[str] = []
    for name in [*names, ""]:
        if name and looks_at(parse_expectation(name)[0]) != SAMPLES:
            pending.append(name)
            continue
        if pending:
            verdicts += timeline.judge(pending)
            pending = []
        if name:
            verdict = _sample_check(timeline, name, sampler)
            timeline.verdicts.append(verdict)
            verdicts.append(verdict)
    return verdicts


def _sample_check(timeline: Timeline, name: str, sampler: BalancerSampler | None) -> Verdict:
    kind, argument = parse_expectation(name)
    if sampler is None:
        return Verdict(name, "unknown", {}, "the balancer was not sampled")
    cluster = timeline.cluster
    try:
        history = None if timeline.load is None else timeline.scenario.history(timeline.load)
    except Exception as exc:
        return Verdict(name, "unknown", {"error": str(exc)}, f"could not read the history: {exc!r}")
    expected = expected_enabled({n.name: n.contexts for n in cluster.topology.nodes})
    verdict = sample_verdict(
        kind, argument, sampler.samples(), history=history, windows=list(cluster.windows), expected=expected
    )
    return Verdict(name, verdict.outcome, {**verdict.details, "sampler": sampler.stats()}, verdict.summary)
