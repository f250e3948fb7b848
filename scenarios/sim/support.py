"""Shared pieces of the sim-node scenarios: fixtures (sim image, a scope with a network and a real
httpd + mod_cluster balancer) and small request helpers. Imported by the test modules of this folder."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
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


TRANSCRIPT_FILES = ("sim-meta.json", "sim-registration.jsonl", "sim-goodbye.jsonl", "sim-errors.jsonl")


def _release(label: str) -> tuple[int, ...] | None:
    return tuple(map(int, label.split("."))) if re.fullmatch(r"1\.3\.\d+", label) else None


def recorded_transcripts(label: str, root: Path) -> tuple[Path | None, str]:
    """The folder under `root` whose recorded transcripts a run of build `label` is compared with, and why it (or,
    when there is none, what is missing). The build's own folder first; a 1.3.x release without one takes the
    nearest recorded 1.3.x release (the newer of two as near). 2.x-pre and 2.x-head never stand in for each other:
    the MCMP rework between them changed the replies."""
    complete = {p.name: p for p in sorted(root.iterdir()) if p.is_dir()
                and all((p / name).is_file() for name in TRANSCRIPT_FILES)} if root.is_dir() else {}
    if label in complete:
        return complete[label], f"the recording of {label}"
    wanted = _release(label)
    same_line = [(release, name) for name in complete if (release := _release(name))]
    if wanted and same_line:
        _, nearest = min(same_line, key=lambda rn: (abs(rn[0][2] - wanted[2]), -rn[0][2]))
        return complete[nearest], f"the recording of {nearest}, nearest to {label}"
    missing = [name for name in TRANSCRIPT_FILES if not (root / label / name).is_file()]
    return None, (f"no transcripts recorded for {label}: {root / label} lacks {', '.join(missing)}"
                  f" (record them with HARNESS_RECORD_TRANSCRIPTS=1)")


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
