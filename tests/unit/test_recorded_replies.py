"""Unit tier: INFO, DUMP (text and XML) and manager pages recorded from real builds of both lines; which recorded
MCMP transcripts the docker tier's transcript test compares a build with.

Recorded by scenarios/httpd/test_balancer_toolkit.py with HARNESS_RECORD_REPLIES=1 against
mod_cluster 1.3.22.Final and mod_proxy_cluster 2.0.0.Dev (main): node1 registered by hand at 10.213.1.3:8080
with context /tmp, alias localhost, Load 60; then its backend killed (manager-notok.html).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.flavors.httpd_modcluster.source import ModClusterSource
from harness.protocol.balancer_info import parse_dump, parse_info
from harness.protocol.manager_page import parse_manager_page
from scenarios.sim.probes import TRANSCRIPT_FILES, build_label, recorded_transcripts

RECORDED = Path(__file__).parent / "data" / "recorded"
BUILDS = sorted(p.name for p in RECORDED.iterdir() if p.is_dir())
FIRST_ID = {"mod_cluster-1.3.22.Final": 1, "mod_proxy_cluster-2.0.0.Dev": 0}  # 1-based on 1.3.x, 0-based on 2.x


def test_both_lines_are_recorded() -> None:
    assert set(FIRST_ID) <= set(BUILDS)


@pytest.mark.parametrize("build", BUILDS)
@pytest.mark.parametrize(
    "name, parse",
    [("info.txt", parse_info), ("info.xml", parse_info), ("dump.txt", parse_dump), ("dump.xml", parse_dump)],
)
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


# ------------------------------------------------ which recorded transcripts a docker run is compared with

TRANSCRIPTS = Path(__file__).parent / "data" / "transcripts"


def _source(release: str, line: str = "1.3") -> ModClusterSource:
    return ModClusterSource(root=Path("/nowhere"), line=line, release=release, origin="test")


@pytest.mark.parametrize(
    "release, line, folder",
    [
        ("mod_cluster/1.3.22.Final", "1.3", "1.3.22"),
        ("mod_cluster/1.3.18.Final", "1.3", "1.3.22"),  # no recording of its own: the nearest of the line
        ("mod_cluster/1.3.20.Final", "1.3", "1.3.22"),
        ("mod_proxy_cluster/2.0.0.Dev", "2.x", "2.x-head"),
    ],
)
def test_transcripts_compared_with_are_the_builds_own_or_the_nearest_of_its_line(
    release: str, line: str, folder: str
) -> None:
    label = build_label(_source(release, line))
    chosen, which = recorded_transcripts(label, TRANSCRIPTS)
    assert chosen == TRANSCRIPTS / folder
    assert which == (
        f"the recording of {folder}" if label == folder else f"the recording of {folder}, nearest to {label}"
    )


def test_a_2x_build_without_transcripts_is_skipped_naming_what_is_missing() -> None:
    label = build_label(_source("mod_cluster/2.0.0.Alpha1", "2.x"))  # before the MCMP rework: "2.x-pre"
    chosen, which = recorded_transcripts(label, TRANSCRIPTS)
    assert chosen is None and label == "2.x-pre"
    missing = ", ".join(TRANSCRIPT_FILES)
    assert which == (
        f"no transcripts recorded for 2.x-pre: {TRANSCRIPTS / '2.x-pre'} lacks {missing}"
        " (record them with HARNESS_RECORD_TRANSCRIPTS=1)"
    )


def _record(root: Path, label: str, *, without: str = "") -> None:
    (root / label).mkdir(parents=True)
    for name in TRANSCRIPT_FILES:
        if name != without:
            (root / label / name).write_text("{}\n")


def test_nearest_release_ties_go_to_the_newer_and_incomplete_folders_do_not_count(tmp_path: Path) -> None:
    for label in ("1.3.8", "1.3.18", "1.3.22"):
        _record(tmp_path, label)
    _record(tmp_path, "1.3.20", without="sim-errors.jsonl")
    _record(tmp_path, "2.x-head")
    assert [
        recorded_transcripts(label, tmp_path)[0] for label in ("1.3.20", "1.3.19", "1.3.12", "1.3.13", "1.3.30")
    ] == [tmp_path / "1.3.22", tmp_path / "1.3.18", tmp_path / "1.3.8", tmp_path / "1.3.18", tmp_path / "1.3.22"]
    assert recorded_transcripts("2.x-pre", tmp_path) == (
        None,
        f"no transcripts recorded for 2.x-pre: {tmp_path / '2.x-pre'} lacks {', '.join(TRANSCRIPT_FILES)}"
        " (record them with HARNESS_RECORD_TRANSCRIPTS=1)",
    )
    assert recorded_transcripts("1.3.0", tmp_path / "nothing")[1].endswith(
        "1.3.0 lacks sim-meta.json, "
        "sim-registration.jsonl, sim-goodbye.jsonl, "
        "sim-errors.jsonl (record them with "
        "HARNESS_RECORD_TRANSCRIPTS=1)"
    )
    _record(tmp_path, "1.3.0", without="sim-meta.json")
    assert recorded_transcripts("1.3.0", tmp_path)[0] == tmp_path / "1.3.8"
