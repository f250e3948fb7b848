"""harness.machinery.load with several Locust processes (LoadProfile.processes) against a fake node served
by a thread of this process (tests.unit.fake_node): one merged history, every request in it once, in order.

The pytest process never imports locust (checked after every test); only the Locust subprocesses do.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from harness.descriptions.topology import LoadProfile
from harness.judge.history import RequestRecord, read_jsonl
from harness.machinery import load
from harness.machinery.history_tail import order_key
from harness.machinery.load import HISTORY_FILE, LoadError, LoadRun, process_count, run_for, user_shares
from harness.machinery.waiting import wait_until
from tests.unit.fake_node import FakeNode
from tests.unit.load_fixtures import alive, locust_stays_out, node_fixture

__all__ = ["locust_stays_out"]  # the autouse fixture, imported to apply here
NODE = "node4"
STICKY = Path(__file__).resolve().parents[2] / "locustfiles" / "sticky_sessions.py"


node = node_fixture(NODE)


def _variant(folder: Path, name: str, old: str, new: str) -> Path:
    """A copy of sticky_sessions.py with one change, as `folder/name`."""
    source = STICKY.read_text()
    assert old in source
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(source.replace(old, new))
    return folder


def _ordered(records: list[RequestRecord]) -> bool:
    return records == sorted(records, key=order_key)


def test_user_shares_and_process_count() -> None:
    assert user_shares(7, 3) == [3, 2, 2] and user_shares(3, 3) == [1, 1, 1] and user_shares(5, 1) == [5]
    assert process_count(LoadProfile(users=4, processes=3)) == 3
    assert process_count(LoadProfile(users=1, processes="auto")) == 1  # never more processes than users
    assert process_count(LoadProfile(users=64, processes="auto")) == min(os.cpu_count() or 1, 64)


def test_three_processes_record_every_request_once_in_one_ordered_history(node: FakeNode, tmp_path: Path) -> None:
    profile = LoadProfile(users=7, spawn_rate=70, wait_s=(0.01, 0.03), processes=3)
    with LoadRun() as run:
        run.start(node.url, profile, tmp_path)
        assert len(run.pids) == 3 and all(alive(pid) for pid in run.pids)
        wait_until(
            lambda: {r.user for r in run.records()} == {f"u{n}" for n in range(1, 8)},
            timeout=20,
            what="requests of all 7 users from the 3 processes",
            describe=lambda: str(sorted({r.user for r in run.records()})),
        )
        live = run.wait_for_records(len(run.records()) + 30, timeout=20)
        assert _ordered(live)  # merged while the three files are being written
        result = run.stop()
    assert (result.how, result.exit_codes, result.processes) == ("stopped", (0, 0, 0), 3)
    assert not any(alive(pid) for pid in run.pids)
    records = list(result.history.records)
    assert set(live) <= set(records) and _ordered(records)
    assert records == read_jsonl(result.history_path)  # the one merged file, in start order
    # every request Locust counted is in the history, once: each user's requests are sequential, so a
    # (user, start) pair appears once per request
    assert result.locust_requests == len(records) == len({(r.user, r.t) for r in records})
    assert result.locust_failures == 0 and {(r.node, r.status) for r in records} == {(NODE, 200)}
    # and the node agrees: it served each session's requests, at most one per user unanswered at stop
    per_session = Counter(r.session for r in records)
    assert set(per_session) == set(node.sessions) and len(per_session) == 7
    assert all(node.sessions[s] - n in (0, 1) for s, n in per_session.items())
    # user ids are unique across processes: process i numbers its users i+1, i+4, ...
    assert sorted({r.user for r in records}) == sorted(f"u{n}" for n in range(1, 8))
    logs = {p.name: p.read_text() for p in result.log_paths}
    assert sorted(logs) == ["locust.p1.log", "locust.p2.log", "locust.p3.log"]
    assert [" -u 3 " in logs["locust.p1.log"], " -u 2 " in logs["locust.p2.log"]] == [True, True]
    names = set(run.evidence_files())
    assert {HISTORY_FILE, "locust.p1.log", "locust.p3.json", "locust.p2_stats.csv"} <= names
    assert not any(name.startswith("history.p") for name in names)  # merged into history.jsonl
    assert "3 locust processes stopped, exit 0,0,0" in result.summary()


def test_run_for_with_two_processes_ends_on_its_own(node: FakeNode, tmp_path: Path) -> None:
    result = run_for(node.url, LoadProfile(users=2, spawn_rate=20, wait_s=(0.02, 0.05), processes=2), tmp_path, 2)
    assert (result.how, result.exit_codes) == ("ended", (0, 0))
    assert {r.user for r in result.history.records} == {"u1", "u2"}
    assert result.locust_requests == len(result.history)


def test_every_process_dies_with_a_failing_test_or_at_exit(node: FakeNode, tmp_path: Path) -> None:
    profile = LoadProfile(users=2, spawn_rate=20, processes=2)
    with pytest.raises(KeyboardInterrupt), LoadRun() as run:
        run.start(node.url, profile, tmp_path / "a")
        raise KeyboardInterrupt
    assert len(run.pids) == 2 and not any(alive(pid) for pid in run.pids) and not run.running
    left = LoadRun().start(node.url, profile, tmp_path / "b")  # never stopped by its owner
    assert left.running
    load._kill_leftovers()  # what interpreter exit runs
    assert not any(alive(pid) for pid in left.pids) and not left.running


def _running(pid: int) -> bool:
    """The process exists and is no zombie (a process whose parent died is reaped by whoever adopts it)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_every_process_dies_with_its_owner(node: FakeNode, tmp_path: Path) -> None:
    """The owner is SIGKILLed (no atexit, no cleanup): the kernel ends its Locust processes (PDEATHSIG)."""
    owner_code = (
        "import signal, sys\nfrom pathlib import Path\n"
        "from harness.descriptions.topology import LoadProfile\nfrom harness.machinery.load import LoadRun\n"
        f"run = LoadRun().start({node.url!r}, LoadProfile(users=2, spawn_rate=20, processes=2), Path({str(tmp_path)!r}))\n"
        "print(*run.pids, flush=True)\nsignal.pause()\n"
    )
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    with subprocess.Popen(
        [sys.executable, "-c", owner_code], cwd=root, env=env, stdout=subprocess.PIPE, text=True
    ) as owner:
        assert owner.stdout is not None
        pids = [int(pid) for pid in owner.stdout.readline().split()]
        assert len(pids) == 2 and all(_running(pid) for pid in pids)
        owner.kill()
    wait_until(
        lambda: not any(_running(pid) for pid in pids),
        timeout=10,
        what="the Locust processes to die with their owner",
        describe=lambda: str([pid for pid in pids if _running(pid)]),
    )


