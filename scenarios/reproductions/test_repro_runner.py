"""The reproduction runner and `harness repro` against real containers (docker tier), both ways.

Setup: the selected flavors (default undertow + sim: no mod_cluster source needed), two nodes, light load.
- every step kind on a healthy cluster gives valid verdicts and a record of every step;
- a real failure (sim nodes that leave StickySessionForce out: a kill turns failover into errors) gives an
  invalid verdict, with the steps and evidence;
- `harness repro` exits 0 for an entry that holds and 1 for the failing one (2 of 2 runs), printing the
  evidence folders, which exist and hold each run's steps.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from harness.descriptions.faults import Kill
from harness.descriptions.options import HarnessOptions
from harness.descriptions.repro_yaml import reproduction_to_yaml
from harness.descriptions.reproduction import Reproduction, ReproTopology
from harness.descriptions.timeline import Expect, Heal, Hold, Inject, Mcmp, WaitUntil
from harness.descriptions.topology import LoadProfile
from harness.run.reproduction import run_repeated

pytestmark = [
    pytest.mark.docker,
    pytest.mark.flavors(balancer=("undertow", "httpd-modcluster"), reason="MCMP steps need a mod_cluster balancer"),
]
ROOT = Path(__file__).resolve().parents[2]
LOAD = LoadProfile(users=4, spawn_rate=4, wait_s=(0.05, 0.1))
APP = (("Alias", "localhost"), ("Context", "/app"))

EVERY_STEP = Reproduction(
    key="every-step-on-a-healthy-cluster",
    summary="every step kind of a timeline, on a cluster that behaves",
    load=LOAD,
    timeline=(
        WaitUntil("nodes_registered", timeout_s=30),
        Mcmp("REMOVE-APP", (("JVMRoute", "ghost"),), wildcard=True),  # any answer: no expect_status
        Expect(("registered:node1", "node_up:node2", "context:node1:/app:ENABLED", "not_registered:ghost")),
        Inject(Kill("node1")),
        WaitUntil("node_down", node="node1", timeout_s=20),
        Hold(2),
        Expect(("failover_within:10",)),
        Heal("kill:node1"),
        WaitUntil("node_up", node="node1", timeout_s=30),
        Mcmp("STATUS", (("JVMRoute", "node2"), ("Load", "50")), expect_status=200),
        Mcmp("DISABLE-APP", (("JVMRoute", "node2"), *APP), expect_status=200),
        WaitUntil("context", node="node2", path="/app", status="DISABLED", timeout_s=15),
        Mcmp("ENABLE-APP", (("JVMRoute", "node2"), *APP), expect_status=200),
        WaitUntil("context", node="node2", path="/app", timeout_s=15),
        Mcmp("INFO"),
        WaitUntil("requests", count=30, timeout_s=60),
    ),
    checks=("sticky", "failover_within:10", "no_errors_outside_windows", "load:node2:50"),
)
STICKY_503 = Reproduction(
    key="MODCLUSTER-123-sticky-503",
    summary="A node that omits StickySessionForce turns failover into errors.",
    topology=ReproTopology(nodes=2, node={"faults": ("no_sticky_force",)}),
    load=LOAD,
    timeline=(Inject(Kill("node1")), Hold(4), Expect(("failover_within:10",)), Heal("kill:node1")),
    checks=("sticky", "no_errors_outside_windows"),
)


def test_every_step_kind_on_a_healthy_cluster(scenario: Any) -> None:
    """Steps: the EVERY_STEP timeline (waits, checks at a step, a kill and its heal, raw MCMP STATUS /
    DISABLE-APP / ENABLE-APP / INFO), then the final checks: every verdict valid, every step recorded ok."""
    (result,) = run_repeated(scenario, EVERY_STEP, runs=1)
    bad = [v for v in result.verdicts if not v["valid"]]
    assert result.outcome == "valid" and not bad, bad or result.error
    steps = result.steps
    assert [s["where"] for s in steps][:3] == ["setup"] * 3 and steps[-1]["where"] == "checks"
    assert all(s["outcome"] == "ok" and s["ended"] >= s["started"] > 0 for s in steps), [
        (s["where"], s["outcome"], s["detail"]) for s in steps if s["outcome"] != "ok"
    ]
    timeline = [s for s in steps if s["where"].startswith("timeline")]
    assert len(timeline) == len(EVERY_STEP.timeline)
    assert timeline[14]["data"]["exchange"]["request"].startswith("INFO / HTTP/1.1")
    assert "node2" in timeline[14]["data"]["exchange"]["reply"] and timeline[14]["data"]["status"] == 200
    assert timeline[7]["data"]["window"]["end"] > timeline[3]["data"]["window"]["start"]
    assert [w.kind for w in scenario.clusters[0].windows] == ["kill"]


@pytest.mark.flavors(node="sim", reason="start faults are the sim's")
def test_a_real_failure_gives_an_invalid_verdict(scenario: Any) -> None:
    """Steps: STICKY_503 (sim nodes without StickySessionForce; kill node1 under load): the sessions of node1
    never reach node2, so failover_within is invalid at the step; the run is invalid."""
    (result,) = run_repeated(scenario, STICKY_503, runs=1)
    assert result.outcome == "invalid", result.error
    failover = next(v for v in result.verdicts if v["name"] == "timeline[2] failover_within")
    assert failover["outcome"] == "invalid" and failover["details"]["sessions_not_failed_over"] >= 1
    assert next(s for s in result.steps if s["where"] == "timeline[2]")["outcome"] == "failed"


@pytest.mark.slow
@pytest.mark.flavors(node="sim", reason="start faults are the sim's")
def test_harness_repro_exits_0_and_1_and_prints_the_evidence(
    docker_client: Any, harness_options: HarnessOptions, tmp_path: Path
) -> None:
    """Steps: `harness repro kill-under-load-fails-over` (a catalogue key; holds: exit 0), then `harness repro
    FILE --repeat 2` for STICKY_503 written as YAML (fails: exit 1, 2 of 2 runs), each with its own evidence."""
    flags = ["--balancer", harness_options.balancer, "--node-flavor", harness_options.node]
    flags += ["--modcluster-mode", harness_options.modcluster_mode]
    if harness_options.modcluster_source:
        flags += ["--modcluster-source", harness_options.modcluster_source]
    base = [sys.executable, "-m", "harness.entry.cli", "repro", "--quiet", "--evidence-dir", str(tmp_path)]

    holds = subprocess.run([*base, "kill-under-load-fails-over", *flags], cwd=ROOT, capture_output=True, text=True)
    assert holds.returncode == 0, holds.stdout + holds.stderr
    assert "kill-under-load-fails-over: valid: 0 of 1 runs failed" in holds.stdout
    assert _evidence(holds.stdout) and all((f / "steps.json").is_file() for f in _evidence(holds.stdout))

    entry = tmp_path / "sticky-503.yaml"
    entry.write_text(reproduction_to_yaml(STICKY_503))
    fails = subprocess.run([*base, str(entry), "--repeat", "2", *flags], cwd=ROOT, capture_output=True, text=True)
    assert fails.returncode == 1, fails.stdout + fails.stderr
    assert "MODCLUSTER-123-sticky-503: invalid: 2 of 2 runs failed" in fails.stdout
    folders = _evidence(fails.stdout)
    assert [f.name.rsplit("__", 1)[-1] for f in folders] == ["run1of2", "run2of2"], fails.stdout
    for folder in folders:
        steps = json.loads((folder / "steps.json").read_text())
        assert any(s["outcome"] == "failed" for s in steps) and (folder / "summary.html").is_file()


def _evidence(stdout: str) -> list[Path]:
    """The evidence folders `harness repro` printed (one per run)."""
    return [Path(line.split("evidence: ", 1)[1]) for line in stdout.splitlines() if line.startswith("run ")]
