"""Parser for the mod_cluster-manager HTML page (1.3.x and 2.x; normal, ReduceDisplay On,
AllowCmd Off, AllowDisplay On, CheckNonce Off layouts) and a builder for its command links.

Normal layout, per node: `<h1> Node NAME (scheme://host:port): </h1>`, node command links,
`Balancer: ..,Status: OK|NOTOK,..,Load: N[,Num sessions: N]`, then per virtual host
`<h2> Virtual Host N:</h2><h3>Contexts:</h3><pre>/app, Status: ENABLED Request: 0 <links></pre>`
`<h3>Aliases:</h3><pre>alias per line</pre>`. ReduceDisplay: `Node NAME  OK <links><br/>`, then
`<pre>contexts</pre>Aliases: a b ` per virtual host. This is the only place (with STATUS/PING
replies) that says whether a node is up. Never raises. Standard library only.

Parsed in one pass over the page's HTML events (`html_events`: html.parser, kept linear), so the time
is linear in the page's size whatever it holds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import unquote

from harness.protocol.html_events import Event, html_events
from harness.protocol.manager_model import (
    DEFAULT_PATH,
    CommandLink,
    ManagerContext,
    ManagerNode,
    ManagerPage,
    command_url,
)

_NODE_HEAD = re.compile(r" Node (.+?) \(([^:()]*)://")  # then host:port): ; NAME as short as it can be
_REDUCED_HEAD = re.compile(r"Node (.+?)  ?(OK|NOTOK) ")
_LBGROUP_HEAD = re.compile(r" ?LBGroup (.*?): ")
_VHOST_HEAD = re.compile(r" Virtual Host (-?\d+):")
_CONTEXT_LINE = re.compile(r"(?P<path>.*?), Status: (?P<status>[A-Z]+) Request: (?P<req>-?\d+).*")
_SESSION_LINE = re.compile(r"id: (.*?) route: (.*)")
_FIELD_SPLIT = re.compile(r",(?=[A-Za-z][A-Za-z ]*:)")
_NONCE = re.compile(r"[?&]nonce=([^&\"]*)")
_FAILED = " Command failed: "
_CONFIG_START, _CONFIG_END = 'start of "httpd.conf" configuration', 'end of "httpd.conf" configuration'
_INT_FIELDS = {
    "Elected": "elected",
    "Read": "read",
    "Transferred": "transferred",
    "Connected": "connected",
    "Load": "load",
    "Num sessions": "num_sessions",
}
_Line = tuple[str, tuple[CommandLink, ...]]  # the text of one line of a <pre> (without link labels), its links


def _command_link(href: str, label: str) -> CommandLink:
    href = href.replace("&amp;", "&")
    params: dict[str, str] = {}
    for item in href.partition("?")[2].split("&"):
        key, _, value = item.partition("=")
        if key:
            params.setdefault(key, unquote(value))
    return CommandLink(label, href, params)


def _int(text: str | None) -> int | None:
    text = (text or "").strip()
    return int(text) if re.fullmatch(r"-?[0-9]{1,19}", text) else None


def _node_head(text: str) -> tuple[str, str, str, str] | None:
    """(name, scheme, host, port) of an h1 ` Node NAME (scheme://host:port): `."""
    head = _NODE_HEAD.match(text)
    if head is None or "\n" in text or not text.endswith("): "):
        return None
    host, colon, port = text[head.end() : -3].rpartition(":")
    return (head[1], head[2], host, port) if colon and "(" not in port and ")" not in port else None


def _node_fields(line: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for part in _FIELD_SPLIT.split(line):
        key, _, value = part.partition(":")
        fields.setdefault(key.strip(), value.removeprefix(" "))
    return fields


def _contexts(lines: list[_Line], vhost: int | None, aliases: tuple[str, ...]) -> list[ManagerContext]:
    found = []
    for text, links in lines:
        match = _CONTEXT_LINE.fullmatch(text.strip("\r"))
        if match:
            found.append(ManagerContext(match["path"], match["status"], _int(match["req"]), vhost, aliases, links))
    return found


@dataclass
class _Vhost:
    number: int | None
    listed: bool = False  # an h3 "Contexts:" was seen: the first <pre> lists the contexts
    first_pre: list[_Line] | None = None
    aliases: tuple[str, ...] = ()


@dataclass
class _Node:
    name: str
    status: str | None  # ReduceDisplay: from the head; else from the fields
    address: tuple[str, str, str] | None  # (scheme, host, port); None in ReduceDisplay layout
    lbgroup: str | None
    fields: dict[str, str] | None = None
    links: list[CommandLink] = field(default_factory=list)
    links_done: bool = False  # a <br/> ends the node's command links
    vhosts: list[_Vhost] = field(default_factory=list)
    contexts: list[ManagerContext] = field(default_factory=list)  # ReduceDisplay layout
    aliases: list[str] = field(default_factory=list)  # ReduceDisplay layout

    def build(self) -> ManagerNode:
        contexts, aliases = list(self.contexts), list(self.aliases)
        for vhost in self.vhosts:
            contexts += _contexts((vhost.listed and vhost.first_pre) or [], vhost.number, vhost.aliases)
            aliases += vhost.aliases
        fields = self.fields or {}
        scheme, host, port = self.address or (None, None, None)
        ints = {attr: _int(fields.get(key)) for key, attr in _INT_FIELDS.items()}
        return ManagerNode(
            name=self.name,
            status=fields.get("Status", self.status),
            scheme=scheme,
            host=host,
            port=_int(port),
            balancer=fields.get("Balancer"),
            lbgroup=fields.get("LBGroup", self.lbgroup),
            fields=fields,
            contexts=tuple(contexts),
            aliases=tuple(dict.fromkeys(aliases)),
            commands=tuple(self.links) if self.links_done else (),
            **ints,
        )


class _Walker:
    """Builds the page from its HTML events, in one pass."""

    def __init__(self) -> None:
        self.version: str | None = None
        self.nonce: str | None = None
        self.error: str | None = None
        self.config: list[str] = []
        self.config_state = ""  # "" -> "start" (marker seen) -> "on" (after its <br/>) -> "done"
        self.config_line: list[str] = []
        self.sessions: list[tuple[str, str]] = []
        self.nodes: list[ManagerNode] = []
        self.links: list[CommandLink] = []  # page-level: every link before the first node
        self.node: _Node | None = None
        self.lbgroup: str | None = None
        self.ended = self.seen_node = False
        self.heading: list[str] | None = None  # text of the open h1/h2/h3
        self.heading_tag, self.heading_plain = "", True  # plain: no tag inside it
        self.pre: list[tuple[list[str], list[CommandLink]]] | None = None  # lines of the open <pre>
        self.pre_role = self.prev = self.closed = ""  # what the previous event closed ("pre", "h3 Aliases:")
        self.last_pre: list[_Line] = []
        self.link: tuple[str, list[str]] | None = None  # href and label of the open <a>
        self.brs = 0  # <br/> in a row
        self.version_slot = 0  # 1 right after <body>, 2 in an h1 right after it

    def feed(self, event: Event) -> None:
        self.prev, self.closed = self.closed, ""
        if event.kind == "text":
            self._text(event.text)
        elif event.kind == "start":
            self._start(event.name, event.text)
        elif event.name == "a" and self.link is not None:
            self._close_link()
        elif event.name == self.heading_tag and self.heading is not None:
            self._close_heading()
        elif event.name == "pre" and self.pre is not None:
            self._close_pre()
        elif event.name == "body":
            self._end_page()

    def _start(self, tag: str, href: str) -> None:
        if self.heading is not None:
            self.heading_plain = False
        if tag == "body":
            self.version_slot = 1
        elif self.version_slot == 1:
            self.version_slot = 2 if tag == "h1" else 0
        self.brs = self.brs + 1 if tag == "br" else 0
        if tag == "a":
            self.link = (href, [])
        elif tag == "br":
            self._br()
        elif tag in ("h1", "h2", "h3"):
            if self.pre is not None:
                self._close_pre()
            if self.heading is not None:
                self._close_heading()
            self.heading, self.heading_tag, self.heading_plain = [], tag, True
        elif tag == "pre":
            if self.prev == "LBGroup:":
                self._end_page()  # 1.3 ReduceDisplay: the domain table after the nodes
            self.pre, self.pre_role = [([], [])], self.prev

    def _br(self) -> None:
        if self.config_state == "on":
            self._config_flush()
        if self.config_state == "start":
            self.config_state = "on"
        if self.node is not None:
            self.node.links_done = True

    def _text(self, text: str) -> None:
        if self.link is not None:
            self.link[1].append(text)
        elif self.heading is not None:
            self.heading.append(text)
        elif self.pre is not None:
            first, *rest = text.split("\n")
            self.pre[-1][0].append(first)
            self.pre += [([piece], []) for piece in rest]
        else:
            self._loose_text(text)

    def _loose_text(self, text: str) -> None:
        if self.version_slot == 1 and not text.isspace():
            self.version_slot = 0
        brs, self.brs = self.brs, 0
        node = self.node
        if self.prev == "pre" and text.startswith("Aliases: ") and node is not None and node.address is None:
            names = tuple(text[9:].split())  # ReduceDisplay: `<pre>contexts</pre>Aliases: a b `
            node.contexts += _contexts(self.last_pre, None, names)
            node.aliases += names
        self._config(text)
        if brs >= 2:  # ReduceDisplay heads: `<br/><br/>Node NAME  OK `, `<br/><br/>LBGroup DOM: `
            head, group = _REDUCED_HEAD.match(text), _LBGROUP_HEAD.match(text)
            if head:
                self._new_node(_Node(head[1], head[2], None, self.lbgroup))
            elif group:
                self._lbgroup(group[1])
        if brs and text == "LBGroup:":
            self.closed = "LBGroup:"
        if node is not None and node.address is not None and node.fields is None:
            line = next((ln for ln in text.split("\n") if ln.startswith("Balancer: ")), None)
            node.fields = None if line is None else _node_fields(line)

    def _config(self, text: str) -> None:
        if self.config_state == "on":
            before, end, _ = text.partition(_CONFIG_END)
            self.config_line.append(before)
            if end:
                self._config_flush()
                self.config_state = "done"
        elif not self.config_state and text.endswith(_CONFIG_START):
            self.config_state = "start"

    def _config_flush(self) -> None:
        line, self.config_line = "".join(self.config_line), []
        if line.strip():
            self.config.append(line)

    def _close_heading(self) -> None:
        text, tag = "".join(self.heading or ()), self.heading_tag
        self.heading = None
        vhost = _VHOST_HEAD.fullmatch(text)
        if tag == "h1":
            self._h1(text)
        elif tag == "h2" and vhost and self.node is not None and self.node.address is not None:
            self.node.vhosts.append(_Vhost(_int(vhost[1])))
        elif tag == "h3":
            self.closed = "h3 " + text
            if text == "Contexts:" and self.node is not None and self.node.vhosts:
                self.node.vhosts[-1].listed = True

    def _h1(self, text: str) -> None:
        if self.version_slot == 2 and self.heading_plain:
            self.version = text.strip()
        self.version_slot = 0
        if text.startswith(_FAILED) and self.error is None:
            self.error = text[len(_FAILED) :].strip()
        if text in ("SessionIDs:", "LBGroup:"):
            self._end_page()
            self.closed = "h1 " + text
        head, group = _node_head(text), _LBGROUP_HEAD.match(text)
        if head:
            self._new_node(_Node(head[0], None, head[1:], self.lbgroup))
        elif group:
            self._lbgroup(group[1])

    def _close_pre(self) -> None:
        lines = [("".join(parts), tuple(links)) for parts, links in self.pre or ()]
        self.pre, self.last_pre, self.closed = None, lines, "pre"
        if self.pre_role == "h1 SessionIDs:":
            self.sessions = [(m[1], m[2]) for m in (_SESSION_LINE.fullmatch(t) for t, _ in lines) if m]
        vhosts = self.node.vhosts if self.node is not None else []
        if vhosts and vhosts[-1].first_pre is None:
            vhosts[-1].first_pre = lines
        if vhosts and self.pre_role == "h3 Aliases:":
            vhosts[-1].aliases = tuple(t.strip() for t, _ in lines if t.strip())

    def _close_link(self) -> None:
        href, label = self.link or ("", [])
        self.link = None
        link = _command_link(href, "".join(label))
        nonce = _NONCE.search(href)
        if self.nonce is None and nonce:
            self.nonce = unquote(nonce[1])
        if not self.seen_node:
            self.links.append(link)
        if self.pre is not None:
            self.pre[-1][1].append(link)
        elif self.heading is None and self.node is not None and not self.node.links_done:
            self.node.links.append(link)

    def _new_node(self, node: _Node) -> None:
        self.seen_node = True
        if not self.ended:
            self._close_node()
            self.node = node

    def _lbgroup(self, name: str) -> None:
        if not self.ended:
            self._close_node()
            self.lbgroup = name

    def _close_node(self) -> None:
        if self.node is not None:
            self.nodes.append(self.node.build())
            self.node = None

    def _end_page(self) -> None:
        self._close_node()
        self.ended = True

    def page(self, preamble: str) -> ManagerPage:
        if self.pre is not None:
            self._close_pre()
        if self.config_state == "on":
            self._config_flush()
        self._close_node()
        return ManagerPage(
            version=self.version,
            nonce=self.nonce,
            nodes=tuple(self.nodes),
            config_lines=tuple(self.config),
            error=self.error,
            session_ids=tuple(self.sessions),
            preamble=preamble,
            links=tuple(self.links),
        )


def parse_manager_page(page: str | bytes) -> ManagerPage:
    """Parse a mod_cluster-manager page in one pass over its HTML events. Never raises; unknown parts are ignored."""
    text = page.decode("iso-8859-1") if isinstance(page, bytes) else page
    doctype = text.find("<!DOCTYPE")
    preamble, body = (text[:doctype], text[doctype:]) if doctype > 0 else ("", text)
    walker = _Walker()
    for event in html_events(body):
        walker.feed(event)
    return walker.page(preamble)


__all__ = [
    "DEFAULT_PATH",
    "CommandLink",
    "ManagerContext",
    "ManagerNode",
    "ManagerPage",
    "command_url",
    "parse_manager_page",
]
