"""harness.run.bisect over real git repositories built here: the evaluator reads a file of each commit's tree
(a stand-in for build + reproduction), so every answer below is git bisect's own over a known history."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from harness.run.bisect import BisectError, Bisector, Evaluation, format_result


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout.strip()


def _history(tmp_path: Path, states: list[str]) -> tuple[Path, list[str]]:
    """A linear history, one commit per state ("ok", "bug" or "broken-build"), and its commit ids."""
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "--quiet", "-b", "main")
    _git(repo, "config", "user.email", "t@example.org")
    _git(repo, "config", "user.name", "t")
    commits = []
    for index, state in enumerate(states):
        (repo / "state").write_text(f"{state}\n{index}\n")
        _git(repo, "add", "state")
        _git(repo, "commit", "--quiet", "-m", f"commit {index}: {state}")
        commits.append(_git(repo, "rev-parse", "HEAD"))
    return repo, commits


def _evaluate(seen: list[str]):  # type: ignore[no-untyped-def]
    def evaluate(commit: str, tree: Path) -> Evaluation:
        seen.append(commit)
        state = (tree / "state").read_text().split()[0]
        if state == "broken-build":
            raise RuntimeError("image build failed: make exited 2")
        if state == "thin":
            return Evaluation("skip", "unknown: no request crossed the window", 0, 1)
        return Evaluation("present" if state == "bug" else "absent", state, int(state == "bug"), 1)

    return evaluate


def test_finds_the_first_bad_commit_of_a_regression(tmp_path: Path) -> None:
    states = ["ok"] * 6 + ["bug"] * 5
    repo, commits = _history(tmp_path, states)
    seen: list[str] = []
    result = Bisector(repo, commits[0], commits[-1], _evaluate(seen), progress=lambda _: None).run()
    assert result.direction == "regression"
    assert result.first == commits[6]
    assert len(seen) <= 2 + 4  # both ends, then log2(10) steps
    assert "first bad commit: " + commits[6] in format_result(result)
    assert _git(repo, "status", "--porcelain") == "" and _git(repo, "rev-parse", "HEAD") == commits[-1]


def test_finds_the_first_fixed_commit_when_bad_is_older(tmp_path: Path) -> None:
    repo, commits = _history(tmp_path, ["bug"] * 3 + ["ok"] * 4)
    result = Bisector(repo, commits[-1], commits[0], _evaluate([]), progress=lambda _: None).run()
    assert result.direction == "fix"
    assert result.first == commits[3]
    assert "first fixed commit: " + commits[3] in format_result(result)


def test_commits_that_do_not_build_are_skipped_with_their_reason(tmp_path: Path) -> None:
    repo, commits = _history(tmp_path, ["ok", "ok", "broken-build", "broken-build", "bug", "bug"])
    result = Bisector(repo, commits[0], commits[-1], _evaluate([]), progress=lambda _: None).run()
    skipped = [s for s in result.steps if s.evaluation.outcome == "skip"]
    assert skipped and all("make exited 2" in s.evaluation.summary for s in skipped)
    if result.first is None:  # git could not tell: the candidates are the skipped commits and the first bad one
        assert set(result.candidates) <= set(commits[2:5]) and commits[4] in result.candidates
    else:
        assert result.first == commits[4]


def test_only_skipped_commits_left_names_every_candidate(tmp_path: Path) -> None:
    repo, commits = _history(tmp_path, ["ok", "thin", "thin", "bug"])
    result = Bisector(repo, commits[0], commits[-1], _evaluate([]), progress=lambda _: None).run()
    assert result.first is None
    assert set(result.candidates) == set(commits[1:4])
    assert "one of" in format_result(result)


def test_an_end_that_contradicts_its_name_is_reported_not_bisected(tmp_path: Path) -> None:
    repo, commits = _history(tmp_path, ["bug", "bug", "bug"])
    with pytest.raises(BisectError, match="--good .*expected the bug absent, the reproduction says present"):
        Bisector(repo, commits[0], commits[-1], _evaluate([]), progress=lambda _: None).run()


def test_without_verifying_ends_only_midpoints_run(tmp_path: Path) -> None:
    repo, commits = _history(tmp_path, ["ok"] * 4 + ["bug"] * 4)
    seen: list[str] = []
    result = Bisector(repo, commits[0], commits[-1], _evaluate(seen), verify_ends=False, progress=lambda _: None).run()
    assert result.first == commits[4]
    assert commits[0] not in seen and commits[-1] not in seen


@pytest.mark.parametrize(
    ("good", "bad", "message"),
    [
        ("nosuchref", "HEAD", "--good 'nosuchref': not a commit"),
        ("HEAD", "nosuchref", "--bad 'nosuchref': not a commit"),
        ("HEAD", "HEAD", "are the same commit"),
    ],
)
def test_bad_refs_are_named(tmp_path: Path, good: str, bad: str, message: str) -> None:
    repo, _ = _history(tmp_path, ["ok", "bug"])
    with pytest.raises(BisectError, match=message):
        Bisector(repo, good, bad, _evaluate([]))


def test_unrelated_ends_and_a_folder_without_history_are_refused(tmp_path: Path) -> None:
    repo, commits = _history(tmp_path, ["ok", "bug"])
    _git(repo, "checkout", "--quiet", "--orphan", "other")
    _git(repo, "commit", "--quiet", "-m", "unrelated")
    with pytest.raises(BisectError, match="neither is an ancestor"):
        Bisector(repo, commits[0], "other", _evaluate([]))
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(BisectError, match="not a git checkout"):
        Bisector(plain, "a", "b", _evaluate([]))
