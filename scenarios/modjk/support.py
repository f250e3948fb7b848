"""Topologies and measurements shared by the mod_jk scenarios (httpd-modjk balancer, Tomcat nodes).

Every topology here is explicit (BalancerSpec(flavor="httpd-modjk"), tomcat nodes, StaticWorkers): these
scenarios run whatever --balancer and --node-flavor select for the other scenarios.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from harness.descriptions import settings
from harness.descriptions.jk import JkBalancer, JkWorker
from harness.descriptions.topology import BalancerSpec, NodeSpec, StaticWorkers, Topology
from harness.judge.history import FaultWindow, RequestRecord
from harness.machinery.waiting import WaitTimeout, wait_until

# mod_jk's globals for fast reactions: maintenance every second (JkWatchdogInterval + worker.maintain) and
# a worker in error retried after a second (recover_time), so a healed node is back within a few seconds.
FAST_JK = JkBalancer(maintain=1, watchdog_interval=1, recover_time=1)


def tomcat(name: str, **jk: Any) -> NodeSpec:
    return NodeSpec(name, flavor="tomcat", connector="ajp", jk=JkWorker(**jk) if jk else None)


PING_TIMEOUT_MS = 1000


def probed_tomcat(name: str, ping_mode: str) -> NodeSpec:
    """A Tomcat node whose worker probes by `ping_mode` ("none": no probes): CPong awaited 1000 ms, idle
    connections probed after 2 s (I), the TCP connect bounded by 1000 ms (without it a reconnect to a cut
    node hangs in connect whatever the ping_mode)."""
    setting = {} if ping_mode == "none" else {"ping_mode": ping_mode}
    return tomcat(
        name,
        ping_timeout=PING_TIMEOUT_MS,
        connection_ping_interval=2,
        socket_connect_timeout=PING_TIMEOUT_MS,
        **setting,
    )


def modjk_topology(name: str, nodes: Sequence[NodeSpec], jk: JkBalancer = FAST_JK) -> Topology:
    return Topology(name, BalancerSpec(flavor="httpd-modjk", jk=jk), tuple(nodes), StaticWorkers())


def client() -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    return session


def served_by(url: str, requests_count: int, *, keep_cookies: bool) -> list[str]:
    """The nodes (X-Harness-Node) that answered `requests_count` GETs, one client (keep_cookies) or a fresh
    client per request (every request a new session)."""
    nodes: list[str] = []
    session = client()
    for _ in range(requests_count):
        if not keep_cookies:
            session = client()
        reply = session.get(url, timeout=10)
        assert reply.status_code == 200, f"GET {url} -> {reply.status_code}: {reply.text[:200]}"
        nodes.append(reply.headers.get("X-Harness-Node", "?"))
    return nodes


def detection_s(records: Sequence[RequestRecord], window: FaultWindow, target: str) -> float | None:
    """Seconds from the window's start to the end of the first request routed away from `target`: a
    successful request, ending after the start, of a session whose last request before the start was
    served by `target`, served by another node. None: no such request (yet)."""
    last: dict[str, str] = {}
    for record in records:
        if record.t < window.start and record.session is not None and record.node is not None:
            last[record.session] = record.node
    moved = [
        r.t_end - window.start
        for r in records
        if r.t_end >= window.start
        and r.ok
        and r.session is not None
        and last.get(r.session) == target
        and r.node not in (None, target)
    ]
    return round(min(moved), 3) if moved else None


def wait_detected(load: Any, window: FaultWindow, target: str, cap_s: float, url: str | None = None) -> float | None:
    """The detection time once a request was routed away from `target`, or None when none was within
    `cap_s` seconds (the setting does not detect this fault: requests wait on the faulted worker).

    The load's users count, and with `url` also a fresh request every 0.2 s carrying a session routed to
    `target` (each given 1 s): users whose request was in flight when the fault began wait on the faulted
    worker for as long as it hangs, so on a loaded machine every user of `target` can be stuck, and only a new
    request shows what the setting does with the next one (CPing, connect timeout, failover)."""

    def fresh() -> float | None:
        if url is None:
            return None
        try:
            reply = requests.get(url, headers={"Cookie": f"JSESSIONID=PROBE.{target}"}, timeout=1.0)
        except requests.RequestException:
            return None
        node = reply.headers.get("X-Harness-Node")
        return round(time.time() - window.start, 3) if reply.status_code == 200 and node not in (None, target) else None

    def probe() -> list[float]:
        found = [t for t in (detection_s(load.records(), window, target), fresh()) if t is not None]
        return [min(found)] if found else []  # a list: a detection time of 0.0 is found too

    try:
        return wait_until(probe, timeout=cap_s, interval=0.2, what=f"a request routed away from {target}")[0]
    except WaitTimeout:
        return None


@dataclass(frozen=True)
class Detection:
    ping_mode: str
    fault: str
    detection_s: float | None
    cap_s: float


def record_detections(options: Any, rows: Sequence[Detection]) -> Path:
    """Print the detection times and add them to `<evidence_dir>/modjk-detection.json` (one entry per
    ping_mode and fault; a later run of the same pair replaces it)."""
    path = Path(options.evidence_dir) / "modjk-detection.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    table: dict[str, Any] = json.loads(path.read_text()) if path.is_file() else {}
    for row in rows:
        table[f"{row.ping_mode}/{row.fault}"] = {
            "ping_mode": row.ping_mode,
            "fault": row.fault,
            "detection_s": row.detection_s,
            "cap_s": row.cap_s,
        }
        shown = "not detected" if row.detection_s is None else f"{row.detection_s:.3f} s"
        settings.progress(
            f"mod_jk detection: ping_mode={row.ping_mode:<4} {row.fault:<9} {shown} (cap {row.cap_s:.0f} s)"
        )
    path.write_text(json.dumps(table, indent=1, sort_keys=True))
    return path
