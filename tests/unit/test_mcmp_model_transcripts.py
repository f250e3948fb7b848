"""The MCMP model against the batteries recorded from real balancers (tests/unit/data/mcmp/transcripts/):
replaying each recorded request into the model, every recorded reply must be one the model predicts
(status, Type, Mess exactly; the body where the model fixes it) and every recorded INFO/DUMP must show the
model's state. The 1.3.22 and 2.x HEAD batteries were taken with Maxnode 5 and backends answering HTTP on
127.0.0.1:8081 and :8082, several httpd children (so a PING may come from a child that has no worker yet)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.protocol.balancer_info import parse_dump, parse_info
from harness.protocol.mcmp import parse_response
from harness.protocol.mcmp_model import McmpModel, ModelConfig, ModelRequest, Undefined
from harness.protocol.mcmp_model_lines import LineRules, rules_for
from harness.protocol.mcmp_model_view import DUMP_FIELDS, INFO_FIELDS, compare, compare_balancers, reply_problems

DATA = Path(__file__).parent / "data" / "mcmp" / "transcripts"
BACKENDS = frozenset({("127.0.0.1", "8081"), ("127.0.0.1", "8082")})
BATTERIES = {
    "1.3.22-battery": (rules_for("1.3"), "mod_cluster/1.3.22.Final"),
    "2.x-head-battery": (rules_for("2.x"), "mod_proxy_cluster/2.0.0.Dev"),
}
NOT_MCMP = ("GET / on manager vhost", "on proxy port")  # requests the MCMP handler never sees


def parse_request(raw: bytes) -> ModelRequest:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, target, _version = lines[0].split(" ", 2)
    accept_xml = any(line.lower().startswith("accept:") and "text/xml" in line for line in lines[1:])
    return ModelRequest(method, body.decode("latin-1"), target=target, accept_xml=accept_xml)


def replay(name: str, rules: LineRules, release: str, unjudged: list[str]) -> list[str]:
    config = ModelConfig(max_node=5, listening=BACKENDS, release=release)
    model = McmpModel(rules, config, bugs=rules.bugs)
    problems: list[str] = []
    for line in (DATA / f"{name}.jsonl").read_text().splitlines():
        record: dict[str, Any] = json.loads(line)
        if any(marker in record["title"] for marker in NOT_MCMP):
            continue
        request = parse_request(record["request"].encode("latin-1"))
        got = parse_response(record["reply"].encode("latin-1"))
        try:
            prediction = model.apply(request)
        except Undefined:
            unjudged.append(record["title"])  # e.g. STATUS without JVMRoute: an uninitialised route (BUGS)
            continue
        problems += [f"{record['title']}: {p}" for p in reply_problems(prediction, got, lenient_state=True)]
        if request.method.upper() in ("INFO", "DUMP") and got.status == 200:
            view, endpoints = model.view(), model.endpoints
            if request.method.upper() == "INFO":
                problems += [
                    f"{record['title']}: {p}"
                    for p in compare(view, parse_info(got.body), "INFO", INFO_FIELDS, endpoints, load_may_be_zero=True)
                ]
            else:
                dump = parse_dump(got.body)
                problems += [f"{record['title']}: {p}" for p in compare(view, dump, "DUMP", DUMP_FIELDS, endpoints)]
                problems += [f"{record['title']}: {p}" for p in compare_balancers(view, dump)]
    return problems


@pytest.mark.parametrize("name", sorted(BATTERIES))
def test_recorded_battery_replies_and_states_are_predicted(name: str) -> None:
    rules, release = BATTERIES[name]
    unjudged: list[str] = []
    problems = replay(name, rules, release, unjudged)
    assert problems == [], "\n".join(problems)
    assert unjudged == ["STATUS no JVMRoute"]


def test_every_battery_is_replayed_in_full() -> None:
    """The batteries are there and long (a replay that stopped early would prove little)."""
    for name in BATTERIES:
        lines = (DATA / f"{name}.jsonl").read_text().splitlines()
        assert len(lines) >= 60, name
