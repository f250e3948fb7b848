"""ENABLE-APP, DISABLE-APP, STOP-APP and REMOVE-APP in the MCMP model, for one context list on the node's
virtual hosts or node-wide (`/*`), as each line does it (process_app_cmd / process_appl_cmd). Pure.
"""

from __future__ import annotations

from harness.protocol import mcmp_model_lines as msg
from harness.protocol.mcmp_model_body import Body, split_list
from harness.protocol.mcmp_model_lines import LineRules
from harness.protocol.mcmp_model_state import DISABLED, ENABLED, REMOVE, STOPPED, Node, Tables
from harness.protocol.mcmp_model_types import Prediction, Undefined, mem, one, syntax

STATUS_OF = {"ENABLE-APP": ENABLED, "DISABLE-APP": DISABLED, "STOP-APP": STOPPED, "REMOVE-APP": REMOVE}
REPLY_TYPE = {ENABLED: "ENABLE-APP-RSP", DISABLED: "DISABLE-APP-RSP", STOPPED: "STOP-APP-RSP", REMOVE: "REMOVE-APP-RSP"}
CRASH = one(0)


def apply_app(
    rules: LineRules, tables: Tables, body: Body, status: int, wildcard: bool, bugs: frozenset[str]
) -> Prediction:
    if rules.app_vhost == "per_alias":
        return _app_2x(rules, tables, body, status, wildcard, bugs)
    return _app_13(rules, tables, body, status, wildcard, bugs)


def _lists_2x(rules: LineRules, body: Body, bugs: frozenset[str]) -> tuple[str, list[str], list[str]] | Prediction:
    route, aliases, contexts = "", list[str](), list[str]()
    literal = msg.BUG_LIST_SKIPS_AFTER_COMMA in bugs
    for raw_key, value, index in body.pairs():
        key = raw_key.lower()
        if key in ("jvmroute", "alias", "context") and value is None:
            return CRASH if msg.BUG_MISSING_VALUE_CRASH in bugs else syntax(msg.SMESPAR)
        if value is None:
            raise Undefined(f"{raw_key!r} without a value: mod_manager reads past the last parameter")
        if key == "jvmroute":
            if len(value) >= rules.route_size:
                return syntax(msg.SROUBIG)
            route = value
        elif key in ("alias", "context"):
            size = rules.alias_size if key == "alias" else rules.context_size
            parts = split_list(value, size, tail=body.tail(index) if literal else None, lower=key == "alias")
            if isinstance(parts, str):
                big, empty = (msg.SALIBIG, msg.EMPTY_ALIAS) if key == "alias" else (msg.SCONBIG, msg.EMPTY_CONTEXT)
                return syntax(big if parts == "big" else empty)
            (aliases if key == "alias" else contexts).extend(parts)
    return route, aliases, contexts


def _app_2x(
    rules: LineRules, tables: Tables, body: Body, status: int, wildcard: bool, bugs: frozenset[str]
) -> Prediction:
    parsed = _lists_2x(rules, body, bugs)
    if isinstance(parsed, Prediction):
        return parsed
    route, aliases, contexts = parsed
    if not route:
        return syntax(msg.SROUBAD)
    if not wildcard:
        if not contexts and not aliases:
            return syntax(msg.NOCONAL)
        if not contexts:
            return syntax(msg.SALIBAD)
        if not aliases:
            return syntax(msg.SCONBAD)
    node = tables.node_by_route(route)
    if node is None or node.removed:
        return mem(msg.MNODERD.format(route))
    if wildcard:
        tables.node_command(node, status)
        return one(200, body="")
    touched: dict[int, list[str]] = {}
    vid = 0
    for j, alias in enumerate(aliases):
        host = tables.find_host(alias[: rules.alias_keep], node.id)
        if host is None:
            if status == REMOVE:
                continue
            vid = max(vid, tables.max_vhost(node.id)) + 1
            host = tables.upsert_host(alias[: rules.alias_keep], vid, node.id)
            if host is None:
                continue
        for context in contexts:
            if status == REMOVE:
                found = tables.find_context(context, host.vhost, node.id)
                if found is not None:
                    tables.remove_context(found.id)
                done = True
            else:
                done = tables.upsert_context(context[: rules.context_keep], host.vhost, node.id, status)
            if done:
                touched.setdefault(j, []).append(context)
        if status == REMOVE:
            _drop_vhost_if_empty(tables, node, host.vhost)
    text = f"Type={REPLY_TYPE[status]}\nJvmRoute={route}"
    for j, alias in enumerate(aliases):
        if touched.get(j):
            text += f"\nAlias={alias} Contexts={','.join(touched[j])}\n"
    return one(200, body=text + "\n")


