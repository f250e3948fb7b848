"""One sim-node process: many nodes sharing one HTTP loop thread and one MCMP thread pool.

Thread rules: listeners, faults and sessions belong to the loop thread (`loop.call_soon` from elsewhere);
anything that may block on MCMP (registration, graceful stop, context commands, re-registration) runs on
the scheduler's pool, never on the loop thread.
"""

from __future__ import annotations

import functools
import logging
import os
import socket
import sys
import time
from collections.abc import Callable
from concurrent.futures import Future, wait
from typing import Any

from harness.descriptions.faults import Exit, Kill, NodeFault, NoStickyForce, Reregister
from simnode.agent import McmpAgent, ProxyLink
from simnode.app import AppState, handle
from simnode.config import NodeConfig, SimConfig
from simnode.discovery import AdvertiseWatcher
from simnode.faults import HEALTHY, Faults, initial_faults, is_toggle, switched
from simnode.loop import Listener, Loop, Timer
from simnode.scheduler import Scheduler

log = logging.getLogger("simnode")
READY_LINE = "simnode: ready"
Handler = Callable[[Any], Any]  # an HTTP request -> its response (simnode.httpwire)


class FaultRefused(ValueError):
    """A fault the runtime cannot apply or heal now (the message says why)."""


class SimNode:
    def __init__(self, config: NodeConfig, runtime: Runtime) -> None:
        self.config = config
        self.start_faults = config.start_faults()
        toggles = tuple(s.fault for s in self.start_faults if s.after_s is None and is_toggle(s.fault))
        self.app = AppState(config.name, config.contexts, initial_faults(toggles))
        self.listener = Listener(runtime.loop, config.http_port, self.handle, name=config.name)
        self.agent = McmpAgent(config, self.app, host_for=runtime.host_for)
        self.flap_timer: Timer | None = None
        self.flap_down = False

    def handle(self, request: Any) -> Any:
        return handle(self.app, request)

    def to_dict(self) -> dict[str, object]:
        app = self.app
        return {
            "name": self.config.name,
            "contexts": list(self.config.contexts),
            "faults": app.faults.to_dict(),
            "active_faults": app.faults.active,
            "http": {
                "port": self.listener.port,
                "listening": self.listener.is_open,
                "served": app.served,
                "options_probes": app.options_probes,
                "statuses": {str(k): v for k, v in app.statuses.items()},
                "sessions": app.sessions.count(),
                "active": app.active_requests(),
                "connections": len(self.listener.connections),
                "accepted": self.listener.accepted,
            },
            "mcmp": self.agent.to_dict(),
        }


