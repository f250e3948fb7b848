"""Fixtures for the WildFly scenarios: an advertise group of this run and module."""

from __future__ import annotations

import hashlib

import pytest

from harness.descriptions import settings
from harness.descriptions.topology import Advertise


@pytest.fixture(scope="module")
def run_advertise(request: pytest.FixtureRequest) -> Advertise:
    """An advertise group, port and security key of this run and module (no cross-talk with other runs)."""
    digest = hashlib.sha256(f"{settings.run_id()}{request.module.__name__}".encode()).digest()
    return Advertise(
        group=f"224.0.{1 + digest[0] % 200}.{1 + digest[1] % 250}",
        port=23364 + 1 + digest[2] % 500,
        security_key=f"harness-{settings.run_id()}",
        frequency_s=1.0,
    )
