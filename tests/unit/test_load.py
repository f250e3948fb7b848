"""harness.load: a real Locust subprocess against a fake node (tests.unit.fake_node) served by a thread of this
process.

The pytest process never imports locust (checked after every test); only the Locust subprocesses do.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from harness.descriptions.topology import LoadProfile
from harness.judge.history import History, read_jsonl
from harness.machinery.load import HISTORY_FILE, LOG_FILE, LoadError, LoadRun, run_for
from harness.machinery.waiting import WaitTimeout
from tests.unit.fake_node import FakeNode
from tests.unit.load_fixtures import alive, locust_stays_out, node_fixture

__all__ = ["locust_stays_out"]  # the autouse fixture, imported to apply here
NODE = "node3"
PROFILE = LoadProfile(users=3, spawn_rate=30, wait_s=(0.02, 0.05))


node = node_fixture(NODE)


def _pid(run: LoadRun) -> int:
    (pid,) = run.pids
    return pid


def test_records_while_running_and_stops_gracefully(node: FakeNode, tmp_path: Path) -> None:
    with LoadRun() as run:
        run.start(node.url, PROFILE, tmp_path)
        assert run.running
        seen = run.wait_for_steady_state(10, window_s=0.5, min_rps=10, max_error_rate=0.0)
        assert len(seen) >= 5 and run.running
        later = run.wait_for_records(len(seen) + 5, timeout=5)
        assert set(seen) <= set(later) and later == sorted(later, key=lambda r: (r.t, r.t_end))  # grows, in order
        result = run.stop()
    assert (result.how, result.exit_code) == ("stopped", 0)
    assert not alive(_pid(run))
    assert run.stop() is result  # idempotent
    records = result.history.records
    assert len(records) >= len(later)
    assert {r.user for r in records} == {"u1", "u2", "u3"}
    assert {(r.node, r.status) for r in records} == {(NODE, 200)}
    assert result.per_node == {NODE: len(records)} and result.failures == 0 and result.rps > 10
    assert len(History(records).by_session()) == 3
    names = {p.name for p in result.stats_paths}
    assert {"locust_stats.csv", "locust_stats_history.csv", "locust_failures.csv", "locust.json"} <= names
    assert result.locust_requests is not None and result.locust_requests >= len(records)
    assert (tmp_path / HISTORY_FILE).is_file() and "Starting Locust" in (tmp_path / LOG_FILE).read_text()
    assert "Aggregated" in (tmp_path / "locust_stats.csv").read_text()
    files = run.evidence_files()
    assert {HISTORY_FILE, LOG_FILE, "locust.json", "locust_stats.csv"} <= set(files)
    assert run.records() == list(records)  # still readable after stop
    assert History(read_jsonl(result.history_path)).records == records == tuple(read_jsonl(result.history_path))


def test_steady_state_not_reached_while_requests_fail(node: FakeNode, tmp_path: Path) -> None:
    node.failing = True
    with LoadRun() as run:
        run.start(node.url, PROFILE, tmp_path)
        with pytest.raises(WaitTimeout) as caught:
            run.wait_for_steady_state(1.5, window_s=0.5, min_rps=5, max_error_rate=0.1)
        assert "failed" in str(caught.value) and "steady load" in str(caught.value)
        node.failing = False
        run.wait_for_steady_state(10, window_s=0.5, min_rps=5, max_error_rate=0.0)
        result = run.stop()
    statuses = [r.status for r in result.history.records]
    assert statuses[0] == 503 and statuses[-1] == 200
    assert result.failures == statuses.count(503) and result.per_node.get(NODE, 0) == statuses.count(200)


def test_bad_locustfile_raises_with_traceback(node: FakeNode, tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("import os\nraise RuntimeError('no such thing as a free lunch')\n")
    run = LoadRun(locustfiles_dir=tmp_path)
    started = time.monotonic()
    with pytest.raises(LoadError) as caught:
        run.start(node.url, LoadProfile(locustfile="broken.py"), tmp_path / "out")
    message = str(caught.value)
    assert "Traceback (most recent call last)" in message and 'broken.py", line 2' in message
    assert "RuntimeError: no such thing as a free lunch" in message and "code 1" in message
    assert time.monotonic() - started < 10 and not run.running


def test_missing_locustfile_named(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="'absent.py' not found in"):
        LoadRun(locustfiles_dir=tmp_path).start("http://127.0.0.1:9", LoadProfile(locustfile="absent.py"), tmp_path)


def test_run_for_ends_on_its_own(node: FakeNode, tmp_path: Path) -> None:
    result = run_for(node.url, PROFILE, tmp_path, 2)
    assert (result.how, result.exit_code) == ("ended", 0)
    # how many requests fit in 1 s depends on the machine's load; that the run recorded and ended does not
    assert result.history and result.per_node == {NODE: len(result.history)}
    assert 2 <= result.duration_s < 15


def test_stuck_shutdown_is_killed_at_the_deadline(node: FakeNode, tmp_path: Path) -> None:
    stuck = tmp_path / "files" / "stuck.py"
    stuck.parent.mkdir()
    source = (Path(__file__).resolve().parents[2] / "locustfiles" / "sticky_sessions.py").read_text()
    stuck.write_text(
        source + "\n\n@events.quitting.add_listener\ndef _hang(**_kw: Any) -> None:\n"
        "    import time as _t\n    _t.sleep(60)\n"
    )
    run = LoadRun(locustfiles_dir=stuck.parent, stop_timeout_s=1.0)
    run.start(node.url, LoadProfile(users=2, spawn_rate=20, wait_s=(0.02, 0.05), locustfile="stuck.py"), tmp_path)
    run.wait_for_records(3, timeout=10)
    started = time.monotonic()
    result = run.stop()
    assert result.how == "killed" and result.exit_code is None
    assert time.monotonic() - started < 5 and not alive(_pid(run))
    assert len(result.history) >= 3  # what was written survives the kill


def test_locust_dies_with_a_failing_test(node: FakeNode, tmp_path: Path) -> None:
    with pytest.raises(ZeroDivisionError), LoadRun() as run:
        run.start(node.url, PROFILE, tmp_path)
        1 / 0
    assert not alive(_pid(run)) and not run.running


def test_locustfile_without_history_is_an_error(node: FakeNode, tmp_path: Path) -> None:
    (tmp_path / "silent.py").write_text(
        "from locust import FastHttpUser, constant, task\n\n"
        "class Quiet(FastHttpUser):\n    wait_time = constant(0.02)\n\n"
        "    @task\n    def get(self) -> None:\n        self.client.get('/app/')\n"
    )
    with LoadRun(locustfiles_dir=tmp_path) as run:
        run.start(node.url, LoadProfile(users=1, locustfile="silent.py"), tmp_path / "out")
        with pytest.raises(WaitTimeout):
            run.wait_for_records(1, timeout=0.5)
        with pytest.raises(LoadError, match="wrote no history") as caught:
            run.stop()
    assert caught.value.result is not None and caught.value.result.locust_requests


def test_records_before_start_is_an_error() -> None:
    with pytest.raises(LoadError, match="before start"):
        LoadRun().records()


def test_locust_dying_mid_run_fails_the_wait_at_once(node: FakeNode, tmp_path: Path) -> None:
    crash = tmp_path / "files" / "crash.py"
    crash.parent.mkdir()
    source = (Path(__file__).resolve().parents[2] / "locustfiles" / "sticky_sessions.py").read_text()
    crash.write_text(source + "\n\nimport gevent as _g\n_g.spawn_later(0.5, os._exit, 3)\n")
    started = time.monotonic()
    with pytest.raises(LoadError, match="exited with code 3 while waiting for steady load") as caught:
        with LoadRun(locustfiles_dir=crash.parent) as run:
            run.start(node.url, LoadProfile(locustfile="crash.py", users=2, spawn_rate=20), tmp_path / "out")
            run.wait_for_steady_state(30, window_s=5.0, min_rps=1)
    assert time.monotonic() - started < 10 and not run.running
    assert "Starting Locust" in str(caught.value)  # the log tail, there being no traceback


def test_locustfile_without_user_class_is_not_started(node: FakeNode, tmp_path: Path) -> None:
    (tmp_path / "empty.py").write_text("from locust import events\n\nPATH = '/app/'\n")
    run = LoadRun(locustfiles_dir=tmp_path)
    started = time.monotonic()
    with pytest.raises(LoadError) as caught:
        run.start(node.url, LoadProfile(locustfile="empty.py"), tmp_path / "out")
    message = str(caught.value)
    assert str(tmp_path / "empty.py") in message and "No User class found!" in message
    assert time.monotonic() - started < 10 and not run.running and not alive(_pid(run))
