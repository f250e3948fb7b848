"""The MCMP model on its own: body parsing per line, list splitting as built, value converters, CONFIG and app
commands per line, STATUS/PING, the known bugs switched on and off, and the INFO/DUMP comparison."""

from __future__ import annotations

import pytest

from harness.protocol import mcmp_model_lines as msg
from harness.protocol.balancer_info import parse_dump, parse_info
from harness.protocol.mcmp import McmpResponse
from harness.protocol.mcmp_model import McmpModel, ModelConfig, ModelRequest, Prediction, Reply, Undefined
from harness.protocol.mcmp_model_body import atoi, boolean, split_body, split_list, timeout_us
from harness.protocol.mcmp_model_lines import rules_for
from harness.protocol.mcmp_model_view import DUMP_FIELDS, INFO_FIELDS, compare, compare_balancers, reply_problems

R13, R2X = rules_for("1.3"), rules_for("2.x")
NODE = "JVMRoute=n1&Host=127.0.0.1&Port=8081&Type=http"


def model(rules: object = R2X, bugs: bool = False, **config: object) -> McmpModel:
    cfg = ModelConfig(enable_options=False, **config)  # type: ignore[arg-type]
    return McmpModel(rules, cfg, bugs=rules.bugs if bugs else frozenset())  # type: ignore[arg-type,attr-defined]


def send(m: McmpModel, method: str, body: str = "", target: str = "/") -> Reply:
    prediction = m.apply(ModelRequest(method, body, target=target))
    assert len(prediction.replies) == 1, prediction.describe()
    return prediction.replies[0]


# --------------------------------------------------------------------------------------------- bodies
def test_13_body_needs_alternating_pairs_with_a_last_value() -> None:
    assert split_body("pairs", "a=1&b=2").items == ("a", "1", "b", "2")  # type: ignore[union-attr]
    assert split_body("pairs", "a=1&b=x=y").items == ("a", "1", "b", "x=y")  # type: ignore[union-attr]
    for refused in ("", "JVMRoute", "a=1&b", "a=1&b=", "a=&=1"[:3]):
        assert split_body("pairs", refused) is None, refused
    assert split_body("pairs", "a=&b=2").items == ("a", "", "b", "2")  # type: ignore[union-attr]


def test_13_decoding_stops_after_an_empty_value_only_as_built() -> None:
    body = "Domain=&JVMRoute=n%31"
    assert split_body("pairs", body).items[-1] == "n1"  # type: ignore[union-attr]
    assert split_body("pairs", body, stop_decoding_at_empty=True).items[-1] == "n%31"  # type: ignore[union-attr]


def test_forbidden_characters_after_decoding_refuse_the_body_and_nul_ends_a_value() -> None:
    for kind in ("pairs", "split"):
        assert split_body(kind, "a=%3Cb") is None and split_body(kind, 'a=x"') is None
        assert split_body(kind, "a=b%0A") is None
        assert split_body(kind, "a=ab%00cd").items[1] == "ab"  # type: ignore[union-attr]
        assert split_body(kind, "a=%zz1").items[1] == "%zz1"  # type: ignore[union-attr]
        assert split_body(kind, "a=b+c").items[1] == "b+c"  # type: ignore[union-attr]


def test_2x_body_splits_on_every_separator_and_keeps_decoding_leftovers_in_the_buffer() -> None:
    body = split_body("split", "JVMRoute=n1&Type")
    assert body is not None and body.pairs() == [("JVMRoute", "n1", 1), ("Type", None, 3)]
    body = split_body("split", "Alias=a%2C&Context=/x")
    assert body is not None and body.items == ("Alias", "a,", "Context", "/x")
    assert body.tail(1) == "a,\0C\0Context\0/x\0\0"  # "%2C" decoded in place leaves "C" behind


def test_list_splitter_intended_and_as_built() -> None:
    assert split_list("a1,a2", 255) == ["a1", "a2"]
    assert split_list("a1,,a2", 255) == "empty" and split_list("a" * 255, 255) == "big"
    assert split_list("a" * 254, 255) == ["a" * 254]
    assert split_list("x" * 300, None) == ["x" * 300]  # 1.3.x: no check
    assert split_list("a1,b", 255, tail="a1,b\0\0") == "empty"  # the character after a ',' is skipped
    assert split_list("a1,,a2", 255, tail="a1,,a2\0\0") == ["a1", ",a2"]
    assert split_list("a1,", 255, tail="a1,\0\0") == "empty"
    assert split_list("a1,", 255, tail="a1,\0Context\0/x\0\0") == ["a1", ""]  # runs into the next item
    assert split_list("A1", 255, tail="A1\0\0", lower=True) == ["a1"]
    assert split_list("a" + "," + "b" * 255, 255, tail="a," + "b" * 255 + "\0\0") == ["a", "b" * 255]


