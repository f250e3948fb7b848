"""Sanity of the Docker layer the harness stands on (docker tier).

Setup: the base image (pulled or bootstrapped from Debian packages) and the small `probe` image; one private
network per topology. Steps: start two probes on one network and a third on another network; check they reach
each other by alias over TCP and that a UDP multicast datagram (what advertise discovery rides on) sent by one
reaches the other on the same network and not the one on the other network; afterwards no labelled
container or network of this test is left.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from testcontainers.core.wait_strategies import LogMessageWaitStrategy

from harness.descriptions import settings
from harness.machinery.containers import container_ip
from harness.machinery.resources import Resources, leftovers
from harness.machinery.waiting import wait_until

pytestmark = pytest.mark.docker

GROUP, PORT = "224.0.1.199", 23399


def _events(container: Any) -> list[dict[str, Any]]:
    lines = container.get_wrapped_container().logs().decode(errors="replace").splitlines()
    return [json.loads(line) for line in lines if line.startswith("{")]


def _exec_json(container: Any, *args: str) -> dict[str, Any]:
    code, output = container.get_wrapped_container().exec_run(["python3", "/usr/local/bin/probe.py", *args])
    text = output.decode(errors="replace").strip()
    assert code == 0, f"probe {' '.join(args)} exited {code}: {text}"
    return json.loads(text.splitlines()[-1])


def _probe(scope: Resources, image: str, name: str, network: Any) -> Any:
    return scope.container(
        image,
        name=name,
        role="probe",
        network=network,
        command=["python3", "/usr/local/bin/probe.py", "serve", "--group", GROUP, "--port", str(PORT)],
        wait=LogMessageWaitStrategy('"event": "ready"').with_startup_timeout(30),
    )


def test_alias_tcp_and_multicast_between_containers(docker_client: Any, build_image: Any) -> None:
    image = build_image("probe")
    scope = Resources(docker_client, scope="sanity")
    try:
        net, other_net = scope.network("sanity"), scope.network("sanity-other")
        alpha, beta = _probe(scope, image, "alpha", net), _probe(scope, image, "beta", net)
        outsider = _probe(scope, image, "outsider", other_net)

        reply = _exec_json(beta, "connect", "--host", "alpha")
        assert reply["reply"].startswith("hello "), reply

        message = f"advertise-check-{settings.run_id()}"
        sender_ip = container_ip(beta, net.name)

        def alpha_got_it() -> bool:
            _exec_json(beta, "send", "--group", GROUP, "--port", str(PORT), "--message", message)
            return any(e.get("data") == message and e.get("sender") == sender_ip for e in _events(alpha))

        wait_until(
            alpha_got_it,
            timeout=15,
            interval=0.5,
            what=f"multicast {GROUP}:{PORT} from beta to reach alpha",
            describe=lambda: f"alpha events: {_events(alpha)[-5:]}",
        )
        assert not any(e.get("data") == message for e in _events(outsider)), "multicast crossed into another network"
    finally:
        scope.close()
    containers, networks = leftovers(docker_client)
    mine = [n for n in containers + networks if settings.run_id() in n and "sanity" in n]
    assert mine == [], f"left behind: {mine}"
