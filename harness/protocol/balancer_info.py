"""Parsers for the balancer's INFO and DUMP replies, text and XML, for 1.3.x, 2.x pre and 2.x HEAD.

INFO text: `Node: [id],Name: ..,Load: N`, `Vhost: [node:vhost:id], Alias: a`,
`Context: [node:vhost:id], Context: /x, Status: ENABLED`. DUMP text: `balancer: [i] Name: ..`,
`node: [slot:id],Balancer: ..,JVMRoute: ..`, `host: i [alias] vhost: v node: n`,
`context: i [/x] vhost: v node: n status: 1..4`. XML when asked with `Accept: text/xml`.
Ids are 0-based on 2.x and 1-based on 1.3.x; 1.3.x and 2.x pre use one vhost per node, HEAD one
per alias. Neither format says whether a node is up (see the manager page / STATUS replies).

Text parsers never raise: lines they do not know are kept in `BalancerInfo.unparsed`. The XML
parsers raise BalancerInfoParseError when the body is not XML with an <Info> or <Dump> root.
Standard library only.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

CONTEXT_STATES: tuple[str, ...] = ("ENABLED", "DISABLED", "STOPPED", "REMOVED")
_STATUS_BY_CODE = {1: "ENABLED", 2: "DISABLED", 3: "STOPPED", 4: "REMOVED"}
_FLUSH_BY_CODE = {"0": "Off", "1": "On", "2": "Auto"}


class BalancerInfoParseError(ValueError):
    """An XML INFO/DUMP body that is not XML, or not <Info>/<Dump>."""


@dataclass(frozen=True)
class InfoNode:
    id: int
    name: str
    balancer: str = ""
    lbgroup: str = ""
    host: str = ""
    port: int | None = None
    type: str = ""
    flushpackets: str = ""
    flushwait: int | None = None
    ping: int | None = None
    smax: int | None = None
    ttl: int | None = None
    timeout: int | None = None  # DUMP only
    elected: int | None = None  # INFO only from here
    read: int | None = None
    transferred: int | None = None
    connected: int | None = None
    load: int | None = None
    slot: int | None = None  # DUMP text `node: [slot:id]`
    fields: Mapping[str, str] = field(default_factory=dict)  # every key/value as printed


@dataclass(frozen=True)
class InfoHost:
    """One alias of a virtual host of a node."""

    alias: str
    vhost: int
    node: int
    id: int | None = None


@dataclass(frozen=True)
class InfoContext:
    path: str
    status: str  # ENABLED | DISABLED | STOPPED | REMOVED (UNKNOWN for anything else)
    vhost: int
    node: int
    id: int | None = None
    status_code: int | None = None


@dataclass(frozen=True)
class DumpBalancer:
    id: int
    name: str
    sticky: bool = True
    cookie: str = ""
    path: str = ""
    remove: bool = False
    force: bool = False
    timeout: int = 0
    max_attempts: int = 1


@dataclass(frozen=True)
class BalancerInfo:
    nodes: tuple[InfoNode, ...] = ()
    hosts: tuple[InfoHost, ...] = ()
    contexts: tuple[InfoContext, ...] = ()
    balancers: tuple[DumpBalancer, ...] = ()
    unparsed: tuple[str, ...] = ()  # lines or elements not understood

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(node.name for node in self.nodes)

    def node(self, name: str) -> InfoNode | None:
        return next((n for n in self.nodes if n.name == name), None)

    def node_by_id(self, node_id: int) -> InfoNode | None:
        return next((n for n in self.nodes if n.id == node_id), None)

    def contexts_of(self, name: str) -> tuple[InfoContext, ...]:
        """Contexts of the node called `name` (one entry per virtual host)."""
        node = self.node(name)
        return () if node is None else tuple(c for c in self.contexts if c.node == node.id)

    def aliases_of(self, name: str) -> tuple[str, ...]:
        node = self.node(name)
        found = [] if node is None else [h.alias for h in self.hosts if h.node == node.id]
        return tuple(dict.fromkeys(found))

    def context_statuses(self, name: str, path: str) -> frozenset[str]:
        """Statuses of context `path` of node `name` across its virtual hosts (empty: absent)."""
        return frozenset(c.status for c in self.contexts_of(name) if c.path == path)

    def balancer(self, name: str) -> DumpBalancer | None:
        return next((b for b in self.balancers if b.name == name), None)


def normalise_status(value: str | int | None) -> str:
    """ENABLED/DISABLED/STOPPED/REMOVED from a word or a DUMP code 1..4; UNKNOWN otherwise."""
    text = str(value).strip().upper() if value is not None else ""
    if re.fullmatch(r"-?[0-9]{1,9}", text):
        return _STATUS_BY_CODE.get(int(text), "UNKNOWN")
    return text if text in CONTEXT_STATES else "UNKNOWN"


def _int(text: str | None) -> int | None:
    text = (text or "").strip()
    return int(text) if re.fullmatch(r"-?[0-9]{1,19}", text) else None


_NODE_KEYS = {
    "name": "name",
    "jvmroute": "name",
    "balancer": "balancer",
    "lbgroup": "lbgroup",
    "host": "host",
    "type": "type",
    "flushpackets": "flushpackets",
}
_NODE_INTS = {
    "port": "port",
    "flushwait": "flushwait",
    "ping": "ping",
    "smax": "smax",
    "ttl": "ttl",
    "timeout": "timeout",
    "elected": "elected",
    "read": "read",
    "transfered": "transferred",
    "transferred": "transferred",
    "connected": "connected",
    "load": "load",
}


def _node(node_id: int, fields: dict[str, str], slot: int | None = None) -> InfoNode:
    values: dict[str, Any] = {}
    for key, value in fields.items():
        lower = key.lower()
        if lower in _NODE_KEYS:
            values.setdefault(_NODE_KEYS[lower], value)
        elif lower in _NODE_INTS:
            values.setdefault(_NODE_INTS[lower], _int(value))
    lbgroup = str(values.get("lbgroup", ""))
    if lbgroup.startswith("[") and lbgroup.endswith("]"):
        values["lbgroup"] = lbgroup[1:-1]  # DUMP text prints LBGroup: [name]
    flush = str(values.get("flushpackets", ""))
    values["flushpackets"] = _FLUSH_BY_CODE.get(flush, flush)  # DUMP prints 0/1/2
    values.setdefault("name", "")
    return InfoNode(id=node_id, slot=slot, fields=dict(fields), **values)


# --------------------------------------------------------------------------------------------- text

_KEY_SPLIT = re.compile(r",(?=[A-Za-z][A-Za-z ]*:)")
_INFO_NODE = re.compile(r"Node: \[(-?\d+)\],(.*)")
_INFO_VHOST = re.compile(r"Vhost: \[(-?\d+):(-?\d+):(-?\d+)\], Alias: (.*)")
_INFO_CONTEXT = re.compile(r"Context: \[(-?\d+):(-?\d+):(-?\d+)\], Context: (.*), Status: (\S*)")
_DUMP_BALANCER = re.compile(
    r"balancer: \[(-?\d+)\] Name: (.*) Sticky: (-?\d+) \[(.*)\]/\[(.*)\] remove: (-?\d+) "
    r"force: (-?\d+) Timeout: (-?\d+) maxAttempts: (-?\d+)"
)
_DUMP_NODE = re.compile(r"node: \[(-?\d+):(-?\d+)\],(.*)")
_DUMP_HOST = re.compile(r"host: (-?\d+) \[(.*)\] vhost: (-?\d+) node: (-?\d+)")
_DUMP_CONTEXT = re.compile(r"context: (-?\d+) \[(.*)\] vhost: (-?\d+) node: (-?\d+) status: (-?\d+)")


def _key_values(text: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for part in _KEY_SPLIT.split(text):
        key, _, value = part.partition(":")
        fields.setdefault(key.strip(), value[1:] if value.startswith(" ") else value)
    return fields


def _text_line(line: str, out: dict[str, list[Any]]) -> bool:
    """Parse one line into `out`; False when the line is not understood."""
    if m := _INFO_NODE.fullmatch(line):
        out["nodes"].append(_node(int(m[1]), _key_values(m[2])))
    elif m := _INFO_VHOST.fullmatch(line):
        out["hosts"].append(InfoHost(m[4], vhost=int(m[2]), node=int(m[1]), id=int(m[3])))
    elif m := _INFO_CONTEXT.fullmatch(line):
        code = next((c for c, s in _STATUS_BY_CODE.items() if s == m[5].upper()), None)
        out["contexts"].append(
            InfoContext(m[4], normalise_status(m[5]), vhost=int(m[2]), node=int(m[1]), id=int(m[3]), status_code=code)
        )
    elif m := _DUMP_BALANCER.fullmatch(line):
        out["balancers"].append(
            DumpBalancer(
                int(m[1]),
                m[2],
                sticky=m[3] != "0",
                cookie=m[4],
                path=m[5],
                remove=m[6] != "0",
                force=m[7] != "0",
                timeout=int(m[8]),
                max_attempts=int(m[9]),
            )
        )
    elif m := _DUMP_NODE.fullmatch(line):
        out["nodes"].append(_node(int(m[2]), _key_values(m[3]), slot=int(m[1])))
    elif m := _DUMP_HOST.fullmatch(line):
        out["hosts"].append(InfoHost(m[2], vhost=int(m[3]), node=int(m[4]), id=int(m[1])))
    elif m := _DUMP_CONTEXT.fullmatch(line):
        out["contexts"].append(
            InfoContext(
                m[2], normalise_status(m[5]), vhost=int(m[3]), node=int(m[4]), id=int(m[1]), status_code=_int(m[5])
            )
        )
    else:
        return False
    return True


def _parse_text(body: str) -> BalancerInfo:
    out: dict[str, list[Any]] = {"nodes": [], "hosts": [], "contexts": [], "balancers": [], "unparsed": []}
    for raw_line in body.splitlines():
        line = raw_line.strip("\r\n")
        if line.strip() and not _text_line(line, out):
            out["unparsed"].append(line)
    return BalancerInfo(**{key: tuple(values) for key, values in out.items()})


def parse_info_text(body: str) -> BalancerInfo:
    """INFO text (DUMP lines are understood too). Never raises."""
    return _parse_text(body)


def parse_dump_text(body: str) -> BalancerInfo:
    """DUMP text (INFO lines are understood too). Never raises."""
    return _parse_text(body)


# ---------------------------------------------------------------------------------------------- XML

_BARE_AMP = re.compile(r"&(?!(?:[A-Za-z][A-Za-z0-9]*|#[0-9]+|#x[0-9A-Fa-f]+);)")


def _xml_root(body: str, expected: tuple[str, ...]) -> ET.Element:
    try:
        root = ET.fromstring(body.strip())
    except (ET.ParseError, ValueError):
        try:  # httpd does not escape names and paths: repair bare '&' once
            root = ET.fromstring(_BARE_AMP.sub("&amp;", body.strip()))
        except (ET.ParseError, ValueError) as exc:
            raise BalancerInfoParseError(f"INFO/DUMP body is not XML: {exc}; starts {body[:80]!r}") from None
    if root.tag not in expected:
        raise BalancerInfoParseError(f"expected XML root {' or '.join(expected)}, got <{root.tag[:40]}>")
    return root


def _text(element: ET.Element | None, path: str | None = None) -> str:
    found = element if path is None or element is None else element.find(path)
    return "" if found is None or found.text is None else found.text.strip()


def _attr_int(element: ET.Element | None, name: str = "id") -> int | None:
    return None if element is None else _int(element.get(name))


def _children(root: ET.Element, path: str) -> list[ET.Element]:
    return list(root.iterfind(path))


def _xml_node(el: ET.Element) -> InfoNode | None:
    node_id = _attr_int(el)
    if node_id is None:
        return None
    fields = {child.tag: _text(child) for child in el}
    if el.get("name") is not None:
        fields = {"Name": el.get("name") or "", **fields}
    return _node(node_id, fields)


def _xml_host(el: ET.Element, info: bool) -> InfoHost | None:
    if info:  # <Vhost id=vhost alias=..><Node id=../></Vhost>
        vhost, node, host_id = _attr_int(el), _attr_int(el.find("Node")), None
    else:  # <Host id=.. alias=..><Vhost>v</Vhost><Node>n</Node></Host>
        vhost, node, host_id = _int(_text(el, "Vhost")), _int(_text(el, "Node")), _attr_int(el)
    if vhost is None or node is None:
        return None
    return InfoHost(el.get("alias") or "", vhost=vhost, node=node, id=host_id)


def _xml_context(el: ET.Element, info: bool) -> InfoContext | None:
    status_el = el.find("Status")
    if info:  # <Context id><Status id>S</Status><Context>/x</Context><Node id/><Vhost id/></Context>
        path, node, vhost = _text(el, "Context"), _attr_int(el.find("Node")), _attr_int(el.find("Vhost"))
    else:  # <Context id path><Vhost>v</Vhost><Node>n</Node><Status id>S</Status></Context>
        path, node, vhost = el.get("path") or "", _int(_text(el, "Node")), _int(_text(el, "Vhost"))
    if node is None or vhost is None:
        return None
    code = _attr_int(status_el)
    status = normalise_status(_text(status_el)) if _text(status_el) else normalise_status(code)
    return InfoContext(path, status, vhost=vhost, node=node, id=_attr_int(el), status_code=code)


def _xml_balancer(el: ET.Element) -> DumpBalancer | None:
    balancer_id = _attr_int(el)
    if balancer_id is None:
        return None
    sticky = el.find("StickySession")
    return DumpBalancer(
        balancer_id,
        el.get("name") or "",
        sticky=_text(sticky, "Enabled") not in ("", "0"),
        cookie=_text(sticky, "Cookie"),
        path=_text(sticky, "Path"),
        remove=_text(sticky, "Remove") not in ("", "0"),
        force=_text(sticky, "Force") not in ("", "0"),
        timeout=_int(_text(el, "Timeout")) or 0,
        max_attempts=_int(_text(el, "MaxAttempts")) or 0,
    )


def _parse_xml(body: str) -> BalancerInfo:
    root = _xml_root(body, ("Info", "Dump"))
    info = root.tag == "Info"
    parsed: dict[str, list[Any]] = {"nodes": [], "hosts": [], "contexts": [], "balancers": []}
    unparsed: list[str] = []
    sections = [
        ("nodes", "Nodes/Node", _xml_node),
        ("hosts", "Vhosts/Vhost" if info else "Hosts/Host", lambda e: _xml_host(e, info)),
        ("contexts", "Contexts/Context", lambda e: _xml_context(e, info)),
        ("balancers", "Balancers/Balancer", _xml_balancer),
    ]
    for key, path, convert in sections:
        for element in _children(root, path):
            item = convert(element)
            if item is None:
                unparsed.append(ET.tostring(element, encoding="unicode")[:200])
            else:
                parsed[key].append(item)
    return BalancerInfo(**{k: tuple(v) for k, v in parsed.items()}, unparsed=tuple(unparsed))


def parse_info_xml(body: str) -> BalancerInfo:
    """INFO XML (a <Dump> document is understood too). BalancerInfoParseError if not XML."""
    return _parse_xml(body)


def parse_dump_xml(body: str) -> BalancerInfo:
    """DUMP XML (an <Info> document is understood too). BalancerInfoParseError if not XML."""
    return _parse_xml(body)


def _as_text(body: str | bytes) -> str:
    return body.decode("utf-8", "replace") if isinstance(body, bytes) else body


def parse_info(body: str | bytes) -> BalancerInfo:
    """INFO reply body, text or XML (detected by a leading '<')."""
    text = _as_text(body)
    return parse_info_xml(text) if text.lstrip().startswith("<") else parse_info_text(text)


def parse_dump(body: str | bytes) -> BalancerInfo:
    """DUMP reply body, text or XML (detected by a leading '<')."""
    text = _as_text(body)
    return parse_dump_xml(text) if text.lstrip().startswith("<") else parse_dump_text(text)
