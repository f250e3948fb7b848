"""The long tier: `harness explore` for some minutes against the run's flavors and build (`--long`).

Setup: the selected balancer and node flavors (default undertow + sim), 3 nodes, 6 sticky users; random fault
schedules from every fault kind the flavors take, seed HARNESS_EXPLORE_SEED (default: the day, so a nightly
run explores new schedules and a failure names its seed), for HARNESS_EXPLORE_MINUTES (default 10).
Steps: explore; every violation is shrunk and saved as a reproduction file (under the evidence folder).
Verdict: no invariant broken. A violation fails the test naming the saved file; a run in which most
schedules could not be judged (the harness failed, not mod_cluster) fails too.
"""

from __future__ import annotations

import datetime
import os
import sys
from dataclasses import replace

import pytest

from harness.descriptions.options import HarnessOptions
from harness.entry.repro import run_repro
from harness.run.explore import ExploreConfig, Explorer

pytestmark = [pytest.mark.docker, pytest.mark.long]


def test_random_fault_schedules_break_no_invariant(harness_options: HarnessOptions) -> None:
    seed = int(os.environ.get("HARNESS_EXPLORE_SEED") or datetime.date.today().strftime("%Y%m%d"))
    minutes = float(os.environ.get("HARNESS_EXPLORE_MINUTES", "10"))
    out = harness_options.evidence_dir / f"explore-{seed}"
    config = ExploreConfig(replace(harness_options, evidence_dir=out), out, seed=seed, minutes=minutes, confirm=1)
    result = Explorer(config, run_repro, echo=sys.stderr).explore()
    figures = result.figures()
    assert figures["schedules"] > 0, f"no schedule ran in {minutes} min"
    assert figures["errors"] <= figures["schedules"] // 2, f"most schedules could not be judged: {figures}; see {out}"
    found = [f"seed {f.seed} broke {', '.join(f.signature)}: {f.file}\n{f.shrunk.describe()}" for f in result.found]
    assert not found, "\n".join(found)