def test_value_converters() -> None:
    assert atoi("12abc") == 12 and atoi("abc") == 0 and atoi(" -3") == -3
    assert atoi("99999999999") == 1215752191 and atoi("9" * 30) == -1  # (int) strtol, saturated
    assert timeout_us("10", "ms") == 10_000 and timeout_us("2s", "ms") == 2_000_000
    assert timeout_us("1500ms", "s") == 1_500_000 and timeout_us("2mi", "s") == 120_000_000
    assert timeout_us("1h", "s") == 3_600_000_000
    assert timeout_us("abc", "s") is None and timeout_us("7x", "s") is None and timeout_us("-2", "s") is None
    assert boolean("On", "yes-no", "on") is True and boolean("off", "yes-no", "on") is False
    assert boolean("bogus", "yes-no", "on") is None
    assert boolean("NO", "one-word", "no") is False and boolean("yes", "one-word", "no") is None
    assert boolean("On", "one-word", "on") is True


# --------------------------------------------------------------------------------------------- CONFIG
def test_config_defaults_as_info_and_dump_show_them() -> None:
    for rules in (R13, R2X):
        m = model(rules)
        assert send(m, "CONFIG", "JVMRoute=n1") == Reply(200, body="")
        node = m.view()["nodes"]["n1"]
        assert (node["host"], node["port"], node["type"], node["smax"], node["ttl"], node["load"]) == (
            "localhost",
            "8009",
            "ajp",
            -1,
            60,
            0,
        )
        assert m.view()["balancers"]["mycluster"]["force"] is True  # httpd's default (the Java node sends No)


def test_config_field_limits_name_the_field() -> None:
    for key, size, message in (
        ("JVMRoute", 64, msg.SROUBIG),
        ("Balancer", 40, msg.SBALBIG),
        ("Domain", 20, msg.SDOMBIG),
        ("Host", 64, msg.SHOSBIG),
        ("Port", 7, msg.SPORBIG),
        ("Type", 16, msg.STYPBIG),
        ("StickySessionCookie", 30, msg.SBAFBIG),
    ):
        for rules in (R13, R2X):
            assert send(model(rules), "CONFIG", f"{NODE}&{key}={'x' * size}") == Reply(500, "SYNTAX", message)
            assert send(model(rules), "CONFIG", f"{NODE}&{key}={'x' * (size - 1)}").status == 200


def test_config_aliases_make_one_vhost_per_alias_on_2x_and_per_pair_on_13() -> None:
    body = f"{NODE}&Alias=A1%2Ca2&Context=%2Fx%2C%2Fy"
    m13, m2x = model(R13), model(R2X)
    send(m13, "CONFIG", body)
    send(m2x, "CONFIG", body)
    contexts = ["/x=STOPPED", "/y=STOPPED"]
    assert m13.view()["nodes"]["n1"]["vhosts"] == {1: {"aliases": ["A1", "a2"], "contexts": contexts}}
    assert m2x.view()["nodes"]["n1"]["vhosts"] == {
        1: {"aliases": ["a1"], "contexts": contexts},
        2: {"aliases": ["a2"], "contexts": contexts},
    }
    assert send(model(R13), "CONFIG", f"{NODE}&Alias=a&Alias=b&Context=/x") == Reply(500, "SYNTAX", msg.SALIBAD)
    assert send(model(R2X), "CONFIG", f"{NODE}&Alias=a") == Reply(500, "SYNTAX", msg.SALIBAD)
    m = model(R13)
    send(m, "CONFIG", f"{NODE}&Alias=a")  # 1.3.x: an Alias alone gets the context "/"
    assert m.view()["nodes"]["n1"]["vhosts"] == {1: {"aliases": ["a"], "contexts": ["/=STOPPED"]}}


