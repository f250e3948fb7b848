"""WildFly servers in containers: worker nodes (standalone-ha + the test WAR) and, through `WildflyServer`,
the Undertow balancer flavor (`harness.balancer_undertow`).

A container's main process only follows the console log (`wildfly-ctl keep`); the server JVM is started in
the background with `docker exec wildfly-ctl start`. So `kill()` (SIGKILL to the JVM) leaves the container
and its address, `stop()` is a graceful `:shutdown(suspend-timeout=N)`, and `start_server()` starts it again.
Configurations are jboss-cli scripts (`harness.wildfly`) run once in embed-server mode; the resulting
XML is cached on the host by (image, base, script) and copied into later containers, so a warm start runs
no CLI at all.
"""

from __future__ import annotations

import io
import json
import os
import tarfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import docker
import requests
from docker.models.networks import Network
from requests.auth import HTTPDigestAuth

from harness.descriptions import settings
from harness.descriptions.faults import FaultSpec
from harness.descriptions.node import Discovery, NodeSpec
from harness.descriptions.options import DEFAULT_WILDFLY_VERSION
from harness.flavors.base import FlavorUnavailable
from harness.flavors.wildfly import war
from harness.flavors.wildfly.dist import (
    CONFIG_NAME,
    ServerConfig,
    WildflyUnavailable,
    ensure_wildfly_archive,
    node_config,
)
from harness.machinery import images
from harness.machinery.containers import (
    ContainerExited,
    container_alive,
    container_file_text,
    container_ip,
    container_logs,
    read_container_file,
)
from harness.machinery.resources import Resources
from harness.machinery.waiting import Deadline, wait_until

IMAGE_NAME = "wildfly-node"
JBOSS_HOME = "/opt/wildfly"
DEPLOYMENTS = f"{JBOSS_HOME}/standalone/deployments"
CONSOLE_LOG = "/opt/harness/log/console.log"
SERVER_LOG = f"{JBOSS_HOME}/standalone/log/server.log"
CLI_FILE = "/opt/harness/cli/config.cli"
CONFIG_PATH = f"{JBOSS_HOME}/standalone/configuration/{CONFIG_NAME}"
MANAGEMENT_PORT = 9990
MANAGEMENT_USER = ("harness", "harness")  # added to mgmt-users.properties by the image
# Several JVMs on 2 cores: small heap, serial GC, C1 only. Override with HARNESS_WILDFLY_JVM.
# (-XX:CICompilerCount=1 doubled the boot time: 12.4 s instead of 6.5 s.)
JVM_SIZING = (
    "-Xms32m -Xmx192m -XX:MaxMetaspaceSize=224m -XX:ReservedCodeCacheSize=64m "
    "-XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xss512k"
)


class WildflyServerError(RuntimeError):
    """A WildFly server failed to configure, start or stop; the message carries the log tail."""


_IMAGES: dict[tuple[str, str], str] = {}  # (version, archive) -> tag, once per process


def wildfly_image(client: docker.DockerClient, version: str | None = None, archive: str | None = None) -> str:
    """The wildfly-node image tag for a version (Maven Central, cached) or a local archive (built once).
    Raises wildfly.WildflyUnavailable when neither Maven Central nor an archive is available."""
    key = (version or DEFAULT_WILDFLY_VERSION, str(archive or ""))
    if key not in _IMAGES:
        path = ensure_wildfly_archive(key[0], archive)
        _IMAGES[key] = images.build(client, images.ImageRequest(IMAGE_NAME, {}, {"dist/wildfly.tar.gz": path}))
    return _IMAGES[key]


def image_for_options(client: docker.DockerClient, options: Any) -> str:
    """The image for HarnessOptions (--wildfly-version / --wildfly-archive); FlavorUnavailable when the
    distribution cannot be had (the message names the options), WildflyArchiveError on bad input."""
    try:
        return wildfly_image(client, options.wildfly_version, options.wildfly_archive)
    except WildflyUnavailable as exc:
        raise FlavorUnavailable(str(exc)) from exc


