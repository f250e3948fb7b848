"""Description layer: validation at construction (errors name the field), builders, dict round-trips."""

from __future__ import annotations

import dataclasses
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.descriptions.repro_topology import ReproTopology
from harness.descriptions.reproduction import Reproduction, reproduction_from_dict
from harness.descriptions.topology import (
    Advertise,
    BalancerRestart,
    BalancerSpec,
    HealthCheck,
    Kill,
    LoadProfile,
    MpmSpec,
    NodeSpec,
    Partition,
    Slowness,
    SpecError,
    StaticProxies,
    Stop,
    Topology,
    topology_from_dict,
)


def field_of(excinfo: pytest.ExceptionInfo[SpecError]) -> str:
    return excinfo.value.field


# ---- nodes -----------------------------------------------------------------------------------------


def test_node_defaults_follow_the_shared_contracts() -> None:
    node = NodeSpec("node1")
    assert (node.flavor, node.contexts, node.aliases, node.load) == ("sim", ("/app",), ("localhost",), 50)
    assert (node.http_port, node.ajp_port, node.connector, node.port) == (8080, 8009, "http", 8080)
    assert NodeSpec("node1", connector="ajp").port == 8009


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"name": "node 1"}, "name", "[A-Za-z0-9_-]"),
        ({"name": "n" * 64}, "name", "1..63"),
        ({"name": "balancer"}, "name", "reserved"),
        ({"flavor": "not a flavor"}, "flavor", "[A-Za-z0-9_-]"),
        ({"load": 101}, "load", "-1..100"),
        ({"load": True}, "load", "integer"),
        ({"contexts": "/app"}, "contexts", "tuple"),
        ({"contexts": ()}, "contexts", "at least one"),
        ({"contexts": ("/app", "app2")}, "contexts[1]", "starting with '/'"),
        ({"contexts": ("/app", "/app")}, "contexts[1]", "unique"),
        ({"contexts": ("/app/",)}, "contexts[0]", "trailing"),
        ({"aliases": ("a,b",)}, "aliases[0]", "','"),
        ({"connector": "https"}, "connector", "'http', 'ajp'"),
        ({"http_port": 0}, "http_port", "1..65535"),
        ({"ajp_port": 8080}, "ajp_port", "differ"),
        ({"status_interval_s": 0}, "status_interval_s", ">= 0.001"),
        ({"lbgroup": "g" * 20}, "lbgroup", "1..19"),
        ({"sticky_session_force": "no"}, "sticky_session_force", "True, False"),
        ({"faults": ("bad word",)}, "faults[0]", "without spaces"),
    ],
)
def test_node_rejects_bad_values_naming_the_field(changes: dict[str, object], field: str, words: str) -> None:
    with pytest.raises(SpecError) as excinfo:
        NodeSpec(**{"name": "node1", **changes})  # type: ignore[arg-type]
    assert field_of(excinfo) == field
    assert words in str(excinfo.value) and str(excinfo.value).startswith(f"{field}: ")


def test_lists_become_tuples_and_specs_are_frozen() -> None:
    node = NodeSpec("node1", contexts=["/a", "/b"], faults=["no_status"])  # type: ignore[arg-type]
    assert node.contexts == ("/a", "/b") and node.faults == ("no_status",)
    with pytest.raises(dataclasses.FrozenInstanceError):
        node.load = 10  # type: ignore[misc]
    assert hash(node) == hash(NodeSpec("node1", contexts=("/a", "/b"), faults=("no_status",)))


# ---- discovery -------------------------------------------------------------------------------------


def test_advertise_validates_group_port_key_and_frequency() -> None:
    assert Advertise().group == "224.0.1.105" and Advertise().port == 23364
    for changes, field in [
        ({"group": "10.0.0.1"}, "group"),
        ({"group": "nope"}, "group"),
        ({"port": 70000}, "port"),
        ({"security_key": "two words"}, "security_key"),
        ({"frequency_s": 0}, "frequency_s"),
    ]:
        with pytest.raises(SpecError) as excinfo:
            Advertise(**changes)  # type: ignore[arg-type]
        assert field_of(excinfo) == field


