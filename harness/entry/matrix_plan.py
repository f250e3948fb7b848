"""The combinations of a `harness matrix` run: the cross product of flavors, sources, modes and WildFly versions,
each judged runnable or refused by the registry (pure data; the runner is harness.entry.matrix, the table
harness.entry.matrix_report)."""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.descriptions.options import DEFAULT_WILDFLY_VERSION, HarnessOptions, OptionError

SOURCE_BALANCERS = ("httpd-modcluster",)  # balancer flavors built from --modcluster-source


@dataclass(frozen=True)
class Combination:
    balancer: str
    node: str
    source: str | None = None
    mode: str = "proxy_cluster"
    wildfly: str = DEFAULT_WILDFLY_VERSION
    source_label: str = ""  # e.g. mod_cluster/1.3.22.Final; the source's basename when unknown
    refused: str = ""  # the registry's reason; empty when runnable
    outcome: str = ""  # after a run: "ran (exit N)", "timed out", or "" (not run)
    seconds: float = 0.0

    @property
    def label(self) -> str:
        parts = [self.balancer, self.node]
        if self.source is not None:
            parts += [self.source_label or Path(self.source).name, self.mode]
        elif self.mode != "proxy_cluster":
            parts.append(self.mode)
        if self.node == "wildfly" or self.balancer == "undertow":  # the flavors that use a WildFly
            parts.append(f"wildfly {self.wildfly}")
        return " / ".join(parts)

    @property
    def slug(self) -> str:
        return re.sub(r"[^A-Za-z0-9._-]+", "_", self.label.replace(" / ", "__")).strip("_")

    def options(self) -> HarnessOptions:
        return HarnessOptions(
            balancer=self.balancer,
            node=self.node,
            modcluster_source=self.source,
            modcluster_mode=self.mode,
            wildfly_version=self.wildfly,
        )

    def pytest_flags(self) -> list[str]:
        flags = [
            "--balancer",
            self.balancer,
            "--node-flavor",
            self.node,
            "--modcluster-mode",
            self.mode,
            "--wildfly-version",
            self.wildfly,
        ]
        return flags + (["--modcluster-source", self.source] if self.source is not None else [])

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Combination:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


def combinations(
    balancers: Sequence[str],
    nodes: Sequence[str],
    sources: Sequence[str | None],
    modes: Sequence[str],
    wildflys: Sequence[str],
) -> list[Combination]:
    """The cross product in a stable order; a balancer without a source runs once per mode (no source)."""
    seen: set[Combination] = set()
    out: list[Combination] = []
    for balancer, node, source, mode, wildfly in itertools.product(
        balancers, nodes, sources or [None], modes, wildflys
    ):
        combo = Combination(balancer, node, source if balancer in SOURCE_BALANCERS else None, mode, wildfly)
        if combo not in seen:
            seen.add(combo)
            out.append(combo)
    return out


Checker = Callable[[HarnessOptions], None]
Labeller = Callable[[str], str]


def judge(combos: Sequence[Combination], check: Checker, label_source: Labeller) -> list[Combination]:
    """Each combination with its source's label and, when `check` refuses it, the reason."""
    judged = []
    for combo in combos:
        label, reason = "", ""
        try:
            if combo.source is not None:
                label = label_source(combo.source)
            check(combo.options())
        except OptionError as exc:
            reason = str(exc)
        judged.append(dataclasses.replace(combo, source_label=label, refused=reason))
    return judged
