"""harness.manager_page: the mod_cluster-manager page in every layout (pages in data/manager)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.protocol.manager_page import ManagerNode, ManagerPage, command_url, parse_manager_page

DATA = Path(__file__).parent / "data" / "manager"
PAGES = sorted(DATA.glob("*.html"))
EXPECTED: dict[str, dict[str, Any]] = json.loads((DATA / "expected.json").read_text())
NODE_ATTRS = ("status", "scheme", "host", "port", "balancer", "lbgroup", "elected", "read", "transferred",
              "connected", "load", "num_sessions")


def _page(name: str) -> ManagerPage:
    return parse_manager_page((DATA / name).read_bytes())


def _node(page: ManagerPage, name: str) -> ManagerNode:
    node = page.node(name)
    assert node is not None, f"no node {name} in {page.names}"
    return node


def _validate_node(node: ManagerNode, expected: dict[str, Any]) -> None:
    for attr in NODE_ATTRS:
        if attr in expected:
            assert getattr(node, attr) == expected[attr], attr
    if "aliases" in expected:
        assert list(node.aliases) == expected["aliases"]
    if "commands" in expected:
        assert [c.cmd for c in node.commands] == expected["commands"]
    if "contexts" in expected:
        got = [[c.path, c.status, c.requests, c.vhost, list(c.aliases), [link.cmd for link in c.commands]]
               for c in node.contexts]
        assert got == expected["contexts"]


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.stem)
def test_recorded_page(path: Path) -> None:
    page = parse_manager_page(path.read_bytes())
    expected = EXPECTED.get(path.name, {})
    for key in ("version", "nonce", "error", "preamble"):
        if key in expected:
            assert getattr(page, key) == expected[key], key
    if "config_lines" in expected:
        assert list(page.config_lines) == expected["config_lines"]
    if "session_ids" in expected:
        assert [list(s) for s in page.session_ids] == expected["session_ids"]
    nodes: dict[str, dict[str, Any]] = expected.get("nodes", {})
    if nodes or "nodes" in expected:
        assert set(page.names) == set(nodes)
    for name, node_expected in nodes.items():
        _validate_node(_node(page, name), node_expected)
    for node in page.nodes:  # invariants of every layout
        assert node.status in ("OK", "NOTOK") and node.is_ok == (node.status == "OK")
        for context in node.contexts:
            assert all(link.params.get("JVMRoute") == node.name for link in context.commands)
            assert all(link.params.get("nonce") == page.nonce for link in context.commands)


def test_every_layout_is_covered() -> None:
    assert set(EXPECTED) <= {p.name for p in PAGES}  # pages without expectations get the invariants only
    assert {"1.3.22-normal.html", "head-normal.html", "head-reducedisplay-on.html", "head-allowcmd-off.html",
            "head-allowdisplay-on.html"} <= set(EXPECTED)


def test_node_fields_keep_every_key_value() -> None:
    node = _node(_page("head-lbgroup-sessions.html"), "node1")
    assert node.fields["Flushpackets"] == "Off" and node.fields["Num sessions"] == "2"
    assert node.fields["Ttl"] == "60000000"
    assert [c.path for c in node.context("/app")] == ["/app", "/app"]


def test_page_links_and_command_link_params() -> None:
    page = _page("1.3.22-normal.html")
    assert [link.label for link in page.links] == ["Auto Refresh", "show DUMP output", "show INFO output"]
    stop = _node(page, "node2").contexts[0].commands[1]
    assert (stop.label, stop.cmd, stop.range) == ("Stop", "STOP-APP", "CONTEXT")
    assert dict(stop.params) == {"nonce": page.nonce, "Cmd": "STOP-APP", "Range": "CONTEXT", "JVMRoute": "node2",
                                 "Alias": "localhost", "Context": "/app"}


def test_command_url_matches_the_page_links() -> None:
    page = _page("1.3.22-normal.html")
    link = _node(page, "node1").contexts[0].commands[0]
    assert page.command_url("DISABLE-APP", "CONTEXT", jvmroute="node1", alias="localhost", context="/app") == link.href
    node_link = _node(page, "node1").commands[2]
    assert command_url("STOP-APP", "NODE", nonce=page.nonce, jvmroute="node1") == node_link.href


def test_command_url_without_nonce_and_with_odd_values() -> None:
    url = command_url("ENABLE-APP", "DOMAIN", domain="dom 1&x", path="/mcm")
    assert url.startswith("/mcm?Cmd=ENABLE-APP&Range=DOMAIN&Domain=")
    assert dict(parse_qsl(url.partition("?")[2])) == {"Cmd": "ENABLE-APP", "Range": "DOMAIN", "Domain": "dom 1&x"}


def test_empty_and_foreign_pages() -> None:
    assert parse_manager_page("") == ManagerPage()
    page = parse_manager_page("<html><body><h1>It works!</h1></body></html>")
    assert page.nodes == () and page.version == "It works!" and page.nonce is None


@given(st.text(max_size=500))
def test_parser_never_raises_on_text(text: str) -> None:
    parse_manager_page(text)


_PARTS = st.sampled_from([
    "<h1> Node n1 (http://h:1): </h1>\n", "<h1> Node n2 (ajp://[::1]:x): </h1>\n", "<br/><br/>Node n3  OK ",
    "<br/><br/>Node n4  NOTOK ", "<h1> LBGroup d: ", "</h1>\n", "<br/>\n",
    "Balancer: b,LBGroup: g,Status: OK,Load: 9\n",
    "<h2> Virtual Host 1:</h2>", "<h3>Contexts:</h3>", "<pre>", "</pre>", "/app, Status: ENABLED Request: 0 ",
    '<a href="/m?nonce=1&Cmd=STOP-APP&Range=CONTEXT&JVMRoute=n1&Context=/a%zz">Stop</a>', "\n",
    "<h3>Aliases:</h3>", "Aliases: a b ", "localhost\n", "<h1>SessionIDs:</h1><pre>", "id: s route: r\n",
    "<h1> Command failed: x</h1>", "</body></html>", "<!DOCTYPE", "&amp;", "&"])


@given(st.lists(_PARTS, max_size=40))
def test_parser_never_raises_on_page_fragments(parts: list[str]) -> None:
    page = parse_manager_page("".join(parts))
    for node in page.nodes:
        assert node.name and isinstance(node.contexts, tuple)