def tar_of(files: Mapping[str, bytes]) -> bytes:
    """An uncompressed tar of absolute container paths -> contents (for put_archive at '/')."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for path, data in files.items():
            info = tarfile.TarInfo(path.lstrip("/"))
            info.size, info.mode, info.mtime = len(data), 0o644, int(time.time())
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@dataclass
class WildflyServer:
    """One WildFly server in its container (node or balancer); `name` is its stable name."""

    name: str
    container: Any = field(repr=False)  # testcontainers DockerContainer
    config: ServerConfig = field(repr=False)
    image: str = ""
    address: str = ""
    http: requests.Session = field(default_factory=requests.Session, repr=False)
    _auth: HTTPDigestAuth = field(default_factory=lambda: HTTPDigestAuth(*MANAGEMENT_USER), repr=False)

    def __post_init__(self) -> None:
        self.http.trust_env = False  # never send container traffic through a host proxy

    @property
    def docker(self) -> Any:
        return self.container.get_wrapped_container()

    def exec(self, *args: str, check: bool = True) -> str:
        code, output = self.docker.exec_run(list(args))
        text = str(output.decode(errors="replace"))
        if check and code != 0:
            raise WildflyServerError(f"{self.name}: `{' '.join(args)}` exited {code}: {text[-2000:]}")
        return text

    def put_files(self, files: Mapping[str, bytes]) -> None:
        if not self.docker.put_archive("/", tar_of(files)):
            raise WildflyServerError(f"{self.name}: copying {', '.join(files)} into the container failed")

    def read_file(self, path: str) -> bytes:
        """A file from the container, running or stopped (archive API); ContainerFileError names it."""
        return read_container_file(self.container, path)

    def alive(self) -> None:
        """WildflyServerError (exit code, log tail) when the container is gone: an `abort=` for waits."""
        try:
            container_alive(self.container)
        except ContainerExited as exc:
            raise WildflyServerError(f"{self.name}: {exc}") from exc

    # ---- configuration and lifecycle ----

    def configure(self, use_cache: bool = True) -> float:
        """Put the rendered configuration in place (cached, else rendered here). Returns seconds spent."""
        started = time.monotonic()
        cached = settings.cache_dir() / "wildfly" / "configs" / f"{self.config.key(self.image)}.xml"
        target = CONFIG_PATH
        if use_cache and cached.is_file():
            self.put_files({target: cached.read_bytes()})
            return time.monotonic() - started
        self.put_files({CLI_FILE: self.config.cli.encode()})
        self.exec("wildfly-ctl", "configure", self.config.base, CLI_FILE)
        rendered = self.read_file(target)
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_name(f"{cached.name}.{os.getpid()}.part")
        partial.write_bytes(rendered)
        partial.replace(cached)
        return time.monotonic() - started

    def start_server(self) -> None:
        """Start the JVM in the background (again after a kill or stop: same arguments)."""
        args = (*self.config.server_args(self.address), "-bmanagement=0.0.0.0")
        self.exec("wildfly-ctl", "start", *args)

    def server_state(self) -> str:
        """stopped | starting | started | failed (from the JVM pid and the log since the last start)."""
        return self.exec("wildfly-ctl", "state").strip()

    def is_running(self) -> bool:
        return self.server_state() in ("starting", "started", "failed")

    def wait_for_started(self, timeout: float = 90.0) -> None:
        """Until WFLYSRV0025 ("started in"); a server that fails or dies on the way raises at once."""
        state = wait_until(
            lambda: (s := self.server_state()) != "starting" and s,
            timeout=timeout,
            interval=0.25,
            what=f"WildFly {self.name} to log WFLYSRV0025",
            abort=self.alive,
            describe=lambda: f"state {self.server_state()}; console log tail:\n{self.log_tail()}",
        )
        if state != "started":
            raise WildflyServerError(f"{self.name}: server {state} while starting\n{self.log_tail()}")

    def kill(self, signal: str = "KILL", timeout: float = 10.0) -> None:
        """Signal the server JVM (not the container: it stays, with its address); KILL waits until it is gone."""
        self.exec("wildfly-ctl", "kill", signal)
        if signal in ("KILL", "9"):
            wait_until(
                lambda: self.server_state() == "stopped",
                timeout=timeout,
                interval=0.1,
                what=f"WildFly {self.name} JVM to die after SIGKILL",
                describe=self.log_tail,
            )

    def stop(self, suspend_timeout_s: int = 0, timeout: float = 60.0) -> None:
        """Graceful stop: `:shutdown(suspend-timeout=N)`, then wait until the JVM is gone."""
        try:
            self.management({"operation": "shutdown", "suspend-timeout": suspend_timeout_s}, timeout=10)
        except (requests.RequestException, WildflyServerError):
            if self.server_state() != "stopped":  # management unreachable: jboss-cli inside the container
                self.exec("wildfly-ctl", "stop", str(suspend_timeout_s), check=False)
        wait_until(
            lambda: self.server_state() == "stopped",
            timeout=timeout + suspend_timeout_s,
            interval=0.25,
            what=f"WildFly {self.name} to stop",
            describe=self.log_tail,
        )

    def management(self, operation: Mapping[str, Any], timeout: float = 10.0) -> Any:
        """One operation on the HTTP management API (JSON); returns its result or raises with the failure."""
        reply = self.http.post(
            f"http://{self.address}:{MANAGEMENT_PORT}/management",
            json=dict(operation),
            auth=self._auth,
            timeout=timeout,
        )
        body = reply.json() if reply.headers.get("Content-Type", "").startswith("application/json") else {}
        if body.get("outcome") != "success":
            raise WildflyServerError(
                f"{self.name}: management {operation.get('operation')} failed "
                f"({reply.status_code}): {body.get('failure-description', reply.text[:300])}"
            )
        return body.get("result")

    def log_tail(self, lines: int = 40) -> str:
        """The console log's last lines (read from the container even when it stopped); never raises."""
        return container_file_text(self.container, CONSOLE_LOG, tail=lines)

    def server_log(self) -> str:
        return self.read_file(SERVER_LOG).decode(errors="replace")


