"""Unit tier: INFO, DUMP (text and XML) and manager pages recorded from real builds of both lines.

Recorded by scenarios/httpd/test_balancer_toolkit.py with HARNESS_RECORD_REPLIES=1 against
mod_cluster 1.3.22.Final and mod_proxy_cluster 2.0.0.Dev (main): node1 registered by hand at 10.213.1.3:8080
with context /tmp, alias localhost, Load 60; then its backend killed (manager-notok.html).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.protocol.balancer_info import parse_dump, parse_info
from harness.protocol.manager_page import parse_manager_page

RECORDED = Path(__file__).parent / "data" / "recorded"
BUILDS = sorted(p.name for p in RECORDED.iterdir() if p.is_dir())
FIRST_ID = {"mod_cluster-1.3.22.Final": 1, "mod_proxy_cluster-2.0.0.Dev": 0}  # 1-based on 1.3.x, 0-based on 2.x


def test_both_lines_are_recorded() -> None:
    assert set(FIRST_ID) <= set(BUILDS)


@pytest.mark.parametrize("build", BUILDS)
@pytest.mark.parametrize("name, parse", [("info.txt", parse_info), ("info.xml", parse_info),
                                         ("dump.txt", parse_dump), ("dump.xml", parse_dump)])
def test_registration_is_parsed(build: str, name: str, parse: object) -> None:
    info = parse((RECORDED / build / name).read_text())  # type: ignore[operator]
    assert info.names == ("node1",)
    node = info.node("node1")
    assert node is not None and node.host == "10.213.1.3" and node.port == 8080 and node.type == "http"
    if build in FIRST_ID:
        assert node.id == FIRST_ID[build]
    assert info.context_statuses("node1", "/tmp") == frozenset({"ENABLED"})
    assert info.aliases_of("node1") == ("localhost",)
    if name.startswith("info"):
        assert node.load == 60


@pytest.mark.parametrize("build", BUILDS)
def test_manager_page_up_then_notok(build: str) -> None:
    ok = parse_manager_page((RECORDED / build / "manager-ok.html").read_text(encoding="iso-8859-1"))
    notok = parse_manager_page((RECORDED / build / "manager-notok.html").read_text(encoding="iso-8859-1"))
    assert ok.version and build.split("-")[-1] in ok.version
    for page, expected in ((ok, True), (notok, False)):
        node = page.node("node1")
        assert node is not None and node.is_ok is expected and node.host == "10.213.1.3" and node.port == 8080
        assert [c.path for c in node.contexts] == ["/tmp"] and node.aliases == ("localhost",)
    assert ok.nonce
