"""The registration storm against a small MCMP server in this process that answers like mod_cluster: 200, or
MEM for the routes it is told to refuse, and DUMP lines of what it holds (one id per node unless told to
reuse one). The storm's verdict must be clean only when every reply was 200 and DUMP lists each node once."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

from harness.descriptions.base import SpecError
from harness.descriptions.timeline import RegisterStorm, step_from_dict
from harness.protocol.mcmp_storm import StormPlan, run_storm


class _Balancer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, refuse: set[str], shared_id: set[str]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.refuse, self.shared_id = refuse, shared_id
        self.nodes: dict[str, int] = {}
        self.lock = threading.Lock()
        self.messages: list[str] = []
        self.refuse_status: set[str] = set()  # routes whose STATUS (only) gets a MEM reply
        self.status_delay_s = 0.0  # every STATUS is answered this late


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Balancer

    def log_message(self, *args: object) -> None:
        pass

    def _reply(self, status: int, body: str = "", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    def _mcmp(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        params = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        route = params.get("JVMRoute", "")
        if self.command == "STATUS" and self.server.status_delay_s:
            time.sleep(self.server.status_delay_s)  # a slow balancer, on purpose
        with self.server.lock:
            self.server.messages.append(f"{self.command} {route}")
            if self.command == "DUMP":
                lines = [
                    f"node: [{i}:{i}],Balancer: mycluster,JVMRoute: {r},LBGroup: [],Host: 127.0.0.1,Port: 1,Type: http"
                    for r, i in self.server.nodes.items()
                ]
                return self._reply(200, "\n".join(lines) + "\n")
            if route in self.server.refuse or (self.command == "STATUS" and route in self.server.refuse_status):
                mess = f'MEM: Can\'t read node with "{route}" JVMRoute'
                return self._reply(500, "", {"Type": "MEM", "Mess": mess})
            if self.command == "CONFIG":
                self.server.nodes[route] = 1 if route in self.server.shared_id else len(self.server.nodes) + 10
        self._reply(200)

    def __getattr__(self, name: str) -> object:
        if name.startswith("do_"):
            return self._mcmp
        raise AttributeError(name)


@pytest.fixture
def balancer(request: pytest.FixtureRequest) -> Iterator[_Balancer]:
    refuse, shared = getattr(request, "param", (set(), set()))
    server = _Balancer(refuse, shared)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_a_clean_storm_registers_every_node_once(balancer: _Balancer) -> None:
    plan = StormPlan(40, connections=8, contexts=("/app", "/other"))
    result = run_storm("127.0.0.1", balancer.server_address[1], plan)
    assert result.clean(40), result.describe(40)
    assert result.messages == 120 and result.replies["200"] == 120 and result.listed == 40
    assert sorted(balancer.nodes) == plan.routes() and plan.routes()[0] == "storm01"
    assert sum(m.startswith("ENABLE-APP") for m in balancer.messages) == 80


@pytest.mark.parametrize("balancer", [({"storm07", "storm12"}, set())], indirect=True)
def test_mem_replies_make_the_storm_unclean_and_are_quoted(balancer: _Balancer) -> None:
    result = run_storm("127.0.0.1", balancer.server_address[1], StormPlan(20, connections=4))
    assert not result.clean(20)
    assert result.replies["MEM"] == 2 and sorted(result.failed_routes) == ["storm07", "storm12"]
    assert result.listed == 18
    assert any('MEM: Can\'t read node with "storm07" JVMRoute' in e for e in result.examples)
    assert "MEM: 2" in result.describe(20) and "DUMP lists 18 of 20" in result.describe(20)


@pytest.mark.parametrize("balancer", [(set(), {"storm3", "storm4"})], indirect=True)
def test_two_nodes_on_one_id_make_it_unclean_though_every_reply_was_200(balancer: _Balancer) -> None:
    result = run_storm("127.0.0.1", balancer.server_address[1], StormPlan(6, connections=2))
    assert result.errors == 0 and result.listed == 6
    assert result.duplicate_ids == [1] and not result.clean(6)


def test_no_balancer_is_no_reply_not_a_pass() -> None:
    result = run_storm("127.0.0.1", 9, StormPlan(3, connections=2), timeout_s=1.0)
    assert result.errors == 3 and result.dump_error and not result.clean(3)


def test_the_step_reads_from_data_and_names_bad_fields() -> None:
    step = step_from_dict({"register_storm": {"nodes": 500, "connections": 50, "contexts": ["/app"]}}, "timeline[0]")
    assert step == RegisterStorm(500, 50, ("/app",)) and step.to_dict()["register_storm"]["nodes"] == 500
    with pytest.raises(SpecError, match=r"timeline\[0\]\.register_storm\.nodes"):
        step_from_dict({"register_storm": {"nodes": 0}}, "timeline[0]")
    with pytest.raises(SpecError, match=r"contexts"):
        step_from_dict({"register_storm": {"nodes": 5, "contexts": ["app"]}}, "timeline[0]")


def test_status_rounds_send_status_from_every_route_each_round(balancer: _Balancer) -> None:
    plan = StormPlan(12, connections=3, status_rounds=3, status_interval_s=0.0)
    result = run_storm("127.0.0.1", balancer.server_address[1], plan)
    assert result.clean(12), result.describe(12)
    assert result.status is not None and result.status.rounds == 3 and result.status.messages == 36
    assert sorted(m for m in balancer.messages if m.startswith("STATUS")) == sorted(
        f"STATUS {r}" for r in plan.routes() * 3
    )
    assert len(result.status.latencies_s) == 36 and "STATUS 3 rounds, 36 messages (200: 36)" in result.describe(12)
    assert result.status.to_dict()["p99_ms"] >= 0


def test_a_refused_status_makes_the_storm_unclean_though_registration_was(balancer: _Balancer) -> None:
    balancer.refuse_status = {"storm2"}
    result = run_storm("127.0.0.1", balancer.server_address[1], StormPlan(4, connections=2, status_rounds=2))
    assert result.errors == 0 and result.listed == 4 and not result.clean(4)
    assert result.status is not None and result.status.replies["MEM"] == 2 and result.status.errors == 2
    assert any("storm2" in e for e in result.status.examples)


def test_the_step_takes_status_rounds_and_names_bad_ones() -> None:
    data = {"register_storm": {"nodes": 500, "contexts": ["/a", "/b"], "status_rounds": 5, "status_interval_s": 10}}
    step = step_from_dict(data, "timeline[0]")
    assert step == RegisterStorm(500, 50, ("/a", "/b"), status_rounds=5, status_interval_s=10.0)
    assert step.to_dict()["register_storm"]["status_rounds"] == 5 and "5 rounds of STATUS every 10 s" in step.describe()
    assert "status_rounds" not in RegisterStorm(5).to_dict()["register_storm"]
    with pytest.raises(SpecError, match=r"timeline\[0\]\.register_storm\.status_rounds"):
        step_from_dict({"register_storm": {"nodes": 5, "status_rounds": -1}}, "timeline[0]")


def test_a_status_answered_later_than_its_timeout_is_no_reply(balancer: _Balancer) -> None:
    balancer.status_delay_s = 0.5
    plan = StormPlan(2, connections=2, status_rounds=1, status_timeout_s=0.2)
    result = run_storm("127.0.0.1", balancer.server_address[1], plan)
    assert result.errors == 0 and result.status is not None and not result.clean(2)
    assert result.status.replies["no reply: McmpTransportError"] == 2 and not result.status.latencies_s
    step = step_from_dict({"register_storm": {"nodes": 2, "status_rounds": 1, "status_timeout_s": 2}}, "t[0]")
    assert step.to_dict()["register_storm"]["status_timeout_s"] == 2 and "within 2 s" in step.describe()
