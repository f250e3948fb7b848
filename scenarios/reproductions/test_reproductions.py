"""Runs every reproduction of the catalogue (docker tier), or only the one `--repro KEY|FILE` names.

Setup and steps come from each Reproduction (catalogue.py and the YAML files beside it; the runner is
harness/run/reproduction.py): start the topology with the run's flavors, steady load, the timeline (faults in
scoped blocks, waits, MCMP messages, checks along the way), the final checks as verdicts; `repeats` (or
--repro-repeat) runs in fresh clusters. An entry that does not apply to the run's flavors is skipped with the
reason; where it is known broken it runs as a strict xfail. `--repro-outcome FILE` writes the runs' verdicts,
steps and evidence folders as JSON (what `harness repro` reads).
"""

from __future__ import annotations

from typing import Any

import pytest

from harness.entry.repro import write_outcome
from harness.run.reproduction import RunRecord, build_info, facts_for, run_repeated

from .catalogue import catalogue, lookup

pytestmark = pytest.mark.docker


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "key" in metafunc.fixturenames:
        selector = metafunc.config.getoption("harness_repro")
        keys = [lookup(selector).key] if selector else [r.key for r in catalogue()]
        metafunc.parametrize("key", keys)


def test_reproduction(scenario: Any, key: str, request: pytest.FixtureRequest) -> None:
    """Setup: the entry's topology with the selected flavors. Steps: its timeline, then its checks, `repeats`
    times in fresh clusters; every run must be valid."""
    config = request.config
    selector = config.getoption("harness_repro")
    repro = lookup(selector) if selector else next(r for r in catalogue() if r.key == key)
    options = scenario.options
    facts = facts_for(options)
    record: dict[str, Any] = {"key": repro.key, "build": build_info(options), "runs": []}
    try:
        mismatch = repro.applies.mismatch(facts)
        if mismatch is not None:
            pytest.skip(f"{repro.key} applies where {repro.applies.describe()}: {mismatch}")
        record["known_broken"] = reason = repro.where_broken(facts)
        if reason is not None:
            request.applymarker(pytest.mark.xfail(reason=reason, strict=True))
        runs: list[RunRecord] = run_repeated(scenario, repro, config.getoption("harness_repro_repeat"))
        record["runs"] = [r.to_dict() for r in runs]
    except pytest.skip.Exception as skip:
        record["skipped"] = str(skip.msg)
        raise
    except BaseException as exc:
        record["error"] = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        if config.getoption("harness_repro_outcome"):
            write_outcome(config.getoption("harness_repro_outcome"), record)
    failed = [r for r in runs if r.outcome != "valid"]
    assert not failed, f"{repro.key}: {repro.summary}\n{len(failed)} of {len(runs)} runs failed\n" + _failures(failed)


def _failures(runs: list[RunRecord]) -> str:
    lines = []
    for run in runs:
        lines.append(f"run {run.index}: {run.outcome} {run.error.splitlines()[-1] if run.error else ''}".rstrip())
        lines += [f"  [{v['outcome'].upper()}] {v['name']}: {v['summary']}" for v in run.verdicts if not v["valid"]]
    return "\n".join(lines)
