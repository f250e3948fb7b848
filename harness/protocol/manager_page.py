"""Parser for the mod_cluster-manager HTML page (1.3.x and 2.x; normal, ReduceDisplay On,
AllowCmd Off, AllowDisplay On, CheckNonce Off layouts) and a builder for its command links.

Normal layout, per node: `<h1> Node NAME (scheme://host:port): </h1>`, node command links,
`Balancer: ..,Status: OK|NOTOK,..,Load: N[,Num sessions: N]`, then per virtual host
`<h2> Virtual Host N:</h2><h3>Contexts:</h3><pre>/app, Status: ENABLED Request: 0 <links></pre>`
`<h3>Aliases:</h3><pre>alias per line</pre>`. ReduceDisplay: `Node NAME  OK <links><br/>`, then
`<pre>contexts</pre>Aliases: a b ` per virtual host. This is the only place (with STATUS/PING
replies) that says whether a node is up. Never raises. Standard library only.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import quote, unquote

DEFAULT_PATH = "/mod_cluster_manager"


@dataclass(frozen=True)
class CommandLink:
    label: str  # Enable, Disable, Stop, Enable Contexts, ...
    href: str  # as written in the page (with the nonce when CheckNonce is on)
    params: Mapping[str, str] = field(default_factory=dict)

    @property
    def cmd(self) -> str | None:
        return self.params.get("Cmd")

    @property
    def range(self) -> str | None:
        return self.params.get("Range")


@dataclass(frozen=True)
class ManagerContext:
    path: str
    status: str  # ENABLED | DISABLED | STOPPED | REMOVED
    requests: int | None
    vhost: int | None = None  # None in ReduceDisplay layout
    aliases: tuple[str, ...] = ()  # aliases of the context's virtual host
    commands: tuple[CommandLink, ...] = ()


@dataclass(frozen=True)
class ManagerNode:
    name: str
    status: str | None = None  # OK | NOTOK
    scheme: str | None = None  # None in ReduceDisplay layout (only name and status shown)
    host: str | None = None
    port: int | None = None
    balancer: str | None = None
    lbgroup: str | None = None
    elected: int | None = None
    read: int | None = None
    transferred: int | None = None
    connected: int | None = None
    load: int | None = None
    num_sessions: int | None = None
    fields: Mapping[str, str] = field(default_factory=dict)  # every `Key: value` of the node line
    contexts: tuple[ManagerContext, ...] = ()
    aliases: tuple[str, ...] = ()
    commands: tuple[CommandLink, ...] = ()

    @property
    def is_ok(self) -> bool:
        return self.status == "OK"

    def context(self, path: str) -> tuple[ManagerContext, ...]:
        return tuple(c for c in self.contexts if c.path == path)


@dataclass(frozen=True)
class ManagerPage:
    version: str | None = None  # e.g. mod_cluster/1.3.22.Final, mod_proxy_cluster/2.0.0.Dev
    nonce: str | None = None  # None when CheckNonce is Off
    nodes: tuple[ManagerNode, ...] = ()
    config_lines: tuple[str, ...] = ()  # AllowDisplay On: the "httpd.conf" configuration block
    error: str | None = None  # "<h1> Command failed: ..."
    session_ids: tuple[tuple[str, str], ...] = ()  # (session id, route) when Maxsessionid > 0
    preamble: str = ""  # text before the doctype (2.x HEAD prints MCMP text there after commands)
    links: tuple[CommandLink, ...] = ()  # page-level links (Auto Refresh, DUMP, INFO)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(n.name for n in self.nodes)

    def node(self, name: str) -> ManagerNode | None:
        return next((n for n in self.nodes if n.name == name), None)

    def command_url(self, cmd: str, range_: str, *, path: str = DEFAULT_PATH, **params: str) -> str:
        """`command_url` with this page's nonce."""
        return command_url(cmd, range_, nonce=self.nonce, path=path, **params)