class Runtime:
    """`control(runtime)` builds the control endpoint's handler (simnode.control.control_handler): handed
    in, so this module does not import the control module that drives it."""

    def __init__(self, config: SimConfig, control: Callable[[Runtime], Handler]) -> None:
        self.config = config
        self.loop = Loop()
        self.started = time.time()
        self.nodes = {n.name: SimNode(n, self) for n in config.nodes}
        self.scheduler = Scheduler(workers=config.mcmp_workers or min(4, max(2, len(self.nodes))))
        self.control = Listener(self.loop, config.control_port, control(self), name="control")
        self.watcher: AdvertiseWatcher | None = None
        if config.discovery.kind == "advertise":
            self.watcher = AdvertiseWatcher(config.discovery, config.advertise_interface, self.add_proxy)
        self._hosts: dict[tuple[str, int], str] = {}

    # ---- life cycle -------------------------------------------------------------------------------

    def start(self) -> None:
        for node in self.nodes.values():
            node.listener.open()
            self._plan(node)
        self.control.open()
        self.loop.start()
        self.scheduler.start()
        for host, port in self.config.discovery.proxies:
            self.add_proxy(host, port)
        if self.watcher is not None:
            self.watcher.start()
        for node in self.nodes.values():
            self.scheduler.wake(node.agent)
        ports = [n.listener.port for n in self.nodes.values()]
        log.info(
            "ready nodes=%d ports=%d..%d control=%d discovery=%s",
            len(self.nodes),
            min(ports),
            max(ports),
            self.config.control_port,
            self.config.discovery.kind,
        )

    def _plan(self, node: SimNode) -> None:
        """Start-time faults (loop timers; called before the loop thread runs): toggles without a delay are on
        already; the rest is applied later (a reregister without delay: after the status interval)."""
        if node.app.faults.flap:
            self._start_flap(node)
        for start in node.start_faults:
            fault = start.fault
            if start.after_s is None and is_toggle(fault):
                continue
            after = start.after_s
            if after is None:
                after = node.config.status_interval_s if isinstance(fault, Reregister) else 0.0
            self.loop.call_later(after, functools.partial(self.apply, fault))

    def add_proxy(self, host: str, port: int) -> None:
        """Any thread: every node learns a balancer and registers with it at once."""
        for node in self.nodes.values():
            if node.agent.add_proxy(host, port):
                self.scheduler.wake(node.agent)

    def host_for(self, link: ProxyLink) -> str:
        """The address announced in CONFIG: configured, else the local address towards that proxy."""
        if self.config.host:
            return self.config.host
        key = (link.host, link.port)
        if key not in self._hosts:
            self._hosts[key] = _local_address_towards(link.host, link.port)
        return self._hosts[key]

    def stop_all(self) -> None:
        """Graceful stop of every node (SIGTERM), in parallel on the pool, each bounded by its timeout."""
        futures = [self.stop_node(name) for name in self.nodes]
        longest = max(n.config.stop_context_timeout_s for n in self.nodes.values())
        wait(futures, timeout=longest + 2 * 20.0 + 5.0)
        if self.watcher is not None:
            self.watcher.stop()

    def close(self) -> None:
        """Stop the threads and close every socket without any MCMP goodbye (tests, embedding)."""
        if self.watcher is not None:
            self.watcher.stop()
        self.scheduler.stop()
        for node in self.nodes.values():
            node.agent.crash()
        self.loop.stop()
        if self.loop.thread is not None:
            self.loop.thread.join(5.0)
        for listener in [n.listener for n in self.nodes.values()] + [self.control]:
            listener.close(abort=True)

    def stop_node(self, name: str) -> Future[Any]:
        node = self.nodes[name]
        return self.scheduler.submit(self._stop_node, node)

    def _stop_node(self, node: SimNode) -> None:
        started = time.monotonic()
        node.agent.shutdown()
        remaining = node.config.stop_context_timeout_s - (time.monotonic() - started)
        with node.app.changed:  # let requests still in progress finish (bounded)
            deadline = time.monotonic() + max(0.0, remaining)
            while node.app.active_requests() and time.monotonic() < deadline:
                node.app.changed.wait(min(0.2, max(0.0, deadline - time.monotonic())))
        self.loop.call_soon(lambda: self._close_listener(node))

    def _close_listener(self, node: SimNode) -> None:
        self._cancel_flap(node)
        node.listener.close()

    # ---- faults and commands (loop thread unless stated) ------------------------------------------

    def apply(self, fault: NodeFault) -> None:
        """Loop thread: break `fault.node` the way `fault` says (toggles stay on until healed)."""
        node = self.nodes[fault.node]
        if is_toggle(fault):
            self.set_faults(node, switched(node.app.faults, fault, True))
            if isinstance(fault, NoStickyForce):  # the balancer sees CONFIG only: send it again now
                self.reregister(fault.node, None, None)
        elif isinstance(fault, Kill):
            self.crash(fault.node)
        elif isinstance(fault, Exit):
            code = fault.code
            self.loop.call_later(0.05, lambda: self.exit(code))  # let the control answer leave first
        elif isinstance(fault, Reregister):
            self.reregister(fault.node, fault.port, fault.host)
        else:
            raise FaultRefused(f"the sim cannot apply {fault.describe()}")

    def heal(self, fault: NodeFault) -> None:
        """Loop thread: undo `fault` (a healed Reregister registers again from the node's own port and host)."""
        node = self.nodes[fault.node]
        if is_toggle(fault):
            self.set_faults(node, switched(node.app.faults, fault, False))
            if isinstance(fault, NoStickyForce):
                self.reregister(fault.node, None, None)
        elif isinstance(fault, Kill):
            self.restart(fault.node)
        elif isinstance(fault, Reregister):
            with node.agent.lock:
                node.agent.host_override = None
            self.reregister(fault.node, node.config.http_port, None)
        else:
            raise FaultRefused(f"the sim cannot heal {fault.describe()} itself (start its container again)")

    def clear(self, node: SimNode) -> None:
        self.set_faults(node, HEALTHY)

    def set_faults(self, node: SimNode, faults: Faults) -> None:
        flap_changed = faults.flap != node.app.faults.flap
        node.app.faults = faults
        if flap_changed:
            self._start_flap(node)

    def _start_flap(self, node: SimNode) -> None:
        self._cancel_flap(node)
        if node.flap_down and not node.agent.crashed and not node.agent.stopped:
            node.listener.open()
            node.flap_down = False
        flap = node.app.faults.flap
        if flap is not None:
            node.flap_timer = self.loop.call_later(flap[0], lambda: self._flap_step(node))

    def _flap_step(self, node: SimNode) -> None:
        flap = node.app.faults.flap
        if flap is None or node.agent.crashed or node.agent.stopped:
            return
        if node.flap_down:
            node.listener.open()
        else:
            node.listener.close(graceful=True)
        node.flap_down = not node.flap_down
        node.flap_timer = self.loop.call_later(flap[1] if node.flap_down else flap[0], lambda: self._flap_step(node))

    def _cancel_flap(self, node: SimNode) -> None:
        if node.flap_timer is not None:
            node.flap_timer.cancel()
            node.flap_timer = None

    def crash(self, name: str) -> None:
        node = self.nodes[name]
        log.warning("%s: crashing (fault): listener closed, connections reset, no MCMP goodbye", name)
        node.agent.crash()
        self._cancel_flap(node)
        node.listener.close(abort=True)

    def restart(self, name: str) -> None:
        node = self.nodes[name]
        node.flap_down = False
        node.listener.open()
        self._start_flap(node)
        self.scheduler.submit(self._revive, node, None, None)

    def reregister(self, name: str, port: int | None, host: str | None) -> None:
        node = self.nodes[name]
        if port is not None and port != node.listener.port:
            moved = Listener(self.loop, port, node.handle, name=name)
            moved.open()
            node.listener.close(abort=True)
            node.listener = moved
        log.warning(
            "%s: re-registering as a fresh node (port %s, host %s)",
            name,
            port or node.listener.port,
            host or "unchanged",
        )
        self.scheduler.submit(self._revive, node, port, host)

    def _revive(self, node: SimNode, port: int | None, host: str | None) -> None:
        node.agent.revive(port=port, host=host)
        self.scheduler.wake(node.agent)

    def exit(self, code: int) -> None:
        log.warning("exiting at once with code %d (fault)", code)
        logging.shutdown()
        sys.stderr.flush()
        os._exit(code)

    def state(self) -> dict[str, object]:
        for _ in range(3):
            try:
                return {
                    "uptime_s": round(time.time() - self.started, 3),
                    "pid": os.getpid(),
                    "control_port": self.config.control_port,
                    "discovery": self._discovery_state(),
                    "nodes": {name: node.to_dict() for name, node in self.nodes.items()},
                }
            except RuntimeError:  # a dict changed under us (another thread): read again
                continue
        return {"error": "state kept changing while read"}

    def _discovery_state(self) -> dict[str, object]:
        base: dict[str, object] = {"kind": self.config.discovery.kind}
        if self.watcher is not None:
            base.update(self.watcher.to_dict())
        else:
            base["proxies"] = [f"{h}:{p}" for h, p in self.config.discovery.proxies]
        return base


def _local_address_towards(host: str, port: int) -> str:
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect((host, port))  # no packet is sent: the kernel picks the route and source address
        return str(probe.getsockname()[0])
    except OSError:
        try:
            return socket.gethostbyname(socket.gethostname())
        except OSError:
            return "127.0.0.1"
    finally:
        probe.close()
