"""WildFly without Docker: the distribution archive (download, checksum, cache, local archives, errors) against
a local fake Maven repository, the jboss-cli scripts rendered from NodeSpec/BalancerSpec, and the parsing of
the Undertow balancer's management model."""

from __future__ import annotations

import hashlib
import http.server
import io
import tarfile
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.descriptions import settings as harness_settings
from harness.descriptions.base import SpecError
from harness.descriptions.topology import Advertise, BalancerSpec, NodeSpec, StaticProxies
from harness.flavors.undertow.balancer import model_nodes
from harness.flavors.wildfly import dist as wildfly
from harness.flavors.wildfly.dist import (
    WildflyArchiveError,
    WildflyUnavailable,
    balancer_config,
    ensure_wildfly_archive,
    node_config,
)
from harness.flavors.wildfly.node import tar_of
from harness.machinery.contracts import BalancerState, info_nodes
from harness.protocol.balancer_info import parse_info

VERSION = "1.0.Final"
PAYLOAD = b"not really a wildfly distribution\n" * 5000


class FakeRepository(http.server.BaseHTTPRequestHandler):
    files: dict[str, bytes] = {}
    requests: list[str] = []

    def do_GET(self) -> None:
        type(self).requests.append(self.path)
        data = self.files.get(self.path)
        if data is None:
            self.send_error(404)
            return
        start = int(self.headers["Range"].split("=")[1].rstrip("-")) if self.headers.get("Range") else 0
        self.send_response(206 if start else 200)
        self.send_header("Content-Length", str(len(data) - start))
        self.end_headers()
        self.wfile.write(data[start:])

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def repo() -> Iterator[str]:
    base = f"/maven2/org/wildfly/wildfly-dist/{VERSION}/wildfly-dist-{VERSION}.tar.gz"
    FakeRepository.files = {base: PAYLOAD, base + ".sha1": hashlib.sha1(PAYLOAD).hexdigest().encode()}
    FakeRepository.requests = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakeRepository)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/maven2"
    server.shutdown()
    server.server_close()


def _closed_port_url() -> str:
    server = http.server.HTTPServer(("127.0.0.1", 0), FakeRepository)
    port = server.server_address[1]
    server.server_close()
    return f"http://127.0.0.1:{port}/maven2"


