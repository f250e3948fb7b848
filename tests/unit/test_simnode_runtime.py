"""A whole sim process in-process (no Docker): nodes on local ports, a scripted MCMP server, and the control
endpoint switching faults and running commands; plus the real program's SIGTERM path."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from harness.descriptions.faults import (
    ErrorReplies,
    FaultSpec,
    Flap,
    Freeze,
    Kill,
    NoStickyForce,
    ReportLoad,
    Reregister,
)
from harness.machinery.waiting import wait_until
from simnode.config import parse_config
from simnode.control import control_handler
from simnode.runtime import Runtime
from tests.unit.simnode_fakes import SIM_ROOT, FakeBalancer


def free_ports(count: int) -> list[int]:
    socks = [socket.socket() for _ in range(count)]
    for sock in socks:
        sock.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for sock in socks:
        sock.close()
    return ports


def spec(fake_port: int, ports: list[int], **node1: Any) -> dict[str, Any]:
    return {
        "nodes": [
            {"name": "node1", "http_port": ports[0], "status_interval_s": 0.2, **node1},
            {"name": "node2", "http_port": ports[1], "status_interval_s": 0.2, "contexts": ["/app", "/b"]},
        ],
        "discovery": {"kind": "static_proxies", "proxies": [f"127.0.0.1:{fake_port}"]},
        "control_port": ports[2],
        "host": "10.0.0.9",
        "log_level": "warning",
    }


class Sim:
    def __init__(self, runtime: Runtime, fake: FakeBalancer, ports: list[int]) -> None:
        self.runtime, self.fake, self.ports = runtime, fake, ports
        self.http = requests.Session()
        self.http.trust_env = False

    def url(self, port_index: int, path: str = "/app/") -> str:
        return f"http://127.0.0.1:{self.ports[port_index]}{path}"

    def control(self, method: str, path: str, body: Any = None) -> requests.Response:
        return self.http.request(method, self.url(2, path), json=body, timeout=5)

    def fault(self, verb: str, *faults: FaultSpec) -> requests.Response:
        return self.control("POST", "/fault", {verb: [f.to_dict() for f in faults]})

    def state(self, node: str) -> dict[str, Any]:
        return dict(self.control("GET", "/state").json()["nodes"][node])

    def registered(self, node: str) -> bool:
        proxies = self.state(node)["mcmp"]["proxies"]
        return bool(proxies) and all(p["state"] == "OK" and p["established"] for p in proxies)

    def refused(self, port_index: int) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.ports[port_index]), timeout=1).close()
            return False
        except OSError:
            return True


@pytest.fixture
def sim(request: pytest.FixtureRequest) -> Iterator[Sim]:
    extra = getattr(request, "param", {})
    with FakeBalancer() as fake:
        ports = free_ports(3)
        runtime = Runtime(parse_config(spec(fake.port, ports, **extra)), control_handler)
        runtime.start()
        try:
            handle = Sim(runtime, fake, ports)
            for name in ("node1", "node2"):
                wait_until(lambda: handle.registered(name), timeout=10, what=f"{name} registered")
            yield handle
        finally:
            runtime.close()


def test_nodes_register_serve_and_report(sim: Sim) -> None:
    reply = sim.http.get(sim.url(0), timeout=5)
    assert reply.status_code == 200 and reply.headers["X-Harness-Node"] == "node1"
    assert sim.http.get(sim.url(1, "/b/x"), timeout=5).json()["node"] == "node2"
    configs = [s.params for s in sim.fake.requests if s.command == "CONFIG"]
    assert sorted((c["JVMRoute"], c["Port"], c["Host"]) for c in configs) == [
        ("node1", str(sim.ports[0]), "10.0.0.9"),
        ("node2", str(sim.ports[1]), "10.0.0.9"),
    ]
    state = sim.state("node1")
    assert state["http"]["served"] == 1 and state["http"]["sessions"] == 1 and state["mcmp"]["status"] == "running"
    transcript = sim.control("GET", "/transcript?node=node2").json()["node2"][0]
    assert [e["request"].split(" ")[0] for e in transcript["exchanges"]][:2] == ["INFO", "CONFIG"]
    wait_until(
        lambda: sum(s.command == "STATUS" for s in sim.fake.requests) >= 6,
        timeout=5,
        what="STATUS every 0.2 s from both nodes",
    )


def test_runtime_faults_through_the_control_endpoint(sim: Sim) -> None:
    reply = sim.fault("apply", ErrorReplies("node1", 503))
    assert reply.status_code == 200 and reply.json()["node1"]["error"] == 503
    assert sim.http.get(sim.url(0), timeout=5).status_code == 503
    assert sim.http.get(sim.url(1), timeout=5).status_code == 200, "only node1 was told"
    assert sim.state("node1")["active_faults"] == ["error_replies"]
    sim.fault("apply", Freeze("node2"))
    with pytest.raises(requests.Timeout):
        sim.http.get(sim.url(1), timeout=0.5)
    with socket.create_connection(("127.0.0.1", sim.ports[1]), timeout=5) as held:
        held.sendall(b"GET /app/ HTTP/1.1\r\nHost: x\r\n\r\n")
        wait_until(lambda: sim.state("node2")["http"]["active"] == 1, timeout=5, what="one frozen request open")
    wait_until(lambda: sim.state("node2")["http"]["active"] == 0, timeout=5, what="closed by the client: over")
    sim.fault("heal", ErrorReplies("node1", 503))
    assert sim.http.get(sim.url(0), timeout=5).status_code == 200
    sim.control("POST", "/fault", {"clear": True})
    assert sim.http.get(sim.url(1), timeout=5).status_code == 200, "clear: every toggle of every node off"
    sim.fault("apply", ReportLoad("node2", -1))
    wait_until(
        lambda: any(s.params.get("Load") == "-1" and s.params["JVMRoute"] == "node2" for s in sim.fake.requests),
        timeout=5,
        what="STATUS with Load=-1 from node2",
    )
    bad = sim.control("POST", "/fault", {"apply": [{"kind": "error_replies", "node": "node1", "status": 404}]})
    assert bad.status_code == 400 and bad.json()["field"] == "apply[0].status"
    assert sim.fault("apply", Freeze("node9")).json()["field"] == "apply[0].node"
    assert sim.control("POST", "/nothing").status_code == 404


def test_no_sticky_force_registers_again_without_it_and_heal_with_it(sim: Sim) -> None:
    def configs() -> list[dict[str, str]]:
        return [s.params for s in sim.fake.requests if s.command == "CONFIG" and s.params["JVMRoute"] == "node1"]

    assert "StickySessionForce" in configs()[-1]
    sim.fault("apply", NoStickyForce("node1"))
    wait_until(lambda: len(configs()) == 2, timeout=5, what="node1's second CONFIG")
    assert "StickySessionForce" not in configs()[-1]
    sim.fault("heal", NoStickyForce("node1"))
    wait_until(lambda: len(configs()) == 3, timeout=5, what="node1's third CONFIG")
    assert configs()[-1]["StickySessionForce"] == "No"


def test_kill_and_its_heal_through_the_fault_endpoint(sim: Sim) -> None:
    sim.fault("apply", Kill("node2"))
    wait_until(lambda: sim.refused(1), timeout=5, what="node2's port refusing connections")
    sim.fault("heal", Kill("node2"))
    wait_until(
        lambda: sim.state("node2")["mcmp"]["proxies"][0]["registrations"] == 2 and not sim.refused(1),
        timeout=10,
        what="node2 registered again and listening",
    )


def test_crash_then_restart(sim: Sim) -> None:
    before = len(sim.fake.requests)
    sim.control("POST", "/crash", {"node": "node1"})
    wait_until(lambda: sim.refused(0), timeout=5, what="node1's port refusing connections")
    assert sim.state("node1")["mcmp"]["status"] == "crashed"
    assert not any(s.command in ("DISABLE-APP", "REMOVE-APP") for s in sim.fake.requests[before:]), "no goodbye"
    sim.control("POST", "/restart", {"node": "node1"})
    # the fake balancer still lists node1 from before the crash: wait for the second registration itself
    wait_until(
        lambda: sim.state("node1")["mcmp"]["proxies"][0]["registrations"] == 2 and not sim.refused(0),
        timeout=10,
        what="node1 registered a second time and listening",
        describe=lambda: str(sim.state("node1")["mcmp"]),
    )
    assert sim.registered("node1")


def test_reregister_from_another_port_and_back(sim: Sim) -> None:
    new_port = free_ports(1)[0]
    assert sim.fault("apply", Reregister("node1", port=new_port, host="10.0.0.5")).status_code == 200
    wait_until(
        lambda: any(s.command == "CONFIG" and s.params["Port"] == str(new_port) for s in sim.fake.requests),
        timeout=5,
        what="CONFIG from the new port",
    )
    assert sim.refused(0)
    assert requests.get(f"http://127.0.0.1:{new_port}/app/", timeout=5).headers["X-Harness-Node"] == "node1"
    clash = sim.control("POST", "/reregister", {"node": "node1", "port": sim.ports[1]})
    assert clash.status_code == 409 and clash.json()["field"] == "port"
    taken = sim.fault("apply", Reregister("node1", port=sim.ports[1]))
    assert taken.status_code == 409 and taken.json()["field"] == "apply", "node2's port: refused, not a crash"
    before = len(sim.fake.requests)
    sim.fault("heal", Reregister("node1", port=new_port, host="10.0.0.5"))
    wait_until(
        lambda: any(
            s.command == "CONFIG" and s.params["Port"] == str(sim.ports[0]) and s.params["Host"] == "10.0.0.9"
            for s in sim.fake.requests[before:]
        ),
        timeout=5,
        what="CONFIG from the node's own port and host again",
    )
    assert not sim.refused(0)


def test_flapping_listener(sim: Sim) -> None:
    sim.fault("apply", Flap("node1", 0.3, 0.3))
    wait_until(lambda: sim.refused(0), timeout=5, what="node1 down in its flap")
    wait_until(lambda: not sim.refused(0), timeout=5, what="node1 up in its flap")
    sim.fault("heal", Flap("node1"))
    wait_until(lambda: not sim.refused(0), timeout=5, what="node1 up after flapping")
    assert all(not sim.refused(0) for _ in range(5))


def test_graceful_stop_and_context_commands(sim: Sim) -> None:
    sim.control("POST", "/context", {"node": "node2", "context": "/b", "action": "disable"})
    wait_until(
        lambda: any(s.command == "DISABLE-APP" and s.params.get("Context") == "/b" for s in sim.fake.requests),
        timeout=5,
        what="DISABLE-APP /b",
    )
    bad = sim.control("POST", "/context", {"node": "node2", "context": "/zz", "action": "disable"})
    assert bad.status_code == 400 and bad.json()["field"] == "context"
    sim.control("POST", "/stop", {"node": "node1"})
    wait_until(
        lambda: sim.state("node1")["mcmp"]["status"] == "stopped" and sim.refused(0), timeout=10, what="node1 stopped"
    )
    node1 = [s.command for s in sim.fake.requests if s.params.get("JVMRoute") == "node1"]
    assert node1[-3:] == ["DISABLE-APP", "STOP-APP", "REMOVE-APP"]


@pytest.mark.parametrize("sim", [{"faults": ["kill@0.5", "slowness:delay_ms=300"]}], indirect=True)
def test_start_faults_kill_by_themselves_and_toggle_from_start(sim: Sim) -> None:
    assert sim.state("node1")["active_faults"] == ["slowness"]
    wait_until(lambda: sim.state("node1")["mcmp"]["status"] == "crashed", timeout=5, what="node1 killed on plan")
    assert sim.refused(0) and not sim.refused(1)


def test_keep_alive_pipelining_and_bad_requests(sim: Sim) -> None:
    with socket.create_connection(("127.0.0.1", sim.ports[0]), timeout=5) as conn:
        conn.sendall(
            b"GET /app/a HTTP/1.1\r\nHost: x\r\n\r\nGET /app/b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    assert data.count(b"HTTP/1.1 200 OK") == 2 and b'"path":"/app/b"' in data
    http = sim.state("node1")["http"]
    assert (http["accepted"], http["served"]) == (1, 2)  # two requests over one accepted connection
    with socket.create_connection(("127.0.0.1", sim.ports[0]), timeout=5) as conn:
        conn.sendall(b"NONSENSE\r\n\r\n")
        assert conn.recv(65536).startswith(b"HTTP/1.1 400 Bad Request")


def test_the_program_leaves_gracefully_on_sigterm() -> None:
    with FakeBalancer() as fake:
        ports = free_ports(3)
        config = {**spec(fake.port, ports), "log_level": "info"}
        env = {"PYTHONPATH": f"{SIM_ROOT}:{SIM_ROOT.parents[1]}", "SIMNODE_SPEC": json.dumps(config)}
        process = subprocess.Popen([sys.executable, "-m", "simnode"], env=env, stderr=subprocess.PIPE, text=True)
        try:
            wait_until(
                lambda: sum(s.command == "STATUS" for s in fake.requests) >= 2, timeout=15, what="both nodes registered"
            )
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=20) == 0
        finally:
            if process.poll() is None:
                os.kill(process.pid, signal.SIGKILL)
        log = process.stderr.read() if process.stderr else ""
        removed = sorted(s.params["JVMRoute"] for s in fake.requests if s.command == "REMOVE-APP")
        assert removed == ["node1", "node2"], log
        assert "simnode: ready" in log and "stopped" in log
