"""The out-of-process load runner: Locust processes recording every request, read back as one history.

The pytest process never imports locust (it gevent-patches the whole process). `LoadRun.start()` launches
`profile.processes` `python -m locust --headless` processes (`harness.machinery.locust_process`) on a
locustfile from `locustfiles/`, each with its share of the users and of the spawn rate and its own history
file, passes the load profile through the `HARNESS_*` environment the locustfiles read, and returns once every
process has started spawning its users; a locustfile that fails to import, or defines no User class, raises
`LoadError` naming it (with the traceback when there is one). While it runs, `records()` is what all processes
recorded so far, merged in start-time order (`harness.machinery.history_tail`: sorted on read, so a later
call may hold records that sort before earlier ones). `stop()` asks every process to shut down (SIGTERM:
Locust writes its statistics and exits), kills those past a deadline, and returns a `LoadResult`.

Users are numbered across processes: process i (0-based) of N numbers its users i+1, i+1+N, ...
($HARNESS_USER_START, $HARNESS_USER_STEP), so a run's user ids are u1..uU whatever N is. A locustfile that
numbers alike in every process is refused when the run ends (a user id in two processes' files).

Everything lands in `out_dir`: `history.jsonl` (the merged history, in start-time order, written when the run
ends; the per-process files it merges are then removed), and per process its log and Locust's statistics
(`locust.log`, `locust_stats.csv`, `locust.json`, ... for one process; `locust.p1.log`, ... for several).

No Locust process outlives its owner: `stop()` runs on `with` exit and at interpreter exit, and on Linux
each process asks the kernel for SIGKILL when the thread that started it dies (so start a run from the
thread that owns it, as pytest fixtures do).
"""

from __future__ import annotations

import atexit
import math
import os
import time
from collections import Counter
from pathlib import Path
from typing import Any

from harness.descriptions import settings
from harness.descriptions.topology import LoadProfile
from harness.judge.history import History, HistoryFormatError, RequestRecord, steady_state
from harness.machinery.history_tail import HistoryMerge
from harness.machinery.load_result import LoadError, LoadResult, summed_totals
from harness.machinery.locust_process import (
    HISTORY_FILE,
    LOG_FILE,
    STATS_PREFIX,
    LocustGroup,
    LocustProcess,
    locust_command,
    process_count,
    user_shares,
)
from harness.machinery.waiting import wait_until

__all__ = [
    "HISTORY_FILE", "LOG_FILE", "LoadError", "LoadResult", "LoadRun", "locust_command", "process_count", "run_for",
    "user_shares",
]  # fmt: skip


_LIVE: set[LoadRun] = set()


@atexit.register
def _kill_leftovers() -> None:
    for run in list(_LIVE):
        run.kill()


