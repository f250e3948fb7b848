"""Benchmark: Locust requests/s with 1 and N processes against wrk on the same target, where the CPU went, and
the history's time resolution around a fault.

    python bench/bench_load.py [--url http://127.0.0.1:8000] [--seconds 8] [--users 20] [--processes N]
                               [--repeat 3] [--fault-cmd "docker kill ..." --heal-cmd "..."]

Without --url a fake node (tests.unit.fake_node: the node wire contract, in a subprocess) is the target, and
the fault is switched on inside it: it answers 503 from the fault instant on. With --url the fault is
--fault-cmd (a shell command run at the fault instant); without it the resolution part is skipped.

Figures, per round (--repeat): the load average; wrk req/s (mean of a run before and one after Locust, the
target's speed drifts); Locust req/s with 1 process and with N (--processes, default one per core), users
shared between the processes, no think time, over a window that starts a second after every process started
its users; the ratios to wrk (target >= 0.7 for N). Beside each rate, over the same window, the cores used by
the load generator (wrk or the Locust processes), by the fake node, and by everything else on the machine
(/proc/stat busy time minus those), and CPU microseconds per request. Then, around a fault instant T with N
processes: the last successful request start before T, the first failed request start after T, and the gap
(target <= 100 ms). wrk is Debian's `wrk` package (`apt-get install -y wrk`).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.descriptions.topology import LoadProfile  # noqa: E402
from harness.judge.history import History  # noqa: E402
from harness.machinery.load import LoadRun  # noqa: E402
from harness.machinery.waiting import hold, wait_until  # noqa: E402
from tests.unit.fake_node import FAIL_OFF, FAIL_ON  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


# -- the fake node (tests.unit.fake_node, in its own process) ----------------------------------------------
def start_fake_node() -> tuple[subprocess.Popen[str], str]:
    command = [sys.executable, "-m", "tests.unit.fake_node", "node1"]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    port = process.stdout.readline().strip()
    if not port.isdigit():
        process.kill()
        raise SystemExit(f"fake node did not start (said {port!r})")
    return process, f"http://127.0.0.1:{port}"


def switch(url: str, path: str) -> None:
    from urllib.request import urlopen

    with urlopen(url + path, timeout=5) as reply:
        reply.read()


# -- where the CPU went ------------------------------------------------------------------------------------
def process_cpu(pids: list[int]) -> float:
    """User + system CPU seconds of live processes (/proc/PID/stat utime and stime)."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / TICK