def start_container(
    scope: Resources, image: str, *, name: str, role: str, network: Network, config: ServerConfig, **kwargs: Any
) -> WildflyServer:
    """The container (keeper process only) with its configuration in place; the JVM is not started yet."""
    env = {"JBOSS_JAVA_SIZING": os.environ.get("HARNESS_WILDFLY_JVM", JVM_SIZING)}
    kwargs.setdefault("cap_add", ["NET_ADMIN"])  # iptables faults inside the container
    container = scope.container(image, name=name, role=role, network=network, alias=name, env=env, **kwargs)
    server = WildflyServer(name, container, config, image, container_ip(container, network.name))
    server.configure()
    return server


@dataclass
class WildflyNode:
    """A WildFly worker node (the `Node` contract): the server plus the test WAR per context."""

    spec: NodeSpec
    server: WildflyServer
    distributable: bool = True

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def container(self) -> Any:
        return self.server.container

    @property
    def ip(self) -> str:
        return self.server.address

    def url(self, context: str = "/app") -> str:
        return f"http://{self.ip}:{self.spec.http_port}{context.rstrip('/')}/"

    def deploy(self, context: str) -> None:
        """Copy the WAR for `context` into deployments/ (the scanner deploys it within about a second)."""
        data = war.build_war(context, distributable=self.distributable)
        self.server.put_files({f"{DEPLOYMENTS}/{war.war_name(context)}": data})

    def undeploy(self, context: str) -> None:
        self.server.exec("rm", "-f", f"{DEPLOYMENTS}/{war.war_name(context)}")

    def answers(self, context: str = "/app") -> bool:
        """The app answers on the node itself with this node's name."""
        reply = self.server.http.get(self.url(context), timeout=5)
        return reply.status_code == 200 and reply.headers.get(war.NODE_HEADER) == self.name

    def wait_ready(self, timeout: float = 90.0) -> None:
        """WFLYSRV0025 logged, then every context answering with this node's name."""
        deadline = Deadline(timeout)
        self.server.wait_for_started(deadline.remaining())
        for context in self.spec.contexts:
            wait_until(
                lambda: self.answers(context),
                timeout=max(deadline.remaining(), 1.0),
                interval=0.2,
                what=f"{self.name} to answer {self.url(context)}",
                describe=self.server.log_tail,
                abort=self.server.alive,
            )

    # fault verbs (HOUSE rule 9)
    def kill(self) -> None:
        """SIGKILL to the JVM: no MCMP goodbye; the container and its address stay."""
        self.server.kill()

    def stop(self, timeout: float = 10.0) -> None:
        """Graceful: `:shutdown(suspend-timeout=timeout)` (mod_cluster disables, drains within
        stop-context-timeout, stops and removes its contexts), then waits until the JVM is gone."""
        self.server.stop(int(timeout), timeout + 60.0)

    def start(self, timeout: float = 90.0) -> None:
        """Start the server again (after kill or stop) and wait until it is ready."""
        self.server.start_server()
        self.wait_ready(timeout)

    def is_running(self) -> bool:
        return self.server.is_running()

    def proxies_info(self) -> Any:
        """The modcluster subsystem's view of its proxies (read-proxies-info)."""
        return self.server.management(
            {"operation": "read-proxies-info", "address": [{"subsystem": "modcluster"}, {"proxy": "default"}]}
        )

    def logs(self) -> str:
        return container_logs(self.container)

    def apply_fault(self, fault: FaultSpec) -> Callable[[], None]:
        """WildFly takes only the container-level faults (its flavor declares no node-specific one)."""
        raise WildflyServerError(f"{self.name}: WildFly has no node-specific handling for fault {fault.kind}")

    def versions(self) -> dict[str, str]:
        product = self.server.management({"operation": "read-attribute", "name": "product-version"}, timeout=3.0)
        return {"wildfly server": str(product)}

    def evidence_files(self) -> dict[str, str]:
        args = "\n".join(self.server.config.server_args(self.ip))
        files = {"cli.txt": self.server.config.cli, "server-args.txt": args}
        for name, read in (
            ("server.log", self.server.server_log),
            ("harness.xml", lambda: self.server.read_file(CONFIG_PATH).decode(errors="replace")),
            ("proxies-info.json", lambda: json.dumps(self.proxies_info(), indent=1)),
        ):
            try:
                files[name] = read()
            except Exception as exc:
                files[name] = f"(unavailable: {exc})"
        return files


