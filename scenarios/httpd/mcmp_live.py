"""Live MCMP conformance: messages sent to a running balancer and fed to the MCMP model (the line's intended
behaviour and its as-built behaviour, bugs included), each reply and the INFO/DUMP state after it compared
with both, and a readable transcript kept. Used by test_mcmp_conformance.py.

`Target` is the balancer under test with its model rules; `Session` is one case or one hypothesis example
(its own models, its own transcript).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from harness.machinery.waiting import WaitTimeout, wait_until
from harness.protocol.balancer_info import BalancerInfo, parse_dump, parse_info
from harness.protocol.mcmp import McmpProtocolError, McmpResponse
from harness.protocol.mcmp_client import McmpConnection, McmpTransportError
from harness.protocol.mcmp_model import McmpModel, ModelConfig, ModelRequest, Prediction
from harness.protocol.mcmp_model_lines import LineRules
from harness.protocol.mcmp_model_view import DUMP_FIELDS, INFO_FIELDS, compare, compare_balancers, reply_problems

STATE_DEADLINE_S = 4.0  # INFO may show a node's load a moment after STATUS (worker created by the child)


class DiffersFromIntended(AssertionError):
    """The balancer did what the model says the line does as built, not what it is meant to do."""


@dataclass(frozen=True)
class Target:
    host: str
    port: int
    rules: LineRules
    config: ModelConfig

    def connection(self) -> McmpConnection:
        return McmpConnection(self.host, self.port, timeout=10.0)


@dataclass
class Observed:
    info: BalancerInfo
    dump: BalancerInfo
    info_xml: BalancerInfo
    dump_xml: BalancerInfo


@dataclass
class Session:
    target: Target
    label: str
    as_built: bool = True  # False: the as-built behaviour is beyond the model; only the intended one is judged
    intended: McmpModel = field(init=False)
    built: McmpModel = field(init=False)
    transcript: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.intended = McmpModel(self.target.rules, self.target.config)
        bugs = self.target.rules.bugs if self.as_built else frozenset()
        self.built = McmpModel(self.target.rules, self.target.config, bugs=bugs)

    # --- one message ------------------------------------------------------------------------------------
    def send(self, request: ModelRequest, *, check_state: bool = True) -> tuple[list[str], list[str]]:
        """Send `request`; (problems against the as-built model, problems against the intended one)."""
        built, intended = self.built.apply(request), self.intended.apply(request)
        reply = self._exchange(request, built)
        built_problems, intended_problems = reply_problems(built, reply), reply_problems(intended, reply)
        if check_state:
            seen = self._observe_until(self.built)
            built_problems += self.state_problems(self.built, seen)
            intended_problems += self.state_problems(self.intended, seen)
        if not self.as_built:
            built_problems = []
        self._record(request, reply, built, intended, built_problems, intended_problems)
        return built_problems, intended_problems

    def _exchange(self, request: ModelRequest, prediction: Prediction) -> McmpResponse | None:
        if not prediction.settles:
            return self.raw(request)
        last: list[McmpResponse | None] = []

        def answered() -> bool:  # a read-only answer that may lag (Prediction.settles): ask again
            last[:] = [self.raw(request)]
            return not reply_problems(prediction, last[0])

        try:
            wait_until(answered, timeout=STATE_DEADLINE_S, interval=0.1, what=f"{request.method} to settle")
        except WaitTimeout:
            pass  # the last reply is judged
        return last[0]

    def raw(self, request: ModelRequest) -> McmpResponse | None:
        """One request on a fresh connection (no resend on a closed keep-alive); None: no reply at all."""
        with self.target.connection() as conn:
            try:
                return conn.send_raw(request.method, request.body, target=request.target, accept_xml=request.accept_xml)
            except McmpTransportError:
                return None
            except McmpProtocolError as exc:
                return McmpResponse(-1, f"not HTTP: {exc}")

    # --- the state after it -----------------------------------------------------------------------------
    def observe(self) -> Observed:
        with self.target.connection() as conn:
            return Observed(
                parse_info(conn.send("INFO").body),
                parse_dump(conn.send("DUMP", wildcard=True).body),
                parse_info(conn.send("INFO", accept_xml=True).body),
                parse_dump(conn.send("DUMP", wildcard=True, accept_xml=True).body),
            )

    def state_problems(self, model: McmpModel, seen: Observed) -> list[str]:
        view, where = model.view(), model.endpoints
        problems = compare(view, seen.info, "INFO", INFO_FIELDS, where)
        problems += compare(view, seen.info_xml, "INFO xml", INFO_FIELDS, where)
        problems += compare(view, seen.dump, "DUMP", DUMP_FIELDS, where)
        problems += compare(view, seen.dump_xml, "DUMP xml", DUMP_FIELDS, where)
        problems += compare_balancers(view, seen.dump) + [f"{p} (xml)" for p in compare_balancers(view, seen.dump_xml)]
        for name, info in (("INFO", seen.info), ("DUMP", seen.dump)):
            problems += [f"{name}: line not understood: {line!r}" for line in info.unparsed[:3]]
        return problems

    def _observe_until(self, model: McmpModel) -> Observed:
        last: list[Observed] = []

        def settled() -> bool:
            last[:] = [self.observe()]
            return not self.state_problems(model, last[0])

        try:
            wait_until(settled, timeout=STATE_DEADLINE_S, interval=0.1, what="INFO/DUMP to show the model's state")
        except WaitTimeout:
            pass  # the problems of the last observation are reported by the caller
        return last[0]

    # --- the transcript ---------------------------------------------------------------------------------
    def _record(
        self,
        request: ModelRequest,
        reply: McmpResponse | None,
        built: Prediction,
        intended: Prediction,
        built_problems: list[str],
        intended_problems: list[str],
    ) -> None:
        accept = " [Accept: text/xml]" if request.accept_xml else ""
        lines = [
            f">>> {request.method} {request.target}{accept}",
            f"    {request.body}" if request.body else "    (no body)",
        ]
        if reply is None:
            lines.append("<<< no reply (connection closed)")
        else:
            head = f"<<< {reply.status} {reply.reason}"
            if reply.header("Type") or reply.header("Mess"):
                head += f" | Type: {reply.header('Type')} | Mess: {reply.header('Mess')}"
            lines.append(head)
            if reply.ok and reply.body and request.method.upper() not in ("INFO", "DUMP"):
                lines += [f"    {line}" for line in reply.body.splitlines()]
        lines.append(f"    model (as built): {built.describe()}")
        if intended != built:
            lines.append(f"    model (intended): {intended.describe()}")
        lines += [f"    !! {p}" for p in built_problems]
        lines += [f"    !! (intended) {p}" for p in intended_problems if p not in built_problems]
        self.transcript.append("\n".join(lines))

    def text(self) -> str:
        rules = self.target.rules
        header = f"# MCMP transcript: {self.label} on {rules.label} ({self.target.config.release})"
        return header + "\n\n" + "\n\n".join(self.transcript) + "\n"

    def cleanup(self) -> None:
        """Node-wide REMOVE-APP for every node the case registered (not judged: the next case does not care)."""
        for node in list(self.built.tables.nodes.values()):
            if not node.removed and node.route != "REMOVED":
                self.raw(ModelRequest("REMOVE-APP", f"JVMRoute={node.route}", target="/*"))
