"""The base of a reproduction's timeline steps (harness.descriptions.timeline): a frozen dataclass whose
`verb` is its key in dicts. Its own module so that a step kind can live in a module of its own."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True)
class Step:
    """Base of the timeline's steps; `verb` is its key in dicts."""

    verb: ClassVar[str] = "step"

    def describe(self) -> str:
        raise NotImplementedError

    def payload(self) -> Any:
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        return {self.verb: self.payload()}
