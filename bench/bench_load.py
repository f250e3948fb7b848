"""Benchmark: Locust requests/s against wrk on the same target, and the history's time resolution at a fault.

    python bench/bench_load.py [--url http://127.0.0.1:8000] [--seconds 10] [--users 20]
                               [--fault-cmd "docker kill ..." --heal-cmd "..."]

Without --url a fake node (tests.unit.fake_node: the node wire contract, in a subprocess) is the target, and
the fault is switched on inside it: it answers 503 from the fault instant on. With --url the fault is
--fault-cmd (a shell command run at the fault instant); without it the resolution part is skipped.

Figures: 1) wrk req/s (mean of a run before and one after Locust, the target's speed drifts), Locust req/s
(no think time, first second of ramp-up left out) and the ratio (target >= 0.5); 2) around the fault
instant T: the last successful request start before T, the first failed request start after T, and the gap
between them (target <= 100 ms). wrk is Debian's `wrk` package (`apt-get install -y wrk`).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.descriptions.topology import LoadProfile  # noqa: E402
from harness.judge.history import History  # noqa: E402
from harness.machinery.load import LoadRun, run_for  # noqa: E402
from harness.machinery.waiting import hold, wait_until  # noqa: E402
from tests.unit.fake_node import FAIL_OFF, FAIL_ON  # noqa: E402


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


# -- throughput --------------------------------------------------------------------------------------------
def wrk_rps(url: str, seconds: int, connections: int, threads: int) -> float:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk (Debian package)")
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", url]
    output = subprocess.run(command, capture_output=True, text=True, check=True, timeout=seconds + 30).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if match is None:
        raise SystemExit(f"no Requests/sec in wrk output:\n{output}")
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: .*", output)
    if errors:
        print(f"  wrk reported: {errors.group(0)}")
    return float(match.group(1))


def locust_rps(url: str, path: str, seconds: int, users: int, out: Path) -> tuple[float, int, int]:
    profile = LoadProfile(users=users, spawn_rate=max(users, 1), wait_s=(0.0, 0.0), path=path)
    result = run_for(url, profile, out, seconds)
    records = [r for r in result.history.records if r.t >= result.history.records[0].t + 1.0]  # skip ramp-up
    span = max(r.t_end for r in records) - records[0].t
    return len(records) / span, len(result.history), result.failures


# -- time resolution around a fault --------------------------------------------------------------------------
def fault_resolution(url: str, path: str, users: int, out: Path, fault: object, heal: object) -> dict[str, float]:
    profile = LoadProfile(users=users, spawn_rate=max(users, 1), wait_s=(0.05, 0.1), path=path)
    with LoadRun(request_timeout_s=5) as run:
        run.start(url, profile, out)
        run.wait_for_steady_state(30, window_s=2.0, min_rps=users * 5, max_error_rate=0.0)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="target base URL (default: a local fake node)")
    parser.add_argument("--path", default="/app/")
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--users", type=int, default=20, help="Locust users and wrk connections")
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--fault-cmd", help="with --url: shell command that injects the fault")
    parser.add_argument("--heal-cmd", help="with --url: shell command that heals it")
    parser.add_argument("--keep", action="store_true", help="keep the output folder (printed)")
    args = parser.parse_args()
    node, url = (None, args.url) if args.url else start_fake_node()
    out = Path(tempfile.mkdtemp(prefix="bench-load-"))
    try:
        print(f"target {url}{args.path}  ({'given' if args.url else 'local fake node'}), output {out}")
        before = wrk_rps(url + args.path, args.seconds, args.users, args.wrk_threads)
        rps, total, failed = locust_rps(url, args.path, args.seconds, args.users, out / "throughput")
        after = wrk_rps(url + args.path, args.seconds, args.users, args.wrk_threads)
        wrk = (before + after) / 2
        print(
            f"wrk     {wrk:9.1f} req/s  (mean of {before:.0f} before and {after:.0f} after Locust; "
            f"{args.wrk_threads} threads, {args.users} connections, {args.seconds}s)"
        )
        print(f"locust  {rps:9.1f} req/s  ({args.users} users, no think time; {total} recorded, {failed} failed)")
        verdict = "OK" if rps >= 0.5 * wrk else "BELOW TARGET"
        print(f"ratio   {rps / wrk:9.2f}        (target >= 0.5: {verdict})")
        if args.url and not args.fault_cmd:
            print("fault resolution: skipped (give --fault-cmd with --url)")
            return
        fault = shell(args.fault_cmd) if args.url else (lambda: switch(url, FAIL_ON))
        heal = shell(args.heal_cmd) if args.url else (lambda: switch(url, FAIL_OFF))
        figures = fault_resolution(url, args.path, min(args.users, 10), out / "fault", fault, heal)
        verdict = "OK" if figures["gap_ms"] <= 100 else "ABOVE TARGET"
        print(
            f"fault   last success {figures['last_ok_ms']:+.1f} ms, first error {figures['first_error_ms']:+.1f} ms"
            f" from the instant; gap {figures['gap_ms']:.1f} ms (target <= 100: {verdict}); "
            f"{figures['successes_between']:.0f} successes started between"
        )
    finally:
        if node is not None:
            node.kill()
            node.wait()
        if not args.keep:
            shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
