"""A pure model of the balancer's MCMP side: the state mod_manager keeps (nodes and their fields, the aliases
of each node's virtual hosts, contexts and their states, balancers) and the reply to each message.

`McmpModel(rules_for(line, mode), ModelConfig(...))` then `model.apply(ModelRequest("CONFIG", body))`
returns a `Prediction` (status, Type, Mess exactly; the body where it is fixed) and updates the state;
`model.view()` is what INFO and DUMP must show (compared by `harness.protocol.mcmp_model_view`).
The per-line differences are the `LineRules` row; `bugs` switches on the as-built behaviour of the bugs
named in `mcmp_model_lines.BUGS` (default: the line's intended behaviour). Standard library only.

Not modelled: time (a node marked removed lingers until httpd forgets it: `view()` lists it as optional),
traffic counters, sessions, domains, Maxhost/Maxcontext exhaustion messages, AJP secrets, WebSocket types.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from harness.protocol import mcmp
from harness.protocol import mcmp_model_lines as msg
from harness.protocol.mcmp_model_app import CRASH, STATUS_OF, apply_app
from harness.protocol.mcmp_model_body import Body, atoi, scan_int, split_body
from harness.protocol.mcmp_model_config import apply_config, strip_zone
from harness.protocol.mcmp_model_lines import LineRules
from harness.protocol.mcmp_model_state import Node, Tables
from harness.protocol.mcmp_model_types import ModelConfig, ModelRequest, Prediction, Reply, Undefined, mem, one, syntax

COMMANDS = mcmp.COMMANDS  # the commands the model answers: every MCMP command
HTTP_LIKE = ("http", "https", "ws", "wss")
PING_SCHEMES = ("ajp", "http", "https", "ws", "wss")


class McmpModel:
    def __init__(self, rules: LineRules, config: ModelConfig | None = None, *, bugs: frozenset[str] = frozenset()):
        self.rules, self.config, self.bugs = rules, config or ModelConfig(), frozenset(bugs)
        cfg = self.config
        self.tables = Tables(
            rules.first_id, rules.slots, cfg.max_node, cfg.max_host, cfg.max_context, exact_slots=cfg.sole_user
        )
        self.endpoints: set[tuple[str, str]] = set()  # every host:port a CONFIG named (to pick our nodes)
        self.workers: set[tuple[str, str, str]] = set()  # lbmethod_cluster: workers added to the balancer

    # --- one message ------------------------------------------------------------------------------------
    def apply(self, request: ModelRequest) -> Prediction:
        """The reply to `request`, the state updated. Undefined when mod_manager's answer is not defined."""
        method = request.method.upper()
        if request.target == "*":
            return one(400)  # httpd itself: only OPTIONS may ask for "*"
        if method not in COMMANDS:
            return one(501)
        body = split_body(
            self.rules.body, request.body, stop_decoding_at_empty=msg.BUG_DECODE_STOPS_AT_EMPTY in self.bugs
        )
        if method == "CONFIG":
            self.endpoints.add(claimed_endpoint(request.body))
        if body is None and (self.rules.body == "split" or method in ("CONFIG", "STATUS", *STATUS_OF)):
            return syntax(msg.SMESPAR)
        if method == "CONFIG":
            assert body is not None
            prediction = apply_config(self.rules, self.config, self.tables, body, self.bugs)
            self.endpoints |= {(n.host, n.port) for n in self.tables.nodes.values()}
            if prediction.replies[0].status == 200:
                self._add_worker(claimed_endpoint(request.body))
            return prediction
        if method in STATUS_OF:
            assert body is not None
            return apply_app(self.rules, self.tables, body, STATUS_OF[method], request.wildcard, self.bugs)
        if method == "STATUS":
            assert body is not None
            return self._status(body)
        if method == "PING":
            return self._ping(body)
        if method == "VERSION":
            return one(200, body=self._version(request.accept_xml))
        return one(200)  # INFO, DUMP: compared as data (view)

    def _add_worker(self, endpoint: tuple[str, str]) -> None:
        """lbmethod_cluster: CONFIG adds the node's worker to the configured balancer while growth lasts."""
        node = next((n for n in self.tables.nodes.values() if (n.host, n.port) == endpoint and not n.removed), None)
        if node is None or node.balancer != self.config.balancer_name.lower():
            return
        key = (node.type, node.host, node.port)
        if key not in self.workers and len(self.workers) < self.config.growth:
            self.workers.add(key)

    def _version(self, xml: bool) -> str | None:
        if not self.config.release:
            return None
        if xml:
            return (
                '<?xml version="1.0" standalone="yes" ?>\n'
                f"<version><release>{self.config.release}</release><protocol>0.2.1</protocol></version>\n"
            )
        return f"release: {self.config.release}, protocol: 0.2.1\n"

    # --- STATUS -----------------------------------------------------------------------------------------
    def _status(self, body: Body) -> Prediction:
        rules = self.rules
        route, load = None, (-1 if rules.load == "atoi" else -2)  # 1.3.x: no Load means -1 (broken)
        for key, value, _index in body.pairs():
            lower = key.lower()
            if lower in ("jvmroute", "load") and value is None:
                return CRASH if msg.BUG_MISSING_VALUE_CRASH in self.bugs else syntax(msg.SMESPAR)
            if value is None:
                return syntax(msg.SBADFLD.format(key))
            if lower == "jvmroute":
                if len(value) >= rules.route_size:
                    return syntax(msg.SROUBIG)
                route = value
            elif lower == "load":
                if rules.load == "atoi":
                    load = atoi(value)
                else:
                    scanned = scan_int(value)
                    load = -2 if scanned is None else scanned
                    if not -1 <= load <= 100:
                        return syntax(msg.BAD_LOAD)
            else:
                return syntax(msg.SBADFLD.format(key))
        if route is None and msg.BUG_STATUS_ROUTE_UNINITIALISED in self.bugs:
            raise Undefined(msg.BUGS[msg.BUG_STATUS_ROUTE_UNINITIALISED])
        if not route:
            return one(500, rules.status_route_type, rules.status_route_message.format(""))
        node = self.tables.node_by_route(route)
        if node is None:
            return mem(msg.MNODERD.format(route))
        up = self._node_up(node, load)
        if up and self.rules.node_pings:
            self._set_load(node, load)
        reply = Reply(200, body=f"Type=STATUS-RSP&JVMRoute={route}&State={'OK' if up else 'NOTOK'}&id={{id}}\n")
        return self._lingering(node, route, reply)

    def _lingering(self, node: Node, route: str, reply: Reply) -> Prediction:
        """A removed node answers as removed until httpd forgets it, then it is unknown."""
        if node.removed:
            return Prediction((reply, Reply(500, "MEM", msg.MNODERD.format(route))))
        return Prediction((reply,))

    def _set_load(self, node: Node, load: int) -> None:
        if self.rules.load == "atoi":
            if load != -2:  # 1.3.x: any value but -2 (ping only) becomes the load factor
                node.load = load
        elif -1 <= load <= 100:
            node.load = load

    def _pings(self, node_type: str, host: str, port: str) -> bool:
        """proxy_cluster_try_pingpong: with EnableOptions off an http-like node is not asked."""
        if node_type.lower() in HTTP_LIKE and not self.config.enable_options:
            return True
        if node_type.lower() == "ajp":
            return (host, port) in self.config.cpong
        return node_type.lower() in HTTP_LIKE and (host, port) in self.config.listening

    def _node_up(self, node: Node, load: int) -> bool:
        """isnode_up: a removed node is down; a ping for load >= 0 and -2 (just ping)."""
        if not self.rules.node_pings:
            return True
        if node.removed:
            return False
        return not (load >= 0 or load == -2) or self._pings(node.type, node.host, node.port)

    # --- PING -------------------------------------------------------------------------------------------
    def _ping(self, body: Body | None) -> Prediction:
        fields: dict[str, str | None] = {}
        for key, value, _index in body.pairs() if body is not None else []:
            lower = key.lower()
            if not key:
                break
            if lower in ("jvmroute", "scheme") and value is None:
                return CRASH if msg.BUG_MISSING_VALUE_CRASH in self.bugs else syntax(msg.SMESPAR)
            if lower not in ("jvmroute", "scheme", "host", "port"):
                return syntax(msg.SBADFLD.format(key))
            if value is None:
                raise Undefined(f"PING {key} without a value: mod_manager reads past the last parameter")
            if lower == "jvmroute" and len(value) >= self.rules.route_size:
                return syntax(msg.SROUBIG)
            if lower == "scheme" and self.rules.ping_checks_scheme and value.lower() not in PING_SCHEMES:
                return syntax(msg.BAD_SCHEME.format(value))
            fields[lower] = value
        route = fields.get("jvmroute")
        if route is not None and (route or self.rules.ping_empty_route_is_node):
            return self._ping_route(route)
        scheme, host, port = fields.get("scheme"), fields.get("host"), fields.get("port")
        if scheme is None and host is None and port is None:
            return one(200, body="Type=PING-RSP&State=OK&id={id}\n")
        if scheme is None or host is None or port is None:
            return syntax(msg.SMISFLD)
        states, lag = self._host_up(scheme, host, port)
        return Prediction(tuple(Reply(200, body=f"Type=PING-RSP&State={s}&id={{id}}\n") for s in states), lag)

    def _ping_route(self, route: str) -> Prediction:
        node = self.tables.node_by_route(route)
        if node is None:
            return mem(msg.MNODERD.format(route))
        if self.rules.ping_address == "worker":  # 2.x pings the node's scheme://host:port
            states, lag = self._host_up(node.type, node.host, node.port)
        else:
            states, lag = ("OK" if self._node_up(node, -2) else "NOTOK",), False
        replies = tuple(Reply(200, body=f"Type=PING-RSP&JVMRoute={route}&State={s}&id={{id}}\n") for s in states)
        if node.removed:  # until httpd forgets it; then it is unknown
            replies += (Reply(500, "MEM", msg.MNODERD.format(route)),)
        return Prediction(replies, lag)

    def _host_up(self, scheme: str, host: str, port: str) -> tuple[tuple[str, ...], bool]:
        """proxy_host_isup: the States it may answer, and whether the answer may lag. 1.3.x connects; 2.x
        connects for ajp and pings a known http/ws worker (created in the serving child shortly after CONFIG:
        the answer may lag; a removed node's worker is kept if it was made, never made after)."""
        lower = scheme.lower()
        if not self.rules.node_pings:
            return ("OK",), False
        if lower == "ajp":
            return ("OK" if (host, port) in self.config.cpong else "NOTOK",), False
        if self.rules.ping_address == "connect":
            return ("OK" if (host, port) in self.config.listening else "NOTOK",), False
        if not lower.startswith(("http", "ws")):
            return ("OK",), False  # "not yet supported": answered OK
        wanted = atoi(port)
        backing = [
            n
            for n in self.tables.nodes.values()
            if atoi(n.port) == wanted and n.type.lower().startswith(("http", "ws")) and n.host.lower() == host.lower()
        ]
        if not backing or not self._pings(scheme, host, port):
            return ("NOTOK",), bool(backing)
        if all(n.removed for n in backing):
            return ("OK", "NOTOK"), False
        return ("OK",), True

    # --- what INFO and DUMP must show -------------------------------------------------------------------
    def view(self) -> dict[str, Any]:
        """Expected content: `nodes` (route -> shown fields and `vhosts`), `lingering` (removed nodes that may
        still show, by host:port, under their route or REMOVED, without aliases or contexts), `balancers`."""
        tables = self.tables
        nodes, lingering = {}, []
        for node in tables.nodes.values():
            if node.removed:
                lingering.append({"host": node.host, "port": node.port, "names": sorted({node.route, "REMOVED"})})
                continue
            vhosts = {
                vid: {"aliases": sorted(v["aliases"]), "contexts": sorted(f"{p}={s}" for p, s in v["contexts"])}
                for vid, v in tables.vhosts_of(node.id).items()
            }
            shown = node.shown()
            if self.rules.worker_load is not None:  # the balancer's own worker (None: unknown, others add some)
                made = (node.type, node.host, node.port) in self.workers
                shown["load"] = (self.rules.worker_load if made else 0) if self.config.sole_user else None
            nodes[node.route] = {**shown, "vhosts": vhosts}
        balancers = {name: b.shown() for name, b in tables.balancers.items()}
        return {"nodes": nodes, "lingering": lingering, "balancers": balancers}


def claimed_endpoint(body: str) -> tuple[str, str]:
    """The host:port a CONFIG body names (httpd's defaults localhost:8009), read leniently: the nodes the
    model stores add their own, so a node the balancer keeps where the model expects none is still seen."""
    host, port = "localhost", "8009"
    for part in body.split("&"):
        key, _, value = part.partition("=")
        if key.lower() == "host":
            host = strip_zone(unquote(value))
        elif key.lower() == "port":
            port = unquote(value)
    return host, port


__all__ = [
    "COMMANDS",
    "McmpModel",
    "ModelConfig",
    "ModelRequest",
    "Prediction",
    "Reply",
    "Undefined",
    "claimed_endpoint",
]
