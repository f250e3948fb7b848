"""Parallel runs (pytest-xdist): a worker's own run id, and one image build / download at a time across processes."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.machinery.locks import cross_process_lock

ROOT = Path(__file__).resolve().parents[2]


def _run_id(env: dict[str, str]) -> str:
    code = "from harness.descriptions import settings; print(settings.run_id())"
    clean = {k: v for k, v in os.environ.items() if k not in ("HARNESS_RUN_ID", "PYTEST_XDIST_WORKER")}
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**clean, "PYTHONPATH": str(ROOT), **env},
    )
    return result.stdout.strip()


def test_each_xdist_worker_of_a_named_run_has_its_own_run_id() -> None:
    assert _run_id({"HARNESS_RUN_ID": "nightly1", "PYTEST_XDIST_WORKER": "gw1"}) == "nightly1-gw1"
    assert _run_id({"HARNESS_RUN_ID": "nightly1"}) == "nightly1"
    assert _run_id({"PYTEST_XDIST_WORKER": "gw0"}).endswith("-gw0")


def test_the_lock_excludes_another_process_until_released(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path))
    lock_file = tmp_path / "locks" / "image-mc-harness_probe_abc.lock"
    probe = (
        "import fcntl,sys; f=open(sys.argv[1],'a+')\n"
        "try: fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB); print('free')\n"
        "except BlockingIOError: print('held')"
    )

    def other_process_sees() -> str:
        return subprocess.run(
            [sys.executable, "-c", probe, str(lock_file)], capture_output=True, text=True, check=True
        ).stdout.strip()

    with cross_process_lock("image-mc-harness/probe:abc"):
        assert lock_file.is_file()
        assert other_process_sees() == "held"
    assert other_process_sees() == "free"
    with open(lock_file, "a+") as handle:  # and this process can take it again
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