class LoadRun:
    """Locust processes. `with LoadRun() as load: load.start(url, profile, out_dir); ...` stops them on exit."""

    def __init__(
        self,
        *,
        locustfiles_dir: Path = settings.LOCUSTFILES_DIR,
        request_timeout_s: float = 10.0,
        user_prefix: str = "u",
        start_timeout_s: float = 30.0,
        stop_timeout_s: float = 15.0,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.locustfiles_dir = Path(locustfiles_dir)
        self.request_timeout_s = request_timeout_s
        self.user_prefix = user_prefix
        self.start_timeout_s = start_timeout_s
        self.stop_timeout_s = stop_timeout_s
        self.extra_env = dict(extra_env or {})
        self._group: LocustGroup | None = None
        self._tail: HistoryMerge | None = None
        self._result: LoadResult | None = None
        self._started = 0.0
        self.out_dir = Path()
        self.locustfile = Path()

    # -- lifecycle -------------------------------------------------------------------------------------------
    def start(self, host_url: str, profile: LoadProfile, out_dir: Path, *, run_time_s: float | None = None) -> LoadRun:
        """Launch the Locust processes and return once all their users are starting; LoadError (with
        traceback) if one cannot."""
        if self._group is not None:
            raise LoadError("this LoadRun was already started; make a new one per run")
        self.locustfile = self.locustfiles_dir / profile.locustfile
        if not self.locustfile.is_file():
            raise LoadError(f"locustfile {profile.locustfile!r} not found in {self.locustfiles_dir}")
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        (self.out_dir / HISTORY_FILE).unlink(missing_ok=True)
        group = self._group = LocustGroup(profile, self.out_dir)
        self._tail = HistoryMerge([p.history_path for p in group.members])
        self._started = time.time()
        _LIVE.add(self)
        try:
            group.launch(self.locustfile, host_url, run_time_s, self._environment(profile))
            group.wait_started(self.locustfile, self.start_timeout_s)
        except BaseException:
            self.kill()
            raise
        return self

    def _environment(self, profile: LoadProfile) -> dict[str, str]:
        """What the locustfile reads (each process adds its history file and user numbering)."""
        return {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "HARNESS_PATH": profile.path,
            "HARNESS_WAIT_MIN": str(profile.wait_s[0]),
            "HARNESS_WAIT_MAX": str(profile.wait_s[1]),
            "HARNESS_TIMEOUT_S": str(self.request_timeout_s),
            "HARNESS_USER_PREFIX": self.user_prefix,
            **self.extra_env,
        }

    def __enter__(self) -> LoadRun:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._group is None or self._result is not None:
            return
        try:
            self.stop()
        except LoadError:
            if exc[0] is None:
                raise  # never hide the test's own exception behind a load problem
        finally:
            self.kill()

    @property
    def processes(self) -> list[LocustProcess]:
        """The run's Locust processes (none before start)."""
        return self._group.members if self._group is not None else []

    @property
    def running(self) -> bool:
        """Some Locust process of the run is still running."""
        return self._group is not None and self._group.running

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.processes if p.pid is not None]

    # -- reading while running -------------------------------------------------------------------------------
    def records(self) -> list[RequestRecord]:
        """The records written so far by every process, ordered by start time (partial last lines are left
        for the next call); a copy. Once the run ended, its whole history."""
        if self._result is not None:
            return list(self._result.history.records)
        return list(self._recent())

    def history(self) -> History:
        return History(self.records())

    def wait_for_records(self, count: int, timeout: float) -> list[RequestRecord]:
        """Block until at least `count` requests were recorded."""
        return self._wait(lambda: len(self._recent()) >= count, timeout, f"{count} recorded requests in {self.out_dir}")

    def wait_for_steady_state(
        self, timeout: float, *, window_s: float = 2.0, min_rps: float = 1.0, max_error_rate: float = 0.0
    ) -> list[RequestRecord]:
        """Block until, over the last `window_s` seconds up to now, at least `min_rps` requests per second
        started and at most `max_error_rate` of them failed (`harness.history.steady_state`)."""

        def steady() -> bool:
            return steady_state(
                self._recent(), window_s=window_s, min_rps=min_rps, max_error_rate=max_error_rate, now=time.time()
            )

        what = f"steady load (>= {min_rps} req/s, <= {max_error_rate:.0%} errors over {window_s}s)"
        return self._wait(steady, timeout, what, lambda: self._window_text(window_s))

    def _recent(self) -> list[RequestRecord]:
        if self._tail is None:
            raise LoadError("records() before start()")
        try:
            return self._tail.poll()
        except HistoryFormatError as exc:
            raise LoadError(f"{self.locustfile.name} wrote a line that is no request record: {exc}") from exc

    def _wait(self, predicate: Any, timeout: float, what: str, describe: Any = None) -> list[RequestRecord]:
        group = self._require_group()
        wait_until(
            lambda: group.exited() is not None or predicate(),
            timeout=timeout,
            what=what,
            interval=0.1,
            describe=lambda: (
                f"locust {group.states()}, {len(self._recent())} records"
                + (f"; {describe()}" if describe is not None else "")
            ),
            transient=(),
        )
        gone = group.exited()
        if gone is not None and not predicate():
            raise LoadError(
                f"{gone.name} exited with code {gone.poll()} while waiting for {what} "
                f"(log {gone.log_path}):\n{gone.problem_text()}"
            )
        return self.records()

    def _window_text(self, window_s: float) -> str:
        now = time.time()
        recent = [r for r in self._recent() if r.t >= now - window_s]
        failed = sum(r.failed for r in recent)
        return f"last {window_s}s: {len(recent) / window_s:.1f} req/s, {failed}/{len(recent)} failed"

    # -- ending ----------------------------------------------------------------------------------------------
    def stop(self, timeout: float | None = None) -> LoadResult:
        """SIGTERM (Locust writes its statistics and exits), SIGKILL past the deadline; idempotent."""
        if self._result is not None:
            return self._result
        how = self._require_group().stop(self.stop_timeout_s if timeout is None else timeout)
        return self._finish(how)

    def wait_for_exit(self, timeout: float) -> LoadResult:
        """Block until a time-limited run (`run_time_s`) ends on its own, then collect it."""
        group = self._require_group()
        if not group.wait_all(timeout):
            tails = "\n".join(f"{p.name}: {p.log_tail(20)}" for p in group.members if p.running)
            self.kill()
            raise LoadError(f"locust still running after {timeout:.1f}s (killed); log tail:\n{tails}")
        return self._finish("ended")

    def kill(self) -> None:
        """SIGKILL every Locust process and everything in their process groups, at once (cleanup path)."""
        if self._group is not None:
            self._group.kill()
        _LIVE.discard(self)

    def _finish(self, how: str) -> LoadResult:
        self.kill()  # reaps, closes the logs, forgets the run (a no-op on exited processes)
        records = list(self._recent())  # the last read: a torn last line stays out
        history_path = self.out_dir / HISTORY_FILE
        assert self._tail is not None
        self._tail.write_merged(history_path)
        requests, failures = summed_totals([p.totals() for p in self.processes])
        codes = [p.poll() for p in self.processes]
        self._result = LoadResult(
            history=History(records),
            out_dir=self.out_dir,
            history_path=history_path,
            log_paths=tuple(p.log_path for p in self.processes),
            stats_paths=tuple(path for p in self.processes for path in p.stats_paths()),
            exit_codes=tuple(code if code is not None and code >= 0 else None for code in codes),
            how=how,
            duration_s=time.time() - self._started,
            locust_requests=requests,
            locust_failures=failures,
            per_node=dict(Counter(r.node for r in records if r.node is not None)),
        )
        problem = self._problem(how, self._result)
        if problem:
            raise LoadError(problem, self._result)
        return self._result

    def _problem(self, how: str, result: LoadResult) -> str:
        """Why the ended run is an error, or ""."""
        failed = next((p for p in self.processes if p.poll() != 0), None)
        if how != "killed" and failed is not None:
            return f"{failed.name} exited with code {failed.poll()} (log {failed.log_path}):\n{failed.problem_text()}"
        if not result.history and result.locust_requests:
            files = ", ".join(str(p.history_path) for p in self.processes)
            return (
                f"locust made {result.locust_requests} requests but {self.locustfile.name} wrote no history to "
                f"{files} (does it append to $HARNESS_HISTORY?)"
            )
        shared = self._tail.shared_users() if self._tail is not None else []
        if shared:
            return (
                f"user ids {', '.join(shared[:5])} were recorded by more than one Locust process: "
                f"{self.locustfile.name} must number its users from $HARNESS_USER_START in steps of $HARNESS_USER_STEP"
            )
        return ""

    def evidence_files(self) -> dict[str, Path]:
        """Every file this run wrote (history, Locust logs and statistics), by name, for an evidence folder."""
        if self._group is None:
            return {}
        return {p.name: p for p in sorted(self.out_dir.glob("*")) if p.is_file() and _is_run_file(p.name)}

    def _require_group(self) -> LocustGroup:
        if self._group is None:
            raise LoadError("LoadRun not started; call start(host_url, profile, out_dir) first")
        return self._group


def _is_run_file(name: str) -> bool:
    return (name.startswith("history") and name.endswith(".jsonl")) or name.startswith(STATS_PREFIX)


def run_for(host_url: str, profile: LoadProfile, out_dir: Path, seconds: float, **options: Any) -> LoadResult:
    """A time-limited run (Locust's --run-time): start, let it end on its own, collect."""
    run = LoadRun(**options)
    try:
        run.start(host_url, profile, out_dir, run_time_s=seconds)
        return run.wait_for_exit(timeout=math.ceil(seconds) + run.stop_timeout_s + 5)
    finally:
        run.kill()
