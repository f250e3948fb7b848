"""The targeted MCMP conformance cases: short message sequences, each on its own JVMRoutes and ports
(`Names`), so all of them can share one balancer. A case is data: a name and the requests it sends; what
the balancer must answer and show after each one comes from the MCMP model. Used by
test_mcmp_conformance.py.

Parameters are tried absent, empty, at their longest allowed length and one over, %-encoded, in another
order and repeated; then aliases and contexts added to and removed from a registered node, aliases in
another order, two nodes on one host:port, a node re-registering with changed fields.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from harness.protocol.mcmp_model import ModelRequest

LOCAL = "127.0.0.1"
APP_COMMANDS = ("ENABLE-APP", "DISABLE-APP", "STOP-APP", "REMOVE-APP")


@dataclass(frozen=True)
class Names:
    """Routes, ports and a loopback address of one case (index) that no other case uses."""

    index: int

    def route(self, i: int = 1) -> str:
        return f"c{self.index}n{i}"

    def port(self, i: int = 1) -> str:
        return str(20000 + 10 * self.index + i)

    def address(self) -> str:
        return f"127.0.{1 + self.index // 250}.{2 + self.index % 250}"

    def long_route(self, size: int) -> str:
        return (self.route() + "r" * size)[:size]


def req(method: str, body: str = "", target: str = "/", xml: bool = False) -> ModelRequest:
    return ModelRequest(method, body, target=target, accept_xml=xml)


def config(n: Names, i: int = 1, extra: str = "", **fields: str | None) -> ModelRequest:
    """CONFIG for node i of the case (http on 127.0.0.1:port(i)); `fields` replace or add keys, `extra` is
    appended raw ("&Key=value...")."""
    pairs = {"JVMRoute": n.route(i), "Host": LOCAL, "Port": n.port(i), "Type": "http", **fields}
    body = "&".join(f"{k}={v}" for k, v in pairs.items() if v is not None)
    return req("CONFIG", body + extra)


def app(
    method: str, n: Names, i: int = 1, alias: str | None = "a1", context: str | None = "/x", **more: str
) -> ModelRequest:
    pairs = {"JVMRoute": n.route(i), "Alias": alias, "Context": context, **more}
    return req(method, "&".join(f"{k}={v}" for k, v in pairs.items() if v is not None))


@dataclass(frozen=True)
class Case:
    """`isolated`: run on a fresh balancer of its own (the case depends on slots other cases leave behind,
    as a 1.3.x node renamed REMOVED does)."""

    name: str
    build: Callable[[Names], list[ModelRequest]]
    isolated: bool = False


CASES: list[Case] = []


def case(name: str) -> Callable[[Callable[[Names], list[ModelRequest]]], Callable[[Names], list[ModelRequest]]]:
    def register(build: Callable[[Names], list[ModelRequest]]) -> Callable[[Names], list[ModelRequest]]:
        CASES.append(Case(name, build))
        return build

    return register


def add(name: str, build: Callable[[Names], list[ModelRequest]], *, isolated: bool = False) -> None:
    CASES.append(Case(name, build, isolated))


# ------------------------------------------------------------------------------- CONFIG, field by field
STRING_FIELDS = {  # key: (size, a value of `length` characters that stays unique to the case)
    "JVMRoute": (64, lambda n, length: n.long_route(length)),
    "Balancer": (40, lambda n, length: (f"b{n.index}" + "b" * length)[:length]),
    "Domain": (20, lambda n, length: "d" * length),
    "Host": (64, lambda n, length: (f"h{n.index}" + "h" * length)[:length]),
    "Port": (7, lambda n, length: n.port().rjust(length, "0")),
    "Type": (16, lambda n, length: ("http" + "x" * length)[:length]),
    "StickySessionCookie": (30, lambda n, length: "C" * length),
    "StickySessionPath": (30, lambda n, length: "p" * length),
}


def _own(n: Names, key: str, value: str | None) -> dict[str, str | None]:
    """`key` set to `value`; a case that leaves the port unusual gets its own address (no other case's port)."""
    return {key: value, **({"Host": n.address()} if key == "Port" else {})}


for _key, (_size, _value) in STRING_FIELDS.items():
    add(f"config-{_key}-absent", lambda n, k=_key: [config(n, **_own(n, k, None))])
    add(f"config-{_key}-empty-middle", lambda n, k=_key: [req("CONFIG", config(n, **_own(n, k, "")).body + "&Foo=bar")])
    add(f"config-{_key}-empty-last", lambda n, k=_key: [req("CONFIG", config(n, **_own(n, k, None)).body + f"&{k}=")])
    add(f"config-{_key}-longest", lambda n, k=_key, s=_size, v=_value: [config(n, **_own(n, k, v(n, s - 1)))])
    add(f"config-{_key}-one-over", lambda n, k=_key, s=_size, v=_value: [config(n, **_own(n, k, v(n, s)))])

add("config-port-absent", lambda n: [config(n, Host=n.address(), Port=None)])
add("config-host-and-port-absent-type-ajp", lambda n: [config(n, Host=n.address(), Port=None, Type=None)])
add("config-empty-body", lambda n: [req("CONFIG")])
add("config-no-equals", lambda n: [req("CONFIG", config(n).body + "&Domain")])
add("config-value-with-equals", lambda n: [req("CONFIG", config(n).body + "&Domain=a=b")])
add("config-unknown-key-ignored", lambda n: [config(n, Foo="bar", Baz="1")])
add("config-keys-lowercase", lambda n: [req("CONFIG", f"jvmroute={n.route()}&host={LOCAL}&port={n.port()}&type=http")])
add("config-jvmroute-last", lambda n: [req("CONFIG", f"Host={LOCAL}&Port={n.port()}&Type=http&JVMRoute={n.route()}")])
add("config-jvmroute-repeated", lambda n: [req("CONFIG", f"JVMRoute=zz{n.index}&" + config(n).body)])
add("config-port-repeated", lambda n: [req("CONFIG", config(n).body + f"&Port={n.port(2)}")])
add("config-encoded-host", lambda n: [config(n, Host="127%2E0%2E0%2E1")])
add("config-encoded-route", lambda n: [config(n, JVMRoute=f"c{n.index}%6E1")])
add("config-encoded-invalid-escape", lambda n: [config(n, JVMRoute=f"c{n.index}n%zz")])
add("config-encoded-forbidden-quote", lambda n: [config(n, Domain="a%22b")])
add("config-encoded-forbidden-lt", lambda n: [config(n, Domain="a<b")])
add("config-encoded-nul-cuts", lambda n: [config(n, Domain="ab%00cd")])
add(
    "config-decoding-after-empty-value",
    lambda n: [req("CONFIG", f"Domain=&JVMRoute=c{n.index}%6E1&Host={LOCAL}&Port={n.port()}&Type=http")],
)
add("config-plus-is-not-space", lambda n: [config(n, Domain="a+b")])
add("config-ipv6-zone-stripped", lambda n: [config(n, Host="%5Bfe80::1%25eth0%5D")])
add("config-balancer-uppercase-lowered", lambda n: [config(n, Balancer=f"Up{n.index}")])

for _key, _values in {
    "flushwait": ("25", "2s", "abc", "-3", "7x"),
    "ping": ("3", "1500ms", "2mi", "abc", "-2"),
    "ttl": ("30", "1h", "abc"),
    "Timeout": ("5", "250ms", "abc"),
    "smax": ("7", "abc", "-4"),
    "Maxattempts": ("3", "abc"),
    "WaitWorker": ("4", "abc"),
    "flushpackets": ("On", "on", "Auto", "Off", "yes", "bogus"),
    "StickySession": ("No", "no", "Off", "Yes", "bogus"),
    "StickySessionForce": ("No", "Off", "Yes", "bogus"),
    "StickySessionRemove": ("Yes", "On", "No", "bogus"),
    "Reversed": ("Yes", "On", "bogus"),
}.items():
    for _v in _values:
        add(f"config-{_key}-{_v}", lambda n, k=_key, v=_v: [config(n, **{k: v})])

add("config-java-style", lambda n: [
    config(n, Balancer="mycluster", StickySession="Yes", StickySessionCookie="JSESSIONID", StickySessionPath="jsessionid",
           StickySessionRemove="No", StickySessionForce="No", WaitWorker="0", Maxattempts="1", flushpackets="Off",
           flushwait="10", ping="10", smax="26", ttl="60", Timeout="0")])  # fmt: skip

# ------------------------------------------------------------------------ CONFIG with Alias and Context
add("config-alias-context", lambda n: [config(n, Alias="a1", Context="/x")])
add("config-alias-list-context-list", lambda n: [config(n, Alias="a1%2Ca2", Context="%2Fx%2C%2Fy")])
add("config-alias-uppercase", lambda n: [config(n, Alias="BigHost", Context="/x")])
add("config-alias-without-context", lambda n: [config(n, Alias="a1")])
add("config-context-without-alias", lambda n: [config(n, Context="/x")])
add(
    "config-two-alias-context-pairs",
    lambda n: [req("CONFIG", config(n).body + "&Alias=a1&Context=/x&Alias=a2&Context=/y")],
)
add("config-alias-twice-then-context", lambda n: [req("CONFIG", config(n).body + "&Alias=a1&Alias=a2&Context=/x")])
add("config-context-before-alias", lambda n: [req("CONFIG", config(n).body + "&Context=/x&Alias=a1")])
add("config-alias-empty-item", lambda n: [config(n, Alias="a1%2C%2Ca2", Context="/x")])
add("config-alias-trailing-comma", lambda n: [config(n, Context="/x", Alias="a1%2C")])
add("config-alias-single-char-last", lambda n: [config(n, Alias="a1%2Cb", Context="/x")])
add("config-alias-longest", lambda n: [config(n, Alias="a" * 254, Context="/x")])
add("config-alias-one-over", lambda n: [config(n, Alias="a" * 255, Context="/x")])
add("config-context-longest", lambda n: [config(n, Alias="a1", Context="/" + "c" * 78)])
add("config-context-one-over", lambda n: [config(n, Alias="a1", Context="/" + "c" * 79)])
add(
    "config-aliases-reordered",
    lambda n: [config(n, Alias="a1%2Ca2", Context="/x"), config(n, Alias="a2%2Ca1", Context="/x")],
)
add(
    "config-reconfig-adds-alias",
    lambda n: [config(n, Alias="a1", Context="/x"), config(n, Alias="a1%2Ca2", Context="/x")],
)


# ---------------------------------------------------------------------------------- app commands
def registered(n: Names, i: int = 1, **fields: str) -> list[ModelRequest]:
    """Node i registered, with context /x on alias a1 enabled."""
    return [config(n, i, **fields), app("ENABLE-APP", n, i)]


for _cmd in APP_COMMANDS:
    _c = _cmd.split("-")[0].lower()
    add(f"{_c}-app", lambda n, c=_cmd: [*registered(n), app(c, n)])
    add(f"{_c}-app-new-context", lambda n, c=_cmd: [*registered(n), app(c, n, context="/y")])
    add(f"{_c}-app-new-alias", lambda n, c=_cmd: [*registered(n), app(c, n, alias="a2")])
    add(f"{_c}-app-unknown-node", lambda n, c=_cmd: [app(c, n)])
    add(f"{_c}-app-jvmroute-absent", lambda n, c=_cmd: [*registered(n), req(c, "Alias=a1&Context=/x")])
    add(f"{_c}-app-jvmroute-empty", lambda n, c=_cmd: [*registered(n), req(c, "JVMRoute=&Alias=a1&Context=/x")])
    add(
        f"{_c}-app-jvmroute-longest",
        lambda n, c=_cmd: [
            config(n, JVMRoute=n.long_route(63)),
            req(c, f"JVMRoute={n.long_route(63)}&Alias=a1&Context=/x"),
        ],
    )
    add(
        f"{_c}-app-jvmroute-one-over",
        lambda n, c=_cmd: [*registered(n), req(c, f"JVMRoute={n.long_route(64)}&Alias=a1&Context=/x")],
    )
    add(f"{_c}-app-alias-absent", lambda n, c=_cmd: [*registered(n), app(c, n, alias=None)])
    add(f"{_c}-app-alias-empty", lambda n, c=_cmd: [*registered(n), req(c, f"JVMRoute={n.route()}&Alias=&Context=/x")])
    add(f"{_c}-app-context-absent", lambda n, c=_cmd: [*registered(n), app(c, n, context=None)])
    add(
        f"{_c}-app-context-empty", lambda n, c=_cmd: [*registered(n), req(c, f"JVMRoute={n.route()}&Context=&Alias=a1")]
    )
    add(
        f"{_c}-app-node-wide",
        lambda n, c=_cmd: [*registered(n), app("ENABLE-APP", n, context="/y"), req(c, f"JVMRoute={n.route()}", "/*")],
    )
    add(f"{_c}-app-node-wide-unknown", lambda n, c=_cmd: [req(c, f"JVMRoute={n.route()}", "/*")])
    add(
        f"{_c}-app-node-wide-with-alias",
        lambda n, c=_cmd: [*registered(n), req(c, f"JVMRoute={n.route()}&Alias=zz&Context=/zz", "/*")],
    )

add("enable-app-both-absent", lambda n: [*registered(n), req("ENABLE-APP", f"JVMRoute={n.route()}")])
add("disable-app-both-absent", lambda n: [*registered(n), req("DISABLE-APP", f"JVMRoute={n.route()}")])
add("stop-app-both-absent", lambda n: [*registered(n), req("STOP-APP", f"JVMRoute={n.route()}")])
add("remove-app-both-absent", lambda n: [*registered(n), req("REMOVE-APP", f"JVMRoute={n.route()}")])
add("enable-app-alias-list", lambda n: [config(n), app("ENABLE-APP", n, alias="a1%2Ca2%2Ca3")])
add("enable-app-alias-list-unencoded", lambda n: [config(n), app("ENABLE-APP", n, alias="a1,a2")])
add("enable-app-alias-uppercase", lambda n: [config(n), app("ENABLE-APP", n, alias="BigHost")])
add("enable-app-alias-longest", lambda n: [config(n), app("ENABLE-APP", n, alias="a" * 254)])
add("enable-app-alias-one-over", lambda n: [config(n), app("ENABLE-APP", n, alias="a" * 255)])
add("enable-app-alias-very-long", lambda n: [config(n), app("ENABLE-APP", n, alias="a" * 300)])
add("enable-app-context-longest", lambda n: [config(n), app("ENABLE-APP", n, context="/" + "c" * 78)])
add("enable-app-context-one-over", lambda n: [config(n), app("ENABLE-APP", n, context="/" + "c" * 79)])
add("enable-app-context-list", lambda n: [config(n), app("ENABLE-APP", n, context="%2Fx%2C%2Fy")])
add(
    "enable-app-alias-repeated-key",
    lambda n: [config(n), req("ENABLE-APP", f"JVMRoute={n.route()}&Alias=a1&Alias=a2&Context=/x")],
)
add(
    "enable-app-context-repeated-key",
    lambda n: [config(n), req("ENABLE-APP", f"JVMRoute={n.route()}&Alias=a1&Context=/x&Context=/y")],
)
add("enable-app-jvmroute-last", lambda n: [config(n), req("ENABLE-APP", f"Context=/x&Alias=a1&JVMRoute={n.route()}")])
add("enable-app-encoded-context", lambda n: [config(n), app("ENABLE-APP", n, context="%2Fx")])
add("enable-app-alias-single-char-last", lambda n: [config(n), app("ENABLE-APP", n, alias="a1%2Cb")])
add("enable-app-alias-empty-item", lambda n: [config(n), app("ENABLE-APP", n, alias="a1%2C%2Ca2")])
add(
    "enable-app-alias-trailing-comma-last",
    lambda n: [config(n), req("ENABLE-APP", f"JVMRoute={n.route()}&Context=/x&Alias=a1%2C")],
)
add(
    "enable-app-alias-trailing-comma-middle",
    lambda n: [config(n), req("ENABLE-APP", f"JVMRoute={n.route()}&Alias=a1%2C&Context=/x")],
)
add("enable-app-empty-body", lambda n: [config(n), req("ENABLE-APP")])
add(
    "enable-app-alias-without-equals",
    lambda n: [config(n), req("ENABLE-APP", f"JVMRoute={n.route()}&Context=/x&Alias")],
)
add("disable-app-jvmroute-without-equals", lambda n: [config(n), req("DISABLE-APP", "Alias=a1&Context=/x&JVMRoute")])
add("enable-app-bare-star-target", lambda n: [*registered(n), req("ENABLE-APP", f"JVMRoute={n.route()}", "*")])
add(
    "stop-app-long-alias-reply",
    lambda n: [
        *registered(n),
        app("ENABLE-APP", n, alias="longalias1"),
        app("STOP-APP", n, alias="longalias1", context="/longcontext"),
    ],
)
add(
    "stop-app-after-removed-node",
    lambda n: [*registered(n), req("REMOVE-APP", f"JVMRoute={n.route()}", "/*"), app("STOP-APP", n)],
)


# ---------------------------------------------------------------------------------------- STATUS
def status(n: Names, body: str) -> list[ModelRequest]:
    return [config(n), req("STATUS", body)]


for _load in ("-2", "-1", "0", "1", "50", "100", "101", "-5", "abc", "12abc", " 7", "", "99999999999"):
    add(f"status-load-{_load.strip() or 'empty'}{'-spaced' if _load.startswith(' ') else ''}",
        lambda n, v=_load: status(n, f"JVMRoute={n.route()}&Load={v}"))  # fmt: skip
add("status-load-absent", lambda n: status(n, f"JVMRoute={n.route()}"))
add("status-jvmroute-absent", lambda n: status(n, "Load=10"))
add("status-jvmroute-empty", lambda n: status(n, "JVMRoute=&Load=10"))
add("status-jvmroute-unknown", lambda n: [req("STATUS", f"JVMRoute={n.route()}&Load=10")])
add(
    "status-jvmroute-longest",
    lambda n: [config(n, JVMRoute=n.long_route(63)), req("STATUS", f"JVMRoute={n.long_route(63)}&Load=10")],
)
add("status-jvmroute-one-over", lambda n: status(n, f"JVMRoute={n.long_route(64)}&Load=10"))
add("status-load-first", lambda n: status(n, f"Load=30&JVMRoute={n.route()}"))
add("status-load-repeated", lambda n: status(n, f"JVMRoute={n.route()}&Load=30&Load=60"))
add("status-extra-field", lambda n: status(n, f"JVMRoute={n.route()}&Load=10&Foo=1"))
add("status-extra-field-first", lambda n: status(n, f"Foo=1&JVMRoute={n.route()}&Load=10"))
add("status-empty-body", lambda n: status(n, ""))
add("status-load-without-equals", lambda n: status(n, f"JVMRoute={n.route()}&Load"))
add("status-ajp-node", lambda n: [config(n, Type="ajp"), req("STATUS", f"JVMRoute={n.route()}&Load=10")])
add("status-ajp-node-broken", lambda n: [config(n, Type="ajp"), req("STATUS", f"JVMRoute={n.route()}&Load=-1")])
add("status-then-reconfig-keeps-load", lambda n: [*status(n, f"JVMRoute={n.route()}&Load=40"), config(n, Domain="g1")])
add(
    "status-removed-node",
    lambda n: [
        *status(n, f"JVMRoute={n.route()}&Load=40"),
        req("REMOVE-APP", f"JVMRoute={n.route()}", "/*"),
        req("STATUS", f"JVMRoute={n.route()}&Load=40"),
    ],
)

# ------------------------------------------------------------------------------------------ PING
add("ping-empty", lambda n: [req("PING")])
add("ping-route", lambda n: [config(n), req("PING", f"JVMRoute={n.route()}")])
add("ping-route-ajp", lambda n: [config(n, Type="ajp"), req("PING", f"JVMRoute={n.route()}")])
add("ping-route-unknown", lambda n: [req("PING", f"JVMRoute={n.route()}")])
add("ping-route-empty", lambda n: [req("PING", "JVMRoute=")])
add("ping-route-one-over", lambda n: [req("PING", f"JVMRoute={n.long_route(64)}")])
add("ping-address-of-node", lambda n: [config(n), req("PING", f"Scheme=http&Host={LOCAL}&Port={n.port()}")])
add("ping-address-unknown", lambda n: [req("PING", f"Scheme=http&Host={LOCAL}&Port={n.port(9)}")])
add("ping-address-ajp", lambda n: [req("PING", f"Scheme=ajp&Host={LOCAL}&Port={n.port(9)}")])
add("ping-address-scheme-uppercase", lambda n: [config(n), req("PING", f"Scheme=HTTP&Host={LOCAL}&Port={n.port()}")])
add("ping-address-bad-scheme", lambda n: [req("PING", f"Scheme=gopher&Host={LOCAL}&Port={n.port(9)}")])
add("ping-address-host-absent", lambda n: [req("PING", f"Scheme=http&Port={n.port(9)}")])
add("ping-address-port-absent", lambda n: [req("PING", f"Scheme=http&Host={LOCAL}")])
add("ping-address-scheme-absent", lambda n: [req("PING", f"Host={LOCAL}&Port={n.port(9)}")])
add("ping-extra-field", lambda n: [req("PING", "Foo=1")])
add(
    "ping-route-and-address",
    lambda n: [config(n), req("PING", f"JVMRoute={n.route()}&Scheme=ajp&Host={LOCAL}&Port={n.port(9)}")],
)
add("ping-no-equals", lambda n: [req("PING", "hello")])
add("ping-scheme-without-equals", lambda n: [req("PING", f"Host={LOCAL}&Port={n.port()}&Scheme")])

# ------------------------------------------------------------------------------ INFO, DUMP, VERSION
add("info-text-and-xml", lambda n: [config(n, Alias="a1", Context="/x"), req("INFO"), req("INFO", xml=True)])
add(
    "dump-text-and-xml",
    lambda n: [config(n, Alias="a1", Context="/x"), req("DUMP", target="/*"), req("DUMP", xml=True)],
)
add("version-text", lambda n: [req("VERSION")])
add("version-xml", lambda n: [req("VERSION", xml=True)])
add(
    "method-lowercase",
    lambda n: [req("config", config(n).body), req("info"), req("enable-app", app("ENABLE-APP", n).body)],
)
add("method-unknown", lambda n: [req("FOO", "x=y")])
add("info-with-forbidden-body", lambda n: [req("INFO", "a=%3C")])
add("version-with-body", lambda n: [req("VERSION", "JVMRoute=x")])

# --------------------------------------------------------------------------- aliases and contexts
add(
    "aliases-added-to-registered-node",
    lambda n: [*registered(n), app("ENABLE-APP", n, alias="a1%2Ca2"), app("ENABLE-APP", n, alias="a3%2Ca1")],
)
add(
    "aliases-removed-from-registered-node",
    lambda n: [config(n), app("ENABLE-APP", n, alias="a1%2Ca2"), app("REMOVE-APP", n, alias="a2")],
)
add(
    "aliases-other-order-app",
    lambda n: [config(n), app("ENABLE-APP", n, alias="a1%2Ca2"), app("DISABLE-APP", n, alias="a2%2Ca1")],
)
add(
    "aliases-other-order-remove",
    lambda n: [config(n), app("ENABLE-APP", n, alias="a1%2Ca2"), app("REMOVE-APP", n, alias="a2%2Ca1")],
)
add(
    "contexts-added-and-removed",
    lambda n: [
        *registered(n),
        app("ENABLE-APP", n, context="/y"),
        app("STOP-APP", n, context="/y"),
        app("REMOVE-APP", n, context="/x"),
    ],
)
add("last-context-removed-drops-alias", lambda n: [*registered(n), app("REMOVE-APP", n)])
add(
    "context-lifecycle",
    lambda n: [
        config(n),
        app("STOP-APP", n),
        app("ENABLE-APP", n),
        app("DISABLE-APP", n),
        app("STOP-APP", n),
        app("REMOVE-APP", n),
    ],
)
add("node-wide-lifecycle", lambda n: [*registered(n), app("ENABLE-APP", n, alias="a2", context="/y"),
    req("DISABLE-APP", f"JVMRoute={n.route()}", "/*"), req("STOP-APP", f"JVMRoute={n.route()}", "/*"),
    req("ENABLE-APP", f"JVMRoute={n.route()}", "/*"), req("REMOVE-APP", f"JVMRoute={n.route()}", "/*"),
    app("ENABLE-APP", n), req("STATUS", f"JVMRoute={n.route()}&Load=5")])  # fmt: skip
add("config-after-contexts-keeps-them", lambda n: [*registered(n), config(n)])
add("config-alias-on-app-registered-node", lambda n: [*registered(n), config(n, Alias="a1", Context="/z")])

# --------------------------------------------------------------------- two nodes, changed fields
add("same-endpoint-same-type", lambda n: [config(n), config(n, 2, Port=n.port(1))])
add("same-endpoint-other-type", lambda n: [*registered(n), config(n, 2, Port=n.port(1), Type="ajp")])
add("same-endpoint-other-balancer", lambda n: [config(n), config(n, 2, Port=n.port(1), Balancer=f"other{n.index}")])
add("same-endpoint-other-host-spelling", lambda n: [config(n), config(n, 2, Port=n.port(1), Host="LOCALHOST")])
add("two-nodes-same-aliases", lambda n: [*registered(n), *registered(n, 2)])
for _key, _value in (("Port", None), ("Type", "ajp"), ("Balancer", "otherbal"), ("smax", "5"), ("ttl", "99"),
                     ("Reversed", "Yes"), ("Domain", "g2"), ("flushwait", "33"), ("ping", "4"), ("Timeout", "9"),
                     ("flushpackets", "On"), ("StickySessionForce", "No")):  # fmt: skip
    add(f"reconfig-changed-{_key}", lambda n, k=_key, v=_value: [
        *registered(n), config(n, **{k: v if v is not None else n.port(2)})], isolated=True)  # fmt: skip
add(
    "reconfig-changed-port-then-retry",
    lambda n: [*registered(n), config(n, Port=n.port(2)), config(n, Port=n.port(2))],
    isolated=True,
)
add("reconfig-changed-port-after-an-older-rename", lambda n: [
    config(n, 2), config(n, 2, Port=n.port(3)), *registered(n), config(n, Port=n.port(4)), req("INFO")], isolated=True)  # fmt: skip
add("reconfig-identical", lambda n: [*registered(n), config(n), app("STOP-APP", n)])
