"""Balancer samples: the balancer's view polled over a run (harness.run.sampler writes them), as pure data.

One `BalancerSample` per poll: when it started and ended (epoch seconds) and either the nodes the balancer
had registered (per node: up True/False/None when the flavor cannot tell, and each context's status
ENABLED / DISABLED / STOPPED) or the error the poll met (the balancer unreadable: restarting, paused).
Saved one JSON object a line (`balancer_samples.jsonl`); `read_samples` reads them back.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

SERVING, NOT_REGISTERED, DOWN, NO_CONTEXT = "serving", "not registered", "down", "no context"


@dataclass(frozen=True)
class NodeSample:
    up: bool | None
    contexts: dict[str, str] = field(default_factory=dict)  # path -> ENABLED | DISABLED | STOPPED | ...


@dataclass(frozen=True)
class BalancerSample:
    t_start: float
    t_end: float
    nodes: dict[str, NodeSample] | None  # None: the poll failed (`error` says why)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.nodes is not None

    def view_of(self, node: str, path: str, sticky: bool = False) -> str | None:
        """How this sample saw `node` for a request to `path`: SERVING, NOT_REGISTERED, DOWN, NO_CONTEXT or the
        context's status ("DISABLED", ...); None for a failed poll. A DISABLED context serves sticky requests
        (existing sessions), so it is SERVING when `sticky`. A node whose up/down is unknown is not DOWN."""
        if self.nodes is None:
            return None
        seen = self.nodes.get(node)
        if seen is None:
            return NOT_REGISTERED
        if seen.up is False:
            return DOWN
        context = context_for(path, seen.contexts)
        if context is None:
            return NO_CONTEXT
        status = seen.contexts[context]
        return SERVING if status == "ENABLED" or (sticky and status == "DISABLED") else status

    def summary(self) -> str:
        if self.nodes is None:
            return f"error: {self.error}"
        if not self.nodes:
            return "no nodes registered"
        parts = []
        for name, node in sorted(self.nodes.items()):
            up = {True: "up", False: "DOWN", None: "?"}[node.up]
            contexts = ",".join(f"{p}={s}" for p, s in sorted(node.contexts.items()))
            parts.append(f"{name}[{up} {contexts}]")
        return " ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        nodes = None
        if self.nodes is not None:
            nodes = {n: {"up": s.up, "contexts": dict(s.contexts)} for n, s in self.nodes.items()}
        return {"t_start": self.t_start, "t_end": self.t_end, "nodes": nodes, "error": self.error}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BalancerSample:
        """From `to_dict`'s form; ValueError naming the field when it is not that."""
        try:
            t_start, t_end = float(data["t_start"]), float(data["t_end"])
            raw = data.get("nodes")
            nodes = None
            if raw is not None:
                nodes = {str(n): NodeSample(s.get("up"), dict(s.get("contexts") or {})) for n, s in raw.items()}
            error = data.get("error")
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise ValueError(f"balancer sample: {type(exc).__name__}: {exc} in {dict(data)!r:.200}") from None
        if t_end < t_start:
            raise ValueError(f"balancer sample: t_end {t_end} is before t_start {t_start}")
        return cls(t_start, t_end, nodes, None if error is None else str(error))


def failed_sample(t_start: float, t_end: float, error: BaseException) -> BalancerSample:
    return BalancerSample(t_start, t_end, None, f"{type(error).__name__}: {error}"[:500])


def context_for(path: str, contexts: Iterable[str]) -> str | None:
    """The longest context path that `path` lies under ("/app/x" under "/app"; "/" holds everything)."""
    best: str | None = None
    for context in contexts:
        prefix = context.rstrip("/")
        under = path in (context, prefix) or path.startswith(prefix + "/")
        if under and (best is None or len(context) > len(best)):
            best = context
    return best


def to_jsonl(samples: Iterable[BalancerSample]) -> str:
    return "".join(json.dumps(s.to_dict(), sort_keys=True) + "\n" for s in samples)


def read_samples(text: str) -> list[BalancerSample]:
    """Samples from JSON lines (blank lines skipped), in start order; ValueError naming the line."""
    samples = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            try:
                samples.append(BalancerSample.from_dict(json.loads(line)))
            except ValueError as exc:
                raise ValueError(f"line {number}: {exc}") from None
    return sorted(samples, key=lambda s: s.t_start)


__all__ = [
    "DOWN",
    "NOT_REGISTERED",
    "NO_CONTEXT",
    "SERVING",
    "BalancerSample",
    "NodeSample",
    "context_for",
    "failed_sample",
    "read_samples",
    "to_jsonl",
]
