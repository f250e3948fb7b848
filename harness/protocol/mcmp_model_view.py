"""INFO and DUMP as the MCMP model's data, and the difference between what the model expects and what the
balancer shows (`compare`): a list of readable lines, empty when they agree. Pure, standard library only.

Only the nodes whose host:port the model has seen in a CONFIG are compared, so several tests (or several
hypothesis examples) can share one balancer, each on its own ports. Ids are not compared (they depend on
every registration the balancer has seen); the grouping is: node (by JVMRoute) -> vhost number -> aliases
and contexts with their states.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from harness.protocol.balancer_info import BalancerInfo, InfoNode
from harness.protocol.mcmp import McmpResponse
from harness.protocol.mcmp_model_types import Prediction, Reply

INFO_FIELDS = (
    "balancer",
    "lbgroup",
    "host",
    "port",
    "type",
    "flushpackets",
    "flushwait",
    "ping",
    "smax",
    "ttl",
    "load",
)
DUMP_FIELDS = (*INFO_FIELDS[:-1], "timeout")


def _port(node: InfoNode) -> str:
    raw = next((v for k, v in node.fields.items() if k.lower() == "port"), None)
    return raw if raw is not None else str(node.port)


def observed(info: BalancerInfo, fields: tuple[str, ...], endpoints: Iterable[tuple[str, str]]) -> list[dict[str, Any]]:
    """The nodes of one INFO or DUMP reply at `endpoints`, as model data (with `name` and `vhosts`)."""
    wanted = set(endpoints)
    out = []
    for node in info.nodes:
        if (node.host, _port(node)) not in wanted:
            continue
        shown: dict[str, Any] = {"name": node.name}
        for name in fields:
            shown[name] = _port(node) if name == "port" else getattr(node, name)
        vhosts: dict[int, dict[str, Any]] = {}
        for host in info.hosts:
            if host.node == node.id:
                vhosts.setdefault(host.vhost, {"aliases": [], "contexts": []})["aliases"].append(host.alias)
        for context in info.contexts:
            if context.node == node.id:
                entry = vhosts.setdefault(context.vhost, {"aliases": [], "contexts": []})
                entry["contexts"].append(f"{context.path}={context.status}")
        shown["vhosts"] = {v: {k: sorted(items) for k, items in e.items()} for v, e in vhosts.items()}
        out.append(shown)
    return out


def compare(
    expected: dict[str, Any],
    info: BalancerInfo,
    what: str,
    fields: tuple[str, ...],
    endpoints: Iterable[tuple[str, str]],
    *,
    load_may_be_zero: bool = False,
) -> list[str]:
    """Differences between the model's `view()` and one parsed INFO or DUMP reply (`what` names it).

    `load_may_be_zero`: INFO answered by an httpd child that has no proxy worker for a node yet shows zeros
    (several children and no time to settle, as in a recorded battery)."""
    seen = observed(info, fields, endpoints)
    problems: list[str] = []
    required: dict[str, dict[str, Any]] = expected["nodes"]
    by_name: dict[str, list[dict[str, Any]]] = {}
    for node in seen:
        by_name.setdefault(node["name"], []).append(node)
    for name, want in required.items():
        got = by_name.get(name, [])
        if not got:
            problems.append(f"{what}: node {name} missing (expected at {want['host']}:{want['port']})")
            continue
        if len(got) > 1:
            problems.append(f"{what}: node {name} shown {len(got)} times")
        node = got.pop(0)
        for key in fields:
            if want[key] is None or (key == "load" and load_may_be_zero and node[key] == 0):
                continue  # not predicted
            if node[key] != want[key]:
                problems.append(f"{what}: node {name} {key}: expected {want[key]!r}, got {node[key]!r}")
        problems += _vhost_diff(what, name, want["vhosts"], node["vhosts"])
    for node in [n for nodes in by_name.values() for n in nodes]:  # what the required nodes left
        match = next(
            (
                linger
                for linger in expected["lingering"]
                if (linger["host"], linger["port"]) == (node["host"], node["port"]) and node["name"] in linger["names"]
            ),
            None,
        )
        if match is None:
            problems.append(f"{what}: unexpected node {node['name']} at {node['host']}:{node['port']}")
        elif node["vhosts"]:
            problems.append(f"{what}: removed node {node['name']} still has {node['vhosts']}")
    return problems


def _vhost_diff(what: str, name: str, want: dict[int, Any], got: dict[int, Any]) -> list[str]:
    problems = []
    for vid in sorted(set(want) | set(got)):
        w = want.get(vid, {"aliases": [], "contexts": []})
        g = got.get(vid, {"aliases": [], "contexts": []})
        for key in ("aliases", "contexts"):
            if w[key] != g[key]:
                problems.append(f"{what}: node {name} vhost {vid} {key}: expected {w[key]}, got {g[key]}")
    return problems


def compare_balancers(expected: dict[str, Any], dump: BalancerInfo) -> list[str]:
    """Differences in the balancer records the model knows (DUMP only)."""
    problems = []
    for name, want in expected["balancers"].items():
        found = dump.balancer(name)
        if found is None:
            problems.append(f"DUMP: balancer {name} missing")
            continue
        got = {
            "sticky": found.sticky,
            "cookie": found.cookie,
            "path": found.path,
            "remove": found.remove,
            "force": found.force,
            "timeout": found.timeout,
            "max_attempts": found.max_attempts,
        }
        for key, value in want.items():
            if got[key] != value:
                problems.append(f"DUMP: balancer {name} {key}: expected {value!r}, got {got[key]!r}")
    return problems


def reply_matches(expected: Reply, got: McmpResponse | None, *, either_state: bool = False) -> bool:
    """Whether `got` (None: no reply) is the reply `expected`: status; Type and Mess for errors; the body where
    the model fixes it ("{id}" matches any integer). `either_state`: State=OK and State=NOTOK both match."""
    if got is None:
        return expected.status == 0
    if expected.status != got.status:
        return False
    if expected.status >= 400:
        return (got.header("Type"), got.header("Mess")) == (expected.error_type, expected.message)
    if expected.body is None:
        return True
    pattern = re.escape(expected.body).replace(re.escape("{id}"), "-?[0-9]+")
    if either_state:
        pattern = re.sub(r"State=(?:NOT)?OK", "State=(?:OK|NOTOK)", pattern)
    return re.fullmatch(pattern, got.body) is not None


def reply_problems(prediction: Prediction, got: McmpResponse | None, *, lenient_state: bool = False) -> list[str]:
    """[] when `got` is one of the predicted replies, else one line saying what was expected and seen.
    `lenient_state`: a lagging answer (Prediction.settles) may show either State (several children)."""
    either = lenient_state and prediction.settles
    if any(reply_matches(r, got, either_state=either) for r in prediction.replies):
        return []
    if got is None:
        seen = "no reply (connection closed)"
    else:
        seen = f"{got.status} Type={got.header('Type')} Mess={got.header('Mess')!r} body={got.body[:200]!r}"
    return [f"reply: expected {prediction.describe()}; got {seen}"]
