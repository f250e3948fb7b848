"""Survey: does every release / commit of a mod_cluster repository build and start in the httpd-modcluster
image? Prints one table row per ref.

    python bench/bench_releases.py --source-repo PATH [--tags T ...] [--commits C ...] [--all-13-tags]
                                   [--json OUT]

For each ref: a shared, no-checkout clone of PATH in a temp folder (the repository itself is never written)
checked out at the ref, so the source is a real checkout and its commit is detected like any other; the
image built from its native/ tree (CMake or per-module autotools, as the tree calls for; an image already
present for the same tree content is reused and shown as "cached"); then a minimal topology: the
httpd-modcluster balancer + 1 sim node, registration gated as usual, and one request proxied to node1.
The temp folder and every container and network are removed after each ref.

Columns: ref, commit, build method, build seconds, started ("yes": httpd answered MCMP VERSION; "httpd only":
httpd runs and answers MCMP but refuses VERSION, so the harness cannot drive it), routable (node1 registered
and served a proxied request), the MCMP receive spelling the build registers, error summary.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import requests

from harness.descriptions import settings
from harness.descriptions.balancer import BalancerSpec
from harness.descriptions.options import HarnessOptions
from harness.descriptions.topology import Topology
from harness.flavors.httpd_modcluster import source as modcluster_source
from harness.flavors.httpd_modcluster.balancer import (
    HttpdBalancer,
    VersionRefused,
    build_of,
    image_for,
    image_request,
)
from harness.machinery import engine, images
from harness.machinery.resources import Resources, make_temp_dir
from harness.run.cluster import Cluster

LOG_PREFIX = re.compile(r"^(\[[^]]*\] ?)+")
# What says best what went wrong, most telling first.
ERROR_WORDS = ("Invalid command", "undefined symbol", "Cannot load", "error:", "emerg", "error ", "failed", "Error")


@dataclass
class Row:
    ref: str
    commit: str = "?"
    method: str = "?"
    build_s: str = "-"
    started: str = "no"
    routable: str = "no"
    receive: str = "-"
    error: str = ""


def summary(text: str, width: int = 120) -> str:
    """The first line of `text` that says what went wrong (compiler error, emerg, invalid command), without
    httpd's log prefix (`[time] [module:level] [pid ...]`)."""
    lines = [LOG_PREFIX.sub("", line.strip()) for line in text.splitlines() if line.strip()]
    found = (next((line for line in lines if word in line), None) for word in ERROR_WORDS)
    return (next((line for line in found if line), None) or (lines[0] if lines else ""))[:width]


def export(repo: Path, ref: str) -> Path:
    """A checkout of `ref` in a fresh temp folder (git clone --shared --no-checkout, then checkout)."""
    folder = make_temp_dir("bench-releases") / "tree"
    for command in (
        ["git", "clone", "--quiet", "--shared", "--no-checkout", str(repo), str(folder)],
        ["git", "-C", str(folder), "checkout", "--quiet", "--detach", ref],
    ):
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(command[:3])} ... {ref}: {result.stderr.strip()[-300:]}")
    return folder


def survey_one(client: Any, repo: Path, ref: str) -> Row:
    row = Row(ref)
    tree = None
    try:
        tree = export(repo, ref)
        source = modcluster_source.resolve(str(tree))
        row.commit, row.method = source.commit[:10], source.build_method
        present = images.is_present(client, image_request(source))
        started = time.monotonic()
        try:
            tag = image_for(client, source)
        except images.ImageBuildError as exc:
            row.build_s = f"{time.monotonic() - started:.1f}"
            row.error = "build: " + summary(exc.output or exc.error)
            return row
        row.build_s = "cached" if present else f"{time.monotonic() - started:.1f}"
        built = build_of(client, tag, source).build_method  # what the image did, from its capabilities file
        row.method = built if built == source.build_method else f"{built} (tree: {source.build_method})"
        _start(client, str(tree), row)
    except Exception as exc:
        row.error = row.error or summary(f"{type(exc).__name__}: {exc}")
    finally:
        if tree is not None:
            shutil.rmtree(tree.parent, ignore_errors=True)
    return row


def _start(client: Any, given: str, row: Row) -> None:
    options = HarnessOptions(balancer="httpd-modcluster", node="sim", modcluster_source=given)
    topology = Topology.simple("survey", 1, flavor="sim", balancer=BalancerSpec(flavor="httpd-modcluster"))
    cluster = Cluster(topology, Resources(client, scope="bench-releases"), options)
    try:
        try:
            cluster.start(ready_timeout=60)
        except Exception as exc:
            up = cluster.balancer is not None or isinstance(exc, VersionRefused)
            row.started = "yes" if cluster.balancer is not None else "httpd only" if up else "no"
            row.error = summary(f"{type(exc).__name__}: {exc}")
            return
        row.started = "yes"
        balancer = cluster.get_balancer()
        if isinstance(balancer, HttpdBalancer):
            row.receive = balancer.build.receive_directive() or "-"
        context = topology.nodes[0].contexts[0]
        reply = requests.get(cluster.url(f"{context}/"), timeout=10)
        served = reply.headers.get("X-Harness-Node")
        row.routable = "yes" if reply.status_code == 200 and served == "node1" else "no"
        if row.routable == "no":
            row.error = f"GET {context}/ -> {reply.status_code}, served by {served}"
    finally:
        cluster.close()


def print_table(rows: list[Row]) -> None:
    header = Row("ref", "commit", "build", "build s", "started", "routable", "receive directive", "error summary")
    table = [header] + rows
    keys = list(asdict(header))
    widths = {k: max(len(str(getattr(r, k))) for r in table) for k in keys if k != "error"}
    for r in table:
        print("  ".join(str(getattr(r, k)).ljust(widths[k]) for k in keys if k != "error") + "  " + r.error)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source-repo", required=True, type=Path, help="a git repository of mod_cluster")
    parser.add_argument("--tags", nargs="*", default=[], help="tags to survey")
    parser.add_argument("--commits", nargs="*", default=[], help="commits to survey")
    parser.add_argument("--all-13-tags", action="store_true", help="every 1.3.N.Final tag of the repository")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    args = parser.parse_args()
    if not (args.source_repo / ".git").exists() and not (args.source_repo / "HEAD").is_file():
        parser.error(f"--source-repo {args.source_repo}: not a git repository")
    refs = list(args.tags) + list(args.commits)
    if args.all_13_tags:
        listed = subprocess.run(
            ["git", "-C", str(args.source_repo), "tag", "--list", "1.3.*.Final"], capture_output=True, text=True
        ).stdout.split()
        refs = sorted(listed, key=lambda t: int(t.split(".")[2])) + refs
    if not refs:
        parser.error("name refs: --tags, --commits or --all-13-tags")
    settings.configure_testcontainers()
    client = engine.client()
    rows = []
    for ref in refs:
        row = survey_one(client, args.source_repo.resolve(), ref)
        print(f"[bench] {ref}: build {row.build_s} started {row.started} routable {row.routable} {row.error}")
        rows.append(row)
    print()
    print_table(rows)
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in rows], indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
