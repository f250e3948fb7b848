"""The MCMP model's vocabulary: the balancer configuration it needs (`ModelConfig`), a message
(`ModelRequest`), the replies it accepts (`Reply`, `Prediction`) and `Undefined` for what it cannot say.
Pure, standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelConfig:
    """The balancer's configuration as far as MCMP answers depend on it."""

    balancer_name: str = "mycluster"  # ManagerBalancerName
    max_node: int = 20  # Maxnode, Maxhost, Maxcontext
    max_host: int = 20
    max_context: int = 100
    enable_options: bool = True  # EnableOptions: off, an http node's ping is not tried (always answers OK)
    listening: frozenset[tuple[str, str]] = frozenset()  # host:port accepting TCP (an http server answering OPTIONS)
    cpong: frozenset[tuple[str, str]] = frozenset()  # host:port answering an AJP CPING
    release: str = ""  # the VERSION token (mod_cluster/1.3.22.Final); "" leaves it unchecked
    sole_user: bool = True  # the model sees every message the balancer gets (False: others share it)
    growth: int = 20  # lbmethod_cluster: workers mod_manager may add to the configured balancer (ProxySet growth)


@dataclass(frozen=True)
class ModelRequest:
    method: str
    body: str = ""  # the form-encoded body exactly as sent
    target: str = "/"  # ".../*": node-wide app commands (and DUMP as the Java node sends it); "*": refused
    accept_xml: bool = False

    @property
    def wildcard(self) -> bool:
        return self.target.endswith("/*")


@dataclass(frozen=True)
class Reply:
    """One reply the model accepts. status 0: no reply at all (the child serving it died). `body` None: not
    predicted (INFO/DUMP are compared as data); "{id}" in it stands for the balancer's opaque start id."""

    status: int
    error_type: str | None = None
    message: str | None = None
    body: str | None = None

    def describe(self) -> str:
        if self.status == 0:
            return "no reply (connection closed: the httpd child died)"
        if self.error_type or self.message:
            return f"{self.status} Type={self.error_type} Mess={self.message!r}"
        return f"{self.status}" + ("" if self.body is None else f" body={self.body!r}")


@dataclass(frozen=True)
class Prediction:
    """What the model expects back: any of `replies`. `settles`: a read-only answer that may lag behind the
    state (a worker not yet created in the serving child); the sender may repeat it until it matches."""

    replies: tuple[Reply, ...]
    settles: bool = False

    def describe(self) -> str:
        return " | ".join(r.describe() for r in self.replies) + (" (may lag)" if self.settles else "")


def one(status: int, error_type: str | None = None, message: str | None = None, body: str | None = None) -> Prediction:
    return Prediction((Reply(status, error_type, message, body),))


def syntax(message: str) -> Prediction:
    return one(500, "SYNTAX", message)


def mem(message: str) -> Prediction:
    return one(500, "MEM", message)


class Undefined(Exception):
    """The model cannot say what the balancer does: it reads past its parameters, uninitialised memory, or
    slots a known bug has corrupted. `intended_fails`: what the line is meant to do is known and the balancer
    is known not to do it (a test may expect that failure)."""

    def __init__(self, message: str, *, intended_fails: bool = False) -> None:
        super().__init__(message)
        self.intended_fails = intended_fails
