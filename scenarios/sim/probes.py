"""Small request helpers of the sim scenarios, through a running cluster's balancer (no fixtures here: every
scenario starts its cluster through the `scenario` fixture)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import requests

from harness.run.cluster import Cluster

# Every scenario of this folder: a real httpd + mod_cluster (built from --modcluster-source) and sim nodes.
SIM_BEHIND_HTTPD = {
    "balancer": "httpd-modcluster",
    "node": "sim",
    "reason": "sim-node faults and MCMP exchanges against a real httpd + mod_cluster",
}


def build_label(source: Any) -> str:
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
    complete = (
        {
            p.name: p
            for p in sorted(root.iterdir())
            if p.is_dir() and all((p / name).is_file() for name in TRANSCRIPT_FILES)
        }
        if root.is_dir()
        else {}
    )
    if label in complete:
        return complete[label], f"the recording of {label}"
    wanted = _release(label)
    same_line = [(release, name) for name in complete if (release := _release(name))]
    if wanted and same_line:
        _, nearest = min(same_line, key=lambda rn: (abs(rn[0][2] - wanted[2]), -rn[0][2]))
        return complete[nearest], f"the recording of {nearest}, nearest to {label}"
    missing = [name for name in TRANSCRIPT_FILES if not (root / label / name).is_file()]
    return None, (
        f"no transcripts recorded for {label}: {root / label} lacks {', '.join(missing)}"
        f" (record them with HARNESS_RECORD_TRANSCRIPTS=1)"
    )


def served_by(reply: requests.Response) -> str | None:
    return reply.headers.get("X-Harness-Node")


def cookie_route(reply: requests.Response) -> str | None:
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