def command_url(cmd: str, range_: str, *, nonce: str | None = None, path: str = DEFAULT_PATH,
                jvmroute: str | None = None, alias: str | None = None, context: str | None = None,
                domain: str | None = None) -> str:
    """A manager command link: `path?nonce=..&Cmd=..&Range=..&JVMRoute=..&Alias=..&Context=..`.

    cmd: ENABLE-APP | DISABLE-APP | STOP-APP (or INFO / DUMP with Range=ALL);
    range_: NODE | CONTEXT | DOMAIN | ALL. Without the right nonce httpd silently ignores it.
    """
    items = [("nonce", nonce), ("Cmd", cmd), ("Range", range_), ("JVMRoute", jvmroute),
             ("Alias", alias), ("Context", context), ("Domain", domain)]
    query = "&".join(f"{k}={quote(v, safe='/,:@-._~')}" for k, v in items if v is not None)
    return f"{path}?{query}"


_LINK = re.compile(r'<a href="([^"]*)">([^<]*)</a>')
_NODE_HEAD = re.compile(r"<h1> Node (?P<name>.*?) \((?P<scheme>[^:()]*)://(?P<host>.*?):(?P<port>[^:()]*)\): </h1>")
_REDUCED_HEAD = re.compile(r"<br/><br/>Node (?P<name>.*?)  ?(?P<status>OK|NOTOK) ")
_LBGROUP_HEAD = re.compile(r"<h1> LBGroup (?P<dom>.*?): |<br/><br/>LBGroup (?P<rdom>.*?): ")
_PAGE_END = re.compile(r"<h1>SessionIDs:</h1>|<h1>LBGroup:</h1>|<br/>LBGroup:<pre>|</body>")
_CONTEXT_LINE = re.compile(r"(?P<path>.*?), Status: (?P<status>[A-Z]+) Request: (?P<req>-?\d+) ?(?P<rest>.*)")
_VHOST = re.compile(r"<h2> Virtual Host (-?\d+):</h2>")
_REDUCED_VHOST = re.compile(r"<pre>(?P<contexts>.*?)</pre>Aliases: (?P<aliases>[^<]*)", re.S)
_INT_FIELDS = {"Elected": "elected", "Read": "read", "Transferred": "transferred",
               "Connected": "connected", "Load": "load", "Num sessions": "num_sessions"}


def _link(match: re.Match[str]) -> CommandLink:
    href = match.group(1).replace("&amp;", "&")
    params: dict[str, str] = {}
    for item in href.partition("?")[2].split("&"):
        key, _, value = item.partition("=")
        if key:
            params.setdefault(key, unquote(value))
    return CommandLink(html.unescape(match.group(2)), href, params)


def _links(text: str) -> tuple[CommandLink, ...]:
    return tuple(_link(m) for m in _LINK.finditer(text))


def _int(text: str | None) -> int | None:
    text = (text or "").strip()
    return int(text) if re.fullmatch(r"-?[0-9]{1,19}", text) else None


def _contexts(pre: str, vhost: int | None, aliases: tuple[str, ...]) -> list[ManagerContext]:
    found = []
    for line in pre.split("\n"):
        match = _CONTEXT_LINE.fullmatch(line.strip("\r"))
        if match:
            found.append(ManagerContext(html.unescape(match["path"]), match["status"], _int(match["req"]),
                                        vhost, aliases, _links(match["rest"])))
    return found


def _between(text: str, start: str, end: str = "</pre>") -> str:
    begin = text.find(start)
    if begin < 0:
        return ""
    begin += len(start)
    stop = text.find(end, begin)
    return text[begin:] if stop < 0 else text[begin:stop]


def _vhosts(segment: str, reduced: bool) -> tuple[list[ManagerContext], list[str]]:
    contexts: list[ManagerContext] = []
    aliases: list[str] = []
    if reduced:
        for m in _REDUCED_VHOST.finditer(segment):
            names = tuple(html.unescape(a) for a in m["aliases"].split())
            contexts += _contexts(m["contexts"], None, names)
            aliases += names
        return contexts, aliases
    parts = _VHOST.split(segment)  # [before, id1, body1, id2, body2, ...]
    for vhost_text, body in zip(parts[1::2], parts[2::2]):
        names = tuple(html.unescape(a.strip()) for a in _between(body, "<h3>Aliases:</h3><pre>").split("\n")
                      if a.strip())
        pre = _between(body, "<pre>") if "<h3>Contexts:</h3>" in body else ""
        contexts += _contexts(pre, _int(vhost_text), names)
        aliases += names
    return contexts, aliases