def machine_busy() -> float:
    """CPU seconds all cores spent busy since boot (/proc/stat: everything but idle and iowait)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(values) - values[3] - values[4]) / TICK


@dataclass
class Measure:
    """One measurement window: requests/s and cores used by the generator, the node and everything else."""

    label: str
    rps: float
    wall_s: float
    client_cpu: float
    node_cpu: float | None
    busy_cpu: float

    def text(self) -> str:
        requests = self.rps * self.wall_s
        line = f"  {self.label:<10} {self.rps:8.0f} req/s | generator {self.client_cpu / self.wall_s:4.2f} cores"
        line += f" {self.client_cpu / requests * 1e6:4.0f} us/req"
        others = self.busy_cpu - self.client_cpu
        if self.node_cpu is not None:
            line += f" | node {self.node_cpu / self.wall_s:4.2f} cores {self.node_cpu / requests * 1e6:4.0f} us/req"
            others -= self.node_cpu
        return line + f" | others {max(0.0, others) / self.wall_s:4.2f} cores"


@contextmanager
def cpu_window(client: Callable[[], float], node_pid: int | None) -> Iterator[dict[str, float]]:
    """CPU seconds of the generator (`client()`), the node and the whole machine over the block."""

    def node() -> float:
        return process_cpu([node_pid]) if node_pid is not None else 0.0

    start = {"client": client(), "node": node(), "busy": machine_busy(), "wall": time.monotonic()}
    spent: dict[str, float] = {}
    yield spent
    spent.update(
        client=client() - start["client"],
        node=node() - start["node"],
        busy=machine_busy() - start["busy"],
        wall=time.monotonic() - start["wall"],
    )


def children_cpu() -> float:
    usage = os.times()
    return usage.children_user + usage.children_system


# -- throughput --------------------------------------------------------------------------------------------
def wrk_rps(url: str, seconds: int, connections: int, threads: int, node_pid: int | None) -> Measure:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk (Debian package)")
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", url]
    with cpu_window(children_cpu, node_pid) as spent:
        output = subprocess.run(command, capture_output=True, text=True, check=True, timeout=seconds + 30).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if match is None:
        raise SystemExit(f"no Requests/sec in wrk output:\n{output}")
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: .*", output)
    if errors:
        print(f"  wrk reported: {errors.group(0)}")
    node_cpu = spent["node"] if node_pid is not None else None
    return Measure("wrk", float(match.group(1)), spent["wall"], spent["client"], node_cpu, spent["busy"])


def locust_rps(
    url: str, path: str, seconds: int, users: int, processes: int, out: Path, node_pid: int | None
) -> Measure:
    """Requests started per second over `seconds`, from a second after every process started its users."""
    profile = LoadProfile(users=users, spawn_rate=max(users, 1), wait_s=(0.0, 0.0), path=path, processes=processes)
    with LoadRun() as run:
        run.start(url, profile, out)
        hold(1.0)  # ramp-up left out
        with cpu_window(lambda: process_cpu(run.pids), node_pid) as spent:
            t0 = time.time()
            hold(seconds)
        hold(0.5)  # requests started in the window end (latencies are milliseconds)
        result = run.stop()
    counted = sum(1 for r in result.history.records if t0 <= r.t < t0 + seconds)
    if result.failures:
        print(f"  locust x{processes}: {result.failures} failed requests of {result.requests}")
    label = f"locust x{processes}"
    node_cpu = spent["node"] if node_pid is not None else None
    return Measure(label, counted / spent["wall"], spent["wall"], spent["client"], node_cpu, spent["busy"])


# -- time resolution around a fault --------------------------------------------------------------------------
def fault_resolution(url: str, profile: LoadProfile, out: Path, fault: object, heal: object) -> dict[str, float]:
    with LoadRun(request_timeout_s=5) as run:
        run.start(url, profile, out)
        run.wait_for_steady_state(30, window_s=2.0, min_rps=profile.users * 5, max_error_rate=0.0)
        instant = time.time()
        fault() if callable(fault) else None
        wait_until(
            lambda: any(r.failed and r.t >= instant for r in run.records()),
            timeout=30,
            what="the first failed request after the fault",
        )
        hold(1.0)
        heal() if callable(heal) else None
        result = run.stop()
    return resolution(result.history, instant)


def resolution(history: History, instant: float) -> dict[str, float]:
    """Last success started before the instant, first failure started after it, in ms relative to it."""
    before = [r.t for r in history.records if r.ok and r.t <= instant]
    after = [r.t for r in history.records if r.failed and r.t >= instant]
    if not before or not after:
        raise SystemExit(f"no success before or no failure after the fault ({len(before)}, {len(after)})")
    last_ok, first_err = max(before), min(after)
    late_ok = sum(1 for r in history.records if r.ok and instant < r.t < first_err)
    return {
        "last_ok_ms": (last_ok - instant) * 1000,
        "first_error_ms": (first_err - instant) * 1000,
        "gap_ms": (first_err - last_ok) * 1000,
        "successes_between": late_ok,
    }


def shell(command: str | None) -> object:
    return (lambda: subprocess.run(command, shell=True, check=True)) if command else None


def load_average() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def throughput_round(args: argparse.Namespace, url: str, node_pid: int | None, out: Path) -> tuple[float, ...]:
    print(f"round {out.name}: load average {load_average()} (1, 5, 15 min; {os.cpu_count()} cores)")
    wrk = [wrk_rps(url + args.path, args.seconds, args.users, args.wrk_threads, node_pid)]
    print(wrk[0].text())
    locust = []
    for processes in (1, args.processes):
        locust.append(locust_rps(url, args.path, args.seconds, args.users, processes, out / f"x{processes}", node_pid))
        print(locust[-1].text())
    wrk.append(wrk_rps(url + args.path, args.seconds, args.users, args.wrk_threads, node_pid))
    print(wrk[1].text())
    mean = (wrk[0].rps + wrk[1].rps) / 2
    ratios = tuple(m.rps / mean for m in locust)
    verdict = "OK" if ratios[1] >= 0.7 else "BELOW TARGET"
    print(
        f"  ratios     x1 {ratios[0]:.2f}, x{args.processes} {ratios[1]:.2f} to wrk {mean:.0f} req/s (mean of before "
        f"and after; target >= 0.7 for x{args.processes}: {verdict}); load average now {load_average()}"
    )
    return mean, locust[0].rps, locust[1].rps, ratios[0], ratios[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="target base URL (default: a local fake node)")
    parser.add_argument("--path", default="/app/")
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--users", type=int, default=20, help="Locust users (shared by the processes), wrk connections")
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1, help="Locust processes of the N run")
    parser.add_argument("--repeat", type=int, default=3, help="throughput rounds")
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--fault-cmd", help="with --url: shell command that injects the fault")
    parser.add_argument("--heal-cmd", help="with --url: shell command that heals it")
    parser.add_argument("--keep", action="store_true", help="keep the output folder (printed)")
    args = parser.parse_args()
    node, url = (None, args.url) if args.url else start_fake_node()
    node_pid = node.pid if node is not None else None
    out = Path(tempfile.mkdtemp(prefix="bench-load-"))
    try:
        print(f"target {url}{args.path}  ({'given' if args.url else 'local fake node'}), output {out}")
        print(f"{args.users} users / wrk connections, {args.wrk_threads} wrk threads, {args.seconds}s per figure\n")
        rounds = [throughput_round(args, url, node_pid, out / str(i + 1)) for i in range(args.repeat)]
        columns = zip(*rounds, strict=True)
        names = (
            "wrk req/s",
            "locust x1 req/s",
            f"locust x{args.processes} req/s",
            "ratio x1",
            f"ratio x{args.processes}",
        )
        for name, values in zip(names, columns, strict=True):
            shown = ", ".join(f"{v:.2f}" if v < 10 else f"{v:.0f}" for v in values)
            print(f"{name:<18} {shown}  (median {statistics.median(values):.2f})")
        if args.url and not args.fault_cmd:
            print("fault resolution: skipped (give --fault-cmd with --url)")
            return
        fault = shell(args.fault_cmd) if args.url else (lambda: switch(url, FAIL_ON))
        heal = shell(args.heal_cmd) if args.url else (lambda: switch(url, FAIL_OFF))
        users = min(args.users, 10)
        profile = LoadProfile(users=users, spawn_rate=users, wait_s=(0.05, 0.1), path=args.path,
                              processes=min(args.processes, users))  # fmt: skip
        figures = fault_resolution(url, profile, out / "fault", fault, heal)
        verdict = "OK" if figures["gap_ms"] <= 100 else "ABOVE TARGET"
        print(
            f"fault   ({profile.processes} processes) last success {figures['last_ok_ms']:+.1f} ms, first error "
            f"{figures['first_error_ms']:+.1f} ms from the instant; gap {figures['gap_ms']:.1f} ms (target <= 100: "
            f"{verdict}); {figures['successes_between']:.0f} successes started between"
        )
    finally:
        if node is not None:
            node.kill()
            node.wait()
        if not args.keep:
            shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
