"""A background thread polling the balancer's view (`snapshot()`) every `interval_s` while a run goes on.

    sampler = BalancerSampler(cluster.get_balancer().snapshot, interval_s=0.5).start()
    try:
        ...                       # the timeline
    finally:
        sampler.stop()            # joined; sampler.samples() are harness.judge.samples.BalancerSample

One poll at a time: the next starts `interval_s` after the previous one started, or at once when a poll
took longer. A poll that raises is recorded as a failed sample (its error text), never raised. `stop()`
wakes the thread at once and joins it (a poll still running is waited for up to `join_timeout_s`).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Any

from harness.judge.samples import BalancerSample, NodeSample, failed_sample
from harness.machinery.contracts import BalancerState

DEFAULT_INTERVAL_S = 0.5


def sample_of(t_start: float, t_end: float, state: BalancerState) -> BalancerSample:
    """One successful poll of `state`."""
    nodes = {name: NodeSample(node.up, dict(node.contexts)) for name, node in state.nodes.items()}
    return BalancerSample(t_start, t_end, nodes)


class BalancerSampler:
    def __init__(
        self,
        snapshot: Callable[[], BalancerState],
        interval_s: float = DEFAULT_INTERVAL_S,
        *,
        join_timeout_s: float = 30.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not isinstance(interval_s, (int, float)) or not math.isfinite(interval_s) or not 0.01 <= interval_s <= 60:
            raise ValueError(f"interval_s: got {interval_s!r}; expected seconds in 0.01..60")
        self.snapshot, self.interval_s, self.join_timeout_s, self.clock = snapshot, interval_s, join_timeout_s, clock
        self._samples: list[BalancerSample] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> BalancerSampler:
        if self._thread is not None:
            raise RuntimeError("sampler already started")
        self._thread = threading.Thread(target=self._run, name="balancer-sampler", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> bool:
        """Stop polling and join the thread; False when a poll was still running after `join_timeout_s`."""
        self._stopping.set()
        if self._thread is None:
            return True
        self._thread.join(self.join_timeout_s)
        return not self._thread.is_alive()

    def samples(self) -> list[BalancerSample]:
        with self._lock:
            return list(self._samples)

    def stats(self) -> dict[str, Any]:
        """How the sampling went: count, failed polls, achieved rate, poll durations (mean, max)."""
        samples = self.samples()
        durations = [s.t_end - s.t_start for s in samples]
        span = samples[-1].t_end - samples[0].t_start if len(samples) > 1 else 0.0
        return {
            "interval_s": self.interval_s,
            "samples": len(samples),
            "failed": sum(not s.ok for s in samples),
            "rate_per_s": round((len(samples) - 1) / span, 3) if span > 0 else None,
            "poll_mean_s": round(sum(durations) / len(durations), 4) if durations else None,
            "poll_max_s": round(max(durations), 4) if durations else None,
        }

    def _run(self) -> None:
        while not self._stopping.is_set():
            started = self.clock()
            try:
                state = self.snapshot()
                sample = sample_of(started, self.clock(), state)
            except Exception as exc:  # recorded: an unreadable balancer is evidence, not an error of the run
                sample = failed_sample(started, self.clock(), exc)
            with self._lock:
                self._samples.append(sample)
            # the tick: woken at once by stop()
            self._stopping.wait(max(0.0, self.interval_s - (self.clock() - started)))


__all__ = ["DEFAULT_INTERVAL_S", "BalancerSampler", "sample_of"]
