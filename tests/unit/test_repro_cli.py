"""Unit tier: `harness repro` and `run_repro` without Docker: bad input exits 2 before anything starts (unknown
key with the known ones, bad file with its field, bad options), entries that do not apply are skipped, the
outcome file written by the reproduction test reads back into a ReproOutcome, and what the command prints."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.descriptions.options import HarnessOptions
from harness.entry import cli, repro
from harness.entry.cli_repro import report
from harness.entry.repro import ReproInputError, aggregate, pytest_command, read_outcome, run_repro, write_outcome

GOOD = "key: X-1\nfaults: [{kind: kill, node: node1}]\nchecks: [sticky]\n"


def _verdict(name: str, outcome: str, summary: str = "") -> dict[str, Any]:
    return {"name": name, "outcome": outcome, "valid": outcome == "valid", "summary": summary, "details": {"n": 1}}


def _write(tmp_path: Path, text: str, name: str = "r.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_an_unknown_key_exits_2_listing_the_known_keys(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["repro", "MODCLUSTER-0"]) == 2
    err = capsys.readouterr().err
    assert "harness repro: no reproduction with key 'MODCLUSTER-0'; known keys: graceful-stop-loses-no-request" in err
    assert "kill-under-load-fails-over" in err


def test_a_bad_file_exits_2_naming_it_and_the_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, GOOD.replace("kind: kill", "kind: kil"))
    assert cli.main(["repro", str(path), "--evidence-dir", str(tmp_path / "ev")]) == 2
    assert f"harness repro: {path}: faults[0].kind: got 'kil'; accepted values: kill" in capsys.readouterr().err
    assert not (tmp_path / "ev").exists()  # nothing was started or written


def test_bad_options_and_repeats_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, GOOD)
    assert cli.main(["repro", str(path), "--balancer", "undertow", "--modcluster-mode", "lbmethod_cluster"]) == 2
    assert "--modcluster-mode (or HARNESS_MODCLUSTER_MODE) = 'lbmethod_cluster'" in capsys.readouterr().err
    assert cli.main(["repro", str(path), "--repeat", "0"]) == 2
    assert "--repeat: got 0; expected 1..1000" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["repro", str(path), "--balancer", "nginx"])
    assert exit_info.value.code == 2


def test_an_entry_that_does_not_apply_is_skipped_before_anything_starts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, GOOD + "applies: {balancer: [httpd-modcluster]}\n")
    code = cli.main(["repro", str(path), "--balancer", "undertow", "--evidence-dir", str(tmp_path / "ev")])
    out = capsys.readouterr().out
    assert (
        code == 2 and "X-1: skipped: applies where balancer httpd-modcluster; balancer: the run's is 'undertow'" in out
    )
    assert not (tmp_path / "ev").exists()


def test_the_pytest_command_carries_the_options_and_always_collects_evidence(tmp_path: Path) -> None:
    options = HarnessOptions(balancer="httpd-modcluster", node="sim", modcluster_source="/src/mc", keep_on_failure=True)
    command = pytest_command(tmp_path / "r.yaml", options, tmp_path, 3)
    text = " ".join(command)
    assert command[1:3] == ["-m", "pytest"] and command[3].endswith("scenarios/reproductions/test_reproductions.py")
    assert "--balancer httpd-modcluster --node-flavor sim --modcluster-mode proxy_cluster" in text
    assert "--modcluster-source /src/mc" in text and "--wildfly-archive" not in text
    assert f"--repro {tmp_path}/r.yaml --repro-outcome {tmp_path}/outcome.json" in text
    assert f"--evidence-dir {tmp_path} --run-report {tmp_path}/report.html" in text
    assert "--collect-evidence --keep-on-failure --repro-repeat 3" in text
    assert "--repro-repeat" not in " ".join(pytest_command(tmp_path / "r.yaml", HarnessOptions(), tmp_path, None))


def _outcome_file(tmp_path: Path) -> Path:
    evidence = tmp_path / "run1"
    evidence.mkdir()
    path = tmp_path / "outcome.json"
    write_outcome(
        path,
        {
            "key": "X-1",
            "build": {"balancer": "undertow", "node": "sim"},
            "known_broken": None,
            "runs": [
                {"index": 1, "outcome": "valid", "verdicts": [_verdict("sticky_sessions", "valid", "9 stuck")],
                 "steps": [{"where": "setup"}], "evidence": str(evidence), "error": ""},
                {"index": 2, "outcome": "invalid", "verdicts": [_verdict("error_budget", "invalid", "3 failed")],
                 "steps": [], "evidence": str(tmp_path / "not-written"), "error": ""},
            ],
        },
    )  # fmt: skip
    return path


def test_the_outcome_file_reads_back_into_a_repro_outcome(tmp_path: Path) -> None:
    outcome = read_outcome(_outcome_file(tmp_path), "X-1", tmp_path, 1)
    assert outcome.outcome == "invalid" and outcome.failed == 1 and outcome.exit_code == 1 and not outcome.valid
    assert outcome.runs[0].evidence == tmp_path / "run1" and outcome.runs[1].evidence is None  # not on disk
    assert outcome.runs[1].verdicts[0].invalid and outcome.runs[0].steps == ({"where": "setup"},)
    assert outcome.build == {"balancer": "undertow", "node": "sim"} and outcome.summary() == (
        "X-1: invalid: 1 of 2 runs failed"
    )  # fmt: skip
    text = report(outcome)
    assert f"run 1 of 2: VALID  evidence: {tmp_path}/run1" in text
    assert "run 2 of 2: INVALID  evidence: (not written)" in text and "  [INVALID] error_budget: 3 failed" in text
    assert "    n: 1" in text  # an invalid verdict's details are printed, a valid one's first line only
    assert "X-1: invalid: 1 of 2 runs failed" in text and f"folder: {tmp_path.resolve()}" in text


def test_skipped_and_errored_outcome_files(tmp_path: Path) -> None:
    write_outcome(tmp_path / "s.json", {"key": "X-1", "skipped": "not for balancer flavor undertow", "runs": []})
    skipped = read_outcome(tmp_path / "s.json", "X-1")
    assert skipped.outcome == "skipped" and skipped.exit_code == 2 and "undertow" in skipped.reason
    write_outcome(tmp_path / "e.json", {"key": "X-1", "error": "OSError: boom", "runs": []})
    errored = read_outcome(tmp_path / "e.json", "X-1")
    assert errored.outcome == "error" and errored.reason == "OSError: boom" and errored.exit_code == 2
    assert aggregate(["valid", "error", "unknown"]) == "error" and aggregate(["error", "invalid"]) == "invalid"
    assert aggregate(["valid", "unknown"]) == "unknown" and aggregate(["valid"]) == "valid"


def test_run_repro_writes_the_entry_runs_pytest_and_reads_its_outcome(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, Any] = {}

    def fake_pytest(command: list[str], log: Path, echo: Any, timeout_s: float | None) -> int:
        seen["command"] = command
        entry = Path(command[command.index("--repro") + 1])
        seen["entry"] = entry.read_text()
        out = Path(command[command.index("--repro-outcome") + 1])
        write_outcome(out, json.loads(_outcome_file(tmp_path).read_text()))
        log.write_text("1 failed\n")
        return 1

    monkeypatch.setattr(repro, "_run", fake_pytest)
    options = HarnessOptions(evidence_dir=tmp_path / "ev")
    outcome = run_repro(str(_write(tmp_path, GOOD)), options, repeat=2)
    assert outcome.folder == tmp_path / "ev" / "repro-X-1" and outcome.pytest_exit == 1 and outcome.failed == 1
    assert seen["entry"].startswith("version: 2\nkey: X-1\n") and "--repro-repeat" in seen["command"]

    def crashing_pytest(command: list[str], log: Path, echo: Any, timeout_s: float | None) -> int:
        log.write_text("ERROR: usage: something is wrong\n")
        return 4

    monkeypatch.setattr(repro, "_run", crashing_pytest)
    crashed = run_repro(str(tmp_path / "r.yaml"), options)
    assert crashed.outcome == "error" and crashed.exit_code == 2 and "pytest exited 4" in crashed.reason
    assert "something is wrong" in crashed.reason


def test_run_repro_refuses_bad_entries_with_repro_input_error(tmp_path: Path) -> None:
    with pytest.raises(ReproInputError, match="no reproduction with key 'nope'"):
        run_repro("nope", HarnessOptions())
    with pytest.raises(ReproInputError, match=r"applies.balancer\[0\]: no balancer flavor"):
        from harness.descriptions.reproduction import Reproduction, Where

        run_repro(Reproduction("X", checks=("sticky",), applies=Where(balancer=("haproxy",))), HarnessOptions())