def test_static_proxies_need_host_port_entries() -> None:
    assert StaticProxies().proxies == ("balancer:6666",)
    with pytest.raises(SpecError) as excinfo:
        StaticProxies(("balancer:6666", "balancer"))
    assert field_of(excinfo) == "proxies[1]"
    with pytest.raises(SpecError):
        StaticProxies(())


# ---- balancer and MPM ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"flavor": "not a flavor"}, "flavor"),
        ({"max_mcmp_mess_size": 1024}, "max_mcmp_mess_size"),
        ({"max_node": 0}, "max_node"),
        ({"wait_before_remove_s": 9}, "wait_before_remove_s"),
        ({"proxy_port": 6666}, "mcmp_port"),
        ({"mcmp_allow": ("all", "10.0.0.0/8")}, "mcmp_allow"),
        ({"manager_allow": ("10.0.0.0/33",)}, "manager_allow[0]"),
        ({"log_level": "chatty"}, "log_level"),
        ({"advertise_bind_address": "0.0.0.0"}, "advertise_bind_address"),
        ({"balancer_name": "b" * 40}, "balancer_name"),
        ({"overlay": ("",)}, "overlay[0]"),
        ({"ws_upgrade_header": "x" * 16}, "ws_upgrade_header"),
        ({"server_name": "balancer:6666"}, "server_name"),
    ],
)
def test_balancer_rejects_bad_values(changes: dict[str, object], field: str) -> None:
    with pytest.raises(SpecError) as excinfo:
        BalancerSpec(**changes)  # type: ignore[arg-type]
    assert field_of(excinfo) == field


def test_balancer_accepts_access_lists_and_module_log_levels() -> None:
    allow = ["10.0.0.0/8", "local", "::1"]
    spec = BalancerSpec(mcmp_allow=allow, log_level="info proxy_cluster:debug")  # type: ignore[arg-type]
    assert spec.mcmp_allow == ("10.0.0.0/8", "local", "::1")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"threads_per_child": 65}, "threads_per_child"),  # above ThreadLimit 64
        ({"max_request_workers": 140}, "max_request_workers"),  # not a multiple of 25
        ({"max_request_workers": 20}, "max_request_workers"),  # below ThreadsPerChild
        ({"server_limit": 5}, "server_limit"),  # 150 / 25 = 6 children
        ({"start_servers": 17}, "start_servers"),  # above ServerLimit
        ({"max_spare_threads": 49}, "max_spare_threads"),  # < MinSpareThreads + ThreadsPerChild
        ({"max_connections_per_child": -1}, "max_connections_per_child"),
    ],
)
def test_mpm_enforces_httpd_consistency_rules(changes: dict[str, int], field: str) -> None:
    with pytest.raises(SpecError) as excinfo:
        MpmSpec(**changes)
    assert field_of(excinfo) == field


def test_mpm_fixed_children_is_consistent() -> None:
    mpm = MpmSpec.fixed(children=3, threads=10)
    assert (mpm.start_servers, mpm.server_limit, mpm.max_request_workers) == (3, 3, 30)
    assert MpmSpec.fixed(1, 100).thread_limit == 100


def test_health_check_parameters() -> None:
    assert HealthCheck().parameters() == "hcmethod=GET hcuri=/"
    check = HealthCheck(method="OPTIONS", uri=None, interval_s=2, passes=1, fails=3)
    assert check.parameters() == "hcmethod=OPTIONS hcinterval=2 hcpasses=1 hcfails=3"
    with pytest.raises(SpecError) as excinfo:
        HealthCheck(method="POST")
    assert field_of(excinfo) == "method"


# ---- topology --------------------------------------------------------------------------------------


