"""Fakes for the reproduction runner's unit tests: a ScenarioRun, cluster, balancer and load in this process.

`FakeScenario` keeps the events the runner caused (`cluster`, `apply KIND:TARGETS`, `heal ...`) in order; its
balancer answers `snapshot()` and the `wait_for_*` predicates from a `BalancerState` it changes when a node
is killed or healed (no waiting: a predicate that does not hold times out at once); MCMP goes to a real
socket when a port is given (tests.unit.simnode_fakes.FakeBalancer). The load replays a saved history.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from harness.descriptions.faults import FaultSpec, Kill
from harness.descriptions.options import HarnessOptions
from harness.descriptions.timeline import fault_id
from harness.descriptions.topology import LoadProfile, Topology
from harness.judge.checks import Verdict
from harness.judge.history import FaultWindow, History
from harness.machinery.contracts import BalancerState, NodeState
from harness.machinery.waiting import WaitTimeout


class FakeBalancer:
    def __init__(self, topology: Topology, mcmp_port: int = 1) -> None:
        self.port = mcmp_port
        self.logs = {"error_log": "[notice] resuming normal operations\n"}
        self.nodes = {
            n.name: NodeState(n.name, True, n.load, {c: "ENABLED" for c in n.contexts}) for n in topology.nodes
        }

    def set(self, name: str, **changes: Any) -> None:
        self.nodes[name] = dataclasses.replace(self.nodes[name], **changes)

    def mcmp_address(self) -> tuple[str, int]:
        return "127.0.0.1", self.port

    def snapshot(self) -> BalancerState:
        return BalancerState(nodes=dict(self.nodes))

    def evidence_files(self) -> dict[str, str]:
        return dict(self.logs)

    def _hold(self, ok: bool, what: str, timeout: float) -> BalancerState:
        if not ok:
            raise WaitTimeout(what, timeout, self.snapshot().summary())
        return self.snapshot()

    def wait_for_nodes_registered(self, names: list[str], timeout: float = 30.0) -> BalancerState:
        return self._hold(all(n in self.nodes for n in names), f"nodes {names} registered", timeout)

    def wait_for_node_up(self, name: str, timeout: float = 30.0) -> BalancerState:
        return self._hold(name in self.nodes and self.nodes[name].up is True, f"node {name} up", timeout)

    def wait_for_node_down(self, name: str, timeout: float = 30.0) -> BalancerState:
        return self._hold(name in self.nodes and self.nodes[name].up is False, f"node {name} down", timeout)

    def wait_for_node_gone(self, name: str, timeout: float = 60.0) -> BalancerState:
        return self._hold(name not in self.nodes, f"node {name} gone", timeout)

    def wait_for_context(self, name: str, path: str, status: str = "ENABLED", timeout: float = 30.0) -> BalancerState:
        ok = name in self.nodes and self.nodes[name].contexts.get(path) == status
        return self._hold(ok, f"context {path} of {name} {status}", timeout)

    def wait_for_load(self, name: str, load: int, timeout: float = 30.0) -> BalancerState:
        return self._hold(name in self.nodes and self.nodes[name].load == load, f"load {load} of {name}", timeout)


class FakeCluster:
    def __init__(self, topology: Topology, balancer: FakeBalancer) -> None:
        self.topology, self.balancer = topology, balancer
        self.windows: list[FaultWindow] = []
        self.states: list[str] = []

    def get_balancer(self) -> FakeBalancer:
        return self.balancer

    def record_state(self, label: str) -> None:
        self.states.append(label)

    def wait_for_healthy(self, timeout: float = 60.0, label: str = "") -> None:
        self.states.append(label)


class FakeLoad:
    """The saved history as the load's records; `flowing`: more requests keep coming (waits for N more hold)."""

    def __init__(self, history: History, flowing: bool = True) -> None:
        self.saved, self.flowing = history, flowing

    def records(self) -> list[Any]:
        return list(self.saved.records)

    def wait_for_steady_state(self, timeout: float, **kwargs: Any) -> list[Any]:
        return self.records()

    def wait_for_records(self, count: int, timeout: float) -> list[Any]:
        if not self.flowing and len(self.saved.records) < count:
            raise WaitTimeout(f"{count} recorded requests", timeout, f"{len(self.saved.records)} records")
        return self.records()


