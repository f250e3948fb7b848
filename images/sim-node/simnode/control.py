"""The control endpoint (default port 9000): read the process's state, switch faults, run commands.

    GET  /health                      200 "ok"
    GET  /state                       every node: faults, HTTP counters, MCMP state per proxy; discovery
    GET  /transcript[?node=N]         per proxy: the last registration, graceful stop and error replies, raw
                                      request and reply bytes (latin-1 text)
    POST /fault    {"apply": [FaultSpec dict, ...]?, "heal": [FaultSpec dict, ...]?, "clear": true?, "node": N?}
                   the harness's fault vocabulary (harness.descriptions.faults NODE_PROGRAM_FAULTS), each dict as
                   FaultSpec.to_dict() makes it, e.g. {"kind": "slowness", "node": "node1", "delay_ms": 200};
                   "clear" first switches every toggle of N (absent: of every node) off. Answers each
                   touched node's toggles.
    POST /crash    {"node": N}        die abruptly (listener closed, connections reset, no MCMP goodbye)
    POST /restart  {"node": N}        come back as a fresh node after crash or stop
    POST /stop     {"node": N?}       graceful stop (DISABLE-APP, drain, STOP-APP, REMOVE-APP); 202
    POST /reregister {"node": N, "port": P?, "host": H?}   register again from another port / host
    POST /context  {"node": N, "context": "/app", "action": "enable" | "disable" | "stop"}
    POST /reset    {"node": N?}       proxies DOWN after a SYNTAX error go back to ERROR (retried)
    POST /exit     {"code": 137?}     the whole process exits at once

"node" absent means every node of the process. Errors answer 400/404 with {"error", "field"}.
Runs on the loop thread: nothing here blocks (MCMP work goes to the scheduler's pool).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

from harness.descriptions.base import SpecError
from simnode.faults import parse_fault_body
from simnode.httpwire import Request, Response
from simnode.runtime import FaultRefused, Runtime, SimNode


class ControlError(ValueError):
    def __init__(self, field: str, message: str, status: int = 400) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.status = field, status


def _reply(status: int, payload: object) -> Response:
    return Response(status, (("Content-Type", "application/json"),), json.dumps(payload, indent=1).encode() + b"\n")


def _body(request: Request) -> dict[str, Any]:
    if not request.body.strip():
        return {}
    try:
        data = json.loads(request.body)
    except ValueError as exc:
        raise ControlError("body", f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ControlError("body", f"expected a JSON object, got {type(data).__name__}")
    return data


def _nodes(runtime: Runtime, data: dict[str, Any], required: bool = False) -> list[SimNode]:
    name = data.get("node")
    if name is None:
        if required:
            raise ControlError("node", "missing; name the node")
        return list(runtime.nodes.values())
    if name not in runtime.nodes:
        raise ControlError("node", f"no node {name!r} here; nodes: {', '.join(runtime.nodes)}", 404)
    return [runtime.nodes[name]]


def _fault(runtime: Runtime, data: dict[str, Any]) -> Response:
    try:
        apply, heal = parse_fault_body(data, tuple(runtime.nodes))
    except SpecError as exc:
        raise ControlError(exc.field, exc.message) from None
    touched = _nodes(runtime, data) if data.get("clear") is True else []
    for node in touched:
        runtime.clear(node)
    try:
        for fault in heal:
            runtime.heal(fault)
        for fault in apply:
            runtime.apply(fault)
    except (FaultRefused, OSError) as exc:  # OSError: a Reregister port that cannot be opened here
        raise ControlError("heal" if heal else "apply", str(exc), 409) from None
    names = {n.config.name for n in touched} | {f.node for f in apply + heal}
    return _reply(200, {name: runtime.nodes[name].app.faults.to_dict() for name in sorted(names)})


def _each(action: Callable[[SimNode], object], required: bool = False) -> Callable[[Runtime, dict[str, Any]], Response]:
    def run(runtime: Runtime, data: dict[str, Any]) -> Response:
        done = {}
        for node in _nodes(runtime, data, required):
            action(node)
            done[node.config.name] = "accepted"
        return _reply(202, done)

    return run


def _reregister(runtime: Runtime, data: dict[str, Any]) -> Response:
    (node,) = _nodes(runtime, data, required=True)
    port, host = data.get("port"), data.get("host")
    if port is not None and (isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535):
        raise ControlError("port", f"got {port!r}; expected an integer in 1..65535")
    if host is not None and (not isinstance(host, str) or not host or " " in host):
        raise ControlError("host", f"got {host!r}; expected an address or host name")
    clash = [n.config.name for n in runtime.nodes.values() if n is not node and n.listener.port == port]
    if port is not None and (clash or port == runtime.config.control_port):
        raise ControlError("port", f"port {port} is taken by {clash or 'the control endpoint'}", 409)
    try:
        runtime.reregister(node.config.name, port, host)
    except OSError as exc:
        raise ControlError("port", str(exc), 409) from None
    return _reply(202, {node.config.name: "accepted"})


_ACTIONS = {"enable": "ENABLE-APP", "disable": "DISABLE-APP", "stop": "STOP-APP"}


def _context(runtime: Runtime, data: dict[str, Any]) -> Response:
    (node,) = _nodes(runtime, data, required=True)
    context, action = data.get("context"), data.get("action")
    if context not in node.config.contexts:
        raise ControlError("context", f"got {context!r}; contexts of {node.config.name}: {list(node.config.contexts)}")
    if action not in _ACTIONS:
        raise ControlError("action", f"got {action!r}; accepted values: {', '.join(_ACTIONS)}")
    runtime.scheduler.submit(node.agent.send_context, context, _ACTIONS[action])
    return _reply(202, {node.config.name: "accepted"})


def _exit(runtime: Runtime, data: dict[str, Any]) -> Response:
    code = data.get("code", 137)
    if isinstance(code, bool) or not isinstance(code, int) or not 0 <= code <= 255:
        raise ControlError("code", f"got {code!r}; expected an integer in 0..255")
    runtime.loop.call_later(0.05, lambda: runtime.exit(code))  # let this answer leave first
    return _reply(202, {"exit": code})


def _reset(runtime: Runtime, data: dict[str, Any]) -> Response:
    for node in _nodes(runtime, data):
        node.agent.reset()
        runtime.scheduler.wake(node.agent)
    return _reply(202, {n.config.name: "accepted" for n in _nodes(runtime, data)})


def _exchanges(exchanges: list[Any]) -> list[dict[str, str]]:
    return [{"request": ex.request.decode("latin-1"), "reply": ex.reply.decode("latin-1")} for ex in exchanges]


def _transcript(runtime: Runtime, query: dict[str, list[str]]) -> Response:
    names = query.get("node") or list(runtime.nodes)
    out: dict[str, object] = {}
    for name in names:
        if name not in runtime.nodes:
            raise ControlError("node", f"no node {name!r} here", 404)
        out[name] = [
            {
                "proxy": link.address,
                "exchanges": _exchanges(link.transcript),
                "goodbye": _exchanges(link.goodbye),
                "errors": _exchanges(list(link.errors)),
            }
            for link in list(runtime.nodes[name].agent.links.values())
        ]
    return _reply(200, out)


def control_handler(runtime: Runtime) -> Callable[[Request], Response]:
    posts: dict[str, Callable[[Runtime, dict[str, Any]], Response]] = {
        "/fault": _fault,
        "/crash": _each(lambda n: runtime.crash(n.config.name), required=True),
        "/restart": _each(lambda n: runtime.restart(n.config.name), required=True),
        "/stop": _each(lambda n: runtime.stop_node(n.config.name)),
        "/reregister": _reregister,
        "/context": _context,
        "/reset": _reset,
        "/exit": _exit,
    }

    def handle(request: Request) -> Response:
        url = urlsplit(request.target)
        try:
            if request.method == "GET" and url.path == "/health":
                return Response(200, (("Content-Type", "text/plain"),), b"ok\n")
            if request.method == "GET" and url.path == "/state":
                return _reply(200, runtime.state())
            if request.method == "GET" and url.path == "/transcript":
                return _transcript(runtime, parse_qs(url.query))
            if request.method == "POST" and url.path in posts:
                return posts[url.path](runtime, _body(request))
            known = ["GET /health", "GET /state", "GET /transcript"] + [f"POST {p}" for p in posts]
            return _reply(404, {"error": f"no such endpoint {request.method} {url.path}", "endpoints": known})
        except ControlError as exc:
            return _reply(exc.status, {"error": str(exc), "field": exc.field})

    return handle
