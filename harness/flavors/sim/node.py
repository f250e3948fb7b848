"""Simulated worker nodes in containers: the sim-node image, containers hosting one or many nodes, and
`SimNodeControl`, the client of the control endpoint every sim container serves (port 9000).

One container runs one Python process that hosts the nodes it is given (distinct routes and ports); its
network alias is the node's name (a multi-node container has every node's name as an alias). `SimNode` is the
handle of one node (the `Node` contract's verbs): `kill()` makes that node die abruptly inside its process
(connections reset, no MCMP goodbye; the container and its address stay), `stop()` is the Java-like graceful
stop, `start()` brings it back as a fresh node.
The sim's own faults are the harness's FaultSpecs (harness.descriptions.faults NODE_PROGRAM_FAULTS: Freeze,
Slowness, ErrorReplies, ReportLoad, NoStatus, Flap, NoStickyForce, Exit, Reregister): `SimNode.apply_fault()`
posts `fault.to_dict()` to the control endpoint and returns the heal (`harness.run.faults` calls it).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker
import requests

from harness.descriptions.base import SpecError
from harness.descriptions.faults import Exit, FaultSpec
from harness.descriptions.node import Advertise, Discovery, NodeSpec, StaticProxies
from harness.machinery import images
from harness.machinery.containers import ContainerExited, container_alive, container_ip, container_logs
from harness.machinery.resources import Resources
from harness.machinery.waiting import Deadline, WaitTimeout, wait_until

IMAGE_NAME = "sim-node"
CONTROL_PORT = 9000
SPEC_PATH = "/etc/simnode/spec.json"
READY_LINE = "simnode: ready"
FIRST_PORT = 8080
_HARNESS_DIR = Path(__file__).resolve().parents[2]
# What the sim image ships of the harness (standard library only, closed under imports): the protocol layer and
# the descriptions the node validates its configuration and faults with.
SHIPPED_MODULES = (
    "__init__.py",
    "protocol/__init__.py",
    "protocol/mcmp.py",
    "protocol/mcmp_client.py",
    "protocol/advertise.py",
    "descriptions/__init__.py",
    "descriptions/base.py",
    "descriptions/balancer.py",
    "descriptions/node.py",
    "descriptions/faults.py",
    "descriptions/fault_words.py",
    "descriptions/jk.py",
)


class SimNodeError(RuntimeError):
    """A sim container did not start, or its control endpoint refused a command (message says why)."""


# ---------------------------------------------------------------------------------------------- image


def image_request() -> images.ImageRequest:
    return images.ImageRequest(IMAGE_NAME, {}, {f"harness/{m}": _HARNESS_DIR / m for m in SHIPPED_MODULES})


def sim_image(client: docker.DockerClient) -> str:
    """The sim-node image tag (built at most once per content)."""
    return images.build(client, image_request())


# --------------------------------------------------------------------------------- configuration (pure)


def discovery_dict(discovery: Discovery) -> dict[str, Any]:
    if not isinstance(discovery, (Advertise, StaticProxies)):
        raise SpecError("discovery", f"got {discovery!r}; sim nodes take Advertise(...) or StaticProxies(...)")
    return discovery.to_dict()


def pack_ports(
    specs: Sequence[NodeSpec], control_port: int = CONTROL_PORT, first_port: int = FIRST_PORT
) -> tuple[NodeSpec, ...]:
    """The specs with distinct HTTP ports for one container: unchanged when already distinct, else
    first_port, first_port+1, ... (skipping the control port and each spec's AJP port)."""
    ports = [s.http_port for s in specs]
    if len(set(ports)) == len(ports) and control_port not in ports:
        return tuple(specs)
    packed, port = [], first_port
    for spec in specs:
        while port in (control_port, spec.ajp_port):
            port += 1
        packed.append(dataclasses.replace(spec, http_port=port))
        port += 1
    return tuple(packed)


def sim_config(
    specs: Sequence[NodeSpec],
    discovery: Discovery,
    *,
    control_port: int = CONTROL_PORT,
    host: str | None = None,
    advertise_interface: str | None = None,
    log_level: str = "info",
    mcmp_workers: int = 0,
) -> dict[str, Any]:
    """The JSON document the sim process reads (simnode.config). Pure. `mcmp_workers`: threads sending
    MCMP for the process's nodes (0: 2..4 by node count; more threads, more concurrent MCMP)."""
    for i, spec in enumerate(specs):
        if spec.flavor != "sim":
            raise SpecError(f"nodes[{i}].flavor", f"got {spec.flavor!r}; only 'sim' nodes run in a sim container")
    return {
        "nodes": [s.to_dict() for s in specs],
        "discovery": discovery_dict(discovery),
        "control_port": control_port,
        "host": host,
        "advertise_interface": advertise_interface,
        "log_level": log_level,
        "mcmp_workers": mcmp_workers,
    }


# -------------------------------------------------------------------------------------- control client


def _node(node: str | None) -> dict[str, Any]:
    return {} if node is None else {"node": node}


class SimNodeControl:
    """Client of one sim container's control endpoint. `node=None` means every node of the container."""

    def __init__(self, address: str, port: int = CONTROL_PORT, timeout: float = 5.0) -> None:
        self.base = f"http://{address}:{port}"
        self.timeout = timeout
        self._http = requests.Session()
        self._http.trust_env = False

    def _get(self, path: str, **params: str) -> Any:
        reply = self._http.get(self.base + path, params=params or None, timeout=self.timeout)
        if reply.status_code != 200:
            raise SimNodeError(f"GET {self.base}{path}: {reply.status_code} {reply.text[:300]}")
        return reply.json()

    def _post(self, path: str, body: dict[str, Any]) -> Any:
        reply = self._http.post(self.base + path, json=body, timeout=self.timeout)
        if reply.status_code not in (200, 202):
            raise SimNodeError(f"POST {self.base}{path} {body}: {reply.status_code} {reply.text[:300]}")
        return reply.json()

    def is_up(self) -> bool:
        try:
            return self._http.get(self.base + "/health", timeout=self.timeout).status_code == 200
        except requests.RequestException:
            return False

    def state(self) -> dict[str, Any]:
        return dict(self._get("/state"))

    def node_state(self, node: str) -> dict[str, Any]:
        nodes = self.state()["nodes"]
        if node not in nodes:
            raise SimNodeError(f"{self.base}: no node {node!r} (nodes: {', '.join(nodes)})")
        return dict(nodes[node])

    def transcript(self, node: str | None = None) -> dict[str, Any]:
        return dict(self._get("/transcript", **({"node": node} if node else {})))

    def apply_fault(self, fault: FaultSpec) -> dict[str, Any]:
        """Apply one of the sim's faults (a NODE_PROGRAM_FAULTS FaultSpec naming one of this container's nodes)."""
        return dict(self._post("/fault", {"apply": [fault.to_dict()]}))

    def heal_fault(self, fault: FaultSpec) -> dict[str, Any]:
        return dict(self._post("/fault", {"heal": [fault.to_dict()]}))

    def clear_faults(self, node: str | None = None) -> dict[str, Any]:
        """Every toggle off (of `node`, or of every node of the container)."""
        return dict(self._post("/fault", {**_node(node), "clear": True}))

    def crash(self, node: str) -> None:
        self._post("/crash", {"node": node})

    def restart(self, node: str) -> None:
        self._post("/restart", {"node": node})

    def stop(self, node: str | None = None) -> None:
        self._post("/stop", _node(node))

    def reregister(self, node: str, *, port: int | None = None, host: str | None = None) -> None:
        body: dict[str, Any] = {"node": node}
        body.update({k: v for k, v in (("port", port), ("host", host)) if v is not None})
        self._post("/reregister", body)

    def context(self, node: str, context: str, action: str) -> None:
        """action: enable | disable | stop (ENABLE-APP / DISABLE-APP / STOP-APP to every proxy)."""
        self._post("/context", {"node": node, "context": context, "action": action})

    def reset(self, node: str | None = None) -> None:
        self._post("/reset", _node(node))

    def exit(self, code: int = 137) -> None:
        self._post("/exit", {"code": code})

    def is_registered(self, node: str) -> bool:
        """Every proxy the node knows is OK and established (and it knows at least one)."""
        proxies = self.node_state(node)["mcmp"]["proxies"]
        return bool(proxies) and all(p["state"] == "OK" and p["established"] for p in proxies)


# ------------------------------------------------------------------------------------------ containers


@dataclass
class SimContainer:
    """One sim process in its container, hosting `specs` (ports already distinct)."""

    name: str
    container: Any  # testcontainers DockerContainer
    specs: tuple[NodeSpec, ...]
    address: str
    control: SimNodeControl
    config: dict[str, Any] = field(repr=False, default_factory=dict)
    network: Any = field(repr=False, default=None)

    def node(self, name: str) -> SimNode:
        for spec in self.specs:
            if spec.name == name:
                return SimNode(spec, self)
        raise KeyError(f"no node {name!r} in sim container {self.name} (nodes: {[s.name for s in self.specs]})")

    def nodes(self) -> list[SimNode]:
        return [SimNode(spec, self) for spec in self.specs]

    def logs(self) -> str:
        return container_logs(self.container)

    def memory_bytes(self) -> int:
        """The container's memory use as the engine reports it (cgroup usage minus page cache)."""
        stats = self.container.get_wrapped_container().stats(stream=False)
        memory = stats.get("memory_stats", {})
        cache = memory.get("stats", {}).get("inactive_file", memory.get("stats", {}).get("cache", 0))
        return int(memory.get("usage", 0)) - int(cache)

    def alive(self) -> None:
        """SimNodeError (exit code, log tail) when the container is gone: an `abort=` for waits."""
        try:
            container_alive(self.container, tail=60)
        except ContainerExited as exc:
            raise SimNodeError(f"sim {exc}") from exc

    def aliases(self) -> list[str]:
        return [s.name for s in self.specs] + ([self.name] if len(self.specs) > 1 else [])

    def exited(self) -> int | None:
        """The exit code once the container has stopped, else None."""
        sdk = self.container.get_wrapped_container()
        sdk.reload()
        return int(sdk.attrs["State"]["ExitCode"]) if sdk.status in ("exited", "dead") else None

    def start_again(self, timeout: float = 30.0) -> None:
        """After the process exited: the container starts again at the same address (pinned) and is ready."""
        sdk = self.container.get_wrapped_container()
        self.network.disconnect(sdk, force=True)
        self.network.connect(sdk, aliases=self.aliases(), ipv4_address=self.address)
        sdk.start()
        self.wait_ready(timeout)

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Until the process logged its ready line; fails at once with the log when it exited."""
        try:
            wait_until(
                lambda: READY_LINE in self.logs() and self.control.is_up(),
                timeout=timeout,
                interval=0.1,
                what=f"sim container {self.name} to log {READY_LINE!r}",
                abort=self.alive,
                describe=lambda: self.logs()[-2000:],
            )
        except WaitTimeout as exc:
            raise SimNodeError(str(exc)) from exc


@dataclass
class SimNode:
    """Handle of one simulated node (the `Node` contract plus the sim's own faults)."""

    spec: NodeSpec
    group: SimContainer

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def container(self) -> Any:
        return self.group.container

    @property
    def ip(self) -> str:
        return self.group.address

    @property
    def control(self) -> SimNodeControl:
        return self.group.control

    def url(self, context: str = "/app") -> str:
        return f"http://{self.ip}:{self.spec.http_port}{context.rstrip('/')}/"

    def answers(self, context: str = "/app") -> bool:
        reply = self.control._http.get(self.url(context), timeout=5)
        return reply.status_code == 200 and reply.headers.get("X-Harness-Node") == self.name

    def state(self) -> dict[str, Any]:
        return self.control.node_state(self.name)

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = Deadline(timeout)
        self.group.wait_ready(deadline.remaining())
        for context in self.spec.contexts:
            wait_until(
                lambda: self.answers(context),
                timeout=max(deadline.remaining(), 1.0),
                interval=0.1,
                what=f"sim node {self.name} to answer {self.url(context)}",
                abort=self.group.alive,
                describe=lambda: json.dumps(self.state().get("http")),
            )

    def wait_for_registered(self, timeout: float = 30.0) -> None:
        """Until every proxy the node knows has its registration (OK, established)."""
        wait_until(
            lambda: self.control.is_registered(self.name),
            timeout=timeout,
            interval=0.1,
            what=f"sim node {self.name} registered with its proxies",
            describe=lambda: json.dumps(self.state()["mcmp"]["proxies"]),
        )

    def kill(self) -> None:
        """Die abruptly (connections reset, no MCMP goodbye); container and address stay."""
        self.control.crash(self.name)

    def stop(self, timeout: float = 10.0) -> None:
        """Graceful: DISABLE-APP, drain, STOP-APP, REMOVE-APP; waits until the node has left."""
        self.control.stop(self.name)
        wait_until(
            lambda: self.state()["mcmp"]["status"] == "stopped" and not self.state()["http"]["listening"],
            timeout=timeout + self.spec.stop_context_timeout_s + 5,
            interval=0.1,
            what=f"sim node {self.name} to stop gracefully",
            describe=lambda: json.dumps(self.state()["mcmp"]),
        )

    def start(self, timeout: float = 30.0) -> None:
        """Back as a fresh node (after kill or stop): listens again and registers again."""
        self.control.restart(self.name)
        self.wait_ready(timeout)

    def apply_fault(self, fault: FaultSpec) -> Callable[[], None]:
        """Apply one of the sim's own faults to this node now; returns its heal."""
        if isinstance(fault, Exit):
            return self._exit(fault)
        self.control.apply_fault(fault)
        return lambda: self.heal_fault(fault)

    def heal_fault(self, fault: FaultSpec) -> None:
        """Undo `fault` (also a start fault of NodeSpec.faults, which has no block of its own)."""
        self.control.heal_fault(fault)

    def _exit(self, fault: Exit) -> Callable[[], None]:
        self.control.apply_fault(fault)
        wait_until(
            lambda: self.group.exited() is not None,
            timeout=15,
            interval=0.1,
            what=f"the sim container of {self.name} to exit",
            describe=lambda: self.logs()[-1000:],
        )

        def start_again() -> None:
            self.group.start_again()
            for node in self.group.nodes():
                node.wait_ready()

        return start_again

    def logs(self) -> str:
        return self.group.logs()

    def versions(self) -> dict[str, str]:
        return {"node": "sim (the harness's simulated MCMP node)"}

    def evidence_files(self) -> dict[str, str]:
        files = {"sim.log": self.logs()}
        try:
            files["sim-state.json"] = json.dumps(self.state(), indent=1)
            files["sim-transcript.json"] = json.dumps(self.control.transcript(self.name), indent=1)
        except Exception as exc:
            files["sim-state.json"] = json.dumps({"error": str(exc)})
        return files


def start_sim_container(
    scope: Resources,
    image: str,
    network: Any,
    specs: Sequence[NodeSpec],
    discovery: Discovery,
    *,
    name: str | None = None,
    ipv4: str | None = None,
    control_port: int = CONTROL_PORT,
    host: str | None = None,
    log_level: str = "info",
    mcmp_workers: int = 0,
    timeout: float = 30.0,
    wait: bool = True,
) -> SimContainer:
    """One container hosting `specs` (ports packed when they clash)."""
    specs = pack_ports(specs, control_port)
    config = sim_config(
        specs, discovery, control_port=control_port, host=host, log_level=log_level, mcmp_workers=mcmp_workers
    )
    name = name or (specs[0].name if len(specs) == 1 else f"sims-{specs[0].name}-{len(specs)}")
    # Every node's name is a network alias of its container (HOUSE rule 8), plus the container's own name.
    aliases = [s.name for s in specs] + ([name] if len(specs) > 1 else [])  # SimContainer.aliases()
    container = scope.container(
        image,
        name=name,
        role="node",
        network=network,
        alias=aliases,
        ipv4=ipv4,
        env={"SIMNODE_SPEC_FILE": SPEC_PATH},
        files={SPEC_PATH: json.dumps(config).encode()},
        cap_add=["NET_ADMIN"],
    )
    address = container_ip(container, network.name)
    group = SimContainer(name, container, tuple(specs), address, SimNodeControl(address, control_port), config, network)
    if wait:
        group.wait_ready(timeout)
    return group


def start_sim_node(
    scope: Resources,
    image: str,
    network: Any,
    spec: NodeSpec,
    discovery: Discovery,
    *,
    ipv4: str | None = None,
    timeout: float = 30.0,
) -> SimNode:
    """One node in its own container, answering on its contexts."""
    node = start_sim_container(scope, image, network, [spec], discovery, ipv4=ipv4, timeout=timeout).node(spec.name)
    node.wait_ready(timeout)
    return node


def chunks(specs: Sequence[NodeSpec], per_container: int) -> Iterable[Sequence[NodeSpec]]:
    if per_container < 1:
        raise ValueError(f"per_container: got {per_container}; expected >= 1")
    for start in range(0, len(specs), per_container):
        yield specs[start : start + per_container]


def start_sim_nodes(
    scope: Resources,
    image: str,
    network: Any,
    specs: Sequence[NodeSpec],
    discovery: Discovery,
    *,
    per_container: int = 50,
    mcmp_workers: int = 0,
    timeout: float = 60.0,
) -> list[SimContainer]:
    """Many nodes packed `per_container` to a container (scale tests)."""
    groups = [
        start_sim_container(
            scope, image, network, chunk, discovery, wait=False, name=f"sims{i}", mcmp_workers=mcmp_workers
        )
        for i, chunk in enumerate(chunks(specs, per_container))
    ]
    deadline = Deadline(timeout)
    for group in groups:
        group.wait_ready(max(deadline.remaining(), 1.0))
    return groups


def start_group_for_cluster(context: Any, specs: Sequence[NodeSpec], timeout: float = 30.0) -> list[SimNode]:
    """The cluster's starter for several sim nodes in one container (one process hosting them all)."""
    image = sim_image(context.scope.client)
    group = start_sim_container(
        context.scope, image, context.network, specs, context.topology.discovery, timeout=timeout
    )
    nodes = group.nodes()
    for node in nodes:
        node.wait_ready(timeout)
    return nodes


__all__ = [
    "CONTROL_PORT",
    "IMAGE_NAME",
    "READY_LINE",
    "SimContainer",
    "SimNode",
    "SimNodeControl",
    "SimNodeError",
    "chunks",
    "discovery_dict",
    "image_request",
    "pack_ports",
    "sim_config",
    "sim_image",
    "start_group_for_cluster",
    "start_sim_container",
    "start_sim_node",
    "start_sim_nodes",
]
