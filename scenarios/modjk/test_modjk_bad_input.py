"""Bad input reaching a running Tomcat (docker tier): an AJP connector Tomcat refuses.

Setup: httpd-modjk with node1 whose AJP connector has secretRequired="true" and no secret (Tomcat refuses
to start that connector and goes on without it). Expected: starting the cluster fails at once with Tomcat's
own reason (its SEVERE lines, read from its log by the node's wait), not with a readiness timeout.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from harness.descriptions.jk import AjpConnector
from harness.descriptions.topology import NodeSpec
from harness.flavors.tomcat.node import TomcatNodeError
from scenarios.modjk.support import modjk_topology

pytestmark = pytest.mark.docker

READY_TIMEOUT_S = 120.0


def test_a_refused_ajp_secret_fails_with_tomcats_reason(scenario: Any) -> None:
    node = NodeSpec("node1", flavor="tomcat", connector="ajp", ajp=AjpConnector(secret_required=True))
    started = time.monotonic()
    with pytest.raises(TomcatNodeError) as err:
        scenario.cluster(modjk_topology("jk-secret", [node]), ready_timeout=READY_TIMEOUT_S)
    elapsed = time.monotonic() - started
    message = str(err.value)
    assert "node1: Tomcat refused a connector" in message and 'secretRequired="true"' in message, message
    assert "timed out" not in message and elapsed < 45.0, f"{elapsed:.1f}s: {message}"
