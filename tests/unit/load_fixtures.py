"""What the Locust tests share: a fake node per test, the check that the pytest process never imports
Locust, and whether a process still exists."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator

import pytest

from tests.unit.fake_node import FakeNode


def node_fixture(name: str) -> Callable[[], Iterator[FakeNode]]:
    """A `node` fixture serving a fake node called `name` for one test."""

    @pytest.fixture
    def node() -> Iterator[FakeNode]:
        with FakeNode(name) as server:
            yield server

    return node  # type: ignore[no-any-return]


@pytest.fixture(autouse=True)
def locust_stays_out() -> Iterator[None]:
    yield
    assert "locust" not in sys.modules and "gevent" not in sys.modules


def alive(pid: int) -> bool:
    """The process exists (LoadRun reaps what it ends, so an ended Locust leaves no zombie behind)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
