"""Faults as scoped blocks: apply on entry, heal on exit, and record a timestamped window.

    with inject(cluster, Kill("node1")) as window:
        ...                      # load keeps running; the window is open
    # healed here; the cluster was healthy before the fault and is healthy again after it

Health is checked before and after each fault (a fault injected into an unhealthy cluster tests nothing).
A fault that a target's flavor does not declare it takes is refused with `FlavorRefused` before anything is
applied (scenarios turn it into a skip with the reason).
Faults that only some flavors take (a sim node's own, NODE_PROGRAM_FAULTS) go to the node's
`apply_fault()`, which returns the heal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from harness.descriptions.faults import (
    BALANCER,
    NODE_PROGRAM_FAULTS,
    AdvertiseBlocked,
    BalancerRestart,
    FaultSpec,
    Kill,
    NodeFault,
    Partition,
    Pause,
    Remove,
    Stop,
)
from harness.flavors import registry
from harness.judge.history import FaultWindow
from harness.machinery.containers import exec_in, wrapped
from harness.machinery.contracts import Heal
from harness.run.cluster import Cluster


class FaultFailed(RuntimeError):
    """Applying or healing a fault failed (the message says which command and why)."""


@contextmanager
def inject(
    cluster: Cluster,
    fault: FaultSpec,
    *,
    wait_for_healthy: bool = True,
    heal_timeout: float = 90.0,
    wait_after: Callable[[], bool] | None = None,
) -> Iterator[FaultWindow]:
    """Apply `fault`, yield its open window, heal it on exit (also on error), close the window.

    `wait_for_healthy`: the cluster must be healthy before and after. `wait_after` (when given) decides at
    heal time whether to wait after, e.g. only when no other fault is still active (overlapping faults)."""
    registry.validate_fault(cluster.topology, fault)
    if wait_for_healthy:
        cluster.wait_for_healthy(label=f"before {fault.describe()}")
    else:
        cluster.record_state(f"before {fault.describe()}")
    window = cluster.open_window(fault.kind, fault.targets() or (BALANCER,), fault.describe())
    heal: Heal = lambda: None  # noqa: E731 - nothing to undo if applying failed early
    try:
        heal = apply(cluster, fault)  # the window opens first: a graceful stop acts while it is applied
        yield window
    finally:
        cluster.record_state(f"during {fault.describe()}")
        try:
            heal()
        finally:
            cluster.close_window(window)
    if wait_for_healthy if wait_after is None else wait_after():
        cluster.wait_for_healthy(timeout=heal_timeout, label=f"after {fault.describe()}")


def apply(cluster: Cluster, fault: FaultSpec) -> Heal:
    """Break something now; return the undo."""
    for kind, handler in _HANDLERS:
        if isinstance(fault, kind):
            return handler(cluster, fault)
    if isinstance(fault, NodeFault) and fault.kind in NODE_PROGRAM_FAULTS:
        return cluster.get_node(fault.node).apply_fault(fault)  # its flavor declared it takes the kind
    raise FaultFailed(f"no handler for fault {fault.describe()}")


def _kill(cluster: Cluster, fault: Kill) -> Heal:
    node = cluster.get_node(fault.node)
    node.kill()
    return node.start


def _stop(cluster: Cluster, fault: Stop) -> Heal:
    node = cluster.get_node(fault.node)
    node.stop(fault.timeout_s)
    return node.start


def _pause(cluster: Cluster, fault: Pause) -> Heal:
    container = wrapped(cluster.get_node(fault.node).container)
    container.pause()
    return container.unpause  # type: ignore[no-any-return]


def _remove(cluster: Cluster, fault: Remove) -> Heal:
    node = cluster.get_node(fault.node)
    ip = cluster.addresses[fault.node]
    wrapped(node.container).remove(force=True, v=True)

    def recreate() -> None:
        cluster.start_node(node.spec, ipv4=ip)

    return recreate


def _container_of(cluster: Cluster, name: str) -> object:
    if name == BALANCER:
        return cluster.get_balancer().container
    return cluster.get_node(name).container


def _ip_of(cluster: Cluster, name: str) -> str:
    if name == BALANCER:
        return cluster.get_balancer().ip
    return cluster.addresses[name]


def _partition(cluster: Cluster, fault: Partition) -> Heal:
    if fault.mode == "disconnect":
        return _disconnect(cluster, fault.a)
    return _iptables_drop(cluster, fault.a, _ip_of(cluster, fault.b))


def _disconnect(cluster: Cluster, name: str) -> Heal:
    """Cut `name` off the topology network; heal reconnects it with the same address and alias."""
    container = wrapped(_container_of(cluster, name))
    ip = _ip_of(cluster, name)
    cluster.network.disconnect(container, force=True)

    def reconnect() -> None:
        cluster.network.connect(container, aliases=[name], ipv4_address=ip)

    return reconnect


def _iptables(container: object, action: str, rule: list[str]) -> None:
    code, output = exec_in(container, ["iptables", action, *rule])
    if code != 0:
        raise FaultFailed(
            f"iptables {action} {' '.join(rule)} failed ({code}): {output.strip()} "
            "(the image needs iptables and the container NET_ADMIN)"
        )


def _iptables_drop(cluster: Cluster, name: str, peer_ip: str) -> Heal:
    container = _container_of(cluster, name)
    rules = [["INPUT", "-s", peer_ip, "-j", "DROP"], ["OUTPUT", "-d", peer_ip, "-j", "DROP"]]
    for rule in rules:
        _iptables(container, "-I", rule)

    def heal() -> None:
        for rule in rules:
            _iptables(container, "-D", rule)

    return heal


def _advertise_blocked(cluster: Cluster, fault: AdvertiseBlocked) -> Heal:
    container = _container_of(cluster, BALANCER)
    rule = ["OUTPUT", "-p", "udp", "-d", "224.0.0.0/4", "-j", "DROP"]
    _iptables(container, "-I", rule)
    return lambda: _iptables(container, "-D", rule)


def _balancer_restart(cluster: Cluster, fault: BalancerRestart) -> Heal:
    cluster.get_balancer().restart(graceful=fault.graceful)

    def nodes_back() -> None:
        """The window lasts until every node is back in the balancer's table (a hard restart loses it)."""
        cluster.wait_ready(timeout=90)

    return nodes_back


_HANDLERS: list[tuple[type, Callable[..., Heal]]] = [
    (Kill, _kill),
    (Stop, _stop),
    (Pause, _pause),
    (Remove, _remove),
    (Partition, _partition),
    (AdvertiseBlocked, _advertise_blocked),
    (BalancerRestart, _balancer_restart),
]
