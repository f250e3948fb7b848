"""The `locust --headless` processes of a load run: how each is launched, its files, its log and its end
(`LocustProcess`), and the run's processes together, each with its share of the users (`LocustGroup`).

Each process runs `python -m locust` with the harness's interpreter through a small launcher that asks the
kernel for SIGKILL when the thread that started it dies (Linux prctl PR_SET_PDEATHSIG) and exits at once if
its parent is already gone. It leads its own process group, so `kill()` takes whatever it spawned with it.

Files in the run's folder, `SUFFIX` being "" for the only process of a run and ".p1", ".p2", ... when there
are several: `history{SUFFIX}.jsonl` (what its users recorded), `locust{SUFFIX}.log` (stdout and stderr),
`locust{SUFFIX}_stats.csv`, `_stats_history.csv`, `_failures.csv`, `_exceptions.csv` and
`locust{SUFFIX}.json` (Locust's own statistics, written when it exits).
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

from harness.descriptions.topology import LoadProfile
from harness.machinery.load_result import LoadError
from harness.machinery.waiting import wait_until

HISTORY_FILE = "history.jsonl"  # the run's merged history (and the only process's own file)
LOG_FILE = "locust.log"
STATS_PREFIX = "locust"  # --csv and --json-file prefix inside the run's folder
# "Starting Locust" is logged once the locustfile imported, before its User classes are looked for; this is
# logged once the runner starts spawning users, so the User classes were found.
USERS_MARKER = "Ramping to"
_NO_USERS = ("No User class found!", "Unknown User(s):")  # Locust's own words before it exits 1
_TRACEBACK = "Traceback (most recent call last):"

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


def locust_command() -> list[str]:
    """The interpreter running the harness, launching Locust as `python -m locust` (same environment)."""
    return [sys.executable, "-c", _LAUNCHER]


class LocustProcess:
    """Process `index` (0-based) of `count` in `out_dir`, running `users` users started at `spawn_rate`/s."""

    def __init__(self, index: int, count: int, out_dir: Path, users: int, spawn_rate: float) -> None:
        self.index = index
        self.count = count
        self.users = users
        self.spawn_rate = spawn_rate
        suffix = "" if count == 1 else f".p{index + 1}"
        self.name = "locust" if count == 1 else f"locust process {index + 1}/{count}"
        self.history_path = out_dir / (HISTORY_FILE if count == 1 else f"history{suffix}.jsonl")
        self.log_path = out_dir / f"locust{suffix}.log"
        self.stats_prefix = out_dir / f"{STATS_PREFIX}{suffix}"
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def arguments(self, locustfile: Path, host_url: str, run_time_s: float | None) -> list[str]:
        """Locust's command line for this process (headless, its users, its statistics files)."""
        args = ["-f", str(locustfile), "--headless", "-u", str(self.users), "-r", f"{self.spawn_rate:g}"]
        args += ["--host", host_url, "--only-summary", "--exit-code-on-error", "0", "--loglevel", "INFO"]
        args += ["--csv", str(self.stats_prefix), "--json-file", str(self.stats_prefix)]
        if run_time_s is not None:
            args += ["-t", f"{max(1, math.ceil(run_time_s))}s"]
        return args

    def launch(self, locustfile: Path, host_url: str, run_time_s: float | None, env: dict[str, str]) -> None:
        """Start it in the folder of its files; `env` is the locustfile's, to which the process adds its own
        history file and user numbering (users `start`, `start + step`, ...: unique across the run)."""
        self.history_path.unlink(missing_ok=True)
        args = self.arguments(locustfile, host_url, run_time_s)
        own = {
            "HARNESS_PARENT_PID": str(os.getpid()),
            "HARNESS_HISTORY": str(self.history_path),
            "HARNESS_USER_START": str(self.index + 1),
            "HARNESS_USER_STEP": str(self.count),
        }
        self._log = open(self.log_path, "wb")
        self._log.write(f"$ locust {' '.join(args)}\n".encode())
        self._log.flush()
        self.process = subprocess.Popen(
            [*locust_command(), *args],
            cwd=self.log_path.parent,
            env={**env, **own},
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def poll(self) -> int | None:
        """The exit code once it exited (negative: the signal that ended it), else None."""
        return self.process.poll() if self.process is not None else None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def terminate(self) -> None:
        """SIGTERM: Locust writes its statistics and exits."""
        if self.running:
            assert self.process is not None
            self.process.send_signal(signal.SIGTERM)

    def wait(self, timeout: float) -> bool:
        """Whether it exited within `timeout` seconds."""
        if self.process is None:
            return True
        try:
            self.process.wait(timeout=max(0.0, timeout))
        except subprocess.TimeoutExpired:
            return False
        return True

    def kill(self) -> None:
        """SIGKILL its whole process group at once and reap it; closes the log (a no-op once it exited)."""
        process = self.process
        if process is not None and process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait()
        if self._log is not None:
            self._log.close()

    # -- what it said ----------------------------------------------------------------------------------------
    def log_text(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:]) or "(empty log)"

    def users_started(self) -> bool:
        return USERS_MARKER in self.log_text()

    def no_users(self) -> str:
        """Locust's complaint that the locustfile has no (selected) User class, or ""."""
        return next((line.strip() for line in self.log_text().splitlines() if any(m in line for m in _NO_USERS)), "")

    def problem_text(self) -> str:
        """The last traceback in its log (a locustfile that failed to import), or the log's tail."""
        text = self.log_text()
        start = text.rfind(_TRACEBACK)
        return text[start:].strip()[-8000:] if start >= 0 else self.log_tail(40)

    def stats_paths(self) -> list[Path]:
        """Locust's CSV and JSON statistics of this process that exist."""
        prefix = self.stats_prefix.name
        files = self.stats_prefix.parent.glob(f"{prefix}*")
        return sorted(p for p in files if p.suffix in (".csv", ".json") and p.name[len(prefix)] in "_.")

    def totals(self) -> tuple[int | None, int | None]:
        """(requests, failures) Locust counted, from its JSON statistics; (None, None) without them."""
        try:
            entries = json.loads(Path(f"{self.stats_prefix}.json").read_text(encoding="utf-8"))
            return (sum(int(e["num_requests"]) for e in entries), sum(int(e["num_failures"]) for e in entries))
        except (OSError, ValueError, KeyError, TypeError):
            return None, None