class FakeScenario:
    """What the runner uses of a ScenarioRun. `fail_on(fault_id)` makes applying that fault raise."""

    def __init__(
        self,
        history: History | None = None,
        *,
        options: HarnessOptions | None = None,
        nodeid: str = "test_x",
        mcmp_port: int = 1,
        events: list[str] | None = None,
        raise_on: Callable[[str], BaseException | None] | None = None,
    ) -> None:
        self.options = options or HarnessOptions(evidence_dir=Path("/evidence"))
        self.saved = history or History(())
        self.nodeid, self.mcmp_port = nodeid, mcmp_port
        self.events: list[str] = [] if events is None else events
        self.health: list[str] = []  # health checks around each fault (before / after its heal)
        self.raise_on = raise_on or (lambda what: None)
        self.verdicts: list[Verdict] = []
        self.evidence_json: dict[str, Any] = {}
        self.attachments: dict[str, str] = {}
        self.children: list[FakeScenario] = []
        self.clusters: list[FakeCluster] = []
        self.finished: bool | None = None

    def _event(self, what: str) -> None:
        self.events.append(what)
        problem = self.raise_on(what)
        if problem is not None:
            raise problem

    def cluster(self, topology: Topology, *, faults: tuple[FaultSpec, ...] = ()) -> FakeCluster:
        self._event(f"cluster {self.nodeid}")
        cluster = FakeCluster(topology, FakeBalancer(topology, self.mcmp_port))
        self.clusters.append(cluster)
        return cluster

    def load(self, cluster: FakeCluster, profile: LoadProfile) -> FakeLoad:
        return FakeLoad(self.saved)

    @contextmanager
    def fault(self, cluster: FakeCluster, fault: FaultSpec, **kwargs: Any) -> Iterator[FaultWindow]:
        name = fault_id(fault)
        self._event(f"apply {name}")
        before = kwargs.get("wait_for_healthy", True)
        self.health.append(f"{'healthy' if before else 'not checked'} before {name}")
        window = FaultWindow(fault.kind, fault.targets() or ("balancer",), float(len(self.events)), None)
        cluster.windows.append(window)
        if isinstance(fault, Kill):
            cluster.balancer.set(fault.node, up=False)
        try:
            yield window
        finally:
            self.events.append(f"heal {name}")
            after = kwargs["wait_after"]() if kwargs.get("wait_after") else before
            self.health.append(f"{'healthy' if after else 'not checked'} after {name}")
            if isinstance(fault, Kill):
                cluster.balancer.set(fault.node, up=True)
            cluster.windows[cluster.windows.index(window)] = dataclasses.replace(window, end=float(len(self.events)))

    def attach(self, name: str, text: str) -> None:
        self.attachments[name] = text

    def history(self, load: FakeLoad) -> History:
        return load.saved

    def judge(self, *verdicts: Verdict) -> list[Verdict]:
        self.verdicts.extend(verdicts)
        return list(verdicts)

    def child(self, label: str) -> FakeScenario:
        run = FakeScenario(
            self.saved,
            options=self.options,
            nodeid=f"{self.nodeid}::{label}",
            mcmp_port=self.mcmp_port,
            events=self.events,
            raise_on=self.raise_on,
        )
        self.children.append(run)
        return run

    @property
    def evidence_path(self) -> Path:
        return self.options.evidence_dir / self.nodeid.replace("::", "__")

    def finish(self, failed: bool) -> None:
        self.events.append(f"finish {self.nodeid} failed={failed}")
        self.finished = failed
