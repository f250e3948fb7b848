"""The httpd + mod_jk balancer flavor's running balancer: Debian's apache2 and libapache2-mod-jk in the
httpd-modjk image, configured from the topology (workers.properties: static workers; nodes announce nothing).

`snapshot()` reads the status worker as data (`?mime=prop`): each member worker's state (OK/ERR...) says up or
down, its activation (ACT/DIS/STP) becomes the status of the node's contexts. Operators' runtime changes go
through the same status worker (`set_activation`). httpd is not the container's main process (the image's
start-httpd.sh follows the error log), so a kill of httpd leaves the container and its address.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import requests

from harness.descriptions.topology import Topology
from harness.flavors.httpd_modjk import conf
from harness.flavors.httpd_modjk.status import ACTIVATION_CODES, JkStatus, node_states, parse_status
from harness.flavors.httpd_process import HttpdProcess
from harness.machinery import images
from harness.machinery.containers import ContainerExited, container_alive, container_file_text, container_ip
from harness.machinery.contracts import BalancerBase, BalancerState, BalancerUnreadable
from harness.machinery.resources import Resources
from harness.machinery.waiting import DEFAULT_TRANSIENT, WaitTimeout, wait_until

IMAGE_NAME = "httpd-modjk"
CONF_PATH = f"{conf.CONF_DIR}/httpd.conf"
UNRESOLVED = "invalid"  # a member's `address` when mod_jk could not resolve its host
RESOLVE_RETRY_S = 3.0
LOGS = {"error_log": f"{conf.LOG_DIR}/error_log", "access_log": f"{conf.LOG_DIR}/access_log", "mod_jk.log": conf.JK_LOG}


class ModjkBalancerError(RuntimeError):
    """The mod_jk balancer failed to start or to take a command; the message carries its logs."""


def modjk_image(client: Any) -> str:
    return images.build(client, images.ImageRequest(IMAGE_NAME))


@dataclass
class ModjkBalancer(HttpdProcess, BalancerBase):
    """The running httpd + mod_jk balancer; waits come from `BalancerBase`."""

    container: Any = field(repr=False)  # testcontainers DockerContainer
    topology: Topology = field(repr=False)
    ip: str = ""
    httpd_conf: str = field(default="", repr=False)
    workers_properties: str = field(default="", repr=False)
    name: str = "balancer"
    conf_path: ClassVar[str] = CONF_PATH
    pid_file: ClassVar[str] = f"{conf.RUN_DIR}/httpd.pid"
    error: ClassVar[type[Exception]] = ModjkBalancerError
    http: requests.Session = field(default_factory=requests.Session, repr=False)

    def __post_init__(self) -> None:
        self.http.trust_env = False  # never through a host proxy
        self.snapshot_transient = (*DEFAULT_TRANSIENT, BalancerUnreadable)

    @property
    def jk(self) -> Any:
        return conf.jk_of(self.topology.balancer)

    def proxy_url(self, path: str = "/") -> str:
        return f"http://{self.ip}:{self.topology.balancer.proxy_port}{path}"

    def manager_url(self) -> str:
        """The status worker's page (mod_jk's manager)."""
        return self.proxy_url(self.jk.status_path)

    def mcmp_address(self) -> tuple[str, int]:
        """mod_jk speaks no MCMP: the address of its status worker instead."""
        return self.ip, self.topology.balancer.proxy_port

    def worker_names(self) -> dict[str, str]:
        """Worker name -> node name."""
        return {conf.worker_name(node, i): node.name for i, node in enumerate(self.topology.nodes)}

    # --- observations --------------------------------------------------------------------------------------
    def status_text(self, params: Mapping[str, str] | None = None) -> str:
        try:
            reply = self.http.get(self.manager_url(), params={"mime": "prop", **(params or {})}, timeout=5)
        except requests.RequestException as exc:
            raise BalancerUnreadable(f"mod_jk status worker {self.manager_url()} unreachable: {exc}") from exc
        if reply.status_code != 200:
            raise BalancerUnreadable(f"mod_jk status worker answered {reply.status_code}: {reply.text[:200]}")
        return reply.text

    def status(self) -> JkStatus:
        return parse_status(self.status_text())

    def version(self) -> str:
        status = self.status()
        return status.globals.get("web_server", status.version)

    def snapshot(self) -> BalancerState:
        """Members whose host mod_jk resolved (address not 'invalid'), as node states."""
        text = self.status_text()
        status = parse_status(text)
        contexts = {node.name: node.contexts for node in self.topology.nodes}
        nodes = node_states(status, self.jk.lb_name, contexts, self.worker_names())
        resolved = {name: node for name, node in nodes.items() if node.detail.get("address") != UNRESOLVED}
        return BalancerState(nodes=resolved, version=status.version, raw={"status": text})

    def wait_for_nodes_registered(self, names: list[str], timeout: float = 30.0) -> BalancerState:
        """Static workers are "registered" once mod_jk resolved their host. mod_jk resolves at httpd start and
        stops a worker whose host does not resolve (address 'invalid'); nodes start after the balancer, so
        when every such host resolves in the balancer's container, httpd is restarted gracefully (once per
        `RESOLVE_RETRY_S`) and resolves them again."""
        last_restart = [0.0]

        def probe() -> BalancerState | None:
            state = self.snapshot()
            missing = [n for n in names if n not in state.nodes]
            if not missing:
                return state
            if time.monotonic() - last_restart[0] >= RESOLVE_RETRY_S and all(self.resolves(n) for n in missing):
                last_restart[0] = time.monotonic()
                self.checked(["apache2", "-f", CONF_PATH, "-k", "graceful"])
            return None

        return wait_until(
            probe,
            timeout=timeout,
            interval=0.2,
            transient=self.snapshot_transient,
            what=f"mod_jk workers {', '.join(names)} resolved by the {self.name}",
            describe=lambda: self.snapshot().summary(),
            abort=lambda: container_alive(self.container),
        )

    def resolves(self, host: str) -> bool:
        return self.exec(["getent", "hosts", host])[0] == 0

    def read_file(self, path: str) -> str:
        return container_file_text(self.container, path)

    def evidence_files(self) -> dict[str, str]:
        files = {name: self.read_file(path) for name, path in LOGS.items()}
        files.update({"httpd.conf": self.httpd_conf, "workers.properties": self.workers_properties})
        try:
            files["status.properties"] = self.status_text()
        except BalancerUnreadable as exc:
            files["status.properties"] = f"(unavailable: {exc})"
        return files

    # --- effects --------------------------------------------------------------------------------------------
    def update_member(self, node: str, **values: str) -> JkStatus:
        """A status worker `update` of one member of the lb worker (vwa activation, vwf lbfactor, ...)."""
        worker = next((w for w, n in self.worker_names().items() if n == node), None)
        if worker is None:
            raise ModjkBalancerError(f"no member worker for node {node!r}; members: {', '.join(self.worker_names())}")
        params = {"cmd": "update", "from": "list", "w": self.jk.lb_name, "sw": worker, **values}
        status = parse_status(self.status_text(params), listing=False)
        if status.globals.get("result.type") != "OK":
            raise ModjkBalancerError(
                f"status worker update {params} failed: {status.globals.get('result.message', '?')}"
            )
        return status

    def set_activation(self, node: str, activation: str) -> BalancerState:
        """active | disabled | stopped, as an operator does it (the status worker); returns the new state."""
        if activation not in ACTIVATION_CODES:
            raise ValueError(f"activation: got {activation!r}; accepted: {', '.join(ACTIVATION_CODES)}")
        self.update_member(node, vwa=str(ACTIVATION_CODES[activation]))
        return self.snapshot()

    def log_tails(self, lines: int = 15) -> str:
        return "\n".join(
            f"--- {name} tail ---\n{container_file_text(self.container, path, tail=lines) or '(empty)'}"
            for name, path in LOGS.items()
            if name != "access_log"
        )

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Until the status worker answers with the lb worker; ModjkBalancerError at once, with the logs,
        when the container exits (a configuration httpd or mod_jk refuses)."""
        try:
            wait_until(
                lambda: self.jk.lb_name in self.status().members,
                timeout=timeout,
                interval=0.2,
                what=f"mod_jk status worker at {self.manager_url()} to list lb worker {self.jk.lb_name}",
                transient=self.snapshot_transient,
                abort=lambda: container_alive(self.container),
                describe=self.log_tails,
            )
        except ContainerExited as exc:
            raise ModjkBalancerError(
                f"httpd + mod_jk container {exc.name} {exc.status} while starting "
                f"(exit code {exc.exit_code})\n--- container log ---\n{exc.log_tail}\n"
                f"{self.log_tails()}\n--- workers.properties ---\n"
                f"{self.workers_properties}"
            ) from exc
        except WaitTimeout as exc:
            raise ModjkBalancerError(f"httpd + mod_jk is not ready: {exc}") from exc


def start_modjk_balancer(
    scope: Resources,
    network: Any,
    topology: Topology,
    *,
    image: str | None = None,
    name: str = "balancer",
    timeout: float = 30.0,
) -> ModjkBalancer:
    """Start the balancer container on `network` under the alias `name` and wait until mod_jk answers."""
    httpd_conf = conf.render_httpd_conf(topology)
    workers = conf.render_workers_properties(topology)
    container = scope.container(
        image or modjk_image(scope.client),
        name=name,
        role="balancer",
        network=network,
        alias=name,
        cap_add=["NET_ADMIN"],
        files={CONF_PATH: httpd_conf.encode(), conf.WORKERS_PATH: workers.encode()},
    )
    balancer = ModjkBalancer(container, topology, "", httpd_conf, workers, name)
    try:
        balancer.ip = container_ip(container, network.name)
    except ContainerExited as exc:
        raise ModjkBalancerError(
            f"httpd + mod_jk container exited at start:\n{exc.log_tail}\n{balancer.log_tails()}"
        ) from exc
    balancer.wait_ready(timeout)
    return balancer
