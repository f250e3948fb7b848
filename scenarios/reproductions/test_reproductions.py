"""Runs every reproduction of the catalogue for the selected flavors (docker tier).

Setup and steps come from each Reproduction record (see catalogue.py and harness/reproduction.py): start
the topology, steady load, each fault in a scoped block, more load after healing, then the expectations as
checker verdicts. Known unfixed bugs run as strict xfails where they show (catalogue.KNOWN_BROKEN).
"""

from __future__ import annotations

from typing import Any

import pytest

from harness.judge.checks import all_valid, format_verdicts
from harness.run.reproduction import run_reproduction

from .catalogue import catalogue, known_broken

pytestmark = pytest.mark.docker


ISSUES = [r.issue for r in catalogue("undertow", "sim")]  # names only; flavors come from the run's options


@pytest.mark.parametrize("issue", ISSUES)
def test_reproduction(scenario: Any, issue: str, request: pytest.FixtureRequest) -> None:
    options = scenario.options
    reason = known_broken(issue, options)
    if reason is not None:
        request.applymarker(pytest.mark.xfail(reason=reason, strict=True))
    repro = next(r for r in catalogue(options.balancer, options.node) if r.issue == issue)
    verdicts = run_reproduction(scenario, repro)
    assert verdicts and all_valid(verdicts), f"{repro.issue}: {repro.notes}\n{format_verdicts(verdicts)}"
