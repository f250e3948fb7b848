"""Generated MCMP sequences against a live balancer: a hypothesis RuleBasedStateMachine whose rules send
CONFIG (and re-registrations), app commands on contexts and node-wide, STATUS, PING and malformed messages
for up to three nodes of one example, checking after every step that the reply and INFO/DUMP match the
as-built MCMP model. Each example has its own routes and ports (`Names`), so examples share the balancer.

A route whose node was removed (it lingers for a while, then httpd forgets it: a time the model does not
know) is not registered again in the same example, nor is its host:port reused.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path
from typing import Any, ClassVar

from hypothesis import HealthCheck, assume, reject, settings
from hypothesis import strategies as st
from hypothesis.database import DirectoryBasedExampleDatabase
from hypothesis.stateful import RuleBasedStateMachine, rule, run_state_machine_as_test

from harness.protocol.mcmp_model import ModelRequest, Undefined
from scenarios.httpd.mcmp_cases import APP_COMMANDS, Names, app, config, req
from scenarios.httpd.mcmp_live import Session, Target

NODES = st.integers(1, 3)
ALIASES = st.lists(st.sampled_from(["a1", "a2", "a3", "A2"]), min_size=1, max_size=3, unique=True)
CONTEXTS = st.lists(st.sampled_from(["/x", "/y", "/"]), min_size=1, max_size=2, unique=True)
CONFIG_FIELDS = st.fixed_dictionaries(
    {},
    optional={
        "Type": st.sampled_from(["http", "ajp"]),
        "Domain": st.sampled_from(["", "g1", "g2"]),
        "flushwait": st.sampled_from(["5", "20"]),
        "ping": st.sampled_from(["3", "12"]),
        "smax": st.sampled_from(["5", "-1"]),
        "Timeout": st.sampled_from(["0", "7"]),
        "StickySessionForce": st.sampled_from(["No", "Yes"]),
        "Maxattempts": st.sampled_from(["1", "3"]),
    },
)
LOADS = st.sampled_from(["-1", "0", "1", "50", "100", "101", "-3", "abc"])
MALFORMED = st.sampled_from(
    [
        ("CONFIG", ""),
        ("CONFIG", "Host=127.0.0.1&Port=1"),
        ("CONFIG", "JVMRoute=x&Type"),
        ("ENABLE-APP", "Alias=a1&Context=/x"),
        ("STATUS", "Load=1"),
        ("PING", "Host=127.0.0.1"),
        ("PING", "Foo=1"),
        ("DUMP", ""),
        ("INFO", ""),
        ("VERSION", ""),
    ]  # not an unknown method: once a context "/" is enabled, httpd proxies it (503 without a backend)
)
EXAMPLES = itertools.count(1000)


class McmpMachine(RuleBasedStateMachine):
    target: ClassVar[Target]
    last: ClassVar[Session | None] = None
    sent: ClassVar[dict[str, int]] = {}  # messages sent per rule, over the whole run

    def __init__(self) -> None:
        super().__init__()
        index = next(EXAMPLES)
        self.names = Names(index)
        self.session = Session(self.target, f"hypothesis example {index}")
        McmpMachine.last = self.session

    # --- helpers ----------------------------------------------------------------------------------------
    def _send(self, request: ModelRequest) -> None:
        try:
            problems, _intended = self.session.send(request)
        except Undefined:
            reject()  # the model cannot say what the balancer does with this one (not sent)
        key = request.method.upper() + (" /*" if request.wildcard else "")
        McmpMachine.sent[key] = McmpMachine.sent.get(key, 0) + 1
        assert not problems, "\n".join(problems) + "\n\n" + self.session.text()

    def _retired(self, i: int) -> bool:
        """Node i's route or host:port belongs to a removed node that may still linger."""
        route, endpoint = self.names.route(i), ("127.0.0.1", self.names.port(i))
        for node in self.session.built.tables.nodes.values():
            if node.removed and (node.route == route or (node.host, node.port) == endpoint):
                return True
        return False

    def _registered(self, i: int) -> bool:
        node = self.session.built.tables.node_by_route(self.names.route(i))
        return node is not None and not node.removed

    # --- rules ------------------------------------------------------------------------------------------
    @rule(i=NODES, fields=CONFIG_FIELDS)
    def register(self, i: int, fields: dict[str, str]) -> None:
        assume(not self._retired(i))
        self._send(config(self.names, i, **fields))

    @rule(i=NODES, aliases=ALIASES, contexts=CONTEXTS)
    def register_with_contexts(self, i: int, aliases: list[str], contexts: list[str]) -> None:
        assume(not self._retired(i))
        self._send(config(self.names, i, Alias="%2C".join(aliases), Context="%2C".join(contexts)))

    @rule(i=NODES, j=NODES, other_type=st.booleans())
    def claim_endpoint(self, i: int, j: int, other_type: bool) -> None:
        """Node j registers on node i's host:port (same Type: refused; another Type: see the bug rows)."""
        assume(i != j and not self._retired(i) and not self._retired(j) and not self._registered(j))
        node = self.session.built.tables.node_by_route(self.names.route(i))
        same = node.type if node is not None else "http"
        kind = ("ajp" if same != "ajp" else "http") if other_type else same
        self._send(config(self.names, j, Port=self.names.port(i), Type=kind))

    @rule(command=st.sampled_from(APP_COMMANDS), i=NODES, aliases=ALIASES, contexts=CONTEXTS)
    def app_command(self, command: str, i: int, aliases: list[str], contexts: list[str]) -> None:
        self._send(app(command, self.names, i, alias="%2C".join(aliases), context="%2C".join(contexts)))

    @rule(command=st.sampled_from(APP_COMMANDS), i=NODES)
    def node_command(self, command: str, i: int) -> None:
        self._send(req(command, f"JVMRoute={self.names.route(i)}", target="/*"))

    @rule(i=NODES, load=LOADS)
    def status(self, i: int, load: str) -> None:
        self._send(req("STATUS", f"JVMRoute={self.names.route(i)}&Load={load}"))

    @rule(i=NODES, by_address=st.booleans())
    def ping(self, i: int, by_address: bool) -> None:
        node = self.session.built.tables.node_by_route(self.names.route(i))
        if by_address:
            scheme = node.type if node is not None else "http"
            self._send(req("PING", f"Scheme={scheme}&Host=127.0.0.1&Port={self.names.port(i)}"))
        else:
            self._send(req("PING", f"JVMRoute={self.names.route(i)}"))

    @rule(message=MALFORMED)
    def malformed(self, message: tuple[str, str]) -> None:
        method, body = message
        self._send(req(method, body, target="/*" if method == "DUMP" else "/"))

    def teardown(self) -> None:
        self.session.cleanup()