def _node_fields(segment: str) -> dict[str, str]:
    line = next((ln for ln in segment.split("\n") if ln.startswith("Balancer: ")), "")
    fields: dict[str, str] = {}
    for part in re.split(r",(?=[A-Za-z][A-Za-z ]*:)", line) if line else []:
        key, _, value = part.partition(":")
        fields.setdefault(key.strip(), html.unescape(value[1:] if value.startswith(" ") else value))
    return fields


def _node(head: re.Match[str], segment: str, lbgroup: str | None) -> ManagerNode:
    reduced = head.re is _REDUCED_HEAD
    fields = _node_fields("" if reduced else segment)
    contexts, aliases = _vhosts(segment, reduced)
    node_links = segment.split("<br/>", 1)[0] if "<br/>" in segment else ""
    ints = {attr: _int(fields.get(key)) for key, attr in _INT_FIELDS.items()}
    return ManagerNode(
        name=html.unescape(head["name"]),
        status=head["status"] if reduced else fields.get("Status"),
        scheme=None if reduced else head["scheme"],
        host=None if reduced else head["host"],
        port=None if reduced else _int(head["port"]),
        balancer=fields.get("Balancer"),
        lbgroup=fields.get("LBGroup", lbgroup),
        fields=fields, contexts=tuple(contexts), aliases=tuple(dict.fromkeys(aliases)),
        commands=_links(node_links), **ints)


def _nodes(body: str) -> tuple[ManagerNode, ...]:
    end = _PAGE_END.search(body)
    body = body[:end.start()] if end else body
    heads = sorted([*_NODE_HEAD.finditer(body), *_REDUCED_HEAD.finditer(body), *_LBGROUP_HEAD.finditer(body)],
                   key=lambda m: m.start())
    nodes: list[ManagerNode] = []
    lbgroup: str | None = None
    for index, head in enumerate(heads):
        stop = heads[index + 1].start() if index + 1 < len(heads) else len(body)
        if head.re is _LBGROUP_HEAD:
            lbgroup = head["dom"] if head["dom"] is not None else head["rdom"]
        else:
            nodes.append(_node(head, body[head.end():stop], lbgroup))
    return tuple(nodes)


def parse_manager_page(page: str | bytes) -> ManagerPage:
    """Parse a mod_cluster-manager page. Never raises; unknown parts are ignored."""
    text = page.decode("iso-8859-1") if isinstance(page, bytes) else page
    doctype = text.find("<!DOCTYPE")
    preamble, body = (text[:doctype], text[doctype:]) if doctype > 0 else ("", text)
    version = re.search(r"<body>\s*<h1>([^<]*)</h1>", body)
    nonce = re.search(r"[?&]nonce=([^&\"]*)", body)
    error = re.search(r"<h1> Command failed: (.*?)</h1>", body, re.S)
    config = _between(body, 'start of "httpd.conf" configuration<br/>', 'end of "httpd.conf" configuration')
    sessions = re.findall(r"^id: (.*?) route: (.*)$", _between(body, "<h1>SessionIDs:</h1><pre>"), re.M)
    first_node = min((m.start() for m in (_NODE_HEAD.search(body), _REDUCED_HEAD.search(body)) if m),
                     default=len(body))
    return ManagerPage(
        version=html.unescape(version[1]).strip() if version else None,
        nonce=unquote(nonce[1]) if nonce else None,
        nodes=_nodes(body),
        config_lines=tuple(html.unescape(c) for c in config.split("<br/>") if c.strip()),
        error=html.unescape(error[1]).strip() if error else None,
        session_ids=tuple((s, r) for s, r in sessions),
        preamble=preamble,
        links=_links(body[:first_node]),
    )
