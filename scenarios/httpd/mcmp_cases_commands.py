"""App command, STATUS, PING, INFO/DUMP/VERSION cases of the MCMP conformance table, then the sequences:
aliases and contexts added and removed, two nodes on one host:port, a node re-registering with changed fields."""

from __future__ import annotations

from harness.protocol.mcmp_model import ModelRequest
from scenarios.httpd.mcmp_case_kit import APP_COMMANDS, LOCAL, Names, add, app, config, registered, req

# ---------------------------------------------------------------------------------- app commands
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
