"""The out-of-process load runner: Locust in a subprocess, recording every request to a JSONL history.

The pytest process never imports locust (it gevent-patches the whole process). `LoadRun.start()` launches
`python -m locust --headless` on a locustfile from `locustfiles/`, passes the load profile through the
`HARNESS_*` environment the locustfiles read, and returns once Locust has loaded the locustfile and started
spawning its users; a locustfile that fails to import, or defines no User class, raises `LoadError` naming it
(with the traceback when there is one). While it runs,
`records()` reads the history as written so far. `stop()` asks Locust to shut down (SIGTERM: it writes its
statistics and exits), kills it past a deadline, and returns a `LoadResult`.

Everything lands in `out_dir`: `history.jsonl` (the records), `locust.log` (stdout and stderr),
`locust_stats.csv`, `locust_stats_history.csv`, `locust_failures.csv`, `locust_exceptions.csv` and
`locust.json` (Locust's own statistics).

The Locust process never outlives its owner: `stop()` runs on `with` exit and at interpreter exit, and on
Linux the process asks the kernel for SIGKILL when the thread that started it dies (so start a run from
the thread that owns it, as pytest fixtures do).
"""

from __future__ import annotations

import atexit
import json
import math
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from harness.descriptions import settings
from harness.descriptions.topology import LoadProfile
from harness.judge.history import History, RequestRecord, read_jsonl, record_from_dict, steady_state
from harness.machinery.waiting import wait_until

HISTORY_FILE = "history.jsonl"
LOG_FILE = "locust.log"
STATS_PREFIX = "locust"  # --csv and --json-file prefix inside out_dir
# "Starting Locust" is logged once the locustfile imported, before its User classes are looked for; this is
# logged once the runner starts spawning users, so the User classes were found.
USERS_MARKER = "Ramping to"
_NO_USERS = ("No User class found!", "Unknown User(s):")  # Locust's own words before it exits 1
_TRACEBACK = "Traceback (most recent call last):"

# Runs `python -m locust` after asking for SIGKILL when the parent thread dies (Linux prctl PR_SET_PDEATHSIG),
# and exits at once if the parent is already gone.
_LAUNCHER = """\
import ctypes, os, runpy, signal, sys
try:
    ctypes.CDLL(None).prctl(1, signal.SIGKILL)
except Exception:
    pass
if os.getppid() != int(os.environ.get("HARNESS_PARENT_PID", os.getppid())):
    sys.exit("parent process gone before locust started")
sys.argv[0] = "locust"
runpy.run_module("locust", run_name="__main__", alter_sys=True)
"""


class LoadError(RuntimeError):
    """Locust did not start, died, or recorded nothing; the message carries its traceback or log tail."""

    def __init__(self, message: str, result: LoadResult | None = None) -> None:
        super().__init__(message)
        self.result = result  # what was recorded anyway (for evidence), when the run got that far


@dataclass(frozen=True)
class LoadResult:
    history: History
    out_dir: Path
    history_path: Path
    log_path: Path
    stats_paths: tuple[Path, ...]  # Locust's CSV and JSON statistics that exist
    exit_code: int | None  # None: killed (negative signal numbers are folded into `how`)
    how: str  # "ended" (on its own: run time reached, or died), "stopped" (SIGTERM honoured), "killed" (deadline)
    duration_s: float
    locust_requests: int | None = None  # from locust.json; None when Locust wrote no statistics
    locust_failures: int | None = None
    per_node: dict[str, int] = field(default_factory=dict)

    @property
    def requests(self) -> int:
        return len(self.history)

    @property
    def failures(self) -> int:
        return sum(r.failed for r in self.history.records)

    @property
    def rps(self) -> float:
        records = self.history.records
        if len(records) < 2:
            return 0.0
        span = max(r.t_end for r in records) - records[0].t
        return len(records) / span if span > 0 else 0.0

    def summary(self) -> str:
        nodes = ", ".join(f"{name}={n}" for name, n in sorted(self.per_node.items())) or "none"
        return (
            f"{self.requests} requests ({self.failures} failed) in {self.duration_s:.1f}s, "
            f"{self.rps:.1f} req/s; served by {nodes}; locust {self.how}, exit {self.exit_code}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "summary": self.summary(),
            "requests": self.requests,
            "failures": self.failures,
            "rps": round(self.rps, 3),
            "per_node": dict(self.per_node),
            "duration_s": round(self.duration_s, 3),
            "how": self.how,
            "exit_code": self.exit_code,
            "locust_requests": self.locust_requests,
            "locust_failures": self.locust_failures,
            "history": str(self.history_path),
            "log": str(self.log_path),
            "stats": [str(p) for p in self.stats_paths],
        }