def test_simple_topology_and_default_discovery() -> None:
    topo = Topology.simple("t1", 3, flavor="wildfly", load=80)
    assert topo.node_names == ("node1", "node2", "node3")
    assert all(n.flavor == "wildfly" and n.load == 80 for n in topo.nodes)
    assert topo.discovery == StaticProxies()


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: Topology("t", nodes=(NodeSpec("a"), NodeSpec("a"))), "nodes[1].name"),
        (lambda: Topology("bad name", nodes=(NodeSpec("a"),)), "name"),
        (lambda: Topology.simple("t", 3, balancer=BalancerSpec(max_node=2)), "balancer.max_node"),
        (lambda: Topology.simple("t", 1, discovery="advertise"), "discovery"),
        (lambda: Topology.simple("t", 3, balancer=BalancerSpec(mode="lbmethod_cluster", lbmethod_growth=2)),
         "balancer.lbmethod_growth"),
        (lambda: BalancerSpec(mode="lbmethod_cluster", lbmethod_growth=101), "lbmethod_growth"),  # httpd: 1..100
        (lambda: Topology.simple("t", 1, balancer=BalancerSpec(mode="lbmethod_cluster")).with_nodes(1, balancer="x"),
         "nodes[0].balancer"),
        (lambda: Topology.simple("t", 1, balancer=BalancerSpec(server_advertise=False), discovery=Advertise()),
         "balancer.server_advertise"),
        (lambda: Topology.simple("t", 0), "n"),
        (lambda: Topology.simple("t", 1, colour="red"), "nodes.colour"),
    ],
)  # fmt: skip
def test_topology_rules_name_the_field(build: object, field: str) -> None:
    with pytest.raises(SpecError) as excinfo:
        build()  # type: ignore[operator]
    assert field_of(excinfo) == field


def test_builders_return_validated_copies() -> None:
    topo = Topology.simple("t", 2)
    changed = topo.with_node("node2", load=10).with_balancer(max_node=5).with_discovery(Advertise(port=40000))
    assert topo.get_node("node2").load == 50 and changed.get_node("node2").load == 10
    assert changed.balancer.max_node == 5 and topo.balancer.max_node is None
    assert isinstance(changed.discovery, Advertise) and changed.discovery.port == 40000
    assert changed.with_nodes(4, flavor="tomcat").node_names == ("node1", "node2", "node3", "node4")
    assert changed.with_added_node(NodeSpec("extra")).node_names[-1] == "extra"
    assert topo.with_discovery(None).discovery == StaticProxies()


def test_builder_errors_carry_the_path() -> None:
    topo = Topology.simple("t", 2)
    with pytest.raises(SpecError) as excinfo:
        topo.with_node("node2", load=500)
    assert field_of(excinfo) == "nodes[1].load"
    with pytest.raises(SpecError) as excinfo:
        topo.with_balancer(max_mcmp_mess_size=100)
    assert field_of(excinfo) == "balancer.max_mcmp_mess_size"
    with pytest.raises(SpecError) as excinfo:
        topo.with_balancer(maxnode=3)
    assert field_of(excinfo) == "balancer.maxnode" and "max_node" in str(excinfo.value)
    with pytest.raises(SpecError) as excinfo:
        topo.with_node("node9", load=1)
    assert "node1, node2" in str(excinfo.value)
    with pytest.raises(SpecError) as excinfo:
        topo.with_node("node1", name="node2")
    assert field_of(excinfo) == "nodes[1].name"


def test_topology_round_trips_through_json() -> None:
    topo = Topology.simple(
        "rt", 2, discovery=Advertise(group="224.0.1.200", security_key="k", frequency_s=2),
        balancer=BalancerSpec(hcheck=HealthCheck(interval_s=3), mpm=MpmSpec.fixed(2, 10), overlay=("KeepAlive Off",)),
        contexts=("/app", "/other"),
    ).with_node("node2", load=-1, lbgroup="g1")  # fmt: skip
    data = json.loads(json.dumps(topo.to_dict()))
    assert data["discovery"]["kind"] == "advertise" and data["nodes"][1]["contexts"] == ["/app", "/other"]
    assert topology_from_dict(data) == topo


def test_topology_from_dict_errors_name_the_path() -> None:
    data = Topology.simple("t", 2).to_dict()
    data["nodes"][1]["load"] = 200
    with pytest.raises(SpecError) as excinfo:
        topology_from_dict(data)
    assert field_of(excinfo) == "nodes[1].load"
    data = Topology.simple("t", 2).to_dict()
    data["balancer"]["mpm"]["colour"] = 1
    with pytest.raises(SpecError) as excinfo:
        topology_from_dict(data)
    assert field_of(excinfo) == "balancer.mpm.colour"
    data = Topology.simple("t", 2).to_dict()
    data["discovery"] = {"kind": "carrier-pigeon"}
    with pytest.raises(SpecError) as excinfo:
        topology_from_dict(data)
    assert field_of(excinfo) == "discovery.kind" and "advertise" in str(excinfo.value)


