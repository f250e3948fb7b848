"""`harness bisect`: what a reproduction's outcome says about a commit, and bad input refused before anything
is built (exit 2, naming the option)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from harness.entry.cli import main
from harness.entry.cli_bisect import evaluation_of
from harness.entry.repro import ReproOutcome, RunResult
from harness.judge.verdict import Verdict


def _outcome(word: str, *runs: RunResult, reason: str = "") -> ReproOutcome:
    return ReproOutcome("K", word, runs=runs, reason=reason)


def test_valid_runs_mean_the_bug_is_absent() -> None:
    run = RunResult(1, "valid", (Verdict("sticky", "valid", {}, ""),))
    evaluation = evaluation_of(_outcome("valid", run, run))
    assert (evaluation.outcome, evaluation.failed, evaluation.runs) == ("absent", 0, 2)
    assert "every check valid" in evaluation.summary


def test_one_invalid_run_of_several_means_present_and_names_the_check() -> None:
    good = RunResult(1, "valid", (Verdict("no_errors", "valid", {}, ""),))
    bad = RunResult(2, "invalid", (Verdict("no_errors", "invalid", {"failed": 3}, "3 failed"),))
    evaluation = evaluation_of(_outcome("invalid", good, bad))
    assert (evaluation.outcome, evaluation.failed, evaluation.runs) == ("present", 1, 2)
    assert "no_errors" in evaluation.summary


@pytest.mark.parametrize("word", ["error", "unknown", "skipped"])
def test_a_commit_that_cannot_be_judged_is_skipped_with_the_reason(word: str) -> None:
    evaluation = evaluation_of(_outcome(word, reason="httpd exited 1 at start: Invalid command 'EnableMCMPReceive'"))
    assert evaluation.outcome == "skip"
    assert word in evaluation.summary and "EnableMCMPReceive" in evaluation.summary


def test_an_erroring_run_is_skipped_with_its_last_error_line() -> None:
    run = RunResult(1, "error", (), error="Traceback ...\nImageBuildError: make exited 2")
    evaluation = evaluation_of(_outcome("error", run))
    assert evaluation.outcome == "skip" and "make exited 2" in evaluation.summary


def _repo(tmp_path: Path) -> Path:
    repo = tmp_path / "checkout"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    return repo


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["bisect", "kill-under-load-fails-over", "--good", "a", "--bad", "b"],
            "--modcluster-source CHECKOUT is required",
        ),
        (
            ["bisect", "no-such-entry", "--good", "a", "--bad", "b", "--modcluster-source", "{repo}"],
            "no-such-entry",
        ),
        (
            [
                "bisect",
                "kill-under-load-fails-over",
                "--good",
                "a",
                "--bad",
                "b",
                "--modcluster-source",
                "{repo}",
                "--balancer",
                "undertow",
            ],
            "the balancer must be httpd-modcluster",
        ),
        (
            ["bisect", "kill-under-load-fails-over", "--good", "nope", "--bad", "b", "--modcluster-source", "{repo}"],
            "--good 'nope': not a commit",
        ),
    ],
)
def test_bad_input_exits_2_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    repo = _repo(tmp_path)
    code = main([a.replace("{repo}", str(repo)) for a in argv] + ["--evidence-dir", str(tmp_path / "ev")])
    assert code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "ev").exists() or not any((tmp_path / "ev").rglob("pytest.log"))


def test_the_error_headline_is_the_exception_and_what_follows_its_colon() -> None:
    from harness.entry.repro import error_headline

    text = (
        "Traceback (most recent call last):\n  File x\n"
        "harness.machinery.containers.ContainerExited: container b exited (exit code 3); its log tail:\n"
        "AH00526: Syntax error on line 59 of /etc/httpd-harness/httpd.conf:\n"
        "Invalid command 'SetEnv', perhaps misspelled\nstart-httpd: configuration test failed\n\n"
        "The above exception was the direct cause of the following exception:\n  File y\nSetEnv proxy-nokeepalive 1\n"
    )
    headline = error_headline(text)
    assert headline.startswith("harness.machinery.containers.ContainerExited: container b exited (exit code 3)")
    assert "Invalid command 'SetEnv'" in headline
    assert error_headline("ImageBuildError: make exited 2") == "ImageBuildError: make exited 2"
    assert error_headline("no exception here\nlast line") == "last line"
