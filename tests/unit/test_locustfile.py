"""locustfiles/sticky_sessions.py run for real (Locust in a subprocess) against a fake node in this process
(tests.unit.fake_node).

The pytest process never imports locust (gevent monkey-patching); only the subprocesses do. The runs share
one module fixture and go in parallel, so the whole file takes a few seconds. Each run lasts until it has
recorded enough requests (a polled condition, not a run time: on a loaded machine Locust may take seconds to
start), then is stopped with SIGTERM, which Locust handles like the end of its run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.judge.checks import check_sticky_sessions
from harness.judge.history import History, RequestRecord, read_jsonl
from harness.machinery.waiting import wait_until
from tests.unit.fake_node import FakeNode, closed_port

ROOT = Path(__file__).resolve().parents[2]
LOCUSTFILE = ROOT / "locustfiles" / "sticky_sessions.py"
NODE = "node7"
MIN_RECORDS = 15  # per run: at least 5 per simulated user
BACKSTOP_S = 120  # Locust's own run time: only ends a run the test failed to stop


@dataclass(frozen=True)
class Run:
    history: list[RequestRecord]
    locust_failures: int
    output: str


def start_locust(folder: Path, port: int, path: str) -> subprocess.Popen[str]:
    folder.mkdir()
    env = {
        **os.environ,
        "HARNESS_HISTORY": str(folder / "history.jsonl"),
        "HARNESS_PATH": path,
        "HARNESS_WAIT_MIN": "0.05",
        "HARNESS_WAIT_MAX": "0.1",
        "HARNESS_TIMEOUT_S": "2",
    }
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(LOCUSTFILE),
        "--headless",
        "-u",
        "3",
        "-r",
        "3",
        "-t",
        f"{BACKSTOP_S}s",
        "--host",
        f"http://127.0.0.1:{port}",
        "--only-summary",
        "--exit-code-on-error",
        "0",
        "--json-file",
        str(folder / "stats"),
    ]
    return subprocess.Popen(command, cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def recorded(folder: Path) -> int:
    try:
        return (folder / "history.jsonl").read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def finish(process: subprocess.Popen[str], folder: Path) -> Run:
    wait_until(
        lambda: recorded(folder) >= MIN_RECORDS or process.poll() is not None,
        timeout=60,
        interval=0.1,
        what=f"locust run {folder.name} to record {MIN_RECORDS} requests",
        describe=lambda: f"{recorded(folder)} recorded, locust exit code {process.poll()}",
    )
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, f"locust exited {process.returncode}:\n{output[-3000:]}"
    entries = json.loads((folder / "stats.json").read_text(encoding="utf-8"))
    failures = sum(int(entry["num_failures"]) for entry in entries)
    return Run(read_jsonl(folder / "history.jsonl"), failures, output)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, Run], FakeNode]]:
    base = tmp_path_factory.mktemp("locust")
    with FakeNode(NODE) as node:
        port = node.port
        targets = {
            "ok": (port, "/app/"),
            "missing": (port, "/missing/"),
            "boom": (port, "/boom/"),
            "drop": (port, "/drop/"),
            "refused": (closed_port(), "/app/"),
        }
        started = {name: start_locust(base / name, p, path) for name, (p, path) in targets.items()}
        yield {name: finish(process, base / name) for name, process in started.items()}, node


def test_records_every_request_with_contract_fields(runs: tuple[dict[str, Run], FakeNode]) -> None:
    history = runs[0]["ok"].history
    assert len(history) >= 3 * 5, runs[0]["ok"].output[-2000:]
    assert {r.user for r in history} == {"u1", "u2", "u3"}
    assert runs[0]["ok"].locust_failures == 0
    for record in history:
        assert (record.status, record.node, record.error, record.path) == (200, NODE, None, "/app/")
        assert record.t <= record.t_end
        assert record.latency_ms == pytest.approx((record.t_end - record.t) * 1000, abs=0.01)


def test_sessions_stick_and_cookies_are_tracked(runs: tuple[dict[str, Run], FakeNode]) -> None:
    history = History(runs[0]["ok"].history)
    by_user = history.by_user()
    assert len(history.by_session()) == 3  # one session per user, kept by each user's cookie jar
    for user, records in by_user.items():
        first, rest = records[0], records[1:]
        assert (first.route, first.new_route) == (None, NODE), user  # the first request creates the session
        assert first.session is not None and first.is_new_session
        assert all((r.session, r.route, r.new_route) == (first.session, NODE, NODE) for r in rest), user
    assert check_sticky_sessions(history).valid


def test_counters_increase_per_session(runs: tuple[dict[str, Run], FakeNode]) -> None:
    history = History(runs[0]["ok"].history)
    node = runs[1]
    with node.lock:
        served = list(node.served)
    for session, records in history.by_session().items():
        counters = [counter for s, counter in served if s == session]
        assert counters == list(range(1, len(counters) + 1)), session
        # a request cut off by Locust's stop can be served but not recorded
        assert len(counters) - len(records) in (0, 1), session


@pytest.mark.parametrize(("run", "status", "error"), [("missing", 404, "HTTP 404"), ("boom", 503, "HTTP 503")])
def test_http_errors_recorded_and_marked_failed(
    runs: tuple[dict[str, Run], FakeNode], run: str, status: int, error: str
) -> None:
    result = runs[0][run]
    assert result.history, result.output[-2000:]
    seen = {(r.status, r.node, r.error, r.session, r.route) for r in result.history}
    assert seen == {(status, None, error, None, None)}
    assert result.locust_failures == len(result.history)


def test_connection_errors_recorded_as_status_0(runs: tuple[dict[str, Run], FakeNode]) -> None:
    result = runs[0]["refused"]
    assert result.history, result.output[-2000:]
    assert {(r.status, r.node) for r in result.history} == {(0, None)}
    assert all(r.error is not None and "refused" in r.error.lower() for r in result.history)
    assert all(r.failed for r in result.history)
    assert result.locust_failures == len(result.history)


def test_missing_history_env_fails_clearly(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "HARNESS_HISTORY"}
    command = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "-t", "1s", "--host", "http://x"]
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    assert "HARNESS_HISTORY" in result.stdout + result.stderr


def test_dropped_connections_are_not_resent(runs: tuple[dict[str, Run], FakeNode]) -> None:
    """geventhttpclient would resend a GET whose connection closed unanswered; each drop must be one record."""
    result, node = runs[0]["drop"], runs[1]
    assert result.history, result.output[-2000:]
    assert {(r.status, r.node) for r in result.history} == {(0, None)}
    assert result.locust_failures == len(result.history)
    with node.lock:
        drops = node.drops
    assert 0 <= drops - len(result.history) <= 3  # a request cut off by Locust's stop per user at most