node_strategy = st.builds(
    NodeSpec,
    name=st.just("placeholder"),
    flavor=st.sampled_from(["sim", "wildfly", "tomcat"]),
    contexts=st.lists(st.from_regex(r"/[a-z]{1,8}", fullmatch=True), min_size=1, max_size=3, unique=True),
    load=st.integers(-1, 100),
    status_interval_s=st.floats(0.5, 30, allow_nan=False),
    sticky_session_force=st.booleans(),
    connector=st.sampled_from(["http", "ajp"]),
    lbgroup=st.none() | st.from_regex(r"[a-z]{1,19}", fullmatch=True),
)
topology_strategy = st.builds(
    lambda nodes, discovery, balancer: Topology(
        "prop", balancer, tuple(dataclasses.replace(n, name=f"node{i + 1}") for i, n in enumerate(nodes)), discovery
    ),
    st.lists(node_strategy, min_size=1, max_size=4),
    st.none() | st.builds(Advertise, port=st.integers(1024, 65535), security_key=st.none() | st.just("s3cret"))
    | st.builds(StaticProxies, st.just(("balancer:6666", "other:7777"))),
    st.builds(BalancerSpec, max_node=st.none() | st.integers(4, 50), persist_slots=st.none() | st.booleans(),
              mpm=st.builds(MpmSpec.fixed, st.integers(1, 4), st.integers(1, 64))),
)  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(topology_strategy)
def test_any_topology_round_trips(topo: Topology) -> None:
    assert topology_from_dict(json.loads(json.dumps(topo.to_dict()))) == topo


# ---- load and faults ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"users": 0}, "users"),
        ({"spawn_rate": 0}, "spawn_rate"),
        ({"locustfile": "../x.py"}, "locustfile"),
        ({"locustfile": "x.txt"}, "locustfile"),
        ({"wait_s": (0.2, 0.1)}, "wait_s"),
        ({"wait_s": (0.1,)}, "wait_s"),
        ({"path": "app"}, "path"),
        ({"processes": 0}, "processes"),
        ({"processes": True}, "processes"),
        ({"processes": 2.0}, "processes"),
        ({"processes": "all"}, "processes"),
        ({"users": 3, "processes": 4}, "processes"),
    ],
)
def test_load_profile_validation(changes: dict[str, object], field: str) -> None:
    with pytest.raises(SpecError) as excinfo:
        LoadProfile(**changes)  # type: ignore[arg-type]
    assert field_of(excinfo) == field


def test_load_profile_processes() -> None:
    assert LoadProfile().processes == 1  # one process unless asked: the same load on every machine
    assert LoadProfile(users=4, processes=4).processes == 4 and LoadProfile(processes="auto").processes == "auto"
    with pytest.raises(SpecError, match=r"processes: got 11; expected an integer in 1..10 .* or 'auto'"):
        LoadProfile(processes=11)
    load = LoadProfile(users=6, processes="auto")
    repro = Reproduction("X-2", ReproTopology(nodes=1), load=load, checks=("no_errors",))
    again = reproduction_from_dict(json.loads(json.dumps(repro.to_dict())))
    assert again.load is not None and again.load.processes == "auto"


def test_faults_describe_themselves_and_validate() -> None:
    assert "SIGKILL" in Kill("node1").describe()
    assert Stop("node1", timeout_s=5).describe() == "stop node1 gracefully (timeout 5 s)"
    assert Partition("node1").targets() == ("node1", "balancer")
    assert "iptables" in Partition("node1", mode="iptables").describe()
    assert BalancerRestart(graceful=False).targets() == ("balancer",)
    with pytest.raises(SpecError) as excinfo:
        Partition("node1", "node1")
    assert field_of(excinfo) == "b"
    with pytest.raises(SpecError) as excinfo:
        Partition("node1", mode="netem")
    assert field_of(excinfo) == "mode" and "'disconnect', 'iptables'" in str(excinfo.value)
    with pytest.raises(SpecError) as excinfo:
        Slowness("node1", delay_ms=0)
    assert field_of(excinfo) == "delay_ms"
