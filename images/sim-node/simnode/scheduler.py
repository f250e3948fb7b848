"""Runs every node's MCMP tick on a small shared thread pool (MCMP calls block; 500 nodes share ~16 threads).

Each agent has at most one tick queued or running. `wake(agent)` asks for a tick now (a new proxy, a
control command); a tick returns when it wants the next one. Blocking jobs that are not ticks (graceful
stop, context commands) go through `submit()`.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from simnode.agent import McmpAgent

log = logging.getLogger("simnode.scheduler")


class Scheduler:
    def __init__(self, workers: int) -> None:
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="mcmp")
        self._heap: list[tuple[float, int, McmpAgent]] = []
        self._seq = itertools.count()
        self._due: dict[int, float] = {}  # id(agent) -> when its one pending tick is due
        self._running: set[int] = set()
        self._again: set[int] = set()  # woken while running: tick again at once
        self._cond = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="mcmp-scheduler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        self.pool.shutdown(wait=False, cancel_futures=True)

    def wake(self, agent: McmpAgent, when: float | None = None) -> None:
        """Tick `agent` at `when` (monotonic; None: now), unless an earlier tick is already pending."""
        when = time.monotonic() if when is None else when
        key = id(agent)
        with self._cond:
            if key in self._running:
                if when <= time.monotonic():
                    self._again.add(key)
                return
            if key in self._due and self._due[key] <= when:
                return
            self._due[key] = when
            heapq.heappush(self._heap, (when, next(self._seq), agent))
            self._cond.notify()

    def submit(self, job: Callable[..., Any], *args: Any) -> Future[Any]:
        return self.pool.submit(self._guarded, job, *args)

    @staticmethod
    def _guarded(job: Callable[..., Any], *args: Any) -> Any:
        try:
            return job(*args)
        except Exception:
            log.exception("job %s failed", getattr(job, "__qualname__", job))
            raise

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopped and (not self._heap or self._heap[0][0] > time.monotonic()):
                    timeout = self._heap[0][0] - time.monotonic() if self._heap else None
                    self._cond.wait(timeout)
                if self._stopped:
                    return
                when, _, agent = heapq.heappop(self._heap)
                key = id(agent)
                if self._due.get(key) != when:
                    continue  # superseded by an earlier wake
                del self._due[key]
                self._running.add(key)
            try:
                self.pool.submit(self._tick, agent)
            except RuntimeError:  # pool shut down
                return

    def _tick(self, agent: McmpAgent) -> None:
        next_at: float | None = None
        try:
            next_at = agent.tick()
        except Exception:
            log.exception("%s: MCMP tick failed", agent.name)
            next_at = time.monotonic() + agent.config.status_interval_s
        key = id(agent)
        with self._cond:
            self._running.discard(key)
            again = key in self._again
            self._again.discard(key)
        if again:
            self.wake(agent)
        elif next_at is not None:
            self.wake(agent, next_at)
