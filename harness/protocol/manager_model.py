"""The mod_cluster-manager page as data (`ManagerPage`, `ManagerNode`, `ManagerContext`, `CommandLink`) and the
builder of its command links (`command_url`). Parsed by `harness.protocol.manager_page`. Standard library only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import quote

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


def command_url(
    cmd: str,
    range_: str,
    *,
    nonce: str | None = None,
    path: str = DEFAULT_PATH,
    jvmroute: str | None = None,
    alias: str | None = None,
    context: str | None = None,
    domain: str | None = None,
) -> str:
    """A manager command link: `path?nonce=..&Cmd=..&Range=..&JVMRoute=..&Alias=..&Context=..`.

    cmd: ENABLE-APP | DISABLE-APP | STOP-APP (or INFO / DUMP with Range=ALL);
    range_: NODE | CONTEXT | DOMAIN | ALL. Without the right nonce httpd silently ignores it.
    """
    items = [
        ("nonce", nonce),
        ("Cmd", cmd),
        ("Range", range_),
        ("JVMRoute", jvmroute),
        ("Alias", alias),
        ("Context", context),
        ("Domain", domain),
    ]
    query = "&".join(f"{k}={quote(v, safe='/,:@-._~')}" for k, v in items if v is not None)
    return f"{path}?{query}"
