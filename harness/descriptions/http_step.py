"""The `http` timeline step: one GET of a path through the balancer's proxy port, expecting a reply status.

    - http: {path: /nomatch/, expect_status: 404}

It asserts what a single request answers where the load cannot (a path no node serves: the load's requests
would all fail). The run layer sends it (harness.run.repro_http); a different status, or no reply, is an
invalid verdict.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from harness.descriptions.base import validate_int, validate_path
from harness.descriptions.step_base import Step


@dataclass(frozen=True)
class HttpGet(Step):
    """GET `path` through the balancer (its proxy port); valid when the reply status is `expect_status`."""

    verb: ClassVar[str] = "http"
    path: str
    expect_status: int

    def __post_init__(self) -> None:
        validate_path("path", self.path)
        validate_int("expect_status", self.expect_status, 100, 599)

    def describe(self) -> str:
        return f"GET {self.path} through the balancer, expecting {self.expect_status}"

    def payload(self) -> Any:
        return {"path": self.path, "expect_status": self.expect_status}