def test_a_changed_node_is_renamed_on_13_and_refused_on_2x() -> None:
    m13, m2x = model(R13), model(R2X)
    for m in (m13, m2x):
        send(m, "CONFIG", NODE + "&Alias=a1&Context=/x")
    assert send(m13, "CONFIG", NODE.replace("8081", "8091")) == Reply(500, "MEM", msg.MNODERM.format("REMOVED"))
    assert send(m2x, "CONFIG", NODE.replace("8081", "8091")) == Reply(500, "MEM", msg.MNODEEX.format("n1"))
    assert m13.view()["nodes"] == {} and m13.view()["lingering"] == [
        {"host": "127.0.0.1", "port": "8081", "names": ["REMOVED"]}
    ]
    assert "n1" in m2x.view()["nodes"]
    assert send(m13, "CONFIG", NODE.replace("8081", "8091")).status == 200  # the route is free again


def test_a_second_route_on_a_known_worker_is_refused_and_only_13_writes_the_balancer() -> None:
    for rules, written in ((R13, True), (R2X, False)):
        m = model(rules)
        send(m, "CONFIG", NODE)
        reply = send(m, "CONFIG", "JVMRoute=n2&Host=127.0.0.1&Port=8081&Type=http&StickySessionForce=No")
        assert reply == Reply(500, "MEM", msg.MNODEET)
        assert (m.view()["balancers"]["mycluster"]["force"] is False) is written


def test_another_type_on_the_same_host_port_takes_the_slot_only_as_built_on_2x() -> None:
    for bugs, routes in ((False, {"n1", "n2"}), (True, {"n2"})):
        m = model(R2X, bugs=bugs)
        send(m, "CONFIG", NODE + "&Alias=a1&Context=/x")
        assert send(m, "CONFIG", "JVMRoute=n2&Host=127.0.0.1&Port=8081&Type=ajp").status == 200
        assert set(m.view()["nodes"]) == routes
    assert m.view()["nodes"]["n2"]["vhosts"][1]["aliases"] == ["a1"]  # it inherits n1's aliases


def test_maxnode_refuses_a_new_node() -> None:
    m = model(R2X, max_node=1)
    send(m, "CONFIG", NODE)
    assert send(m, "CONFIG", "JVMRoute=n2&Port=9") == Reply(500, "MEM", msg.MNODEUI.format("n2"))


def test_rename_that_hits_an_older_removed_node_is_beyond_the_model() -> None:
    m = model(R13, bugs=True)
    send(m, "CONFIG", "JVMRoute=p&Host=127.0.0.1&Port=1&Type=http")
    send(m, "CONFIG", "JVMRoute=p&Host=127.0.0.1&Port=2&Type=http")
    send(m, "CONFIG", NODE)
    with pytest.raises(Undefined) as caught:
        m.apply(ModelRequest("CONFIG", NODE.replace("8081", "8091")))
    assert caught.value.intended_fails
    shared = McmpModel(R13, ModelConfig(sole_user=False), bugs=R13.bugs)
    send(shared, "CONFIG", NODE)
    with pytest.raises(Undefined) as caught:
        shared.apply(ModelRequest("CONFIG", NODE.replace("8081", "8091")))
    assert not caught.value.intended_fails


# --------------------------------------------------------------------------------------- app commands
def test_app_replies_per_line() -> None:
    m2x = model(R2X)
    send(m2x, "CONFIG", NODE)
    reply = send(m2x, "ENABLE-APP", "JVMRoute=n1&Alias=a1%2CA2&Context=%2Fx")
    assert reply.body == "Type=ENABLE-APP-RSP\nJvmRoute=n1\nAlias=a1 Contexts=/x\n\nAlias=a2 Contexts=/x\n\n"
    for bugs, shown in ((False, "Alias=longalias1&Context=/longcontext"), (True, "Alias=longalia&Context=/longcon")):
        m13 = model(R13, bugs=bugs)
        send(m13, "CONFIG", NODE)
        reply = send(m13, "STOP-APP", "JVMRoute=n1&Alias=LongAlias1&Context=/longcontext")
        assert reply.body == f"Type=STOP-APP-RSP&JvmRoute=n1&{shown}&Requests=0\n"


