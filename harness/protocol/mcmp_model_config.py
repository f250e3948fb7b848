"""CONFIG in the MCMP model: the node and balancer a CONFIG describes, checked and stored as each line does
(process_config of mod_manager.c, 1.3.x and 2.x). Pure; used by `mcmp_model`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from harness.protocol import mcmp_model_lines as msg
from harness.protocol.mcmp_model_body import Body, atoi, boolean, split_list, timeout_us
from harness.protocol.mcmp_model_lines import LineRules
from harness.protocol.mcmp_model_state import STOPPED, Balancer, Node, Tables, wrap32
from harness.protocol.mcmp_model_types import ModelConfig, Prediction, Undefined, mem, one, syntax


class Refused(Exception):
    """A CONFIG refused while reading its fields (the prediction is the reply)."""

    def __init__(self, prediction: Prediction) -> None:
        super().__init__(prediction.describe())
        self.prediction = prediction


@dataclass
class Described:
    node: Node
    balancer: Balancer
    vhosts: list[tuple[list[str], list[str]]] = field(default_factory=list)  # (aliases, contexts) per vhost
    aliases: list[str] = field(default_factory=list)  # 2.x: flat lists
    contexts: list[str] = field(default_factory=list)


def _limited(value: str, size: int, message: str) -> str:
    if len(value) >= size:
        raise Refused(syntax(message))
    return value


def strip_zone(host: str) -> str:
    # "Removes %zone from an address": [fe80::1%eth0] -> [fe80::1]
    if not host.startswith("["):
        return host
    out, dropping = [], False
    for ch in host:
        if (ch == "%" or dropping) and ch != "]":
            dropping = True
        else:
            out.append(ch)
    return "".join(out)


def _timeout(rules: LineRules, value: str, unit: str, message: str) -> int:
    if rules.timeouts == "atoi":
        return atoi(value) * (1000 if unit == "ms" else 1_000_000)
    parsed = timeout_us(value, unit)
    if parsed is None:
        raise Refused(syntax(message))
    return parsed


def _flag(rules: LineRules, value: str, word: str, current: bool) -> bool:
    found = boolean(value, rules.booleans, word)
    return current if found is None else found


def _balancer_key(rules: LineRules, key: str, value: str, d: Described) -> None:
    bal, node = d.balancer, d.node
    if key == "balancer":
        node.balancer = bal.name = _limited(value, rules.balancer_size, msg.SBALBIG).lower()
    elif key == "stickysession":
        bal.sticky = _flag(rules, value, "no", bal.sticky)
    elif key in ("stickysessioncookie", "stickysessionpath"):
        setattr(bal, "cookie" if key.endswith("cookie") else "path", _limited(value, rules.cookie_size, msg.SBAFBIG))
    elif key == "stickysessionremove":
        bal.remove = _flag(rules, value, "yes", bal.remove)
    elif key == "stickysessionforce":
        bal.force = _flag(rules, value, "no", bal.force)
    elif key == "waitworker":
        bal.timeout_us = wrap32(atoi(value) * 1_000_000)
    elif key == "maxattempts":
        bal.max_attempts = atoi(value)


def _node_key(rules: LineRules, key: str, value: str, node: Node) -> None:
    sizes = {"jvmroute": (rules.route_size, msg.SROUBIG, "route"), "domain": (rules.domain_size, msg.SDOMBIG, "domain")}
    sizes |= {"host": (rules.host_size, msg.SHOSBIG, "host"), "port": (rules.port_size, msg.SPORBIG, "port")}
    sizes |= {"type": (rules.type_size, msg.STYPBIG, "type")}
    if key in sizes:
        size, message, attr = sizes[key]
        _limited(value, size, message)
        setattr(node, attr, strip_zone(value) if key == "host" else value)
    elif key == "reversed":
        node.reversed = _flag(rules, value, "yes", node.reversed)
    elif key == "flushpackets":
        on = boolean(value, rules.booleans, "on")
        node.flushpackets = 2 if value.lower() == "auto" else node.flushpackets if on is None else int(on)
    elif key == "flushwait":
        node.flushwait_us = wrap32(_timeout(rules, value, "ms", msg.SFLUBAD))
    elif key == "ping":
        node.ping_us = _timeout(rules, value, "s", msg.SPNGBAD)
    elif key == "smax":
        node.smax = atoi(value)
    elif key == "ttl":
        node.ttl_us = _timeout(rules, value, "s", msg.STTLBAD)
    elif key == "timeout":
        node.timeout_us = _timeout(rules, value, "s", msg.STIMBAD)


def _list_2x(rules: LineRules, key: str, value: str, body: Body, index: int, literal: bool, d: Described) -> None:
    size = rules.alias_size if key == "alias" else rules.context_size
    tail = body.tail(index) if literal else None
    parts = split_list(value, size, tail=tail, lower=key == "alias")
    if parts == "big":
        raise Refused(syntax(msg.SALIBIG if key == "alias" else msg.SCONBIG))
    if parts == "empty":
        raise Refused(syntax(msg.EMPTY_ALIAS if key == "alias" else msg.EMPTY_CONTEXT))
    assert isinstance(parts, list)
    (d.aliases if key == "alias" else d.contexts).extend(parts)


def _pair_13(key: str, value: str, d: Described) -> None:
    # the cluster_host list of 1.3.x: an Alias opens a vhost entry, a Context completes it
    if not d.vhosts:
        d.vhosts.append(([], []))
    aliases, contexts = d.vhosts[-1]
    if key == "alias":
        if aliases and not contexts:
            raise Refused(syntax(msg.SALIBAD))
        if aliases:
            d.vhosts.append(([value], []))
        else:
            aliases.append(value)
    elif key == "context":
        if contexts:
            raise Refused(syntax(msg.SCONBAD))
        contexts.append(value)


def describe(rules: LineRules, config: ModelConfig, body: Body, bugs: frozenset[str]) -> Described:
    """The node and balancer of a CONFIG body, or Refused with the reply."""
    name = config.balancer_name.lower()
    d = Described(Node(-1, "", balancer=name), Balancer(name))
    literal = msg.BUG_LIST_SKIPS_AFTER_COMMA in bugs
    for raw_key, value, index in body.pairs():
        if rules.body == "split" and not value:
            raise Refused(syntax(msg.SMESPAR))  # 2.x: every key needs a value
        value = value or ""
        key = raw_key.lower()
        _balancer_key(rules, key, value, d)
        _node_key(rules, key, value, d.node)
        if key in ("alias", "context"):
            if rules.config_lists == "per_alias":
                _list_2x(rules, key, value, body, index, literal, d)
            else:
                _pair_13(key, value, d)
    if not d.node.route:
        raise Refused(syntax(msg.SROUBAD))
    if rules.config_lists == "per_alias":
        if d.aliases and not d.contexts:
            raise Refused(syntax(msg.SALIBAD))
        if d.contexts and not d.aliases:
            raise Refused(syntax(msg.SCONBAD))
        d.vhosts = [([alias], list(d.contexts)) for alias in d.aliases]
    return d


def _same_worker_exists(rules: LineRules, tables: Tables, new: Node) -> bool:
    """is_same_worker_existing: the first node (slot order) describing the same worker decides."""
    answers = []
    for slot in sorted(tables.nodes):
        other = tables.nodes[slot]
        if other.same_worker(new):
            free = other.route == new.route or (
                other.removed and (rules.removed_frees_worker or other.route == "REMOVED")
            )
            answers.append(not free)
    if len(set(answers)) > 1 and not tables.exact_slots:
        raise Undefined("several nodes describe this worker: the first in slot order decides, unknown here")
    return answers[0] if answers else False


def apply_config(rules: LineRules, config: ModelConfig, tables: Tables, body: Body, bugs: frozenset[str]) -> Prediction:
    try:
        d = describe(rules, config, body, bugs)
    except Refused as refused:
        return refused.prediction
    new = d.node
    if rules.balancer_first:  # 1.3.x writes the balancer before checking the node
        tables.balancers[d.balancer.name] = d.balancer
    existing = tables.node_by_route(new.route)
    if existing is not None and not existing.same_worker(new):
        if rules.changed_node == "rename":  # 1.3.x: the old node is renamed REMOVED and forgotten later
            older = tables.node_by_route("REMOVED")
            if msg.BUG_RENAME_HITS_OLDER_REMOVED in bugs:
                if not config.sole_user:  # an older REMOVED node of someone else may be hit
                    raise Undefined(msg.BUGS[msg.BUG_RENAME_HITS_OLDER_REMOVED] + " (balancer shared)")
                if older is not None and older.id < existing.id:
                    raise Undefined(msg.BUGS[msg.BUG_RENAME_HITS_OLDER_REMOVED], intended_fails=True)
            existing.route, existing.removed = "REMOVED", True
            tables.drop_node_rows(existing.id)
            return mem(msg.MNODERM.format("REMOVED"))
        return mem(msg.MNODEEX.format(existing.route))
    if _same_worker_exists(rules, tables, new):
        return mem(msg.MNODEET)
    if existing is None and msg.BUG_SAME_ENDPOINT_OVERWRITE in bugs:
        victim = next((n for n in tables.nodes.values() if (n.host, n.port) == (new.host, new.port)), None)
        if victim is not None and (victim.type, victim.balancer) == (new.type, new.balancer):
            # another smax/ttl/Reversed on the same worker: refused once the serving child has made the first
            # node's proxy worker (MNODEET), its slot taken before that
            raise Undefined(msg.BUGS[msg.BUG_SAME_ENDPOINT_OVERWRITE] + " (same Type: depends on the worker)")
    before = tables.balancers.get(d.balancer.name)
    tables.balancers[d.balancer.name] = d.balancer
    node = _store_node(tables, existing, new, bugs)
    if node is None:
        if before is not None and not rules.balancer_first:
            tables.balancers[d.balancer.name] = before  # 2.x restores the balancer it had
        return mem(msg.MNODEUI.format(new.route))
    if rules.config_lists == "pairs" and (not d.vhosts or d.vhosts[0] == ([], [])):
        return one(200, body="")
    for vid, (aliases, contexts) in enumerate(d.vhosts, start=1):
        _store_vhost(rules, tables, node.id, vid, aliases or [""], contexts or ["/"])
    return one(200, body="")


def _store_node(tables: Tables, existing: Node | None, new: Node, bugs: frozenset[str]) -> Node | None:
    if existing is not None:  # update in place: id, load and the proxy worker stay
        kept = replace(new, id=existing.id, load=existing.load, removed=False)
        tables.nodes[existing.id] = kept
        return kept
    if msg.BUG_SAME_ENDPOINT_OVERWRITE in bugs:
        victim = next((n for n in tables.nodes.values() if (n.host, n.port) == (new.host, new.port)), None)
        if victim is not None and (victim.type, victim.balancer) != (
            new.type,
            new.balancer,
        ):  # find_node_byhostport: the new node is written into the other node's slot
            tables.nodes[victim.id] = replace(new, id=victim.id, load=victim.load)
            return tables.nodes[victim.id]
    return tables.add_node(new)


def _store_vhost(
    rules: LineRules, tables: Tables, node: int, vid: int, aliases: list[str], contexts: list[str]
) -> None:
    for alias in aliases:
        for part in alias.split(",") if rules.config_lists == "pairs" else [alias]:
            tables.upsert_host(part[: rules.alias_keep], vid, node)
    for context in contexts:
        for part in context.split(",") if rules.config_lists == "pairs" else [context]:
            tables.upsert_context(part[: rules.context_keep], vid, node, STOPPED)