class _HistoryTail:
    """Reads a JSONL history incrementally while it is being appended to (complete lines only)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.records: list[RequestRecord] = []
        self._offset = 0
        self._line = 0

    def poll(self) -> list[RequestRecord]:
        try:
            with open(self.path, "rb") as stream:
                stream.seek(self._offset)
                chunk = stream.read()
        except FileNotFoundError:
            return self.records
        complete = chunk[: chunk.rfind(b"\n") + 1]
        for raw in complete.decode("utf-8").split("\n")[:-1]:
            self._line += 1
            if raw.strip():
                try:
                    self.records.append(record_from_dict(json.loads(raw)))
                except ValueError as exc:
                    raise LoadError(f"{self.path}:{self._line}: {exc}") from exc
        self._offset += len(complete)
        return self.records


_LIVE: set[LoadRun] = set()


@atexit.register
def _kill_leftovers() -> None:
    for run in list(_LIVE):
        run.kill()


def locust_command() -> list[str]:
    """The interpreter running the harness, launching Locust as `python -m locust` (same environment)."""
    return [sys.executable, "-c", _LAUNCHER]


class LoadRun:
    """One Locust process. `with LoadRun() as load: load.start(url, profile, out_dir); ...` stops it on exit."""

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
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._tail: _HistoryTail | None = None
        self._result: LoadResult | None = None
        self._started = 0.0
        self.out_dir = Path()
        self.locustfile = Path()

    # -- lifecycle -------------------------------------------------------------------------------------------
    def start(self, host_url: str, profile: LoadProfile, out_dir: Path, *, run_time_s: float | None = None) -> LoadRun:
        """Launch Locust and return once its users are starting; LoadError (with traceback) if it cannot."""
        if self._process is not None:
            raise LoadError("this LoadRun was already started; make a new one per run")
        self.locustfile = self.locustfiles_dir / profile.locustfile
        if not self.locustfile.is_file():
            raise LoadError(f"locustfile {profile.locustfile!r} not found in {self.locustfiles_dir}")
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        history = self.out_dir / HISTORY_FILE
        history.unlink(missing_ok=True)
        self._tail = _HistoryTail(history)
        args = self._arguments(host_url, profile, run_time_s)
        self._log = open(self.out_dir / LOG_FILE, "wb")
        self._log.write(f"$ locust {' '.join(args)}\n".encode())
        self._log.flush()
        self._started = time.time()
        self._process = subprocess.Popen(
            [*locust_command(), *args],
            cwd=self.out_dir,
            env=self._environment(profile, history),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        _LIVE.add(self)
        try:
            self._wait_started()
        except BaseException:
            self.kill()
            raise
        return self

    def _arguments(self, host_url: str, profile: LoadProfile, run_time_s: float | None) -> list[str]:
        prefix = str(self.out_dir / STATS_PREFIX)
        args = [
            "-f",
            str(self.locustfile),
            "--headless",
            "-u",
            str(profile.users),
            "-r",
            str(profile.spawn_rate),
            "--host",
            host_url,
            "--only-summary",
            "--exit-code-on-error",
            "0",
            "--csv",
            prefix,
            "--json-file",
            prefix,
            "--loglevel",
            "INFO",
        ]
        if run_time_s is not None:
            args += ["-t", f"{max(1, math.ceil(run_time_s))}s"]
        return args

    def _environment(self, profile: LoadProfile, history: Path) -> dict[str, str]:
        return {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "HARNESS_PARENT_PID": str(os.getpid()),
            "HARNESS_HISTORY": str(history),
            "HARNESS_PATH": profile.path,
            "HARNESS_WAIT_MIN": str(profile.wait_s[0]),
            "HARNESS_WAIT_MAX": str(profile.wait_s[1]),
            "HARNESS_TIMEOUT_S": str(self.request_timeout_s),
            "HARNESS_USER_PREFIX": self.user_prefix,
            **self.extra_env,
        }

    def _wait_started(self) -> None:
        """Until Locust starts spawning users; LoadError naming the locustfile when it exits first or finds
        no User class in it ("Starting Locust" alone is logged before the User classes are looked for)."""
        process = self._require_process()
        wait_until(
            lambda: process.poll() is not None or self._no_users() or USERS_MARKER in self.log_text(),
            timeout=self.start_timeout_s,
            what=f"Locust to load {self.locustfile.name} and start its users",
            interval=0.05,
            describe=lambda: self._log_tail(10),
            transient=(),
        )
        complaint = self._no_users()
        if complaint:
            raise LoadError(
                f"locustfile {self.locustfile} defines no User class Locust can run (Locust: "
                f"{complaint!r}; log {self.out_dir / LOG_FILE}):\n{self._log_tail(10)}"
            )
        if process.poll() is not None and USERS_MARKER not in self.log_text():
            raise LoadError(
                f"locust exited with code {process.returncode} before starting load with "
                f"locustfile {self.locustfile} (log {self.out_dir / LOG_FILE}):\n{self._problem_text()}"
            )

    def _no_users(self) -> str:
        """Locust's complaint that the locustfile has no (selected) User class, or ""."""
        return next((line.strip() for line in self.log_text().splitlines() if any(m in line for m in _NO_USERS)), "")

    def __enter__(self) -> LoadRun:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._process is None or self._result is not None:
            return
        try:
            self.stop()
        except LoadError:
            if exc[0] is None:
                raise  # never hide the test's own exception behind a load problem
        finally:
            self.kill()

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    # -- reading while running -------------------------------------------------------------------------------
    def records(self) -> list[RequestRecord]:
        """The records written so far (a partial last line is left for the next call); a copy."""
        if self._tail is None:
            raise LoadError("records() before start()")
        return list(self._tail.poll())

    def history(self) -> History:
        return History(self.records())

    def wait_for_records(self, count: int, timeout: float) -> list[RequestRecord]:
        """Block until at least `count` requests were recorded."""
        return self._wait(
            lambda: len(self._recent()) >= count, timeout, f"{count} recorded requests in {self.out_dir / HISTORY_FILE}"
        )

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
        assert self._tail is not None
        return self._tail.poll()

    def _wait(self, predicate: Any, timeout: float, what: str, describe: Any = None) -> list[RequestRecord]:
        process = self._require_process()
        wait_until(
            lambda: process.poll() is not None or predicate(),
            timeout=timeout,
            what=what,
            interval=0.1,
            describe=lambda: self._describe(describe),
            transient=(),
        )
        if process.poll() is not None and not predicate():
            raise LoadError(
                f"locust exited with code {process.returncode} while waiting for {what} "
                f"(log {self.out_dir / LOG_FILE}):\n{self._problem_text()}"
            )
        return self.records()

    def _describe(self, extra: Any) -> str:
        state = "running" if self.running else f"exited {self._require_process().returncode}"
        text = f"locust {state}, {len(self._recent())} records"
        return f"{text}; {extra()}" if extra is not None else text

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
        process = self._require_process()
        how = "ended" if process.poll() is not None else "stopped"
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=self.stop_timeout_s if timeout is None else timeout)
            except subprocess.TimeoutExpired:
                how = "killed"
                self.kill()
        return self._finish(how)

    def wait_for_exit(self, timeout: float) -> LoadResult:
        """Block until a time-limited run (`run_time_s`) ends on its own, then collect it."""
        process = self._require_process()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            self.kill()
            raise LoadError(
                f"locust still running after {timeout:.1f}s (killed); log tail:\n{self._log_tail(20)}"
            ) from exc
        return self._finish("ended")

    def kill(self) -> None:
        """SIGKILL Locust and everything in its process group, at once (cleanup path)."""
        process = self._process
        if process is not None and process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait()
        _LIVE.discard(self)
        if self._log is not None:
            self._log.close()

    def _finish(self, how: str) -> LoadResult:
        process = self._require_process()
        self.kill()  # reaps, closes the log, forgets the run (a no-op on an exited process)
        history_path = self.out_dir / HISTORY_FILE
        records = read_jsonl(history_path, allow_partial_last_line=True) if history_path.exists() else []
        requests, failures = _locust_totals(self.out_dir / f"{STATS_PREFIX}.json")
        stats = tuple(p for p in sorted(self.out_dir.glob(f"{STATS_PREFIX}*")) if p.suffix in (".csv", ".json"))
        code = process.returncode
        self._result = LoadResult(
            history=History(records),
            out_dir=self.out_dir,
            history_path=history_path,
            log_path=self.out_dir / LOG_FILE,
            stats_paths=stats,
            exit_code=code if code >= 0 else None,
            how=how,
            duration_s=time.time() - self._started,
            locust_requests=requests,
            locust_failures=failures,
            per_node=dict(Counter(r.node for r in records if r.node is not None)),
        )
        if how != "killed" and code != 0:
            raise LoadError(
                f"locust exited with code {code} (log {self._result.log_path}):\n{self._problem_text()}", self._result
            )
        if not records and requests:
            raise LoadError(
                f"locust made {requests} requests but {self.locustfile.name} wrote no history to "
                f"{history_path} (does it append to $HARNESS_HISTORY?)",
                self._result,
            )
        return self._result

    def evidence_files(self) -> dict[str, Path]:
        """Every file this run wrote (history, Locust log and statistics), by name, for an evidence folder."""
        names = (HISTORY_FILE, LOG_FILE)
        return (
            {
                p.name: p
                for p in sorted(self.out_dir.glob("*"))
                if p.is_file() and (p.name in names or p.name.startswith(STATS_PREFIX))
            }
            if self._process
            else {}
        )

    # -- helpers ---------------------------------------------------------------------------------------------
    def _require_process(self) -> subprocess.Popen[bytes]:
        if self._process is None:
            raise LoadError("LoadRun not started; call start(host_url, profile, out_dir) first")
        return self._process

    def log_text(self) -> str:
        try:
            return (self.out_dir / LOG_FILE).read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def _log_tail(self, lines: int) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:]) or "(empty log)"

    def _problem_text(self) -> str:
        """The last traceback in Locust's log (a locustfile that failed to import), or the log's tail."""
        text = self.log_text()
        start = text.rfind(_TRACEBACK)
        return text[start:].strip()[-8000:] if start >= 0 else self._log_tail(40)


def _locust_totals(json_path: Path) -> tuple[int | None, int | None]:
    try:
        entries = json.loads(json_path.read_text(encoding="utf-8"))
        return (sum(int(e["num_requests"]) for e in entries), sum(int(e["num_failures"]) for e in entries))
    except (OSError, ValueError, KeyError, TypeError):
        return None, None


def run_for(host_url: str, profile: LoadProfile, out_dir: Path, seconds: float, **options: Any) -> LoadResult:
    """A time-limited run (Locust's --run-time): start, let it end on its own, collect."""
    run = LoadRun(**options)
    try:
        run.start(host_url, profile, out_dir, run_time_s=seconds)
        return run.wait_for_exit(timeout=math.ceil(seconds) + run.stop_timeout_s + 5)
    finally:
        run.kill()
