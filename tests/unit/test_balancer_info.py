"""harness.balancer_info: INFO/DUMP text and XML of the three builds (recorded bodies in data/balancer)."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.protocol.balancer_info import (
    BalancerInfo,
    BalancerInfoParseError,
    DumpBalancer,
    InfoNode,
    normalise_status,
    parse_dump,
    parse_dump_text,
    parse_dump_xml,
    parse_info,
    parse_info_text,
    parse_info_xml,
)

DATA = Path(__file__).parent / "data" / "balancer"
BODIES = sorted(p for p in DATA.glob("*/*") if p.suffix in (".txt", ".xml"))


def _table(build_dir: Path) -> dict[str, Any]:
    path = build_dir / "expected.json"
    return dict(json.loads(path.read_text())) if path.exists() else {}


def _parse(path: Path) -> BalancerInfo:
    return (parse_dump if path.stem.startswith("dump") else parse_info)(path.read_text())


def _state(info: BalancerInfo) -> tuple[object, ...]:
    """What INFO and DUMP, text and XML, all show: nodes, aliases and contexts (without local ids)."""
    return (
        sorted((n.id, n.name, n.host, n.port, n.type, n.balancer, n.lbgroup) for n in info.nodes),
        sorted((h.alias, h.vhost, h.node) for h in info.hosts),
        sorted((c.path, c.vhost, c.node, c.status) for c in info.contexts),
    )


@pytest.mark.parametrize("path", BODIES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_recorded_body(path: Path) -> None:
    info = _parse(path)
    assert info.nodes and not info.unparsed
    node_ids = {n.id for n in info.nodes}
    assert all(c.node in node_ids for c in info.contexts) and all(h.node in node_ids for h in info.hosts)
    assert all(c.status in ("ENABLED", "DISABLED", "STOPPED", "REMOVED") for c in info.contexts)
    expected: dict[str, Any] = _table(path.parent).get("files", {}).get(path.name, {})
    for name, node_id in expected.get("ids", {}).items():
        assert _node(info, name).id == node_id
    for key, attr in (("load", "load"), ("ports", "port"), ("types", "type")):
        for name, value in expected.get(key, {}).items():
            assert getattr(_node(info, name), attr) == value
    for name, contexts in expected.get("contexts", {}).items():
        assert [[c.path, c.vhost, c.status] for c in info.contexts_of(name)] == contexts
    for name, aliases in expected.get("aliases", {}).items():
        assert list(info.aliases_of(name)) == aliases
    if "balancers" in expected:
        assert [vars(b) for b in info.balancers] == expected["balancers"]


def _node(info: BalancerInfo, name: str) -> InfoNode:
    node = info.node(name)
    assert node is not None, f"no node {name} in {info.names}"
    return node


def _same_state_groups() -> list[tuple[Path, list[str]]]:
    return [(d, group) for d in sorted(DATA.iterdir()) if d.is_dir() for group in _table(d).get("same_state", [])]


@pytest.mark.parametrize(
    "build_dir,group", _same_state_groups(), ids=lambda v: v.name if isinstance(v, Path) else "+".join(v)
)
def test_text_xml_info_and_dump_agree(build_dir: Path, group: list[str]) -> None:
    states = {name: _state(_parse(build_dir / name)) for name in group}
    first = states[group[0]]
    assert all(state == first for state in states.values()), states


def test_every_build_has_info_and_dump_in_both_formats() -> None:
    for build in ("1.3.22", "2.x-pre", "2.x-head"):
        assert {p.name for p in (DATA / build).iterdir()} >= {"info.txt", "info.xml", "dump.txt", "dump.xml"}


def test_one_based_ids_and_removed_placeholder_on_1_3() -> None:
    info = parse_info((DATA / "1.3.22" / "info-readd.txt").read_text())
    assert [(n.id, n.name) for n in info.nodes] == [(1, "REMOVED"), (2, "node2"), (3, "node1")]
    assert info.context_statuses("node1", "/app") == {"ENABLED"} and info.contexts_of("REMOVED") == ()


def test_dump_text_fields() -> None:
    info = parse_dump_text(
        "node: [3:7],Balancer: b,JVMRoute: n,LBGroup: [dom],Host: h,Port: 8009,Type: ajp,"
        "flushpackets: 2,flushwait: 10,ping: 10,smax: -1,ttl: 60,timeout: 5\n"
        "context: 9 [/x] vhost: 1 node: 7 status: 4\ncontext: 10 [/y] vhost: 1 node: 7 status: 9\n"
    )
    node = _node(info, "n")
    assert (node.slot, node.id, node.lbgroup, node.flushpackets) == (3, 7, "dom", "Auto")
    assert (node.timeout, node.smax, node.port, node.type) == (5, -1, 8009, "ajp")
    assert [(c.status, c.status_code) for c in info.contexts] == [("REMOVED", 4), ("UNKNOWN", 9)]


def test_info_text_tolerates_odd_values_and_keeps_unknown_lines() -> None:
    body = (
        "Node: [0],Name: a,Balancer: ,LBGroup: ,Host: ,Port: ,Type: ,Flushpackets: Off,Load: x\n"
        "Context: [0:1:0], Context: /a, b, Status: DISABLED\nsomething else\n"
    )
    info = parse_info_text(body)
    node = _node(info, "a")
    assert (node.port, node.load, node.host, node.fields["Load"]) == (None, None, "", "x")
    assert [c.path for c in info.contexts] == ["/a, b"] and info.unparsed == ("something else",)


def test_xml_with_unescaped_ampersand_in_a_name_still_parses() -> None:
    body = (
        '<?xml version="1.0" standalone="yes" ?>\n<Info><Nodes><Node id="0" name="a&b"><Load>5</Load></Node>'
        '</Nodes><Vhosts></Vhosts><Contexts><Context id="0"><Status id="2">DISABLED</Status><Context>/x</Context>'
        '<Node id="0"/><Vhost id="1"/></Context><Context><Status/></Context></Contexts></Info>'
    )
    info = parse_info_xml(body)
    assert _node(info, "a&b").load == 5 and info.contexts_of("a&b")[0].status == "DISABLED"
    assert len(info.unparsed) == 1  # the context without node/vhost ids


@pytest.mark.parametrize("body", ["<Info><Nodes>", "<html><body>500</body></html>", "<"])
def test_xml_parsers_raise_parse_error(body: str) -> None:
    with pytest.raises(BalancerInfoParseError):
        parse_dump_xml(body)


def test_detection_and_empty_bodies() -> None:
    assert parse_info("") == BalancerInfo() and parse_dump(b"") == BalancerInfo()
    assert parse_info(b"  \n<Dump><Balancers/></Dump>") == BalancerInfo()


@pytest.mark.parametrize(
    "value,expected",
    [
        ("enabled", "ENABLED"),
        (2, "DISABLED"),
        ("3", "STOPPED"),
        (4, "REMOVED"),
        ("5", "UNKNOWN"),
        ("weird", "UNKNOWN"),
        (None, "UNKNOWN"),
    ],
)
def test_normalise_status(value: str | int | None, expected: str) -> None:
    assert normalise_status(value) == expected


@given(st.text(max_size=400))
def test_text_parsers_never_raise(body: str) -> None:
    info = parse_info_text(body)
    for name in info.names:
        info.contexts_of(name), info.aliases_of(name)
    parse_dump_text(body)


_LINES = st.sampled_from(
    [
        "Node: [{a}],Name: n{a},Balancer: b,Port: {b},Load: {b}",
        "Vhost: [{a}:{b}:{a}], Alias: x{b}",
        "Context: [{a}:{b}:{a}], Context: /c{b}, Status: STOPPED",
        "node: [{a}:{b}],JVMRoute: n{b},LBGroup: [g]",
        "host: {a} [h{a}] vhost: {b} node: {a}",
        "context: {a} [/p] vhost: {b} node: {a} status: {b}",
        "balancer: [{a}] Name: m Sticky: 1 [C]/[p] remove: 0 force: {b} Timeout: 0 maxAttempts: 1",
    ]
)


@given(st.lists(st.tuples(_LINES, st.integers(-5, 10**6), st.integers(-5, 10**6)), max_size=12))
def test_well_formed_lines_are_all_understood(lines: list[tuple[str, int, int]]) -> None:
    body = "\n".join(t.format(a=a, b=b) for t, a, b in lines)
    info = parse_dump_text(body)
    assert not info.unparsed
    assert len(info.nodes) + len(info.hosts) + len(info.contexts) + len(info.balancers) == len(lines)


@given(st.text(max_size=300))
def test_xml_parsers_only_raise_parse_error(body: str) -> None:
    for parse in (parse_info_xml, parse_dump_xml, parse_info, parse_dump):
        try:
            parse(body)
        except BalancerInfoParseError:
            pass


_XML_PARTS = st.sampled_from(
    [
        "<Info>",
        "</Info>",
        "<Dump>",
        "</Dump>",
        "<Nodes>",
        "</Nodes>",
        '<Node id="1" name="a">',
        '<Node id="x">',
        "</Node>",
        "<Node>0</Node>",
        '<Node id="0"/>',
        "<Load>",
        "7",
        "</Load>",
        "<Vhosts>",
        "</Vhosts>",
        '<Vhost id="1" alias="h">',
        "</Vhost>",
        "<Vhost>2</Vhost>",
        "<Contexts>",
        "</Contexts>",
        '<Context id="3">',
        '<Context id="4" path="/p">',
        "</Context>",
        "<Context>/c</Context>",
        '<Status id="2">',
        "DISABLED",
        "</Status>",
        '<Vhost id="1"/>',
        "<Hosts>",
        "</Hosts>",
        '<Host id="5" alias="h">',
        "</Host>",
        "<Balancers>",
        "</Balancers>",
        '<Balancer id="0" name="m">',
        "</Balancer>",
        "<StickySession>",
        "</StickySession>",
        "&",
        "<",
    ]
)


@given(st.lists(_XML_PARTS, max_size=40))
def test_xml_fragments_only_raise_parse_error(parts: list[str]) -> None:
    body = "".join(parts)
    for parse in (parse_info_xml, parse_dump_xml):
        try:
            info = parse(body)
        except BalancerInfoParseError:
            continue
        for name in info.names:
            info.contexts_of(name), info.aliases_of(name)


# ------------------------------------------------------------------ every field of every recorded body

RECORDED_BODIES = BODIES + sorted(p for p in DATA.parent.glob("recorded/*/*") if p.suffix in (".txt", ".xml"))
PARSED: dict[str, Any] = json.loads((DATA / "parsed.json").read_text())


@pytest.mark.parametrize("path", RECORDED_BODIES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_recorded_body_parses_field_for_field_as_recorded(path: Path) -> None:
    """parsed.json pins every field (ids, status codes, balancer flags, node counters) of every recorded body;
    rewrite it only after checking the difference against the body."""
    assert json.loads(json.dumps(dataclasses.asdict(_parse(path)))) == PARSED[str(path.relative_to(DATA.parent))]


def test_every_recorded_body_has_a_snapshot() -> None:
    assert set(PARSED) == {str(p.relative_to(DATA.parent)) for p in RECORDED_BODIES}


@pytest.mark.parametrize(
    "lbgroup, flush, expected",
    [
        ("[dom1]", "0", ("dom1", "Off")),
        ("[dom1", "1", ("[dom1", "On")),
        ("dom1]", "2", ("dom1]", "Auto")),
        ("[]", "7", ("", "7")),
    ],
)
def test_dump_node_lbgroup_brackets_and_flush_codes(lbgroup: str, flush: str, expected: tuple[str, str]) -> None:
    line = f"node: [1:2],Balancer: b,JVMRoute: n1,LBGroup: {lbgroup},Host: h,Port: 1,Type: http,flushpackets: {flush}"
    node = parse_dump(line).nodes[0]
    assert (node.lbgroup, node.flushpackets, node.id, node.slot, node.name) == (*expected, 2, 1, "n1")
    assert parse_dump("node: [1:2],Balancer: b,Host: h").nodes[0].name == ""


@pytest.mark.parametrize(
    "sticky, expected",
    [
        (
            "<Enabled>0</Enabled><Cookie>C</Cookie><Path>p</Path><Remove>1</Remove><Force>1</Force>",
            (False, "C", "p", True, True),
        ),
        ("<Enabled>1</Enabled><Remove></Remove><Force>0</Force>", (True, "", "", False, False)),
        ("", (False, "", "", False, False)),
    ],
)
def test_xml_dump_balancer_flags(sticky: str, expected: tuple[bool, str, str, bool, bool]) -> None:
    body = (
        f'<Dump><Balancers><Balancer id="3" name="b1"><StickySession>{sticky}</StickySession>'
        "<Timeout>7</Timeout><MaxAttempts>2</MaxAttempts></Balancer>"
        '<Balancer id="4"><Timeout>x</Timeout></Balancer><Balancer name="no-id"/></Balancers></Dump>'
    )
    first, second = parse_dump(body).balancers
    assert (
        first.id,
        first.name,
        first.sticky,
        first.cookie,
        first.path,
        first.remove,
        first.force,
        first.timeout,
        first.max_attempts,
    ) == (3, "b1", *expected, 7, 2)
    assert (second.id, second.name, second.timeout, second.max_attempts) == (4, "", 0, 0)


def test_lookups_by_name_and_id_and_for_absent_nodes() -> None:
    info = parse_dump((DATA / "1.3.22" / "dump.txt").read_text())
    node2 = _node(info, "node2")
    assert info.node_by_id(node2.id) == node2 and info.node_by_id(99) is None
    assert info.node("nosuch") is None and info.contexts_of("nosuch") == () and info.aliases_of("nosuch") == ()
    assert info.balancer("mycluster") == info.balancers[0] and info.balancer("other") is None


def test_dump_text_balancer_line_with_every_flag_set() -> None:
    line = "balancer: [2] Name: b2 Sticky: 0 [MYCOOKIE]/[mypath] remove: 1 force: 0 Timeout: 7 maxAttempts: 3"
    assert parse_dump_text(line).balancers == (
        DumpBalancer(2, "b2", sticky=False, cookie="MYCOOKIE", path="mypath", remove=True, timeout=7, max_attempts=3),
    )


def test_text_values_with_colons_without_a_space_and_odd_statuses() -> None:
    body = "Node: [1],Name: n1,Host: fd00::1,Port:8080,Type:ajp\nContext: [1:1:1], Context: /x, Status: PAUSED\n"
    info = parse_info(body.encode())
    node = _node(info, "n1")
    assert (node.host, node.port, node.type, node.flushpackets) == ("fd00::1", 8080, "ajp", "")
    assert [(c.path, c.status, c.status_code) for c in info.contexts] == [("/x", "UNKNOWN", None)]


def test_text_bodies_that_are_not_utf8_still_parse() -> None:
    info = parse_info(b"Node: [1],Name: n\xff1,Port: 1\n")
    assert info.names == ("n\ufffd1",)
    assert parse_dump(b"Node: [1],Name: n\xff1,Port: 1\n").names == ("n\ufffd1",)


def test_unknown_text_lines_are_kept_as_printed() -> None:
    info = parse_dump_text("  indented: line  \r\nXtra line X\nNode: [1],Name: n1\n")
    assert info.unparsed == ("  indented: line  ", "Xtra line X") and info.names == ("n1",)


def test_dump_xml_is_detected_after_leading_blank_lines() -> None:
    body = '\n  <Dump><Nodes><Node id="1"><JVMRoute>n1</JVMRoute></Node></Nodes></Dump>'
    assert parse_dump(body).names == ("n1",) and parse_dump(body.encode()).names == ("n1",)


def test_xml_elements_it_cannot_use_are_kept_as_xml_text() -> None:
    long_alias = "a" * 300
    body = (
        '<Dump><Nodes><Node id="1" name=""><Host>h</Host></Node></Nodes><Hosts>'
        '<Host id="1"><Vhost>1</Vhost><Node>1</Node></Host>'
        f'<Host id="2" alias="{long_alias}"><Vhost>1</Vhost></Host></Hosts><Contexts>'
        '<Context id="1"><Vhost>1</Vhost><Node>1</Node><Status>STOPPED</Status></Context>'
        '<Context id="2" path="/y"><Vhost>1</Vhost><Node>1</Node><Status id="2"/></Context>'
        '<Context id="3" path="/z"><Node>1</Node><Status id="1">ENABLED</Status></Context></Contexts></Dump>'
    )
    info = parse_dump_xml(body)
    assert [(n.id, n.name, n.host) for n in info.nodes] == [(1, "", "h")]
    assert [(h.alias, h.vhost, h.node, h.id) for h in info.hosts] == [("", 1, 1, 1)]  # no alias: empty
    assert [(c.path, c.status, c.status_code) for c in info.contexts] == [("", "STOPPED", None), ("/y", "DISABLED", 2)]
    host_xml = f'<Host id="2" alias="{long_alias}"><Vhost>1</Vhost></Host>'
    assert info.unparsed == (
        host_xml[:200],
        '<Context id="3" path="/z"><Node>1</Node><Status id="1">ENABLED</Status></Context>',
    )


def test_info_xml_vhost_without_a_node_is_not_used() -> None:
    body = '<Info><Vhosts><Vhost id="1" alias="a"><Node id="0"/></Vhost><Vhost id="2" alias="b"/></Vhosts></Info>'
    info = parse_info_xml(body)
    assert [(h.alias, h.vhost, h.node) for h in info.hosts] == [("a", 1, 0)]
    assert info.unparsed == ('<Vhost id="2" alias="b" />',)


def test_xml_parse_errors_say_what_is_wrong() -> None:
    junk = "<" + "x" * 100
    with pytest.raises(BalancerInfoParseError) as caught:
        parse_info_xml(junk)
    assert re.fullmatch(rf"INFO/DUMP body is not XML: .+; starts {re.escape(repr(junk[:80]))}", str(caught.value))
    tag = "T" * 60
    with pytest.raises(BalancerInfoParseError) as caught:
        parse_dump_xml(f"<{tag}/>")
    assert str(caught.value) == f"expected XML root Info or Dump, got <{tag[:40]}>"