def test_aliases_in_another_order_and_removal_per_line() -> None:
    m13, m2x = model(R13), model(R2X)
    for m in (m13, m2x):
        send(m, "CONFIG", NODE)
        send(m, "ENABLE-APP", "JVMRoute=n1&Alias=a1%2Ca2&Context=/x")
        send(m, "DISABLE-APP", "JVMRoute=n1&Alias=a3%2Ca1&Context=/x")
    assert m13.view()["nodes"]["n1"]["vhosts"] == {  # 1.3.x looks up the first alias only: a3 is new
        1: {"aliases": ["a1", "a2"], "contexts": ["/x=ENABLED"]},
        2: {"aliases": ["a1", "a3"], "contexts": ["/x=DISABLED"]},
    }
    assert m2x.view()["nodes"]["n1"]["vhosts"] == {
        1: {"aliases": ["a1"], "contexts": ["/x=DISABLED"]},
        2: {"aliases": ["a2"], "contexts": ["/x=ENABLED"]},
        3: {"aliases": ["a3"], "contexts": ["/x=DISABLED"]},
    }
    send(m2x, "REMOVE-APP", "JVMRoute=n1&Alias=a2&Context=/x")
    assert sorted(m2x.view()["nodes"]["n1"]["vhosts"]) == [1, 3]


def test_app_command_checks_per_line() -> None:
    m13, m2x = model(R13), model(R2X)
    for m in (m13, m2x):
        send(m, "CONFIG", NODE)
    assert send(m2x, "ENABLE-APP", "JVMRoute=n1") == Reply(500, "SYNTAX", msg.NOCONAL)
    assert send(m13, "ENABLE-APP", "JVMRoute=n1&Alias=a&Alias=b&Context=/x") == Reply(500, "SYNTAX", msg.SMULALB)
    assert send(m2x, "ENABLE-APP", "JVMRoute=n1&Alias=a&Alias=b&Context=/x").status == 200
    assert send(m2x, "ENABLE-APP", "JVMRoute=n1&Alias=" + "a" * 255 + "&Context=/x").message == msg.SALIBIG
    assert send(m13, "ENABLE-APP", "JVMRoute=n1&Alias=" + "a" * 300 + "&Context=/x").status == 200
    assert m13.view()["nodes"]["n1"]["vhosts"][1]["aliases"] == ["a" * 99]
    assert send(m13, "REMOVE-APP", "JVMRoute=zz&Alias=a&Context=/x") == Reply(200, body="")
    assert send(m2x, "REMOVE-APP", "JVMRoute=zz&Alias=a&Context=/x") == Reply(500, "MEM", msg.MNODERD.format("zz"))
    assert send(m2x, "ENABLE-APP", "JVMRoute=n1&Alias") == Reply(500, "SYNTAX", msg.SMESPAR)  # intended
    crashing = model(R2X, bugs=True)
    send(crashing, "CONFIG", NODE)
    assert send(crashing, "ENABLE-APP", "JVMRoute=n1&Alias").status == 0  # as built: NULL value, the child dies
    assert send(crashing, "STATUS", "JVMRoute=n1&Load").status == 0
    with pytest.raises(Undefined):
        m2x.apply(ModelRequest("ENABLE-APP", ""))


def test_node_wide_commands_and_removal() -> None:
    m = model(R2X)
    send(m, "CONFIG", NODE + "&Alias=a1&Context=/x")
    send(m, "ENABLE-APP", "JVMRoute=n1", "/*")
    assert m.view()["nodes"]["n1"]["vhosts"][1]["contexts"] == ["/x=ENABLED"]
    send(m, "REMOVE-APP", "JVMRoute=n1", "/*")
    assert m.view()["nodes"] == {} and m.view()["lingering"][0]["names"] == ["REMOVED", "n1"]
    assert send(m, "ENABLE-APP", "JVMRoute=n1", "/*") == Reply(500, "MEM", msg.MNODERD.format("n1"))
    assert m.apply(ModelRequest("ENABLE-APP", "JVMRoute=n1", target="*")).replies == (Reply(400),)


def test_13_app_command_without_alias_and_context() -> None:
    for bugs, status in ((False, 200), (True, 0)):
        m = model(R13, bugs=bugs)
        send(m, "CONFIG", NODE + "&Alias=a1&Context=/x")
        assert send(m, "STOP-APP", "JVMRoute=n1").status == status
        assert m.view()["nodes"]["n1"]["vhosts"][2] == {"aliases": [""], "contexts": ["/=STOPPED"]}