def test_no_user_class_fails_start_and_leaves_no_process(node: FakeNode, tmp_path: Path) -> None:
    (tmp_path / "empty.py").write_text("from locust import events\n\nPATH = '/app/'\n")
    run = LoadRun(locustfiles_dir=tmp_path)
    with pytest.raises(LoadError, match="No User class found!") as caught:
        run.start(node.url, LoadProfile(users=2, locustfile="empty.py", processes=2), tmp_path / "out")
    assert str(tmp_path / "empty.py") in str(caught.value)
    assert not run.running and not any(alive(pid) for pid in run.pids)


def test_one_process_dying_fails_the_wait_naming_it(node: FakeNode, tmp_path: Path) -> None:
    folder = _variant(
        tmp_path / "files",
        "crash2.py",
        "_user_numbers = itertools.count(USER_START, USER_STEP)\n",
        "_user_numbers = itertools.count(USER_START, USER_STEP)\nif USER_START == 2:\n"
        "    import gevent as _g\n    _g.spawn_later(0.5, os._exit, 3)\n",
    )
    profile = LoadProfile(users=2, spawn_rate=20, locustfile="crash2.py", processes=2)
    with (
        pytest.raises(LoadError, match="locust process 2/2 exited with code 3 while waiting"),
        LoadRun(locustfiles_dir=folder) as run,
    ):
        run.start(node.url, profile, tmp_path / "out")
        run.wait_for_steady_state(30, window_s=5.0, min_rps=1)
    assert not any(alive(pid) for pid in run.pids)


def test_user_ids_repeated_across_processes_are_refused(node: FakeNode, tmp_path: Path) -> None:
    folder = _variant(tmp_path / "files", "alike.py", "itertools.count(USER_START, USER_STEP)", "itertools.count(1)")
    run = LoadRun(locustfiles_dir=folder)
    run.start(node.url, LoadProfile(users=2, spawn_rate=20, locustfile="alike.py", processes=2), tmp_path / "out")
    run.wait_for_records(4, timeout=20)
    with pytest.raises(LoadError, match=r"user ids u1 were recorded by more than one Locust process") as caught:
        run.stop()
    assert caught.value.result is not None and caught.value.result.history  # the evidence is kept
