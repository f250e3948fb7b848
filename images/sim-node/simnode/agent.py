"""The MCMP side of one sim node: what mod_cluster's Java core (DefaultMCMPHandler) does, per proxy.

- A new proxy starts in ERROR. On a tick, a proxy in ERROR gets INFO, then the registration: CONFIG
  (Java defaults), then STOP-APP and ENABLE-APP per context the first time (later: each context's state),
  then STATUS. A proxy in OK gets STATUS with the load every status interval.
- A SYNTAX error reply marks the proxy DOWN for good (only `reset()` recovers); any other error reply,
  a garbage reply or a transport failure marks it ERROR: the connection is dropped and the next attempt
  starts again with INFO. Error replies wait for the next status tick; an unreachable proxy is retried
  with backoff (0.5 s doubling up to the status interval), each failure logged.
- Graceful stop: DISABLE-APP, drain (STOP-APP until `Requests=0` or the stop timeout; replies without
  `Requests`, as on 2.x HEAD, fall back to the node's own count of requests in progress), REMOVE-APP /*.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable, Sequence

from harness.protocol.mcmp import (
    McmpProtocolError,
    McmpResponse,
    java_config_params,
    parse_status_reply,
    parse_stop_app_requests,
)
from harness.protocol.mcmp_client import McmpClient, McmpExchange, McmpTransportError
from simnode.app import AppState
from simnode.config import NodeConfig

log = logging.getLogger("simnode.mcmp")
OK, ERROR, DOWN = "OK", "ERROR", "DOWN"
ENABLED, DISABLED, STOPPED = "ENABLED", "DISABLED", "STOPPED"
SOCKET_TIMEOUT_S = 20.0  # the Java node's socket-timeout
JAVA_EXTRAS = {"Maxattempts": "1", "ping": "10"}  # WildFly defaults that differ from "unset" (-1)


class ProxyLink:
    """One balancer as seen by one node."""

    def __init__(self, host: str, port: int, timeout: float = SOCKET_TIMEOUT_S) -> None:
        self.host, self.port = host, port
        self.client = McmpClient(host, port, timeout=timeout)
        self.state = ERROR
        self.established = False
        self.retry_at = 0.0
        self.failures = 0
        self.registrations = 0
        self.protocol_errors = 0
        self.last_error: str | None = None
        self.last_status: dict[str, str] | None = None
        self.sent: collections.Counter[str] = collections.Counter()
        self.transcript: list[McmpExchange] = []  # the last registration (+ first STATUS), raw bytes
        self.goodbye: list[McmpExchange] = []  # the graceful stop, raw bytes
        self.errors: collections.deque[McmpExchange] = collections.deque(maxlen=8)  # the last error replies

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def to_dict(self) -> dict[str, object]:
        return {
            "address": self.address,
            "state": self.state,
            "established": self.established,
            "registrations": self.registrations,
            "failures": self.failures,
            "protocol_errors": self.protocol_errors,
            "last_error": self.last_error,
            "last_status": self.last_status,
            "sent": dict(self.sent),
        }


class McmpAgent:
    def __init__(self, config: NodeConfig, app: AppState, host_for: Callable[[ProxyLink], str]) -> None:
        self.config = config
        self.app = app
        self.host_for = host_for  # the address announced in CONFIG for a proxy
        self.port = config.http_port
        self.host_override: str | None = None
        self.links: dict[tuple[str, int], ProxyLink] = {}
        self.contexts = {c: ENABLED for c in config.contexts}
        self.lock = threading.RLock()
        self.next_status_at = 0.0
        self.crashed = self.stopping = self.stopped = False

    @property
    def name(self) -> str:
        return self.config.name

    def add_proxy(self, host: str, port: int) -> bool:
        if (host, port) in self.links:
            return False
        self.links[(host, port)] = ProxyLink(host, port)
        return True

    @property
    def load(self) -> int:
        forced = self.app.faults.load
        return self.config.load if forced is None else forced

    # ---- the periodic tick ------------------------------------------------------------------------

    def tick(self) -> float | None:
        """One status tick; returns when the next one is due (monotonic) or None when the node is gone."""
        with self.lock:
            if self.crashed or self.stopping or self.stopped:
                return None
            now = time.monotonic()
            status_due = now >= self.next_status_at
            for link in list(self.links.values()):
                if self.crashed:
                    return None
                fresh = False
                if link.state == ERROR and now >= link.retry_at:
                    fresh = self._register(link)
                if link.state == OK and (status_due or fresh) and not self.app.faults.no_status:
                    self._status(link, record=link.transcript if fresh else None)
            if status_due:
                self.next_status_at = now + self.config.status_interval_s
            retries = [l.retry_at for l in self.links.values() if l.state == ERROR]
            return min([self.next_status_at] + retries)

    def _register(self, link: ProxyLink) -> bool:
        link.client.close()
        exchanges: list[McmpExchange] = []
        if self._send(link, "INFO", (), record=exchanges) is None:
            return False
        if self._send(link, "CONFIG", self.config_params(link), record=exchanges) is None:
            return False
        for command, context in self._context_plan(link.established):
            if self._send(link, command, self._app_params(context), record=exchanges) is None:
                return False
        link.established = True
        link.registrations += 1
        link.transcript = exchanges
        log.info(
            "%s: registered with %s (Host=%s Port=%d, %d contexts)",
            self.name,
            link.address,
            self.host_for(link) if self.host_override is None else self.host_override,
            self.port,
            len(self.contexts),
        )
        return True

    def _context_plan(self, established: bool) -> list[tuple[str, str]]:
        if not established:  # deployment: announced stopped, then enabled
            plan = [("STOP-APP", c) for c in self.contexts]
            plan += [("ENABLE-APP", c) for c, s in self.contexts.items() if s == ENABLED]
            return plan + [("DISABLE-APP", c) for c, s in self.contexts.items() if s == DISABLED]
        command = {ENABLED: "ENABLE-APP", DISABLED: "DISABLE-APP", STOPPED: "STOP-APP"}
        return [(command[s], c) for c, s in self.contexts.items()]

    def config_params(self, link: ProxyLink) -> list[tuple[str, str]]:
        cfg = self.config
        host = self.host_override or self.host_for(link)
        include = cfg.include_sticky_force and not self.app.faults.no_sticky_force
        return java_config_params(
            cfg.name,
            host=host,
            port=self.port,
            type="http",
            balancer=cfg.balancer,
            lbgroup=cfg.lbgroup,
            sticky_session=cfg.sticky_session,
            sticky_session_force=cfg.sticky_session_force,
            sticky_session_remove=cfg.sticky_session_remove,
            include_force=include,
            **JAVA_EXTRAS,
        )

    def _app_params(self, context: str) -> list[tuple[str, str]]:
        return [("JVMRoute", self.name), ("Alias", ",".join(self.config.aliases)), ("Context", context)]

    def _status(self, link: ProxyLink, record: list[McmpExchange] | None = None) -> None:
        resp = self._send(link, "STATUS", [("JVMRoute", self.name), ("Load", str(self.load))], record=record)
        if resp is None:
            return
        try:
            reply = parse_status_reply(resp)
            link.last_status = {"state": reply.state, "id": reply.id}
        except McmpProtocolError as exc:
            link.protocol_errors += 1
            if link.client.last_exchange is not None:
                link.errors.append(link.client.last_exchange)
            log.error("%s: protocol error: STATUS reply from %s has no State: %s", self.name, link.address, exc)

    # ---- one request, Java's error handling -------------------------------------------------------

    def _send(
        self,
        link: ProxyLink,
        command: str,
        params: Sequence[tuple[str, str]],
        *,
        wildcard: bool = False,
        record: list[McmpExchange] | None = None,
    ) -> McmpResponse | None:
        """The reply when it is a success; None after marking the link ERROR or DOWN."""
        link.sent[command] += 1
        try:
            resp = link.client.send(command, params, wildcard=wildcard)
        except McmpTransportError as exc:
            self._unreachable(link, command, exc)
            return None
        except McmpProtocolError as exc:
            link.protocol_errors += 1
            if link.client.last_exchange is not None:
                link.errors.append(link.client.last_exchange)
            self._error(link, f"{command}: protocol error: {exc}")
            log.error("%s: protocol error from %s on %s; raw reply: %r", self.name, link.address, command, exc.raw)
            return None
        if record is not None and link.client.last_exchange is not None:
            record.append(link.client.last_exchange)
        if resp.ok:
            link.state, link.failures = OK, 0
            return resp
        text = f"{command}: {resp.status} Type={resp.error_type} Mess={resp.error_message}"
        if link.client.last_exchange is not None:
            link.errors.append(link.client.last_exchange)
        link.client.close()  # reconnect after every error reply
        if resp.error_type == "SYNTAX":
            link.state, link.last_error = DOWN, text
            log.error("%s: %s answered %s: proxy DOWN for good (POST /reset recovers)", self.name, link.address, text)
        else:
            self._error(link, text)
            log.warning("%s: %s answered %s: INFO and re-registration at the next tick", self.name, link.address, text)
        return None

    def _error(self, link: ProxyLink, text: str) -> None:
        link.client.close()
        link.state, link.last_error = ERROR, text
        link.retry_at = time.monotonic() + self.config.status_interval_s

    def _unreachable(self, link: ProxyLink, command: str, exc: Exception) -> None:
        link.client.close()
        link.failures += 1
        backoff = min(max(self.config.status_interval_s, 0.5), 0.5 * 2 ** min(link.failures - 1, 10))
        link.state, link.last_error = ERROR, f"{command}: {exc}"
        link.retry_at = time.monotonic() + backoff
        log.warning(
            "%s: proxy %s unreachable (attempt %d): %s; retrying in %.1fs",
            self.name,
            link.address,
            link.failures,
            exc,
            backoff,
        )

    # ---- commands from the control endpoint and the process --------------------------------------

    def send_context(self, context: str, command: str) -> list[str]:
        """ENABLE-APP / DISABLE-APP / STOP-APP one context on every proxy in OK; the local state follows."""
        state = {"ENABLE-APP": ENABLED, "DISABLE-APP": DISABLED, "STOP-APP": STOPPED}[command]
        with self.lock:
            self.contexts[context] = state
            return [
                f"{l.address}: {'ok' if self._send(l, command, self._app_params(context)) else l.last_error}"
                for l in self.links.values()
                if l.state == OK
            ]

    def shutdown(self, timeout_s: float | None = None) -> None:
        """Graceful stop: DISABLE-APP, drain with STOP-APP, REMOVE-APP /*. Bounded by the stop timeout."""
        deadline = time.monotonic() + (self.config.stop_context_timeout_s if timeout_s is None else timeout_s)
        self.stopping = True
        with self.lock:
            if self.crashed or self.stopped:
                return
            for link in self.links.values():
                link.goodbye = []
            for context in self.contexts:
                for link in self._ok_links():
                    self._send(link, "DISABLE-APP", self._app_params(context), record=link.goodbye)
                self.contexts[context] = DISABLED
            for context in self.contexts:
                self._drain(context, deadline)
                self.contexts[context] = STOPPED
            for link in self._ok_links():
                self._send(link, "REMOVE-APP", [("JVMRoute", self.name)], wildcard=True, record=link.goodbye)
                link.client.close()
            self.stopped = True
            log.info("%s: left the balancer(s) gracefully", self.name)

    def _ok_links(self) -> list[ProxyLink]:
        return [l for l in self.links.values() if l.state == OK]

    def _drain(self, context: str, deadline: float) -> None:
        while True:
            pending = 0
            for link in self._ok_links():
                resp = self._send(link, "STOP-APP", self._app_params(context), record=link.goodbye)
                if resp is not None:
                    count = parse_stop_app_requests(resp)
                    pending += self.app.active_requests(context) if count is None else count
            remaining = deadline - time.monotonic()
            if pending == 0 or remaining <= 0:
                if pending:
                    log.warning("%s: stop timeout with %d requests still on %s", self.name, pending, context)
                return
            log.info("%s: draining %s: %d requests in progress", self.name, context, pending)
            with self.app.changed:
                self.app.changed.wait(min(0.2, remaining))  # woken by the end of any request

    def crash(self) -> None:
        """Die abruptly: no goodbye, connections dropped (the tick in progress, if any, fails)."""
        self.crashed = True
        for link in list(self.links.values()):
            link.client.close()

    def revive(self, *, port: int | None = None, host: str | None = None) -> None:
        """Start again as a fresh node (after crash or stop, or to re-register from another port/host)."""
        with self.lock:
            if port is not None:
                self.port = port
            if host is not None:
                self.host_override = host
            self.crashed = self.stopping = self.stopped = False
            self.contexts = {c: ENABLED for c in self.config.contexts}
            self.next_status_at = 0.0
            for link in self.links.values():
                link.client.close()
                if link.state != DOWN:
                    link.state, link.established, link.retry_at = ERROR, False, 0.0

    def reset(self) -> None:
        """Java's management reset: proxies DOWN go back to ERROR (retried at once)."""
        for link in self.links.values():
            if link.state == DOWN:
                link.state, link.retry_at = ERROR, 0.0

    def to_dict(self) -> dict[str, object]:
        status = (
            "crashed" if self.crashed else "stopped" if self.stopped else "stopping" if self.stopping else "running"
        )
        return {
            "status": status,
            "port": self.port,
            "host_override": self.host_override,
            "load": self.load,
            "contexts": dict(self.contexts),
            "proxies": [l.to_dict() for l in list(self.links.values())],
        }
