"""harness.manager_page: the mod_cluster-manager page in every layout (pages in data/manager)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.protocol.html_events import Event, html_events
from harness.protocol.manager_page import (
    ManagerNode,
    ManagerPage,
    command_url,
    parse_manager_page,
)

DATA = Path(__file__).parent / "data" / "manager"
PAGES = sorted(DATA.glob("*.html"))
EXPECTED: dict[str, dict[str, Any]] = json.loads((DATA / "expected.json").read_text())
NODE_ATTRS = (
    "status",
    "scheme",
    "host",
    "port",
    "balancer",
    "lbgroup",
    "elected",
    "read",
    "transferred",
    "connected",
    "load",
    "num_sessions",
)


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
        got = [
            [c.path, c.status, c.requests, c.vhost, list(c.aliases), [link.cmd for link in c.commands]]
            for c in node.contexts
        ]
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
    assert {
        "1.3.22-normal.html",
        "head-normal.html",
        "head-reducedisplay-on.html",
        "head-allowcmd-off.html",
        "head-allowdisplay-on.html",
    } <= set(EXPECTED)


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
    assert dict(stop.params) == {
        "nonce": page.nonce,
        "Cmd": "STOP-APP",
        "Range": "CONTEXT",
        "JVMRoute": "node2",
        "Alias": "localhost",
        "Context": "/app",
    }


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


_PARTS = st.sampled_from(
    [
        "<h1> Node n1 (http://h:1): </h1>\n",
        "<h1> Node n2 (ajp://[::1]:x): </h1>\n",
        "<br/><br/>Node n3  OK ",
        "<br/><br/>Node n4  NOTOK ",
        "<h1> LBGroup d: ",
        "</h1>\n",
        "<br/>\n",
        "Balancer: b,LBGroup: g,Status: OK,Load: 9\n",
        "<h2> Virtual Host 1:</h2>",
        "<h3>Contexts:</h3>",
        "<pre>",
        "</pre>",
        "/app, Status: ENABLED Request: 0 ",
        '<a href="/m?nonce=1&Cmd=STOP-APP&Range=CONTEXT&JVMRoute=n1&Context=/a%zz">Stop</a>',
        "\n",
        "<h3>Aliases:</h3>",
        "Aliases: a b ",
        "localhost\n",
        "<h1>SessionIDs:</h1><pre>",
        "id: s route: r\n",
        "<h1> Command failed: x</h1>",
        "</body></html>",
        "<!DOCTYPE",
        "&amp;",
        "&",
    ]
)


@given(st.lists(_PARTS, max_size=40))
def test_parser_never_raises_on_page_fragments(parts: list[str]) -> None:
    page = parse_manager_page("".join(parts))
    for node in page.nodes:
        assert node.name and isinstance(node.contexts, tuple)


# ------------------------------------------------------------------ every field of every recorded page

RECORDED = sorted([*DATA.glob("*.html"), *DATA.parent.glob("recorded/*/manager-*.html")])
PARSED: dict[str, Any] = json.loads((DATA / "parsed.json").read_text())  # written by the regex parser it replaced


@pytest.mark.parametrize("path", RECORDED, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_recorded_page_parses_field_for_field_as_recorded(path: Path) -> None:
    parsed = json.loads(json.dumps(dataclasses.asdict(parse_manager_page(path.read_bytes()))))
    assert parsed == PARSED[str(path.relative_to(DATA.parent))]


def test_every_recorded_page_has_a_snapshot() -> None:
    assert set(PARSED) == {str(p.relative_to(DATA.parent)) for p in RECORDED}


# ------------------------------------------------------------------ crafted input: linear time


def _with_junk(page: str, junk: str) -> str:
    return page.replace("</body>", junk + "</body>")


@pytest.mark.parametrize("unit", ["<h1> Node  (a://:", "<!--", "</", '<a href="', "<h1> Node a (b://c:d) "])
def test_crafted_50kb_page_parses_like_the_page_without_it(unit: str) -> None:
    """50 KB the regex parser spent minutes on (node heads it could not close; 10 KB took 18 s), or that make
    html.parser quadratic on Python < 3.11.13: the junk changes nothing."""
    page = (DATA / "head-normal.html").read_text()
    crafted = parse_manager_page(_with_junk(page, unit * (50_000 // len(unit))))
    assert crafted == parse_manager_page(page)
    assert crafted.names == ("node1", "node2") and _node(crafted, "node2").load == -1


def test_crafted_junk_before_the_nodes_is_text() -> None:
    page = (DATA / "1.3.22-normal.html").read_text().replace("<h1> Node node1", "<!--" * 5000 + "<h1> Node node1", 1)
    assert parse_manager_page(page).names == ("node1", "node2")


# ------------------------------------------------------------------ layout details

HEAD = "<html><body><h1>mod_cluster/1.3.22.Final</h1>"


@pytest.mark.parametrize(
    "head, expected",
    [
        (" Node a (b (http://h:1): ", ("a (b", "http", "h", 1)),
        (" Node n1 (ajp://[fd00::1]:8009): ", ("n1", "ajp", "[fd00::1]", 8009)),
        (" Node n1 (http://h:): ", ("n1", "http", "h", None)),
        (" Node n1 (http://:80): ", ("n1", "http", "", 80)),
    ],
)
def test_node_head(head: str, expected: tuple[str, str, str, int | None]) -> None:
    node = parse_manager_page(f"{HEAD}<h1>{head}</h1>").nodes[0]
    assert (node.name, node.scheme, node.host, node.port) == expected


@pytest.mark.parametrize(
    "head",
    [
        " Node n1 (http://h:8(0)): ",
        " Node n1 (http://h:8)0): ",
        " Node n1 (http//h:1): ",
        " Node n1 (http://h): ",
        " Node n1 (http://h:1):",
        " Node n1 (ht(p://h:1): ",
        " Node n1\n(http://h:1): ",
        " Node  (http://h:1): ",
        "Node n1 (http://h:1): ",
        " Node n1 (http://h\n:1): ",
        " Node n1 (http://h:8(0): ",
    ],
)
def test_not_a_node_head(head: str) -> None:
    assert parse_manager_page(f"{HEAD}<h1>{head}</h1>").nodes == ()


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Node n1  OK ", ("n1", "OK")),
        ("Node n1 NOTOK ", ("n1", "NOTOK")),
        ("Node my node  NOTOK x", ("my node", "NOTOK")),
    ],
)
def test_reduced_node_head(text: str, expected: tuple[str, str]) -> None:
    page = parse_manager_page(f"{HEAD}<br/><br/>{text}<br/>")
    assert [(n.name, n.status, n.host, n.fields) for n in page.nodes] == [(*expected, None, {})]


@pytest.mark.parametrize(
    "html",
    [
        "<br/>Node n1  OK ",
        "<br/> <br/>Node n1  OK ",
        "<br/><br/>Node n1  OKAY ",
        "<br/><br/>Node n1 OK",
        "<br/><br/>Node  OK ",
    ],
)
def test_not_a_reduced_node_head(html: str) -> None:
    assert parse_manager_page(HEAD + html).nodes == ()


def test_reduced_layout_lbgroups_and_the_domain_table_that_ends_the_nodes() -> None:
    page = parse_manager_page(
        f"{HEAD}<br/><br/>Node n0  OK <br/><br/><br/>LBGroup d1: <br/><br/>Node n1  OK "
        "<br/><br/>LBGroup : <br/><br/>Node n2  NOTOK <br/>LBGroup:<pre>x</pre>"
        "<br/><br/>Node n3  OK <br/><br/>LBGroup d3: "
    )
    assert [(n.name, n.lbgroup) for n in page.nodes] == [("n0", None), ("n1", "d1"), ("n2", "")]


def test_reduced_layout_aliases_follow_their_contexts() -> None:
    page = parse_manager_page(
        f"{HEAD}<br/><br/>Node n1  OK <br/><pre>/a, Status: ENABLED Request: 3\n</pre>"
        "Aliases: x y <pre>/b, Status: STOPPED Request: 0</pre>\nAliases: z"
        "<pre>/c, Status: STOPPED Request: 0</pre>Aliases: w x "
    )
    node = page.nodes[0]
    assert [(c.path, c.status, c.requests, c.vhost, c.aliases) for c in node.contexts] == [
        ("/a", "ENABLED", 3, None, ("x", "y")),
        ("/c", "STOPPED", 0, None, ("w", "x")),
    ]
    assert node.aliases == ("x", "y", "w")


def test_aliases_after_a_pre_are_only_read_in_the_reduced_layout() -> None:
    page = parse_manager_page(
        f"{HEAD}<h1> Node n1 (http://h:1): </h1><pre>/a, Status: ENABLED Request: 0</pre>Aliases: x "
    )
    assert page.nodes[0].contexts == () and page.nodes[0].aliases == ()


def test_virtual_hosts_contexts_and_aliases() -> None:
    page = parse_manager_page(
        f"{HEAD}<h1> Node n1 (http://h:1): </h1>\n<br/>\nBalancer: b,Status: OK\n<h2> Virtual Host 7:</h2>"
        "<h3>Contexts:</h3><pre>/x, Status: ENABLED Request: -1\njunk\n"
        '/y, Status: DISABLED Request: 2 <a href="/m?Cmd=ENABLE-APP">Enable</a>\r\n</pre>'
        "<h3>Aliases:</h3><pre> a \n\n b\n</pre>"
        "<h2> Virtual Host 8:</h2><pre>/z, Status: ENABLED Request: 0</pre><h3>Aliases:</h3><pre>c</pre>"
        "<h2> Virtual Host x:</h2><h3>Contexts:</h3><pre>/w, Status: ENABLED Request: 0</pre>"
        "<h2> Virtual Host 9:</h2><h3>Aliases:</h3><pre>d</pre><h3>Contexts:</h3>"
        "<pre>/v, Status: ENABLED Request: 0</pre>"
    )
    node = page.nodes[0]
    assert node.aliases == ("a", "b", "c", "d")  # "Virtual Host x" is no head: its <pre>s belong to host 8
    assert [(c.path, c.status, c.requests, c.vhost, c.aliases, [k.cmd for k in c.commands]) for c in node.contexts] == [
        ("/x", "ENABLED", -1, 7, ("a", "b"), []),
        ("/y", "DISABLED", 2, 7, ("a", "b"), ["ENABLE-APP"]),
        ("/z", "ENABLED", 0, 8, ("c",), []),
    ]  # host 9: its first <pre> is aliases


def test_the_first_pre_of_a_listed_virtual_host_holds_its_contexts() -> None:
    page = parse_manager_page(
        f"{HEAD}<h1> Node n1 (http://h:1): </h1><h2> Virtual Host 1:</h2><h3>Contexts:</h3>"
        "<pre>/a, Status: ENABLED Request: 0</pre><pre>/b, Status: ENABLED Request: 0</pre>"
    )
    assert [c.path for c in page.nodes[0].contexts] == ["/a"]


def test_virtual_hosts_of_a_reduced_node_are_ignored() -> None:
    page = parse_manager_page(
        f"{HEAD}<br/><br/>Node n1  OK <br/><h2> Virtual Host 1:</h2><h3>Contexts:</h3>"
        "<pre>/a, Status: ENABLED Request: 0</pre>"
    )
    assert page.nodes[0].contexts == ()


def test_node_line_fields_and_command_links() -> None:
    link = '<a href="/m?nonce=n&amp;Cmd=STOP-APP&Range=NODE&JVMRoute=n%201&Cmd=X&=v&flag">Stop &amp; go</a>'
    page = parse_manager_page(
        f"{HEAD}<h1> Node n1 (http://h:1): </h1>\n{link} <h2>x</h2>{link}<br/>{link}\nnot fields\n"
        "Balancer: b,Domain: a,b,LBGroup: g,Status: NOTOK,Elected: 9,Load: x,Num sessions: 99999999999999999999\n"
        "Balancer: other\n<h1> Node n2 (http://h:2): </h1>\n<br/>Balancer: c,Status: OK"
    )
    n1, n2 = page.nodes
    assert n1.fields == {
        "Balancer": "b",
        "Domain": "a,b",
        "LBGroup": "g",
        "Status": "NOTOK",
        "Elected": "9",
        "Load": "x",
        "Num sessions": "99999999999999999999",
    }
    assert (n1.status, n1.balancer, n1.lbgroup, n1.elected, n1.load, n1.num_sessions) == (
        "NOTOK",
        "b",
        "g",
        9,
        None,
        None,
    )
    assert len(n1.commands) == 2 and n1.commands[0].label == "Stop & go"
    stop = n1.commands[0]
    assert stop.href == "/m?nonce=n&Cmd=STOP-APP&Range=NODE&JVMRoute=n%201&Cmd=X&=v&flag"
    assert dict(stop.params) == {"nonce": "n", "Cmd": "STOP-APP", "Range": "NODE", "JVMRoute": "n 1", "flag": ""}
    assert (n2.balancer, n2.status, n2.commands) == ("c", "OK", ())
    assert page.nonce == "n" and page.links == ()


def test_node_without_a_br_has_no_command_links() -> None:
    page = parse_manager_page(f'{HEAD}<h1> Node n1 (http://h:1): </h1><a href="/m?Cmd=X">x</a>')
    assert page.nodes[0].commands == ()


def test_hrefs_are_kept_as_written() -> None:
    page = parse_manager_page(f'{HEAD}<a x="1" HREF="/m?a=&lt&not=1&amp;b=%26">l</a><a>no href</a>')
    assert [(k.href, dict(k.params), k.label) for k in page.links] == [
        ("/m?a=&lt&not=1&b=%26", {"a": "", "lt": "", "not": "1", "b": "&"}, "l"),
        ("", {}, "no href"),
    ]


def test_page_links_stop_at_the_first_node_and_the_nonce_is_the_first_one() -> None:
    page = parse_manager_page(
        '<html><body>\n<h1>v</h1><a href="/m?refresh=10">a</a><a href="/m?x=1&nonce=N%31">b'
        '</a><a href="/m?nonce=M">c</a><h1> Node n1 (http://h:1): </h1><a href="/m?d">d</a>'
    )
    assert [k.label for k in page.links] == ["a", "b", "c"] and page.nonce == "N1" and page.version == "v"


@pytest.mark.parametrize(
    "html, version",
    [
        ("<html><body>\n <h1> mod_cluster/1.3.22.Final </h1>", "mod_cluster/1.3.22.Final"),
        ("<html><body>x<h1>v</h1>", None),
        ("<html><body><p><h1>v</h1>", None),
        ("<html><body><h1>v<b>x</b></h1>", None),
        ("<html><h1>v</h1>", None),
        ("<h1>v</h1>", None),
        ("<html><body><h1>v", None),
        ("<html><body><h1>a &amp; b</h1><h1>c</h1>", "a & b"),
    ],
)
def test_version_is_the_h1_right_after_body(html: str, version: str | None) -> None:
    assert parse_manager_page(html).version == version


def test_the_first_command_failed_is_the_error() -> None:
    page = parse_manager_page(f"{HEAD}<h1> Command failed: one </h1><h1> Command failed: two</h1>")
    assert page.error == "one"
    assert parse_manager_page(f"{HEAD}<h1>Command failed: x</h1>").error is None


def test_config_block_lines() -> None:
    start, end = 'start of "httpd.conf" configuration', 'end of "httpd.conf" configuration'
    page = parse_manager_page(f"{HEAD}x {start}<br/>a: OK<br/> <br/>b &amp; c<br/>d {end}<br/>e<br/>")
    assert page.config_lines == ("a: OK", "b & c", "d ")
    assert parse_manager_page(f"{HEAD}{start}<br/>a<br/>b").config_lines == ("a", "b")
    assert parse_manager_page(f"{HEAD}{start} x<br/>a<br/>").config_lines == ()


def test_session_ids_and_the_end_of_the_nodes() -> None:
    page = parse_manager_page(
        f"{HEAD}<h1> Node n1 (http://h:1): </h1><h1>SessionIDs:</h1><pre>id: A.n1 route: n1\n"
        "junk\nid: B route: n 2\n</pre><h1> Node n2 (http://h:2): </h1><br/><br/>Node n3  OK "
    )
    assert page.session_ids == (("A.n1", "n1"), ("B", "n 2")) and page.names == ("n1",)
    assert parse_manager_page(f"{HEAD}<h1>SessionIDs:</h1>\n<pre>id: A route: n1</pre>").session_ids == ()
    ended = parse_manager_page(f"{HEAD}<h1>LBGroup:</h1><h1> Node n1 (http://h:1): </h1><h1> LBGroup d: </h1>")
    assert ended.nodes == () and ended.links == ()


def test_lbgroup_heads_of_the_normal_layout() -> None:
    page = parse_manager_page(
        f'{HEAD}<h1> LBGroup d1: <a href="/m?Cmd=ENABLE-APP&Range=DOMAIN">Enable</a></h1>'
        "<h1> Node n1 (http://h:1): </h1><h1> LBGroup d2: </h1><h1> Node n2 (http://h:2): </h1>"
        "\n<br/>Balancer: b,LBGroup: own\n<h1> Node n3 (http://h:3): </h1>"
    )
    assert [(n.name, n.lbgroup) for n in page.nodes] == [("n1", "d1"), ("n2", "own"), ("n3", "d2")]
    assert [k.label for k in page.links] == ["Enable"] and page.nodes[0].commands == ()


def test_an_unclosed_heading_or_pre_ends_at_the_next_heading() -> None:
    page = parse_manager_page(
        f"{HEAD}<h2> Virtual Host 1:<h1> Node n1 (http://h:1): </h1><h2> Virtual Host 2:"
        "<h3>Contexts:</h3><pre>/a, Status: ENABLED Request: 0<h3>Aliases:</h3><pre>al</pre>"
    )
    node = page.nodes[0]
    assert [(c.path, c.vhost, c.aliases) for c in node.contexts] == [("/a", 2, ("al",))]


def test_text_split_by_tags_is_joined() -> None:
    page = parse_manager_page(
        f'{HEAD}<h1> Node n<b>1</b> (http://h:1): </h1>\n<a href="/m?Cmd=X">St<i>o</i>p</a><br/>\n'
        "Balancer: b,Ttl: 1:2\n<h2> Virtual Host 1:</h2><h3>Contexts:</h3>"
        "<pre> /a, Status: <b>ENABLED</b> Request: 0\n/b, Status: STOPPED Request: 1</pre>"
    )
    node = page.nodes[0]
    assert (node.name, [c.label for c in node.commands], node.fields["Ttl"]) == ("n1", ["Stop"], "1:2")
    assert [(c.path, c.status) for c in node.contexts] == [(" /a", "ENABLED"), ("/b", "STOPPED")]
    start, end = 'start of "httpd.conf" configuration', 'end of "httpd.conf" configuration'
    config = parse_manager_page(f"{HEAD}{start}<br/>a<b>:</b> OK<br/>{end}<br/>{start}<br/>b<br/>{end}")
    assert config.config_lines == ("a: OK",)


def test_what_follows_the_body_is_not_a_node() -> None:
    page = parse_manager_page(
        f"{HEAD}<h1> Node n1 (http://h:1): </h1></body><h1> Node n9 (http://h:9): </h1><br/><br/>Node n8  OK "
    )
    assert page.names == ("n1",)


def test_stray_tags_and_the_doctype() -> None:
    assert parse_manager_page(f"{HEAD}</a></pre></h1>").links == ()
    assert parse_manager_page("<br/>Node n1  OK ").nodes == ()
    page = parse_manager_page("x<!DOCTYPE html><!DOCTYPE x><html><body><h1>v</h1>")
    assert (page.preamble, page.version) == ("x", "v")


# ------------------------------------------------------------------ the event stream under the parser


def test_html_events() -> None:
    assert html_events('a &amp; b < c<!DOCTYPE x>d<br/><H1 href="h">t</h1><a x=1 href="/m?a=1&amp;b">l</a>') == [
        Event("text", "", "a & b < cd"),
        Event("start", "br"),
        Event("start", "h1"),
        Event("text", "", "t"),
        Event("end", "h1"),
        Event("start", "a", "/m?a=1&amp;b"),
        Event("text", "", "l"),
        Event("end", "a"),
    ]


@pytest.mark.parametrize("junk", ["<!-- x", "</", "<a href='x>", '<a href="x', "<script>x</script>", "<?x>", "<![x]>"])
def test_html_events_keep_what_cannot_be_closed_as_text(junk: str) -> None:
    assert html_events(f"<pre>{junk}</pre>") == [Event("start", "pre"), Event("text", "", junk), Event("end", "pre")]


def test_command_url_keeps_address_characters_and_the_page_path() -> None:
    url = command_url("ENABLE-APP", "CONTEXT", jvmroute="n1", alias="[fd00::1]:8080,user@host", context="/a b")
    assert (
        url
        == "/mod_cluster_manager?Cmd=ENABLE-APP&Range=CONTEXT&JVMRoute=n1&Alias=%5Bfd00::1%5D:8080,user@host&Context=/a%20b"
    )
    page = _page("1.3.22-normal.html")
    assert page.command_url("STOP-APP", "NODE", path="/mcm", jvmroute="node1").startswith(f"/mcm?nonce={page.nonce}&")
    assert page.node("nosuch") is None