def _drop_vhost_if_empty(tables: Tables, node: Node, vhost: int) -> None:
    if not any((c.vhost, c.node) == (vhost, node.id) for c in tables.contexts.values()):
        for host in [h for h in tables.hosts.values() if (h.vhost, h.node) == (vhost, node.id)]:
            tables.remove_host(host.id)


def _pair_13(rules: LineRules, body: Body) -> tuple[str, str | None, str | None] | Prediction:
    route, alias, context = "", None, None
    for raw_key, value, _index in body.pairs():
        key, value = raw_key.lower(), value or ""
        if key == "jvmroute":
            if len(value) >= rules.route_size:
                return syntax(msg.SROUBIG)
            route = value
        elif key == "alias":
            if alias is not None:
                return syntax(msg.SMULALB)
            alias = value.lower()
        elif key == "context":
            if context is not None:
                return syntax(msg.SMULCTB)
            context = value
    return route, alias, context


def _app_13(
    rules: LineRules, tables: Tables, body: Body, status: int, wildcard: bool, bugs: frozenset[str]
) -> Prediction:
    parsed = _pair_13(rules, body)
    if isinstance(parsed, Prediction):
        return parsed
    route, alias, context = parsed
    if not route:
        return syntax(msg.SROUBAD)
    if context is None and alias is not None:
        return syntax(msg.SALIBAD)
    if alias is None and context is not None:
        return syntax(msg.SCONBAD)
    node = tables.node_by_route(route)
    if node is None or node.removed:
        if status == REMOVE and rules.remove_unknown_ok:
            return one(200, body="")
        return mem(msg.MNODERD.format(route if node is None else node.route))
    if wildcard:
        tables.node_command(node, status)
        return one(200, body="")
    aliases = (alias or "").split(",")
    contexts = context.split(",") if context is not None else ["/"]  # no Context: "/" (insert_update_contexts)
    first = aliases[0][: rules.alias_keep]
    host = tables.find_host(first, node.id)
    created = host is None
    if host is None:
        if status == REMOVE:
            return one(200, body="")
        vid = tables.max_vhost(node.id) + 1
        for each in aliases:
            if tables.upsert_host(each[: rules.alias_keep], vid, node.id) is None:
                return mem(msg.MHOSTUI.format(route))
        host = tables.find_host(first, node.id)
        assert host is not None
    crash = msg.BUG_NULL_CONTEXT_CRASH in bugs and context is None
    if crash and status == ENABLED and tables.contexts:
        return CRASH  # strcmp(existing context, NULL) while looking for the context on another balancer
    for each in contexts:
        path = each[: rules.context_keep]
        found = tables.find_context(path, host.vhost, node.id)
        if status == REMOVE:
            if found is not None:
                tables.remove_context(found.id)
        else:
            tables.upsert_context(path, host.vhost, node.id, status)
    for each in aliases if not created else []:
        tables.upsert_host(each[: rules.alias_keep], host.vhost, node.id)
    if status == REMOVE:
        _drop_vhost_if_empty(tables, node, host.vhost)
    if crash and status == STOPPED:
        return CRASH  # strncpy from the NULL Context to read its request count, after the updates
    if status == STOPPED and tables.find_context(contexts[0][: rules.context_keep], host.vhost, node.id):
        width = 8 if msg.BUG_STOP_REPLY_WIDTH in bugs else None
        shown_alias, shown_context = aliases[0][:width], contexts[0][:width]
        text = f"Type=STOP-APP-RSP&JvmRoute={route}&Alias={shown_alias}&Context={shown_context}&Requests=0\n"
        return one(200, body=text)
    return one(200, body="")
