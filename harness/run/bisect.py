"""Find the commit that broke or fixed a reproduction: `git bisect` driven step by step over a private clone.

The user's checkout is never touched: it is cloned with `--shared` (objects borrowed, nothing copied) into a
harness temp folder (labelled with its owner, so `harness sweep` removes it after a killed run), and `git
bisect` runs there. Each step's tree is handed to an evaluator, which builds and runs the reproduction and
answers whether the bug shows:

    present  the reproduction failed (some run's checks were invalid)
    absent   every run's checks were valid
    skip     the commit does not build or start, or the evidence was too thin to tell (unknown)

The direction is read from the history: when --good is an ancestor of --bad, the first *bad* commit is
sought (a regression); when --bad is an ancestor of --good, the first *fixed* one. Otherwise it is an error.
Both ends are evaluated first (unless told not to), so a wrong guess about an end is reported instead of
bisecting towards a wrong answer. Commits that cannot be judged are skipped as `git bisect skip` does; when
only skipped commits are left, every remaining candidate is named.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from harness.machinery.resources import make_temp_dir

Outcome = Literal["present", "absent", "skip"]


class BisectError(ValueError):
    """Bad input (a ref that does not resolve, unrelated ends, no git) or an end that contradicts its name."""


@dataclass(frozen=True)
class Evaluation:
    outcome: Outcome
    summary: str = ""  # the verdicts in a line, or why the commit was skipped
    failed: int = 0  # runs whose checks were invalid
    runs: int = 0


@dataclass(frozen=True)
class Step:
    commit: str
    subject: str
    evaluation: Evaluation
    seconds: float


@dataclass
class BisectResult:
    direction: Literal["regression", "fix"]
    good: str
    bad: str
    steps: list[Step] = field(default_factory=list)
    first: str | None = None  # the first bad (regression) or first fixed (fix) commit
    candidates: list[str] = field(default_factory=list)  # when skips leave several
    seconds: float = 0.0

    @property
    def sought(self) -> str:
        return "first bad commit" if self.direction == "regression" else "first fixed commit"


Evaluator = Callable[[str, Path], Evaluation]  # (commit, tree) -> what the reproduction showed there


def git(repo: Path, *args: str, check: bool = True) -> str:
    result = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True)
    if check and result.returncode != 0:
        raise BisectError(f"git {' '.join(args)} in {repo}: {(result.stderr or result.stdout).strip()[-400:]}")
    return result.stdout.strip()


def resolve_ref(repo: Path, ref: str, option: str) -> str:
    result = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0 or not result.stdout.strip():
        raise BisectError(f"{option} {ref!r}: not a commit in {repo}")
    return result.stdout.strip()


def _is_ancestor(repo: Path, older: str, newer: str) -> bool:
    return subprocess.run(["git", "-C", str(repo), "merge-base", "--is-ancestor", older, newer]).returncode == 0


def plan(repo: Path, good: str, bad: str) -> tuple[Literal["regression", "fix"], str, str]:
    """(direction, good commit, bad commit), or BisectError naming the option at fault."""
    if shutil.which("git") is None:
        raise BisectError("harness bisect needs the `git` tool, which is missing")
    if not (repo / ".git").exists():
        raise BisectError(f"--modcluster-source {repo}: not a git checkout (bisect needs its history)")
    good_commit, bad_commit = resolve_ref(repo, good, "--good"), resolve_ref(repo, bad, "--bad")
    if good_commit == bad_commit:
        raise BisectError(f"--good {good} and --bad {bad} are the same commit {good_commit[:12]}")
    if _is_ancestor(repo, good_commit, bad_commit):
        return "regression", good_commit, bad_commit
    if _is_ancestor(repo, bad_commit, good_commit):
        return "fix", good_commit, bad_commit
    raise BisectError(f"--good {good} and --bad {bad}: neither is an ancestor of the other (nothing to bisect)")


_FIRST = re.compile(r"^([0-9a-f]{40}) is the first (\w+) commit", re.MULTILINE)
_COULD_BE = re.compile(r"could be any of:\n((?:[0-9a-f]{40}\n?)+)")


class Bisector:
    """One bisection over a private clone of `repo`. `run()` evaluates, marks and returns the result."""

    def __init__(
        self,
        repo: Path,
        good: str,
        bad: str,
        evaluate: Evaluator,
        *,
        verify_ends: bool = True,
        progress: Callable[[str], None] = print,
    ) -> None:
        self.repo = repo.resolve()
        self.direction, self.good, self.bad = plan(self.repo, good, bad)
        self.evaluate = evaluate
        self.verify_ends = verify_ends
        self.progress = progress
        # git's terms: `old` is the older end; in fix mode the older end is the broken one
        self.old_term, self.new_term = ("good", "bad") if self.direction == "regression" else ("broken", "fixed")

    def _term(self, outcome: Outcome) -> str:
        if outcome == "skip":
            return "skip"
        bug_is_new = self.direction == "regression"
        return self.new_term if (outcome == "present") == bug_is_new else self.old_term

    def _step(self, clone: Path, commit: str, result: BisectResult) -> Evaluation:
        git(clone, "checkout", "--quiet", "--force", commit)
        subject = git(clone, "log", "-1", "--format=%s", commit)
        self.progress(f"[bisect] {commit[:12]} {subject[:70]} ...")
        started = time.monotonic()
        try:
            evaluation = self.evaluate(commit, clone)
        except Exception as exc:  # a build that fails or a cluster that cannot start: skipped, the reason kept
            evaluation = Evaluation(
                "skip", f"{type(exc).__name__}: {str(exc).splitlines()[0][:300] if str(exc) else ''}"
            )
        result.steps.append(Step(commit, subject, evaluation, time.monotonic() - started))
        self.progress(f"[bisect] {commit[:12]}: {evaluation.outcome} {evaluation.summary}")
        return evaluation

    def _check_end(self, clone: Path, commit: str, expected: Outcome, name: str, result: BisectResult) -> None:
        evaluation = self._step(clone, commit, result)
        if evaluation.outcome != expected:
            raise BisectError(
                f"{name} {commit[:12]}: expected the bug {expected}, the reproduction says {evaluation.outcome} "
                f"({evaluation.summary}); check the end or the reproduction"
            )

    def run(self) -> BisectResult:
        started = time.monotonic()
        result = BisectResult(self.direction, self.good, self.bad)
        clone = make_temp_dir("bisect") / "src"
        try:
            git(self.repo, "clone", "--quiet", "--shared", "--no-checkout", str(self.repo), str(clone))
            if self.verify_ends:
                self._check_end(clone, self.good, "absent", "--good", result)
                self._check_end(clone, self.bad, "present", "--bad", result)
            new, old = (self.bad, self.good) if self.direction == "regression" else (self.good, self.bad)
            output = git(
                clone, "bisect", "start", f"--term-old={self.old_term}", f"--term-new={self.new_term}", new, old
            )
            while not self._finished(output, result):
                commit = git(clone, "rev-parse", "HEAD")
                evaluation = self._step(clone, commit, result)
                output = git(clone, "bisect", self._term(evaluation.outcome), check=False)
        finally:
            shutil.rmtree(clone.parent, ignore_errors=True)
        result.seconds = time.monotonic() - started
        return result

    def _finished(self, output: str, result: BisectResult) -> bool:
        first = _FIRST.search(output)
        if first:
            result.first = first[1]
            return True
        could_be = _COULD_BE.search(output)
        if could_be:
            result.candidates = could_be[1].split()
            return True
        return False


def format_result(result: BisectResult) -> str:
    """The table of every step and the answer, as `harness bisect` prints it."""
    lines = [f"{'commit':<12}  {'bug':<7}  {'failed':>6}  {'seconds':>7}  subject / verdicts"]
    for step in result.steps:
        e = step.evaluation
        failed = f"{e.failed}/{e.runs}" if e.runs else "-"
        lines.append(f"{step.commit[:12]:<12}  {e.outcome:<7}  {failed:>6}  {step.seconds:7.1f}  {step.subject[:60]}")
        if e.summary:
            lines.append(f"{'':<40}{e.summary[:200]}")
    if result.first:
        lines.append(f"{result.sought}: {result.first}")
    elif result.candidates:
        lines.append(f"{result.sought}: one of {', '.join(c[:12] for c in result.candidates)} (others were skipped)")
    else:
        lines.append(f"{result.sought}: not found")
    lines.append(f"{len(result.steps)} steps in {result.seconds:.0f} s")
    return "\n".join(lines)