def process_count(profile: LoadProfile) -> int:
    """How many Locust processes run `profile`: its number, or for "auto" one per core, at most one per user."""
    if profile.processes == "auto":
        return max(1, min(os.cpu_count() or 1, profile.users))
    return profile.processes


def user_shares(users: int, processes: int) -> list[int]:
    """Users per process, as even as can be (the first ones take the remainder)."""
    return [users // processes + (1 if i < users % processes else 0) for i in range(processes)]


class LocustGroup:
    """The Locust processes of one run (`process_count(profile)`, each with its share of the users and of the
    spawn rate), launched, awaited, stopped and killed together."""

    def __init__(self, profile: LoadProfile, out_dir: Path) -> None:
        count = process_count(profile)
        self.members = [
            LocustProcess(i, count, out_dir, users, profile.spawn_rate * users / profile.users)
            for i, users in enumerate(user_shares(profile.users, count))
        ]

    def launch(self, locustfile: Path, host_url: str, run_time_s: float | None, env: dict[str, str]) -> None:
        for process in self.members:
            process.launch(locustfile, host_url, run_time_s, env)

    @property
    def running(self) -> bool:
        """Some member is still running."""
        return any(p.running for p in self.members)

    def exited(self) -> LocustProcess | None:
        """The first member that exited, if any."""
        return next((p for p in self.members if p.poll() is not None), None)

    def states(self) -> str:
        return ", ".join("running" if p.running else f"exited {p.poll()}" for p in self.members)

    def wait_started(self, locustfile: Path, timeout: float) -> None:
        """Until every member starts spawning users; LoadError naming the locustfile when one exits first or
        finds no User class in it ("Starting Locust" alone is logged before the User classes are looked for)."""
        members = self.members
        wait_until(
            lambda: self.exited() or any(p.no_users() for p in members) or all(p.users_started() for p in members),
            timeout=timeout,
            what=f"Locust to load {locustfile.name} and start its users",
            interval=0.05,
            describe=lambda: "\n".join(f"{p.name}: {p.log_tail(10)}" for p in members if not p.users_started()),
            transient=(),
        )
        for process in members:
            complaint = process.no_users()
            if complaint:
                raise LoadError(
                    f"locustfile {locustfile} defines no User class Locust can run (Locust: "
                    f"{complaint!r}; log {process.log_path}):\n{process.log_tail(10)}"
                )
        for process in members:
            if process.poll() is not None and not process.users_started():
                raise LoadError(
                    f"{process.name} exited with code {process.poll()} before starting load with "
                    f"locustfile {locustfile} (log {process.log_path}):\n{process.problem_text()}"
                )

    def wait_all(self, timeout: float) -> bool:
        """Whether every member exited within `timeout` seconds (one deadline for all)."""
        deadline = time.monotonic() + timeout
        return all([p.wait(deadline - time.monotonic()) for p in self.members])

    def stop(self, timeout: float) -> str:
        """SIGTERM to every member, SIGKILL to the group past the deadline: "ended" (none was running),
        "stopped" (all honoured SIGTERM) or "killed"."""
        how = "stopped" if self.running else "ended"
        for process in self.members:
            process.terminate()
        if not self.wait_all(timeout):
            how = "killed"
        self.kill()
        return how

    def kill(self) -> None:
        """SIGKILL every member's process group at once, and reap them."""
        for process in self.members:
            process.kill()
