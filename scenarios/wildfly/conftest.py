"""Fixtures for the WildFly scenarios: the wildfly-node image (skipped with the option to use when the
distribution cannot be obtained) and a module-scoped cleanup scope for topologies that several tests share."""

from __future__ import annotations

import hashlib
from typing import Any, Iterator

import pytest

from harness.spec import settings
from harness.machinery.resources import Resources
from harness.spec.topology import Advertise


@pytest.fixture(scope="session")
def wildfly_image(docker_client: Any, harness_options: Any) -> str:
    from harness.flavors.wildfly.node import wildfly_image as build
    from harness.flavors.wildfly.dist import WildflyUnavailable

    try:
        return build(docker_client, harness_options.wildfly_version, harness_options.wildfly_archive)
    except WildflyUnavailable as exc:
        pytest.skip(f"WildFly distribution unavailable: {exc}")


@pytest.fixture(scope="module")
def module_resources(docker_client: Any, request: pytest.FixtureRequest) -> Iterator[Resources]:
    scope = Resources(docker_client, scope=request.module.__name__.rsplit(".", 1)[-1].replace("_", "-")[:20])
    try:
        yield scope
    finally:
        scope.close()


@pytest.fixture(scope="module")
def run_advertise(request: pytest.FixtureRequest) -> Advertise:
    """An advertise group, port and security key of this run and module (no cross-talk with other runs)."""
    digest = hashlib.sha256(f"{settings.run_id()}{request.module.__name__}".encode()).digest()
    return Advertise(group=f"224.0.{1 + digest[0] % 200}.{1 + digest[1] % 250}", port=23364 + 1 + digest[2] % 500,
                     security_key=f"harness-{settings.run_id()}", frequency_s=1.0)
