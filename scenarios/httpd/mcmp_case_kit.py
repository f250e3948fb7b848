"""The kit the MCMP conformance cases are written with: `Names` (the routes, ports and loopback address of one
case), request builders (`req`, `config`, `app`, `registered`) and the case registry (`Case`, `CASES`, `add`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from harness.protocol.mcmp_model import ModelRequest

LOCAL = "127.0.0.1"
APP_COMMANDS = ("ENABLE-APP", "DISABLE-APP", "STOP-APP", "REMOVE-APP")


@dataclass(frozen=True)
class Names:
    """Routes, ports and a loopback address of one case (index) that no other case uses."""

    index: int

    def route(self, i: int = 1) -> str:
        return f"c{self.index}n{i}"

    def port(self, i: int = 1) -> str:
        return str(20000 + 10 * self.index + i)

    def address(self) -> str:
        return f"127.0.{1 + self.index // 250}.{2 + self.index % 250}"

    def long_route(self, size: int) -> str:
        return (self.route() + "r" * size)[:size]


def req(method: str, body: str = "", target: str = "/", xml: bool = False) -> ModelRequest:
    return ModelRequest(method, body, target=target, accept_xml=xml)


def config(n: Names, i: int = 1, extra: str = "", **fields: str | None) -> ModelRequest:
    """CONFIG for node i of the case (http on 127.0.0.1:port(i)); `fields` replace or add keys, `extra` is
    appended raw ("&Key=value...")."""
    pairs = {"JVMRoute": n.route(i), "Host": LOCAL, "Port": n.port(i), "Type": "http", **fields}
    body = "&".join(f"{k}={v}" for k, v in pairs.items() if v is not None)
    return req("CONFIG", body + extra)


def app(
    method: str, n: Names, i: int = 1, alias: str | None = "a1", context: str | None = "/x", **more: str
) -> ModelRequest:
    pairs = {"JVMRoute": n.route(i), "Alias": alias, "Context": context, **more}
    return req(method, "&".join(f"{k}={v}" for k, v in pairs.items() if v is not None))


@dataclass(frozen=True)
class Case:
    """`isolated`: run on a fresh balancer of its own (the case depends on slots other cases leave behind,
    as a 1.3.x node renamed REMOVED does)."""

    name: str
    build: Callable[[Names], list[ModelRequest]]
    isolated: bool = False


CASES: list[Case] = []


def add(name: str, build: Callable[[Names], list[ModelRequest]], *, isolated: bool = False) -> None:
    CASES.append(Case(name, build, isolated))


def registered(n: Names, i: int = 1, **fields: str) -> list[ModelRequest]:
    """Node i registered, with context /x on alias a1 enabled."""
    return [config(n, i, **fields), app("ENABLE-APP", n, i)]