def test_download_verifies_and_caches(repo: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lines: list[str] = []
    monkeypatch.setattr(harness_settings, "_progress_sink", lines.append)
    path = ensure_wildfly_archive(VERSION, repository=repo, cache=tmp_path)
    assert path == tmp_path / f"wildfly-dist-{VERSION}.tar.gz" and path.read_bytes() == PAYLOAD
    assert any("downloading wildfly-dist 1.0.Final" in line for line in lines), lines
    FakeRepository.requests.clear()
    assert ensure_wildfly_archive(VERSION, repository=_closed_port_url(), cache=tmp_path) == path  # offline: cache
    assert not list(tmp_path.glob("*.part"))


def test_checksum_mismatch_names_version_and_checksums(repo: str, tmp_path: Path) -> None:
    key = f"/maven2/org/wildfly/wildfly-dist/{VERSION}/wildfly-dist-{VERSION}.tar.gz.sha1"
    FakeRepository.files[key] = b"0" * 40 + b"  wildfly-dist.tar.gz\n"
    with pytest.raises(WildflyArchiveError) as info:
        ensure_wildfly_archive(VERSION, repository=repo, cache=tmp_path)
    assert VERSION in str(info.value) and "0" * 40 in str(info.value)
    assert hashlib.sha1(PAYLOAD).hexdigest() in str(info.value)
    assert not (tmp_path / f"wildfly-dist-{VERSION}.tar.gz").exists() and not list(tmp_path.glob("*.part"))


def test_corrupted_cache_is_refused(repo: str, tmp_path: Path) -> None:
    path = ensure_wildfly_archive(VERSION, repository=repo, cache=tmp_path)
    path.write_bytes(PAYLOAD[:-1] + b"X")
    with pytest.raises(WildflyArchiveError, match="checksum mismatch") as info:
        ensure_wildfly_archive(VERSION, repository=repo, cache=tmp_path)
    assert VERSION in str(info.value)


def test_unknown_version_is_named(repo: str, tmp_path: Path) -> None:
    with pytest.raises(WildflyArchiveError) as info:
        ensure_wildfly_archive("99.9.9.Final", repository=repo, cache=tmp_path)
    assert "99.9.9.Final" in str(info.value) and "404" in str(info.value)
    assert not isinstance(info.value, WildflyUnavailable)


@pytest.mark.parametrize("bad", ["", "latest; rm -rf", "../1.0", "Final"])
def test_malformed_version_is_named(bad: str, tmp_path: Path) -> None:
    with pytest.raises(WildflyArchiveError, match="--wildfly-version"):
        ensure_wildfly_archive(bad, repository=_closed_port_url(), cache=tmp_path)


def test_unreachable_repository_says_which_option_to_use(tmp_path: Path) -> None:
    with pytest.raises(WildflyUnavailable) as info:
        ensure_wildfly_archive(VERSION, repository=_closed_port_url(), cache=tmp_path)
    message = str(info.value)
    assert "--wildfly-archive" in message and "HARNESS_WILDFLY_ARCHIVE" in message and "--wildfly-version" in message


def test_finished_part_file_is_kept_and_partial_one_resumed(repo: str, tmp_path: Path) -> None:
    (tmp_path / f"wildfly-dist-{VERSION}.tar.gz.part").write_bytes(PAYLOAD[:1000])
    path = ensure_wildfly_archive(VERSION, repository=repo, cache=tmp_path)
    assert path.read_bytes() == PAYLOAD
    path.rename(tmp_path / f"wildfly-dist-{VERSION}.tar.gz.part")  # a complete download never renamed
    FakeRepository.requests.clear()
    assert ensure_wildfly_archive(VERSION, repository=repo, cache=tmp_path).read_bytes() == PAYLOAD
    assert not any(r.endswith(".tar.gz") for r in FakeRepository.requests), FakeRepository.requests


def test_local_archives(tmp_path: Path) -> None:
    tgz = tmp_path / "wf.tar.gz"
    tgz.write_bytes(b"x")
    assert ensure_wildfly_archive("ignored", tgz, cache=tmp_path) == tgz
    with pytest.raises(WildflyArchiveError, match="--wildfly-archive"):
        ensure_wildfly_archive(VERSION, tmp_path / "missing.tar.gz", cache=tmp_path)
    rar = tmp_path / "wf.rar"
    rar.write_bytes(b"x")
    with pytest.raises(WildflyArchiveError, match=r"\.tar\.gz or \.zip"):
        ensure_wildfly_archive(VERSION, rar, cache=tmp_path)


def test_zip_is_converted_keeping_permissions(tmp_path: Path) -> None:
    source = tmp_path / "wildfly-1.0.zip"
    with zipfile.ZipFile(source, "w") as archive:
        info = zipfile.ZipInfo("wildfly-1.0/bin/standalone.sh")
        info.external_attr = 0o755 << 16
        archive.writestr(info, "#!/bin/sh\n")
        archive.writestr("wildfly-1.0/README.txt", "hello")
    converted = ensure_wildfly_archive(VERSION, source, cache=tmp_path / "cache")
    assert converted.name.endswith(".tar.gz") and converted.parent == tmp_path / "cache"
    with tarfile.open(converted) as tar:
        members = {m.name: m for m in tar.getmembers()}
        assert members["wildfly-1.0/bin/standalone.sh"].mode == 0o755
        assert tar.extractfile(members["wildfly-1.0/README.txt"]).read() == b"hello"  # type: ignore[union-attr]
    assert ensure_wildfly_archive(VERSION, source, cache=tmp_path / "cache") == converted


# ---- configurations ---------------------------------------------------------------------------------

ADVERTISE = Advertise(group="224.0.7.7", port=23999, security_key="s3cret", frequency_s=2.5)


def _lines(cli: str) -> list[str]:
    lines = cli.splitlines()
    assert lines[0].startswith("embed-server --server-config=harness.xml") and lines[1] == "batch"
    assert lines[-2:] == ["run-batch", "stop-embedded-server"]
    return lines


def test_node_with_advertise() -> None:
    config = node_config(
        NodeSpec(
            "node1",
            flavor="wildfly",
            load=30,
            status_interval_s=2.0,
            sticky_session_force=True,
            stop_context_timeout_s=5,
        ),
        ADVERTISE,
    )
    lines = _lines(config.cli)
    proxy = "/subsystem=modcluster/proxy=default"
    for expected in (
        f"{proxy}:write-attribute(name=advertise, value=true)",
        f"{proxy}:write-attribute(name=listener, value=default)",
        f"{proxy}:write-attribute(name=status-interval, value=2)",
        f"{proxy}:write-attribute(name=sticky-session-force, value=true)",
        f"{proxy}:write-attribute(name=stop-context-timeout, value=5)",
        f"{proxy}/load-provider=dynamic:remove",
        f'{proxy}/load-provider=simple:add(factor="${{harness.node.load}}")',
        f'{proxy}:write-attribute(name=advertise-security-key, value="${{harness.advertise.key}}")',
    ):
        assert expected in lines, expected
    assert not any("proxies" in line for line in lines)
    assert config.properties == {
        "jboss.node.name": "node1",
        "jboss.tx.node.id": "node1",
        "jboss.http.port": "8080",
        "jboss.ajp.port": "8009",
        "harness.node.load": "30",
        "harness.node.ping": "1",
        "harness.advertise.group": "224.0.7.7",
        "harness.advertise.port": "23999",
        "harness.advertise.key": "s3cret",
    }
    args = config.server_args("10.1.2.3")
    assert args[:5] == ("-c", "harness.xml", "-b", "0.0.0.0", "-bprivate=10.1.2.3")
    assert "--graceful-startup=false" not in args and "-Djboss.node.name=node1" in args
    sessions = "/subsystem=distributable-web/infinispan-session-management=default"
    assert lines.index(f"{sessions}/affinity=primary-owner:remove") < lines.index(f"{sessions}/affinity=local:add")
    assert f'{proxy}:write-attribute(name=ping, value="${{harness.node.ping}}")' in lines


def test_node_options() -> None:
    spec = NodeSpec("node1", flavor="wildfly")
    config = node_config(spec, Advertise(), session_affinity="primary-owner", ping_s=10, graceful_startup=False)
    assert "affinity" not in config.cli and config.properties["harness.node.ping"] == "10"
    assert "--graceful-startup=false" in config.server_args("10.0.0.1")
    for bad in ({"session_affinity": "ranked"}, {"ping_s": 0}, {"ping_s": 1.5}):
        with pytest.raises(SpecError) as info:
            node_config(spec, Advertise(), **bad)  # type: ignore[arg-type]
        assert info.value.field == next(iter(bad))


def test_node_without_key_and_with_ajp_group_and_balancer() -> None:
    config = node_config(NodeSpec("n2", flavor="wildfly", connector="ajp", lbgroup="g1", balancer="b1"), Advertise())
    lines = _lines(config.cli)
    proxy = "/subsystem=modcluster/proxy=default"
    assert f"{proxy}:undefine-attribute(name=advertise-security-key)" in lines
    assert f"{proxy}:write-attribute(name=listener, value=ajp)" in lines
    assert f"{proxy}:write-attribute(name=load-balancing-group, value=g1)" in lines
    assert f"{proxy}:write-attribute(name=balancer, value=b1)" in lines
    assert "harness.advertise.key" not in config.properties


def test_node_with_static_proxies() -> None:
    config = node_config(NodeSpec("node1", flavor="wildfly"), StaticProxies(("balancer:6666", "[fd00::1]:7777")))
    lines = _lines(config.cli)
    sockets = "/socket-binding-group=standard-sockets/remote-destination-outbound-socket-binding"
    assert f'{sockets}=harness-proxy-1:add(host="${{harness.proxy.1.host}}", port="${{harness.proxy.1.port}}")' in lines
    proxy = "/subsystem=modcluster/proxy=default"
    assert f"{proxy}:write-attribute(name=proxies, value=[harness-proxy-0, harness-proxy-1])" in lines
    assert f"{proxy}:write-attribute(name=advertise, value=false)" in lines
    assert config.properties["harness.proxy.0.host"] == "balancer"
    assert config.properties["harness.proxy.0.port"] == "6666"
    assert config.properties["harness.proxy.1.host"] == "fd00::1"


def test_dynamic_load_keeps_the_dynamic_provider() -> None:
    config = node_config(NodeSpec("node1", flavor="wildfly"), Advertise(), dynamic_load=True)
    assert "load-provider" not in config.cli


@pytest.mark.parametrize(
    "changes,field",
    [
        ({"load": -1}, "load"),
        ({"status_interval_s": 1.5}, "status_interval_s"),
        ({"stop_context_timeout_s": 0.5}, "stop_context_timeout_s"),
    ],
)
def test_node_values_wildfly_cannot_take(changes: dict[str, object], field: str) -> None:
    with pytest.raises(SpecError) as info:
        node_config(NodeSpec("node1", flavor="wildfly", **changes), Advertise())  # type: ignore[arg-type]
    assert info.value.field == field


def test_node_without_discovery_uses_the_default_static_proxy() -> None:
    config = node_config(NodeSpec("node1", flavor="wildfly"), None)
    properties = config.properties
    assert (properties["harness.proxy.0.host"], properties["harness.proxy.0.port"]) == ("balancer", "6666")


def test_node_needs_mcmp_discovery() -> None:
    from harness.descriptions.topology import StaticWorkers

    with pytest.raises(SpecError, match="discovery"):
        node_config(NodeSpec("node1", flavor="wildfly"), StaticWorkers())  # type: ignore[arg-type]


names = st.from_regex(r"[a-z][a-z0-9-]{0,20}", fullmatch=True).filter(lambda n: n != "balancer")


@settings(max_examples=60)
@given(names, names, st.integers(0, 100), st.integers(0, 100), st.integers(1, 65535))
def test_rendered_configuration_is_shared_across_names_loads_and_groups(
    a: str, b: str, load_a: int, load_b: int, port: int
) -> None:
    """Only structure is in the script: nodes differing by name, load or advertise group share one render."""
    first = node_config(NodeSpec(a, flavor="wildfly", load=load_a), ADVERTISE)
    second = node_config(
        NodeSpec(b, flavor="wildfly", load=load_b), Advertise(group="239.1.1.1", port=port, security_key="other")
    )
    assert first.key("img") == second.key("img") and first.key("img") != first.key("img2")
    assert f"-Djboss.node.name={b}" in second.server_args("10.0.0.9")
    assert f"-Dharness.node.load={load_b}" in second.server_args("10.0.0.9")


def test_structure_changes_the_render() -> None:
    base = node_config(NodeSpec("node1", flavor="wildfly"), ADVERTISE)
    for other in (
        node_config(NodeSpec("node1", flavor="wildfly", connector="ajp"), ADVERTISE),
        node_config(NodeSpec("node1", flavor="wildfly"), Advertise()),  # no key
        node_config(NodeSpec("node1", flavor="wildfly"), StaticProxies()),
    ):
        assert other.key("img") != base.key("img")


def test_server_args_refuse_line_breaks() -> None:
    config = wildfly.ServerConfig("node", "standalone-ha.xml", "", {"x": "a\nb"})
    with pytest.raises(SpecError, match="line break"):
        config.server_args("10.0.0.1")


def test_undertow_balancer_with_advertise() -> None:
    config = balancer_config(BalancerSpec(flavor="undertow", proxy_port=8000, mcmp_port=6666), ADVERTISE)
    lines = _lines(config.cli)
    lb = "/subsystem=undertow/configuration=filter/mod-cluster=load-balancer"
    assert f'{lb}:write-attribute(name=security-key, value="${{harness.advertise.key}}")' in lines
    assert f'{lb}:write-attribute(name=advertise-frequency, value="${{harness.advertise.frequency}}")' in lines
    assert config.properties["harness.advertise.frequency"] == "2500"
    assert config.properties["jboss.http.port"] == "8000" and config.properties["jboss.mcmp.port"] == "6666"
    assert config.base == "standalone-load-balancer.xml" and config.options == ()


def test_undertow_balancer_without_advertise() -> None:
    lb = "/subsystem=undertow/configuration=filter/mod-cluster=load-balancer"
    for spec, discovery in (
        (BalancerSpec(flavor="undertow"), StaticProxies()),
        (BalancerSpec(flavor="undertow", server_advertise=False), ADVERTISE),
    ):
        config = balancer_config(spec, discovery)
        assert f"{lb}:undefine-attribute(name=advertise-socket-binding)" in _lines(config.cli)
        assert "harness.advertise.group" not in config.properties


def test_undertow_balancer_refusals() -> None:
    with pytest.raises(SpecError, match="server_advertise"):
        balancer_config(BalancerSpec(flavor="undertow", server_advertise=True), StaticProxies())
    with pytest.raises(SpecError, match="flavor"):
        balancer_config(BalancerSpec(), ADVERTISE)


# ---- the Undertow balancer's management model --------------------------------------------------------

MODEL = {
    "advertise-frequency": 10000,
    "balancer": {
        "mycluster": {
            "sticky-session": True,
            "node": {
                "node1": {
                    "load": 30,
                    "status": "NODE_UP",
                    "uri": "http://10.0.0.2:8080/?#",
                    "context": {
                        "/app": {"requests": 0, "status": "enabled"},
                        "/b": {"requests": 1, "status": "stopped"},
                    },
                },
                "node2": {"load": 0, "status": "NODE_HOT_STANDBY", "uri": "ajp://10.0.0.3:8009/?#", "context": None},
                "node3": {"load": -1, "status": "NODE_DOWN", "uri": "http://10.0.0.4:8080/?#", "context": {}},
                "node4": {"load": 1, "status": "SOMETHING_NEW", "uri": "", "context": {}},
            },
        }
    },
}


def test_model_nodes() -> None:
    state = BalancerState(model_nodes(MODEL))
    assert sorted(state.nodes) == ["node1", "node2", "node3", "node4"]
    up = {name: node.up for name, node in state.nodes.items()}
    assert up == {"node1": True, "node2": True, "node3": False, "node4": None}
    node1 = state.nodes["node1"]
    assert node1.contexts == {"/app": "ENABLED", "/b": "STOPPED"} and state.nodes["node2"].contexts == {}
    assert (node1.host, node1.port, node1.load) == ("10.0.0.2", 8080, 30)
    assert node1.detail == {"status": "NODE_UP", "balancer": "mycluster", "type": "http"}
    assert state.nodes["node2"].detail["type"] == "ajp" and state.nodes["node2"].port == 8009
    assert "node1[up load=30" in state.summary()


def test_model_without_balancers() -> None:
    assert model_nodes({"balancer": None}) == {} and model_nodes({}) == {}


def test_info_nodes_do_not_know_up() -> None:
    info = parse_info(
        "Node: [1],Name: node1,Balancer: mycluster,LBGroup: ,Host: 10.0.0.2,Port: 8080,Type: http,"
        "Flushpackets: Off,Flushwait: 10,Ping: 10,Smax: 40,Ttl: 0,Elected: 1,Read: 0,Transfered: 0,"
        "Connected: 4,Load: 30\nVhost: [1:1:-1], Alias: localhost\n"
        "Context: [1:1:1], Context: /app, Status: ENABLED\n"
    )
    nodes = info_nodes(info)
    assert list(nodes) == ["node1"] and nodes["node1"].up is None
    assert nodes["node1"].contexts == {"/app": "ENABLED"} and nodes["node1"].load == 30


def test_tar_of_puts_files_at_absolute_paths() -> None:
    data = tar_of({"/opt/a/b.txt": b"hello", "/c": b""})
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        assert [m.name for m in tar.getmembers()] == ["opt/a/b.txt", "c"]
        assert tar.extractfile("opt/a/b.txt").read() == b"hello"  # type: ignore[union-attr]
