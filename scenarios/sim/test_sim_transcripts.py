"""The sim node's MCMP conversation with a real httpd + mod_cluster, compared with (or recorded into) the
transcripts the unit tests replay (docker tier; --balancer httpd-modcluster --node-flavor sim and
--modcluster-source, skipped naming them otherwise).

Setup: the balancer built from the source under test; node1 alone (status interval 30 s, so no STATUS
interleaves), then node2 added (1 s).
Steps: node1 registers (INFO, CONFIG, STOP-APP, ENABLE-APP, STATUS: all 200); inside Slowness(node1, 1 s)
one request is held on node1 while Stop(node1) is applied (DISABLE-APP, STOP-APP until the drain ends,
REMOVE-APP /*); node2 registers, then inside Reregister(node2, port=8181) gets an MEM error. The exchanges must match the recorded
transcripts of this build in tests/unit/data/transcripts/<build>/ (same requests apart from the node's
address) or, for a 1.3.x release recorded by none of its own, those of the nearest recorded 1.3.x release
(`recorded_transcripts`); a build with neither is skipped, naming what is missing. With
HARNESS_RECORD_TRANSCRIPTS=1 they are written into the build's own folder instead.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

import pytest

from harness.descriptions import settings
from harness.descriptions.faults import Reregister, Slowness, Stop
from harness.descriptions.node import NodeSpec
from harness.machinery.waiting import wait_until
from harness.protocol.mcmp import parse_response, parse_status_reply
from harness.protocol.mcmp_client import McmpExchange
from scenarios.sim.probes import SIM_BEHIND_HTTPD, build_label, recorded_transcripts, routed

pytestmark = [pytest.mark.docker, pytest.mark.modcluster_source, pytest.mark.flavors(**SIM_BEHIND_HTTPD)]
DATA = settings.PROJECT_ROOT / "tests" / "unit" / "data" / "transcripts"
RECORD = os.environ.get("HARNESS_RECORD_TRANSCRIPTS") == "1"


def _exchanges(records: list[dict[str, str]]) -> list[McmpExchange]:
    return [McmpExchange.from_record(r) for r in records]


def _commands(exchanges: list[McmpExchange]) -> list[str]:
    return [ex.command for ex in exchanges]


def _write(folder: Path, name: str, exchanges: list[McmpExchange], title: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps({"title": f"{title}: {ex.command}", **ex.as_record()}) for ex in exchanges]
    (folder / f"{name}.jsonl").write_text("\n".join(lines) + "\n")


def _read(folder: Path, name: str) -> list[McmpExchange]:
    path = folder / f"{name}.jsonl"
    if not path.is_file():
        pytest.fail(f"no recorded transcript {path}: run this test once with HARNESS_RECORD_TRANSCRIPTS=1")
    return [McmpExchange.from_record(json.loads(line)) for line in path.read_text().splitlines() if line.strip()]


def _normalised(exchange: McmpExchange, host: str) -> bytes:
    """The request with the node's address replaced (it changes from run to run)."""
    return exchange.request.replace(f"Host={host}&".encode(), b"Host=NODE&")


def test_registration_goodbye_and_error_transcripts(scenario: Any, modcluster_source: Any) -> None:
    label = build_label(modcluster_source)
    recorded_folder, which = recorded_transcripts(label, DATA)
    if recorded_folder is None and not RECORD:
        pytest.skip(which)
    cluster = scenario.cluster(scenario.topology("transcripts", 1, status_interval_s=30.0, stop_context_timeout_s=5.0))
    node1 = cluster.get_node("node1")
    with scenario.fault(cluster, Slowness("node1", delay_ms=1000)):
        held = threading.Thread(target=lambda: routed(cluster, "node1", "HELD"))
        held.start()
        wait_until(lambda: node1.state()["http"]["active"] == 1, timeout=10, what="one request held on node1")
        with scenario.fault(cluster, Stop("node1", timeout_s=20.0), wait_for_healthy=False):
            held.join(10)
            # read before the heal: node1's next registration replaces this record
            record: dict[str, Any] = node1.control.transcript("node1")["node1"][0]
    registration, goodbye = _exchanges(record["exchanges"]), _exchanges(record["goodbye"])

    node2 = cluster.add_node(NodeSpec("node2", status_interval_s=1.0))
    with scenario.fault(cluster, Reregister("node2", port=8181)):
        wait_until(
            lambda: node2.control.transcript("node2")["node2"][0]["errors"],
            timeout=15,
            what="an error reply to node2's CONFIG from port 8181",
        )
        errors = _exchanges(node2.control.transcript("node2")["node2"][0]["errors"])[:1]

    assert _commands(registration) == ["INFO", "CONFIG", "STOP-APP", "ENABLE-APP", "STATUS"]
    assert all(parse_response(ex.reply).status == 200 for ex in registration + goodbye)
    assert parse_status_reply(parse_response(registration[-1].reply)).state == "OK"
    commands = _commands(goodbye)
    assert commands[0] == "DISABLE-APP" and commands[-1] == "REMOVE-APP" and set(commands[1:-1]) == {"STOP-APP"}
    assert parse_response(errors[0].reply).error_type == "MEM"

    host1 = node1.ip
    if RECORD:
        folder = DATA / label
        _write(folder, "sim-registration", registration, f"{modcluster_source.release} node1 registration")
        _write(folder, "sim-goodbye", goodbye, f"{modcluster_source.release} node1 graceful stop, one request held 1 s")
        _write(folder, "sim-errors", errors, f"{modcluster_source.release} node2 CONFIG again from port 8181")
        meta = {
            "release": modcluster_source.release,
            "host": host1,
            "proxy": "balancer:6666",
            "node": NodeSpec("node1", status_interval_s=30.0, stop_context_timeout_s=5.0).to_dict(),
            "error_node": {"name": "node2", "host": node2.ip, "port": 8181},
        }
        (folder / "sim-meta.json").write_text(json.dumps(meta, indent=1) + "\n")
        return
    assert recorded_folder is not None
    folder = recorded_folder
    meta = json.loads((folder / "sim-meta.json").read_text())
    recorded = _read(folder, "sim-registration")
    assert [_normalised(ex, meta["host"]) for ex in recorded] == [_normalised(ex, host1) for ex in registration], which
    assert [parse_response(ex.reply).fields() for ex in recorded[2:4]] == [
        parse_response(ex.reply).fields() for ex in registration[2:4]
    ], f"STOP/ENABLE-APP replies differ from {which}"
    recorded_goodbye = {ex.command: ex.request for ex in _read(folder, "sim-goodbye")}
    assert {ex.command: ex.request for ex in goodbye} == recorded_goodbye, which
    recorded_error = parse_response(_read(folder, "sim-errors")[0].reply)
    assert parse_response(errors[0].reply).error_message == recorded_error.error_message, which