def run(target: Target, scenario: Any, evidence_dir: Path) -> None:
    """Run the machine against `target`; on failure the shrunk sequence's transcript goes to the evidence."""
    rules = target.rules
    label = f"{target.config.release or rules.line}-{rules.mode}".replace("/", "_")
    database = DirectoryBasedExampleDatabase(str(Path(evidence_dir) / "hypothesis" / f"mcmp-{label}"))
    chosen = settings(
        max_examples=int(os.environ.get("HARNESS_MCMP_EXAMPLES", "25")),
        stateful_step_count=int(os.environ.get("HARNESS_MCMP_STEPS", "15")),
        deadline=None,
        database=database,
        suppress_health_check=list(HealthCheck),
        print_blob=True,
    )
    McmpMachine.target = target
    McmpMachine.last = None
    McmpMachine.sent = {}
    try:
        run_state_machine_as_test(McmpMachine, settings=chosen)
        sent = ", ".join(f"{k} {v}" for k, v in sorted(McmpMachine.sent.items()))
        print(f"MCMP sequences on {rules.label}: {sum(McmpMachine.sent.values())} messages checked ({sent})")
    except BaseException:
        if McmpMachine.last is not None:  # the last example run is the shrunk one hypothesis reports
            scenario.attach("hypothesis/shrunk-sequence.txt", McmpMachine.last.text())
        raise
