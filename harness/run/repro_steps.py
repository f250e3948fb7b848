"""A reproduction's timeline executed against a live cluster, every step recorded (`StepRecord`).

`Timeline(scenario, cluster, load).run(steps)` runs the steps in order and returns the verdicts they gave:
- `inject` enters the fault's scoped block (`scenario.fault`: health before, a window, validation by the
  flavor) and leaves it open; `heal` closes it (healed, window closed, health after); faults overlap: an
  inject while another fault is active skips the health check before it, and only the heal that leaves no
  fault active waits for the cluster to be healthy again; faults still active
  when the timeline ends are healed then, last injected first, and also when a step raised. A cluster that
  is not healthy again after a heal (the fault undone, the balancer still not serving) is an invalid verdict
  and stops the timeline, as a `wait_until healthy` that times out.
- `wait_until` polls its condition with its deadline; a timeout is an invalid verdict and stops the timeline
  (later steps would test nothing), recorded with what was last seen.
- `mcmp` sends one request with the MCMP toolkit; the exchange (raw request and reply) is recorded; a reply
  status other than `expect_status` is an invalid verdict; no reply at all is invalid and stops the timeline.
- `expect` judges its names at that moment (history so far, one balancer snapshot, the balancer's logs).
- `hold` keeps load flowing for its seconds.
- `http` sends one GET through the balancer (harness.run.repro_http); another status or no reply is invalid.
Any other exception (a fault that cannot be applied, an unhealthy cluster before a fault) is recorded as the step's error
and raised: the test fails with it and the evidence holds every step up to there.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from typing import Any

from harness.descriptions.http_step import HttpGet
from harness.descriptions.timeline import Expect, Heal, Hold, Inject, Mcmp, RegisterStorm, Step, WaitUntil
from harness.judge.checks import Verdict
from harness.machinery.load import LoadError, LoadRun
from harness.machinery.waiting import WaitTimeout, hold
from harness.protocol.mcmp import McmpProtocolError
from harness.protocol.mcmp_client import McmpClient, McmpTransportError
from harness.protocol.mcmp_storm import StormPlan, run_storm
from harness.run.cluster import Cluster, ClusterUnhealthy
from harness.run.repro_checks import judge_names, labelled
from harness.run.repro_http import get_status

MCMP_TIMEOUT_S = 10.0


@dataclass
class StepRecord:
    """One step as it ran: `where` ("setup", "timeline[3]", "end", "checks"), times (epoch seconds), outcome
    ok | failed | error | not run, a one-line detail and step-specific data (an MCMP exchange, a window)."""

    where: str
    verb: str
    describe: str
    started: float = 0.0
    ended: float | None = None
    outcome: str = "not run"
    detail: str = ""
    data: dict[str, Any] = field(default_factory=dict)

    def begin(self) -> StepRecord:
        self.started = time.time()
        return self

    def end(self, outcome: str, detail: str = "") -> None:
        self.ended, self.outcome, self.detail = time.time(), outcome, detail

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class _Stop(Exception):
    """The timeline cannot go on (a wait that timed out, an MCMP request with no reply)."""


class Timeline:
    def __init__(self, scenario: Any, cluster: Cluster, load: LoadRun | None, records: list[StepRecord]) -> None:
        self.scenario, self.cluster, self.load, self.records = scenario, cluster, load, records
        self.active: dict[str, tuple[ExitStack, float]] = {}  # fault id -> (its open block, window start)
        self.verdicts: list[Verdict] = []

    def run(self, steps: Sequence[Step]) -> list[Verdict]:
        """Every step in order (then the heals of faults left active); the verdicts the steps gave."""
        pending = [StepRecord(f"timeline[{i}]", s.verb, s.describe()) for i, s in enumerate(steps)]
        with ExitStack() as outer:
            for index, (record, step) in enumerate(zip(pending, steps)):
                self.records.append(record.begin())
                try:
                    detail = self._do(step, record, outer)
                except _Stop as stop:
                    record.end("failed", str(stop))
                    self.records.extend(pending[index + 1 :])  # recorded as not run
                    break
                except Exception as exc:
                    record.end("error", f"{type(exc).__name__}: {exc}")
                    raise
                failed = any(v["outcome"] != "valid" for v in record.data.get("verdicts", []))
                record.end("failed" if failed else "ok", detail)
            for fault in reversed(list(self.active)):
                record = StepRecord("end", "heal", f"heal {fault} (still active at the end)").begin()
                self.records.append(record)
                try:
                    record.end("ok", self._heal(fault, record))
                except _Stop as stop:
                    record.end("failed", str(stop))
                except Exception as exc:
                    record.end("error", f"{type(exc).__name__}: {exc}")
                    raise
        return self.verdicts

    # --- the steps ------------------------------------------------------------------------------------------
    def _do(self, step: Step, record: StepRecord, outer: ExitStack) -> str:
        if isinstance(step, Inject):
            block = ExitStack()
            # overlapping faults: the first one needs a healthy cluster, the last heal waits for it again
            overlapping = bool(self.active)
            fault = self.scenario.fault(
                self.cluster, step.fault, wait_for_healthy=not overlapping, wait_after=lambda: not self.active
            )
            window = block.enter_context(fault)
            outer.enter_context(block)  # healed on the way out if nothing heals it before (also on an error)
            self.active[step.id] = (block, window.start)
            record.data["window"] = {"kind": window.kind, "targets": list(window.targets), "start": window.start}
            return f"window opened at {window.start:.3f}"
        if isinstance(step, Heal):
            return self._heal(step.fault, record)
        if isinstance(step, Hold):
            hold(step.seconds)
            return ""
        if isinstance(step, WaitUntil):
            return self._wait(step, record)
        if isinstance(step, Mcmp):
            return self._mcmp(step, record)
        if isinstance(step, RegisterStorm):
            return self._storm(step, record)
        if isinstance(step, HttpGet):
            url, name = self.cluster.get_balancer().proxy_url(step.path), f"{record.where} http GET {step.path}"
            verdict = get_status(url, step.expect_status, name)
            self._verdict(record, verdict)
            return verdict.summary
        if isinstance(step, Expect):
            verdicts = self.judge(step.checks, record.where)
            record.data["verdicts"] = [v.to_dict() for v in verdicts]
            return "; ".join(f"{v.outcome} {v.name}" for v in verdicts)
        raise TypeError(f"no runner for step {step!r}")

    def _heal(self, fault: str, record: StepRecord) -> str:
        block, start = self.active.pop(fault)
        try:
            block.close()  # heals, closes the window, waits for the cluster to be healthy again
        except ClusterUnhealthy as exc:  # healed, yet the cluster does not serve: the behaviour judged
            self._verdict(record, Verdict(f"{record.where} heal {fault}", "invalid", {}, str(exc)))
            raise _Stop(str(exc)) from exc
        finally:
            window = next((w for w in self.cluster.windows if w.start == start), None)
            if window is not None:
                record.data["window"] = {"kind": window.kind, "start": window.start, "end": window.end}
        return "healed; the cluster is healthy again"

    def _wait(self, step: WaitUntil, record: StepRecord) -> str:
        balancer, timeout = self.cluster.get_balancer(), step.timeout_s
        try:
            if step.condition == "nodes_registered":
                balancer.wait_for_nodes_registered(list(step.nodes or self.cluster.topology.node_names), timeout)
            elif step.condition in ("node_up", "node_down", "node_gone"):
                getattr(balancer, f"wait_for_{step.condition}")(step.node, timeout)
            elif step.condition == "context":
                balancer.wait_for_context(str(step.node), str(step.path), step.status or "ENABLED", timeout)
            elif step.condition == "load":
                balancer.wait_for_load(str(step.node), int(step.load or 0), timeout)
            elif step.condition == "requests":
                load = self._require_load(step)
                load.wait_for_records(len(load.records()) + int(step.count or 0), timeout)
            else:
                self.cluster.wait_for_healthy(timeout, label=f"{record.where} wait_until healthy")
        except (WaitTimeout, ClusterUnhealthy, LoadError) as exc:
            self._verdict(record, Verdict(f"{record.where} wait_until {step.condition}", "invalid", {}, str(exc)))
            raise _Stop(str(exc)) from exc
        return f"held after {time.time() - record.started:.2f} s"

    def _mcmp(self, step: Mcmp, record: StepRecord) -> str:
        host, port = self.cluster.get_balancer().mcmp_address()
        name = f"{record.where} mcmp {step.command}"
        with McmpClient(host, port, timeout=MCMP_TIMEOUT_S) as client:
            try:
                reply = client.send(step.command, step.params, wildcard=step.wildcard)
            except (McmpTransportError, McmpProtocolError) as exc:
                if client.last_exchange is not None:
                    record.data["exchange"] = client.last_exchange.as_record()
                self._verdict(record, Verdict(name, "invalid", {"error": str(exc)}, f"no usable reply: {exc}"))
                raise _Stop(f"no usable reply: {exc}") from exc
            if client.last_exchange is not None:
                record.data["exchange"] = client.last_exchange.as_record()
        record.data["status"] = reply.status
        self.cluster.record_state(f"after {record.where} mcmp {step.command}")
        if step.expect_status is not None:
            details = {"status": reply.status, "expected": step.expect_status, "body": reply.body[:2000]}
            summary = f"{step.command} answered {reply.status} {reply.reason} (expected {step.expect_status})"
            self._verdict(record, Verdict(name, reply.status == step.expect_status, details, summary))
        return f"{reply.status} {reply.reason}"

    def _storm(self, step: RegisterStorm, record: StepRecord) -> str:
        host, port = self.cluster.get_balancer().mcmp_address()
        plan = StormPlan(
            step.nodes,
            step.connections,
            step.contexts,
            status_rounds=step.status_rounds,
            status_interval_s=step.status_interval_s,
            status_timeout_s=step.status_timeout_s,
        )
        result = run_storm(host, port, plan, timeout_s=MCMP_TIMEOUT_S)
        summary = result.describe(step.nodes)
        details = {
            "replies": dict(result.replies),
            "failed_routes": len(result.failed_routes),
            "examples": result.examples,
            "listed": result.listed,
            "seconds": round(result.seconds, 2),
        }
        if result.status is not None:
            details["status"] = result.status.to_dict()
        record.data["storm"] = details
        self.cluster.record_state(f"after {record.where} register_storm")
        self._verdict(record, Verdict(f"{record.where} register_storm", result.clean(step.nodes), details, summary))
        return summary

    # --- judging --------------------------------------------------------------------------------------------
    def judge(self, names: Sequence[str], prefix: str = "") -> list[Verdict]:
        """The verdicts of expectation names now (history so far, one snapshot, the balancer's logs)."""
        balancer = self.cluster.get_balancer()
        load = self.load
        verdicts = judge_names(
            names,
            nodes=self.cluster.topology.node_names,
            history=lambda: None if load is None else self.scenario.history(load),
            state=balancer.snapshot,
            logs=balancer.evidence_files,
            node_http=self._node_http,
        )
        verdicts = labelled(prefix, verdicts) if prefix else verdicts
        self.verdicts.extend(verdicts)
        return verdicts

    def _node_http(self, name: str) -> dict[str, Any] | None:
        """The node's own HTTP counters, from flavors whose nodes report them (the sim's `state()`)."""
        state = getattr(self.cluster.get_node(name), "state", None)
        return None if state is None else dict(state()["http"])

    def _verdict(self, record: StepRecord, verdict: Verdict) -> None:
        record.data.setdefault("verdicts", []).append(verdict.to_dict())
        self.verdicts.append(verdict)

    def _require_load(self, step: Step) -> LoadRun:
        if self.load is None:
            raise TypeError(f"{step.describe()}: no load (refused when the reproduction is built)")
        return self.load
