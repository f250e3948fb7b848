"""CONFIG cases of the MCMP conformance table: each field absent, empty, longest, one over, %-encoded, reordered,
repeated, every value kind, and the Alias / Context lists a CONFIG may carry."""

from __future__ import annotations

from scenarios.httpd.mcmp_case_kit import LOCAL, Names, add, config, req

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
