"""Runs every reproduction of the catalogue for the selected flavors (docker tier).

Setup and steps come from each Reproduction record (see catalogue.py and harness/reproduction.py): start
the topology, steady load, each fault in a scoped block, more load after healing, then the expectations as
checker verdicts. Known unfixed bugs run as strict xfails.
"""

from __future__ import annotations

from typing import Any

import pytest

from harness.checks import format_verdicts
from harness.reproduction import run_reproduction

from .catalogue import KNOWN_BROKEN, catalogue

pytestmark = pytest.mark.docker


def _params() -> list[Any]:
    params = []
    for repro in catalogue("undertow", "sim"):  # issue names only; flavors come from the run's options
        marks = [pytest.mark.xfail(reason=KNOWN_BROKEN[repro.issue], strict=True)] if repro.issue in KNOWN_BROKEN else []
        params.append(pytest.param(repro.issue, id=repro.issue, marks=marks))
    return params


@pytest.mark.parametrize("issue", _params())
def test_reproduction(scenario: Any, issue: str) -> None:
    options = scenario.options
    repro = next(r for r in catalogue(options.balancer, options.node) if r.issue == issue)
    verdicts = run_reproduction(scenario, repro)
    assert verdicts and all(v.valid for v in verdicts), f"{repro.issue}: {repro.notes}\n{format_verdicts(verdicts)}"
