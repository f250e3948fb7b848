"""Small request helpers of the sim scenarios, through a running cluster's balancer (no fixtures here: every
scenario starts its cluster through the `scenario` fixture)."""

from __future__ import annotations

from typing import Any, Optional

import requests

from harness.run.cluster import Cluster

# Every scenario of this folder: a real httpd + mod_cluster (built from --modcluster-source) and sim nodes.
SIM_BEHIND_HTTPD = {"balancer": "httpd-modcluster", "node": "sim",
                    "reason": "sim-node faults and MCMP exchanges against a real httpd + mod_cluster"}


def build_label(source: Any) -> str:
    """Folder name for recorded data: "1.3.22", "2.x-head" (mod_proxy_cluster/...) or "2.x-pre"."""
    if source.line == "1.3":
        return ".".join(map(str, source.version or (1, 3, 0)))
    return "2.x-head" if source.release.startswith("mod_proxy_cluster/") else "2.x-pre"


def served_by(reply: requests.Response) -> Optional[str]:
    return reply.headers.get("X-Harness-Node")


def cookie_route(reply: requests.Response) -> Optional[str]:
    value = reply.cookies.get("JSESSIONID")
    return value.rpartition(".")[2] if value else None


def fresh_requests(cluster: Cluster, count: int, path: str = "/app/") -> list[requests.Response]:
    """`count` requests, each from a new client (no session)."""
    replies = []
    for _ in range(count):
        with requests.Session() as session:
            session.trust_env = False
            replies.append(session.get(cluster.url(path), timeout=10))
    return replies


def routed(cluster: Cluster, route: str, session_id: str = "HARNESS", path: str = "/app/") -> requests.Response:
    """A request sticky to `route` through the `;jsessionid=` path parameter."""
    return requests.get(cluster.url(f"{path};jsessionid={session_id}.{route}"), timeout=10)
