"""The balancer's tables as the MCMP model keeps them: nodes, hosts (aliases of virtual hosts), contexts and
balancers, with mod_manager's slot allocation and lookups (in slot order, as its `doall` walks them), and
the expected INFO/DUMP content as plain data (`expected_view`). Pure, standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from harness.protocol.mcmp_model_body import seconds
from harness.protocol.mcmp_model_types import Undefined

ENABLED, DISABLED, STOPPED, REMOVE = 1, 2, 3, 4
STATUS_WORDS = {ENABLED: "ENABLED", DISABLED: "DISABLED", STOPPED: "STOPPED"}
FLUSH_WORDS = {0: "Off", 1: "On", 2: "Auto"}


def wrap32(value: int) -> int:
    """A C int assignment."""
    return (value + 2**31) % 2**32 - 2**31


@dataclass
class Node:
    id: int
    route: str
    balancer: str = "mycluster"
    domain: str = ""
    host: str = "localhost"
    port: str = "8009"
    type: str = "ajp"
    reversed: bool = False
    flushpackets: int = 0
    flushwait_us: int = 10_000
    ping_us: int = 10_000_000
    smax: int = -1
    ttl_us: int = 60_000_000
    timeout_us: int = 0
    load: int = 0
    removed: bool = False  # REMOVE-APP /* (or 1.3.x's rename): lingers until httpd forgets it

    def same_worker(self, other: Node) -> bool:
        """is_same_node: the fields that make a different proxy worker."""
        keys = ("balancer", "host", "port", "type", "reversed", "smax", "ttl_us")
        return all(getattr(self, k) == getattr(other, k) for k in keys)

    def shown(self) -> dict[str, Any]:
        """The node's fields as INFO and DUMP print them."""
        return {
            "balancer": self.balancer,
            "lbgroup": self.domain,
            "host": self.host,
            "port": self.port,
            "type": self.type,
            "flushpackets": FLUSH_WORDS.get(self.flushpackets, "Off"),
            "flushwait": int(wrap32(self.flushwait_us) / 1000),
            "ping": seconds(self.ping_us),
            "smax": self.smax,
            "ttl": seconds(self.ttl_us),
            "timeout": seconds(self.timeout_us),
            "load": self.load,
        }


@dataclass
class Host:
    id: int
    alias: str
    vhost: int
    node: int


@dataclass
class Context:
    id: int
    path: str
    vhost: int
    node: int
    status: int


@dataclass
class Balancer:
    name: str
    sticky: bool = True
    cookie: str = "JSESSIONID"
    path: str = "jsessionid"
    remove: bool = False
    force: bool = True
    timeout_us: int = 0
    max_attempts: int = 1

    def shown(self) -> dict[str, Any]:
        return {
            "sticky": self.sticky,
            "cookie": self.cookie,
            "path": self.path,
            "remove": self.remove,
            "force": self.force,
            "timeout": seconds(wrap32(self.timeout_us)),
            "max_attempts": self.max_attempts,
        }


class Slots:
    """Slot ids of one table: "lowest" free first (2.x, httpd's slotmem_shm) or "lifo" (1.3.x's
    cluster_slotmem: the last id freed is the next one given)."""

    def __init__(self, size: int, first: int, policy: str) -> None:
        self.free = list(range(first, first + size))
        self.policy = policy

    def grab(self) -> int | None:
        return self.free.pop(0) if self.free else None

    def release(self, slot: int) -> None:
        if self.policy == "lowest":
            self.free = sorted({*self.free, slot})
        else:
            self.free.insert(0, slot)


