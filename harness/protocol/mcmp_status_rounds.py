"""STATUS rounds after a registration storm: every storm route sends STATUS (as each Java node does every
10 s) over the storm's parallel connections, round after round. Every reply and its latency is kept: a round
is clean when every STATUS got 200. Latency is reported (p50 / p99 / max), never asserted against a tight
bound here: a generous per-message timeout is what fails a message.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from harness.protocol.mcmp import McmpProtocolError
from harness.protocol.mcmp_client import McmpClient, McmpTransportError


@dataclass
class StatusRounds:
    rounds: int = 0
    messages: int = 0
    replies: Counter[str] = field(default_factory=Counter)  # "200" / error type / "no reply: ..."
    latencies_s: list[float] = field(default_factory=list)  # of every STATUS that got a reply
    examples: list[str] = field(default_factory=list)
    round_seconds: list[float] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return self.messages - self.replies["200"]

    def percentile_ms(self, q: float) -> float:
        if not self.latencies_s:
            return float("nan")
        ordered = sorted(self.latencies_s)
        return 1000.0 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    def describe(self) -> str:
        kinds = ", ".join(f"{k}: {v}" for k, v in sorted(self.replies.items()))
        longest = max(self.round_seconds, default=0.0)
        return (
            f"STATUS {self.rounds} rounds, {self.messages} messages ({kinds}); latency p50 "
            f"{self.percentile_ms(0.5):.1f} ms, p99 {self.percentile_ms(0.99):.1f} ms, max "
            f"{self.percentile_ms(1.0):.1f} ms; longest round {longest:.1f} s"
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "rounds": self.rounds,
            "messages": self.messages,
            "replies": dict(self.replies),
            "examples": self.examples,
            "p50_ms": round(self.percentile_ms(0.5), 1),
            "p99_ms": round(self.percentile_ms(0.99), 1),
            "max_ms": round(self.percentile_ms(1.0), 1),
            "round_seconds": [round(s, 2) for s in self.round_seconds],
        }


def run_status_rounds(
    host: str,
    port: int,
    routes: list[str],
    *,
    rounds: int,
    interval_s: float,
    connections: int,
    timeout_s: float,
    load: int = 50,
) -> StatusRounds:
    """`rounds` rounds of STATUS for every route, starting `interval_s` apart (at once when a round ran
    longer), each over `connections` parallel keep-alive connections."""
    result = StatusRounds()
    lock = threading.Lock()
    first = time.monotonic()
    for index in range(rounds):
        start_at = first + index * interval_s
        pause = start_at - time.monotonic()
        if pause > 0:
            time.sleep(pause)  # the nodes' STATUS schedule, not a wait for a condition
        work: queue.Queue[str] = queue.Queue()
        for route in routes:
            work.put(route)

        def worker(work: queue.Queue[str]) -> None:
            with McmpClient(host, port, timeout=timeout_s) as client:
                while True:
                    try:
                        route = work.get_nowait()
                    except queue.Empty:
                        return
                    sent = time.monotonic()
                    latency: float | None = None
                    error: str | None = None
                    try:
                        reply = client.status(route, load)
                    except (McmpTransportError, McmpProtocolError) as exc:
                        kind, error = f"no reply: {type(exc).__name__}", f"{route}: no reply: {exc}"
                    else:
                        latency = time.monotonic() - sent
                        kind = "200" if reply.ok else str(reply.error_type or reply.status)
                        error = (
                            None
                            if reply.ok
                            else f"{route}: {reply.status} Type={reply.error_type} Mess={reply.error_message}"
                        )
                    with lock:
                        result.messages += 1
                        result.replies[kind] += 1
                        if latency is not None:
                            result.latencies_s.append(latency)
                        if error is not None and len(result.examples) < 5:
                            result.examples.append(error)

        began = time.monotonic()
        threads = [
            threading.Thread(target=worker, args=(work,), daemon=True)
            for _ in range(max(1, min(connections, len(routes))))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        result.round_seconds.append(time.monotonic() - began)
        result.rounds += 1
    return result
