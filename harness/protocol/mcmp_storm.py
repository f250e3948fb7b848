"""A registration storm: many nodes registering with the balancer at once, as a cluster's nodes do after an
outage, over several keep-alive MCMP connections in parallel.

Each route ("storm0001", ...) sends CONFIG (Host/Port/Type of a node that need not exist) and then
ENABLE-APP of each context, the way the Java node registers. Every reply is kept: the storm is clean when
every message got 200 and DUMP then lists every route once, each with its own node id. A route whose
message got an error reply (`Type=MEM`, `Mess=...`) or no reply at all is not retried: a storm that needs
retries is exactly what it measures. With `status_rounds`, every route then sends STATUS round after round
(harness.protocol.mcmp_status_rounds): clean also needs every STATUS answered 200.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from harness.protocol.balancer_info import parse_dump
from harness.protocol.mcmp import McmpProtocolError, McmpResponse
from harness.protocol.mcmp_client import McmpClient, McmpTransportError
from harness.protocol.mcmp_status_rounds import StatusRounds, run_status_rounds


@dataclass(frozen=True)
class StormPlan:
    nodes: int
    connections: int = 50
    contexts: tuple[str, ...] = ("/app",)
    alias: str = "localhost"
    node_host: str = "127.0.0.1"  # a node address nobody answers on is fine: no request is proxied
    first_port: int = 20000
    prefix: str = "storm"
    status_rounds: int = 0  # rounds of STATUS from every route after the registration
    status_interval_s: float = 10.0  # between the rounds' starts
    status_timeout_s: float | None = None  # per STATUS (None: the storm's timeout)

    def routes(self) -> list[str]:
        width = len(str(self.nodes))
        return [f"{self.prefix}{i:0{width}d}" for i in range(1, self.nodes + 1)]


@dataclass
class StormResult:
    messages: int = 0
    replies: Counter[str] = field(default_factory=Counter)  # "200" / "MEM" / "SYNTAX" / "no reply: ..."
    failed_routes: list[str] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)  # the first few error replies, exactly
    seconds: float = 0.0
    listed: int = 0  # storm routes DUMP lists afterwards
    duplicate_ids: list[int] = field(default_factory=list)
    dump_error: str = ""
    status: StatusRounds | None = None

    @property
    def errors(self) -> int:
        return self.messages - self.replies["200"]

    def clean(self, nodes: int) -> bool:
        registered = self.errors == 0 and self.listed == nodes and not self.duplicate_ids and not self.dump_error
        return registered and (self.status is None or self.status.errors == 0)

    def describe(self, nodes: int) -> str:
        kinds = ", ".join(f"{k}: {v}" for k, v in sorted(self.replies.items()))
        text = (
            f"{nodes} nodes, {self.messages} messages in {self.seconds:.1f} s ({kinds}); "
            f"{len(self.failed_routes)} routes got an error; DUMP lists {self.listed} of {nodes}"
        )
        if self.duplicate_ids:
            text += f"; node ids used twice: {self.duplicate_ids[:10]}"
        if self.dump_error:
            text += f"; DUMP: {self.dump_error}"
        if self.status is not None:
            text += f"; {self.status.describe()}"
        return text


def _register(client: McmpClient, plan: StormPlan, route: str, index: int) -> tuple[list[str], str | None]:
    """The reply kinds of one route's messages, and the first error reply's text (None when all were 200)."""
    kinds: list[str] = []
    messages: list[Callable[[], McmpResponse]] = [
        partial(client.config, route, Host=plan.node_host, Port=plan.first_port + index, Type="http")
    ]
    messages += [partial(client.enable_app, route, context, plan.alias) for context in plan.contexts]
    for send in messages:
        try:
            reply = send()
        except (McmpTransportError, McmpProtocolError) as exc:
            kinds.append(f"no reply: {type(exc).__name__}")
            return kinds, f"{route}: no reply: {exc}"
        kinds.append("200" if reply.ok else str(reply.error_type or reply.status))
        if not reply.ok:  # as the Java node: no ENABLE-APP after a refused CONFIG; it would start over later
            return kinds, f"{route}: {reply.status} Type={reply.error_type} Mess={reply.error_message}"
    return kinds, None


def run_storm(host: str, port: int, plan: StormPlan, *, timeout_s: float = 10.0) -> StormResult:
    """Register `plan.nodes` routes over `plan.connections` parallel connections, then read DUMP."""
    work: queue.Queue[tuple[int, str]] = queue.Queue()
    for index, route in enumerate(plan.routes()):
        work.put((index, route))
    result = StormResult()
    lock = threading.Lock()

    def worker() -> None:
        with McmpClient(host, port, timeout=timeout_s) as client:
            while True:
                try:
                    index, route = work.get_nowait()
                except queue.Empty:
                    return
                kinds, error = _register(client, plan, route, index)
                with lock:
                    result.messages += len(kinds)
                    result.replies.update(kinds)
                    if error is not None:
                        result.failed_routes.append(route)
                        if len(result.examples) < 5:
                            result.examples.append(error)

    started = time.monotonic()
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(max(1, min(plan.connections, plan.nodes)))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.seconds = time.monotonic() - started
    _read_dump(host, port, plan, result, timeout_s)
    if plan.status_rounds:
        result.status = run_status_rounds(
            host,
            port,
            plan.routes(),
            rounds=plan.status_rounds,
            interval_s=plan.status_interval_s,
            connections=plan.connections,
            timeout_s=timeout_s if plan.status_timeout_s is None else plan.status_timeout_s,
        )
    return result


def _read_dump(host: str, port: int, plan: StormPlan, result: StormResult, timeout_s: float) -> None:
    wanted = set(plan.routes())
    try:
        with McmpClient(host, port, timeout=timeout_s) as client:
            info = parse_dump(client.dump().body)
    except (McmpTransportError, McmpProtocolError, ValueError) as exc:
        result.dump_error = f"{type(exc).__name__}: {exc}"
        return
    storm = [node for node in info.nodes if node.name in wanted]
    result.listed = len({node.name for node in storm})
    ids = Counter(node.id for node in storm)
    result.duplicate_ids = sorted(i for i, n in ids.items() if n > 1)