@dataclass
class Tables:
    """`exact_slots`: the slot ids are known (the model saw every message); otherwise a lookup whose answer
    depends on slot order (two rows for one alias of a node) is Undefined."""

    first_id: int
    policy: str
    max_node: int
    max_host: int
    max_context: int
    exact_slots: bool = True
    nodes: dict[int, Node] = field(default_factory=dict)
    hosts: dict[int, Host] = field(default_factory=dict)
    contexts: dict[int, Context] = field(default_factory=dict)
    balancers: dict[str, Balancer] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.node_slots = Slots(self.max_node, self.first_id, self.policy)
        self.host_slots = Slots(self.max_host, self.first_id, self.policy)
        self.context_slots = Slots(self.max_context, self.first_id, self.policy)

    # --- nodes
    def node_by_route(self, route: str) -> Node | None:
        return next((self.nodes[i] for i in sorted(self.nodes) if self.nodes[i].route == route), None)

    def add_node(self, node: Node) -> Node | None:
        slot = self.node_slots.grab()
        if slot is None:
            return None
        self.nodes[slot] = replace(node, id=slot)
        return self.nodes[slot]

    def drop_node_rows(self, node_id: int) -> None:
        for host in [h for h in self.hosts.values() if h.node == node_id]:
            self.remove_host(host.id)
        for context in [c for c in self.contexts.values() if c.node == node_id]:
            self.remove_context(context.id)

    # --- hosts
    def find_host(self, alias: str, node: int) -> Host | None:
        """read_host: the first row (slot order) for this alias of the node, whatever its vhost."""
        found = [h for _i, h in sorted(self.hosts.items()) if h.alias == alias and h.node == node]
        if len({h.vhost for h in found}) > 1 and not self.exact_slots:
            raise Undefined(
                f"alias {alias!r} is in vhosts {sorted(h.vhost for h in found)} of one node: which one a command "
                "names depends on slot order, unknown on a shared balancer"
            )
        return found[0] if found else None

    def upsert_host(self, alias: str, vhost: int, node: int) -> Host | None:
        for host in self.hosts.values():
            if (host.alias, host.vhost, host.node) == (alias, vhost, node):
                return host
        slot = self.host_slots.grab()
        if slot is None:
            return None
        self.hosts[slot] = Host(slot, alias, vhost, node)
        return self.hosts[slot]

    def remove_host(self, host_id: int) -> None:
        if self.hosts.pop(host_id, None) is not None:
            self.host_slots.release(host_id)

    def max_vhost(self, node: int) -> int:
        return max((h.vhost for h in self.hosts.values() if h.node == node), default=0)

    # --- contexts
    def upsert_context(self, path: str, vhost: int, node: int, status: int) -> bool:
        for context in self.contexts.values():
            if (context.path, context.vhost, context.node) == (path, vhost, node):
                context.status = status
                return True
        slot = self.context_slots.grab()
        if slot is None:
            return False
        self.contexts[slot] = Context(slot, path, vhost, node, status)
        return True

    def find_context(self, path: str, vhost: int, node: int) -> Context | None:
        return next((c for c in self.contexts.values() if (c.path, c.vhost, c.node) == (path, vhost, node)), None)

    def remove_context(self, context_id: int) -> None:
        if self.contexts.pop(context_id, None) is not None:
            self.context_slots.release(context_id)

    def node_command(self, node: Node, status: int) -> None:
        """ENABLE/DISABLE/STOP/REMOVE-APP /*: every context under each host row of the node; REMOVE also drops
        the host rows and marks the node removed (process_node_cmd)."""
        for host in sorted(self.hosts.values(), key=lambda h: h.id):
            if host.node != node.id or host.id not in self.hosts:
                continue
            for context in [c for c in self.contexts.values() if (c.vhost, c.node) == (host.vhost, host.node)]:
                if status == REMOVE:
                    self.remove_context(context.id)
                else:
                    context.status = status
            if status == REMOVE:
                self.remove_host(host.id)
        if status == REMOVE:
            node.removed = True

    # --- the expected INFO/DUMP content
    def vhosts_of(self, node_id: int) -> dict[int, dict[str, Any]]:
        vhosts: dict[int, dict[str, Any]] = {}
        for host in self.hosts.values():
            if host.node == node_id:
                vhosts.setdefault(host.vhost, {"aliases": set(), "contexts": set()})["aliases"].add(host.alias)
        for context in self.contexts.values():
            if context.node == node_id:
                entry = vhosts.setdefault(context.vhost, {"aliases": set(), "contexts": set()})
                entry["contexts"].add((context.path, STATUS_WORDS.get(context.status, "REMOVED")))
        return vhosts
