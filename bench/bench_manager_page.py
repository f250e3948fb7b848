"""Benchmark: parse time of the mod_cluster-manager page parser on crafted and on realistic large pages.

    python3 bench/bench_manager_page.py [--sizes 10000,100000,1000000] [--old FILE] [--old-sizes 10000]
                                        [--old-inputs node-heads,comments,end-tags,realistic]

Inputs, each cut to the size: "node-heads" repeats `<h1> Node  (a://:` (unclosed node heads: what made the
regex parser's node-head pattern backtrack, cubic in the size); "comments" repeats `<!--` and "end-tags"
repeats `</` (what makes html.parser itself quadratic before Python 3.11.13/3.12.11/3.13.4); "realistic" is
a well-formed page of as many nodes as fit (two virtual hosts and three contexts each). `--old FILE` also
times another copy of the parser (e.g. `git show HEAD~1:harness/protocol/manager_page.py > /tmp/old_mp.py`)
on `--old-sizes` and `--old-inputs` only (the regex parser takes tens of seconds on 10 KB of node heads).
"""

from __future__ import annotations

import argparse
import runpy
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness.protocol.manager_page import command_url, parse_manager_page

Parser = Callable[[str], object]
HEAD = (
    '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN">\n<html><head>\n<title>Mod_cluster Status</title>\n'
    "</head><body>\n<h1>mod_cluster/1.3.22.Final</h1>"
)
NONCE = "15e9a321-dffa-4bc4-93df-9b52d183596c"


def _link(label: str, cmd: str, range_: str, **params: str) -> str:
    return f'<a href="{command_url(cmd, range_, nonce=NONCE, **params)}">{label}</a>'


def realistic_node(index: int) -> str:
    """One node of the normal layout: command links, the node line, two virtual hosts of three contexts."""
    name = f"node{index}"
    links = " ".join(
        _link(f"{verb.title()} Contexts", f"{verb}-APP", "NODE", jvmroute=name)
        for verb in ("ENABLE", "DISABLE", "STOP")
    )
    parts = [
        f"<h1> Node {name} (http://10.0.{index // 250}.{index % 250}:8080): </h1>\n{links}<br/>\n",
        (
            f"Balancer: mycluster,LBGroup: ,Flushpackets: Off,Flushwait: 10000,Ping: 10000000,Smax: -1,"
            f"Ttl: 60000000,Status: OK,Elected: {index},Read: 1000,Transferred: 2000,Connected: 0,Load: 50\n"
        ),
    ]
    for vhost, alias in ((1, "localhost"), (2, f"www{index}.example.com")):
        contexts = "".join(
            f"/app{c}, Status: ENABLED Request: 0 "
            + _link("Disable", "DISABLE-APP", "CONTEXT", jvmroute=name, alias=alias, context=f"/app{c}")
            + " "
            + _link("Stop", "STOP-APP", "CONTEXT", jvmroute=name, alias=alias, context=f"/app{c}")
            + "\n"
            for c in range(3)
        )
        parts.append(
            f"<h2> Virtual Host {vhost}:</h2><h3>Contexts:</h3><pre>{contexts}</pre>"
            f"<h3>Aliases:</h3><pre>{alias}\n</pre>"
        )
    return "".join(parts)


def realistic_page(size: int) -> tuple[str, int]:
    """(page, node count): as many nodes as fit in `size` characters (at least one)."""
    nodes: list[str] = []
    total = len(HEAD) + len("</body></html>")
    while not nodes or total + len(realistic_node(len(nodes) + 1)) <= size:
        nodes.append(realistic_node(len(nodes) + 1))
        total += len(nodes[-1])
    return HEAD + "".join(nodes) + "</body></html>", len(nodes)


def crafted(unit: str, size: int) -> str:
    return (HEAD + unit * (size // len(unit) + 1))[:size]


def timed(parse: Parser, text: str) -> float:
    start = time.perf_counter()
    parse(text)
    return time.perf_counter() - start


def _inputs(size: int) -> list[tuple[str, str]]:
    page, count = realistic_page(size)
    return [
        ("node-heads", crafted("<h1> Node  (a://:", size)),
        ("comments", crafted("<!--", size)),
        ("end-tags", crafted("</", size)),
        (f"realistic ({count} nodes)", page),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--old", type=Path, help="another manager_page.py to time too (e.g. the regex parser)")
    parser.add_argument("--old-sizes", default="10000")
    parser.add_argument("--old-inputs", default="", help="comma-separated input names to time the old parser on")
    args = parser.parse_args()
    parsers: list[tuple[str, Parser, list[int], list[str]]] = [
        ("new", parse_manager_page, [int(s) for s in args.sizes.split(",")], [])
    ]
    if args.old:
        old = runpy.run_path(str(args.old))["parse_manager_page"]
        parsers.append(("old", old, [int(s) for s in args.old_sizes.split(",")], args.old_inputs.split(",")))
    print(f"{'parser':<8} {'input':<24} {'bytes':>9} {'seconds':>9}")
    for label, parse, sizes, only in parsers:
        for size in sizes:
            for name, text in _inputs(size):
                if not only[:1] or name.split(" ")[0] in only:
                    print(f"{label:<8} {name:<24} {len(text):>9} {timed(parse, text):>9.3f}", flush=True)


if __name__ == "__main__":
    main()