# --------------------------------------------------------------------------------------- STATUS, PING
@pytest.mark.parametrize(
    ("rules", "load", "reply", "shown"),
    [
        (R13, "101", "OK", 101),
        (R13, "abc", "OK", 0),
        (R13, None, "OK", -1),
        (R13, "-2", "OK", 0),
        (R2X, "101", msg.BAD_LOAD, 0),
        (R2X, "abc", msg.BAD_LOAD, 0),
        (R2X, None, "OK", 0),
        (R2X, "50", "OK", 50),
    ],
)
def test_status_load_per_line(rules: object, load: str | None, reply: str, shown: int) -> None:
    m = model(rules)
    send(m, "CONFIG", NODE)
    got = send(m, "STATUS", "JVMRoute=n1" + ("" if load is None else f"&Load={load}"))
    if reply == "OK":
        assert got.body == "Type=STATUS-RSP&JVMRoute=n1&State=OK&id={id}\n"
    else:
        assert got == Reply(500, "SYNTAX", reply)
    assert m.view()["nodes"]["n1"]["load"] == shown


def test_status_of_an_ajp_node_pings_it() -> None:
    m = model(R2X)
    send(m, "CONFIG", "JVMRoute=n1&Port=8009")
    assert "State=NOTOK" in (send(m, "STATUS", "JVMRoute=n1&Load=10").body or "")
    assert m.view()["nodes"]["n1"]["load"] == 0
    assert "State=OK" in (send(m, "STATUS", "JVMRoute=n1&Load=-1").body or "")
    assert m.view()["nodes"]["n1"]["load"] == -1
    listening = McmpModel(R2X, ModelConfig(cpong=frozenset({("localhost", "8009")})))
    send(listening, "CONFIG", "JVMRoute=n1")
    assert "State=OK" in (send(listening, "STATUS", "JVMRoute=n1&Load=10").body or "")


def test_status_errors_and_the_uninitialised_route() -> None:
    m = model(R2X)
    assert send(m, "STATUS", "JVMRoute=n1&Load=1&Foo=2") == Reply(500, "SYNTAX", msg.SBADFLD.format("Foo"))
    assert send(m, "STATUS", "JVMRoute=&Load=1") == Reply(500, "SYNTAX", msg.NO_ROUTE)
    assert send(m, "STATUS", "Load=1") == Reply(500, "SYNTAX", msg.NO_ROUTE)
    assert send(model(R13), "STATUS", "Load=1") == Reply(500, "MEM", msg.MNODERD.format(""))
    with pytest.raises(Undefined):
        model(R13, bugs=True).apply(ModelRequest("STATUS", "Load=1"))


def test_ping_forms_per_line() -> None:
    m13, m2x = model(R13), model(R2X)
    for m in (m13, m2x):
        send(m, "CONFIG", NODE)
        assert send(m, "PING").body == "Type=PING-RSP&State=OK&id={id}\n"
        assert send(m, "PING", "Host=127.0.0.1") == Reply(500, "SYNTAX", msg.SMISFLD)
        assert send(m, "PING", "JVMRoute=zz") == Reply(500, "MEM", msg.MNODERD.format("zz"))
    address = "Scheme=http&Host=127.0.0.1&Port=8081"
    assert m2x.apply(ModelRequest("PING", address)) == Prediction(
        (Reply(200, body="Type=PING-RSP&State=OK&id={id}\n"),), settles=True
    )
    assert send(m13, "PING", address).body == "Type=PING-RSP&State=NOTOK&id={id}\n"  # 1.3.x connects
    assert send(m2x, "PING", "Scheme=gopher&Host=h&Port=1") == Reply(500, "SYNTAX", msg.BAD_SCHEME.format("gopher"))
    assert send(m13, "PING", "hello").body == "Type=PING-RSP&State=OK&id={id}\n"  # 1.3.x: unparsed = no fields


def test_other_commands() -> None:
    m = McmpModel(R13, ModelConfig(release="mod_cluster/1.3.22.Final"))
    assert send(m, "version").body == "release: mod_cluster/1.3.22.Final, protocol: 0.2.1\n"
    assert send(m, "FOO", "x=y") == Reply(501)
    assert send(model(R2X), "INFO", "a=%3C") == Reply(500, "SYNTAX", msg.SMESPAR)
    assert send(model(R13), "INFO", "a=%3C") == Reply(200)


# ------------------------------------------------------------------------------------ comparison
INFO = (
    "Node: [0],Name: n1,Balancer: mycluster,LBGroup: ,Host: 127.0.0.1,Port: 8081,Type: http,Flushpackets: Off,"
    "Flushwait: 10,Ping: 10,Smax: -1,Ttl: 60,Elected: 0,Read: 0,Transfered: 0,Connected: 0,Load: 0\n"
    "Node: [1],Name: other,Balancer: mycluster,LBGroup: ,Host: 127.0.0.1,Port: 9999,Type: http,Flushpackets: Off,"
    "Flushwait: 10,Ping: 10,Smax: -1,Ttl: 60,Elected: 0,Read: 0,Transfered: 0,Connected: 0,Load: 0\n"
    "Vhost: [0:1:0], Alias: a1\nContext: [0:1:0], Context: /x, Status: STOPPED\n"
)


