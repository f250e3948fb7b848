"""Finding the balancer: mod_advertise datagrams (like the Java AdvertiseListenerImpl) or a static list.

Advertise: one listener per process joins the group on the container's interface. A datagram whose digest
fails (with the configured security key, or none) is dropped and counted. The first verified datagram
of a Server uuid adds its X-Manager-Address as a proxy to every node (once per uuid; a known address is
not added twice). Shutdown datagrams (403 Forbidden, 410 Gone) only change that server's recorded
status, as on the Java side: the proxy stays, and the nodes' ticks find out whether it still answers.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass

from harness.protocol.advertise import AdvertiseDatagram, AdvertiseListener
from simnode.config import Discovery

log = logging.getLogger("simnode.advertise")
OnProxy = Callable[[str, int], None]


@dataclass
class AdvertisedServer:
    server: str
    address: str | None
    status: int
    reason: str
    sequence: int | None
    datagrams: int = 1


class AdvertiseTracker:
    """What the node learned from datagrams. Pure apart from calling `on_proxy`."""

    def __init__(self, security_key: str | None, on_proxy: OnProxy) -> None:
        self.security_key = security_key
        self.on_proxy = on_proxy
        self.servers: dict[str, AdvertisedServer] = {}
        self.digest_failures = 0
        self.ignored = 0

    def handle(self, datagram: AdvertiseDatagram, sender: tuple[str, int]) -> str:
        """Process one datagram; returns what happened: added | updated | status | bad-digest | ignored."""
        if datagram.server is None:
            self.ignored += 1
            return "ignored"
        if not datagram.verify(self.security_key):
            self.digest_failures += 1
            log.debug("advertise: digest check failed for server %s from %s", datagram.server, sender[0])
            return "bad-digest"
        known = self.servers.get(datagram.server)
        if known is None:
            self.servers[datagram.server] = AdvertisedServer(
                datagram.server, datagram.manager_address, datagram.status, datagram.reason, datagram.sequence
            )
            address = datagram.manager_host_port()
            log.info(
                "advertise: balancer %s (%d %s) at %s from %s",
                datagram.server,
                datagram.status,
                datagram.reason,
                datagram.manager_address,
                sender[0],
            )
            if address is not None:
                self.on_proxy(*address)
            return "added"
        known.datagrams += 1
        known.sequence = datagram.sequence
        if datagram.status != known.status:
            log.info("advertise: balancer %s now %d %s", datagram.server, datagram.status, datagram.reason)
            known.status, known.reason = datagram.status, datagram.reason
            return "status"
        return "updated"

    def to_dict(self) -> dict[str, object]:
        return {
            "servers": [vars(s) for s in self.servers.values()],
            "digest_failures": self.digest_failures,
            "ignored": self.ignored,
        }


def default_interface(group: str) -> str | None:
    """The local IPv4 address the multicast route leaves from (the container's interface), or None."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect((group, 9))
        address = probe.getsockname()[0]
        return None if address in ("0.0.0.0", "127.0.0.1") else address
    except OSError:
        return None
    finally:
        probe.close()


class AdvertiseWatcher:
    """A daemon thread receiving datagrams into an AdvertiseTracker; never dies on bad input."""

    def __init__(self, discovery: Discovery, interface: str | None, on_proxy: OnProxy) -> None:
        self.discovery = discovery
        self.interface = interface or default_interface(discovery.group)
        self.tracker = AdvertiseTracker(discovery.security_key, on_proxy)
        self.listener: AdvertiseListener | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="advertise", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            listener = AdvertiseListener(self.discovery.group, self.discovery.port, interface_ip=self.interface)
            try:
                listener.open()
            except OSError as exc:
                log.error("advertise: %s; retrying in 5 s", exc)
                self._stop.wait(5.0)
                continue
            self.listener = listener
            log.info(
                "advertise: listening on %s:%d (joined on %s)",
                self.discovery.group,
                self.discovery.port,
                ", ".join(listener.joined),
            )
            try:
                while not self._stop.is_set():
                    got = listener.receive(1.0)
                    if got is not None:
                        self.tracker.handle(*got)
            except Exception:
                log.exception("advertise: listener failed; reopening")
                self._stop.wait(1.0)
            finally:
                listener.close()

    def to_dict(self) -> dict[str, object]:
        data = self.tracker.to_dict()
        data.update(
            group=self.discovery.group,
            port=self.discovery.port,
            interface=self.interface,
            received=self.listener.received if self.listener else 0,
            unparsable=self.listener.unparsable if self.listener else 0,
        )
        return data