def start_wildfly_node(
    scope: Resources,
    image: str,
    spec: NodeSpec,
    discovery: Discovery | None,
    network: Network,
    *,
    distributable: bool = True,
    timeout: float = 90.0,
    wait: bool = True,
    config_options: Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> WildflyNode:
    """A started WildFly node for `spec`, reachable on `network` as `spec.name`; ready unless wait=False.
    `config_options` go to `wildfly.node_config` (dynamic_load, session_affinity, ping_s, graceful_startup),
    `kwargs` to `Resources.container` (e.g. ipv4=...)."""
    config = node_config(spec, discovery, **dict(config_options or {}))
    server = start_container(scope, image, name=spec.name, role="node", network=network, config=config, **kwargs)
    node = WildflyNode(spec, server, distributable)
    for context in spec.contexts:
        node.deploy(context)
    server.start_server()
    if wait:
        node.wait_ready(timeout)
    return node


def start_wildfly_nodes(
    scope: Resources,
    image: str,
    specs: tuple[NodeSpec, ...] | list[NodeSpec],
    discovery: Discovery | None,
    network: Network,
    *,
    parallel: int = 1,
    timeout: float = 90.0,
    **kwargs: Any,
) -> dict[str, WildflyNode]:
    """Start nodes in order, at most `parallel` JVMs booting at once (1: one after another, the safe choice
    on 2 cores; 2 gained 0-25% for 3 nodes there, depending on what else ran). Returns them ready, by name."""
    if parallel < 1:
        raise ValueError(f"parallel: got {parallel}; expected at least 1")
    nodes: dict[str, WildflyNode] = {}
    booting: list[WildflyNode] = []
    for spec in specs:
        if len(booting) >= parallel:
            booting.pop(0).wait_ready(timeout)
        node = start_wildfly_node(scope, image, spec, discovery, network, timeout=timeout, wait=False, **kwargs)
        nodes[spec.name] = node
        booting.append(node)
    for node in booting:
        node.wait_ready(timeout)
    return nodes