def test_compare_agrees_and_names_each_difference() -> None:
    m = model(R2X)
    send(m, "CONFIG", NODE + "&Alias=a1&Context=/x")
    assert compare(m.view(), parse_info(INFO), "INFO", INFO_FIELDS, m.endpoints) == []  # "other" is not ours
    send(m, "STATUS", "JVMRoute=n1&Load=40")
    send(m, "ENABLE-APP", "JVMRoute=n1&Alias=a1&Context=/x")
    assert compare(m.view(), parse_info(INFO), "INFO", INFO_FIELDS, m.endpoints) == [
        "INFO: node n1 load: expected 40, got 0",
        "INFO: node n1 vhost 1 contexts: expected ['/x=ENABLED'], got ['/x=STOPPED']",
    ]
    assert compare(m.view(), parse_info(""), "INFO", INFO_FIELDS, m.endpoints) == [
        "INFO: node n1 missing (expected at 127.0.0.1:8081)"
    ]
    send(m, "REMOVE-APP", "JVMRoute=n1", "/*")
    assert compare(m.view(), parse_info(""), "INFO", INFO_FIELDS, m.endpoints) == []  # gone already: fine
    lingering = compare(m.view(), parse_info(INFO), "INFO", INFO_FIELDS, m.endpoints)
    assert lingering == ["INFO: removed node n1 still has {1: {'aliases': ['a1'], 'contexts': ['/x=STOPPED']}}"]
    stranger = INFO.replace("Name: other", "Name: x").replace("Port: 9999", "Port: 8081").split("Vhost")[0]
    assert "unexpected node x" in compare(m.view(), parse_info(stranger), "INFO", INFO_FIELDS, m.endpoints)[-1]


def test_compare_balancers_and_dump_fields() -> None:
    m = model(R13)
    send(m, "CONFIG", NODE + "&StickySessionForce=No&Timeout=3")
    dump = parse_dump(
        "balancer: [1] Name: mycluster Sticky: 1 [JSESSIONID]/[jsessionid] remove: 0 force: 1 Timeout: 0 maxAttempts: 1\n"
        "node: [1:1],Balancer: mycluster,JVMRoute: n1,LBGroup: [],Host: 127.0.0.1,Port: 8081,Type: http,"
        "flushpackets: 0,flushwait: 10,ping: 10,smax: -1,ttl: 60,timeout: 0\n"
    )
    assert compare_balancers(m.view(), dump) == ["DUMP: balancer mycluster force: expected False, got True"]
    assert compare(m.view(), dump, "DUMP", DUMP_FIELDS, m.endpoints) == ["DUMP: node n1 timeout: expected 3, got 0"]


def test_reply_problems() -> None:
    status = Prediction((Reply(200, body="Type=STATUS-RSP&JVMRoute=n1&State=OK&id={id}\n"),), settles=True)
    ok = McmpResponse(200, "OK", {}, "Type=STATUS-RSP&JVMRoute=n1&State=OK&id=-42\n")
    notok = McmpResponse(200, "OK", {}, "Type=STATUS-RSP&JVMRoute=n1&State=NOTOK&id=7\n")
    assert reply_problems(status, ok) == [] and reply_problems(status, notok) != []
    assert reply_problems(status, notok, lenient_state=True) == []
    error = Prediction((Reply(500, "MEM", "MEM: x"),))
    assert reply_problems(error, McmpResponse(500, "", {"Type": "MEM", "Mess": "MEM: x"})) == []
    assert reply_problems(error, McmpResponse(500, "", {"Type": "SYNTAX", "Mess": "MEM: x"})) != []
    assert reply_problems(Prediction((Reply(0),)), None) == []
    assert "no reply" in reply_problems(error, None)[0]


def test_rules_table() -> None:
    assert rules_for("2.x", "lbmethod_cluster").line == "2.x"
    with pytest.raises(KeyError, match="line '1.3' in mode 'lbmethod_cluster'"):
        rules_for("1.3", "lbmethod_cluster")
    for rules in (R13, R2X):
        assert rules.bugs <= set(msg.BUGS)
