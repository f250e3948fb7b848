"""Shared pieces of the sim-node scenarios: fixtures (sim image, a scope with a network and a real
httpd + mod_cluster balancer) and small request helpers. Imported by the test modules of this folder."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator, Optional

import pytest
import requests

from harness.flavors.sim import node as nodes_sim
from harness.flavors.httpd_modcluster.balancer import HttpdBalancer, start_httpd_balancer
from harness.spec.balancer import BalancerSpec
from harness.flavors.httpd_modcluster.source import ModClusterSource
from harness.spec.node import Advertise
from harness.machinery.resources import Resources


@pytest.fixture(scope="session")
def sim_image(docker_client: Any) -> str:
    return nodes_sim.sim_image(docker_client)


@dataclass
class Bed:
    """A test bed: cleanup scope, network, image tags and the source under test."""

    scope: Resources
    network: Any
    sim_image: str
    source: ModClusterSource

    def balancer(self, spec: Optional[BalancerSpec] = None, advertise: Optional[Advertise] = None) -> HttpdBalancer:
        return start_httpd_balancer(self.scope, self.network, spec or BalancerSpec(), self.source,
                                    advertise=advertise)


@pytest.fixture
def bed(resources: Resources, sim_image: str, modcluster_source: ModClusterSource) -> Iterator[Bed]:
    """A cleanup scope with its own network; the balancer is started by the test (its spec varies)."""
    print(f"mod_cluster under test: {modcluster_source.release}")
    yield Bed(resources, resources.network(f"sim-{resources.scope}"[:40]), sim_image, modcluster_source)


def build_label(source: ModClusterSource) -> str:
    """Folder name for recorded data: "1.3.22", "2.x-head" (mod_proxy_cluster/...) or "2.x-pre"."""
    if source.line == "1.3":
        return ".".join(map(str, source.version or (1, 3, 0)))
    return "2.x-head" if source.release.startswith("mod_proxy_cluster/") else "2.x-pre"


def served_by(reply: requests.Response) -> Optional[str]:
    return reply.headers.get("X-Harness-Node")


def cookie_route(reply: requests.Response) -> Optional[str]:
    value = reply.cookies.get("JSESSIONID")
    return value.rpartition(".")[2] if value else None


def fresh_requests(balancer: HttpdBalancer, count: int, path: str = "/app/") -> list[requests.Response]:
    """`count` requests, each from a new client (no session)."""
    replies = []
    for _ in range(count):
        with requests.Session() as session:
            session.trust_env = False
            replies.append(session.get(balancer.proxy_url(path), timeout=10))
    return replies


def routed(balancer: HttpdBalancer, route: str, session_id: str = "HARNESS", path: str = "/app/") -> requests.Response:
    """A request sticky to `route` through the `;jsessionid=` path parameter."""
    return requests.get(balancer.proxy_url(f"{path};jsessionid={session_id}.{route}"), timeout=10)
