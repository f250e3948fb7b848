"""harness.evidence and harness.evidence_html: the per-test folder, its files and summary.html, from saved
histories (no Docker)."""

from __future__ import annotations

import io
import json
import re
import tarfile
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.descriptions.topology import Topology, topology_from_dict
from harness.judge.checks import check_failover_within, check_sticky_sessions
from harness.judge.history import History, load_history
from harness.judge.report import session_moves, timeline_svg
from harness.machinery.contracts import BalancerState, NodeState
from harness.machinery.evidence import MARKER, SUMMARY, Evidence, evidence_folder
from harness.machinery.load import LoadResult

DATA = Path(__file__).parent / "data" / "histories"
SVG = "{http://www.w3.org/2000/svg}"


def saved(name: str) -> History:
    windows = DATA / f"{name}.windows.jsonl"
    return load_history(DATA / f"{name}.jsonl", windows if windows.exists() else None)


def svg_of(page: str) -> ET.Element:
    match = re.search(r"<svg.*?</svg>", page, re.S)
    assert match, "no inline SVG in the page"
    return ET.fromstring(match.group(0))  # well-formed XML, or this raises


def plot_area(svg: ET.Element) -> tuple[float, float, float, float]:
    frame = svg.find(f"{SVG}rect")
    assert frame is not None
    return tuple(float(frame.get(k, "0")) for k in ("x", "y", "width", "height"))  # type: ignore[return-value]


def points(line: ET.Element) -> list[tuple[float, float]]:
    return [(float(a), float(b)) for a, b in (p.split(",") for p in line.get("points", "").split())]


# --- the folder ---------------------------------------------------------------------------------------------


def test_folder_name_from_node_id(tmp_path: Path) -> None:
    folder = evidence_folder(tmp_path, "scenarios/failover/test_kill.py::test_kill[wildfly-undertow]")
    assert folder == tmp_path / "scenarios_failover_test_kill.py__test_kill[wildfly-undertow]"
    assert folder.is_dir()


def test_long_ids_stay_distinct(tmp_path: Path) -> None:
    a = evidence_folder(tmp_path, "t.py::test[" + "x" * 300 + "a]")
    b = evidence_folder(tmp_path, "t.py::test[" + "x" * 300 + "b]")
    assert a != b and len(a.name) <= 120 and len(b.name) <= 120


def test_previous_evidence_cleared_but_foreign_folders_kept(tmp_path: Path) -> None:
    folder = evidence_folder(tmp_path, "t.py::test_a")
    Evidence(folder).add_text("old.txt", "stale")
    assert not (evidence_folder(tmp_path, "t.py::test_a") / "old.txt").exists()
    foreign = tmp_path / "t.py__test_b"
    foreign.mkdir()
    (foreign / "mine.txt").write_text("keep")
    assert (evidence_folder(tmp_path, "t.py::test_b") / "mine.txt").read_text() == "keep"


@settings(max_examples=60, deadline=None)
@given(st.text(min_size=0, max_size=300))
def test_any_node_id_gives_one_safe_folder_inside_base(nodeid: str) -> None:
    with tempfile.TemporaryDirectory() as base:
        folder = evidence_folder(base, nodeid)
        assert folder.parent == Path(base) and folder.is_dir()
        assert re.fullmatch(r"[A-Za-z0-9._\-\[\]=+,]{1,120}", folder.name) and folder.name not in (".", "..")


def test_hostile_ids_stay_inside_base(tmp_path: Path) -> None:
    for nodeid in ("../../etc::x", "a/b/../c.py::t[ü é]", "::", "..", "x" * 500, "t.py::t[a/b]"):
        folder = evidence_folder(tmp_path, nodeid)
        assert folder.parent == tmp_path and folder.is_dir(), nodeid


# --- files ------------------------------------------------------------------------------------------------


def test_history_and_windows_round_trip(tmp_path: Path) -> None:
    history = saved("kill_failover")
    evidence = Evidence(tmp_path)
    evidence.add_history(history)
    again = load_history(tmp_path / "history.jsonl", tmp_path / "windows.jsonl")
    assert again == history and {"history.jsonl", "windows.jsonl"} <= set(evidence.files)


def test_state_topology_json_and_text(tmp_path: Path) -> None:
    evidence = Evidence(tmp_path)
    state = BalancerState(
        {"node1": NodeState("node1", True, 50, {"/app": "ENABLED"})},
        "2.0",
        {"INFO": "Node: [1],Name: node1", "manager page": "<html/>"},
    )
    evidence.add_state("before kill node1", state)
    saved_state = json.loads((tmp_path / "state" / "before_kill_node1.json").read_text())
    assert saved_state["nodes"]["node1"]["contexts"] == {"/app": "ENABLED"}
    assert (tmp_path / "state" / "before_kill_node1.INFO.txt").read_text() == "Node: [1],Name: node1"
    assert (tmp_path / "state" / "before_kill_node1.manager_page.txt").read_text() == "<html/>"
    evidence.add_json("extra/numbers.json", {"b": 2, "a": float("nan"), "when": Path("/x")})
    assert json.loads((tmp_path / "extra" / "numbers.json").read_text().replace("NaN", "null"))["when"] == "/x"
    with pytest.raises(ValueError, match="relative path"):
        evidence.add_text("../escape.txt", "no")


def test_topology_saved_as_data(tmp_path: Path) -> None:
    from harness.descriptions.node import NodeSpec

    topology = Topology("pair", nodes=(NodeSpec("node1"), NodeSpec("node2")))
    evidence = Evidence(tmp_path)
    evidence.add_topology(topology)
    evidence.add_topology(topology.with_nodes(3), name="cluster1/topology.json")
    assert topology_from_dict(json.loads((tmp_path / "topology.json").read_text())) == topology
    assert len(topology_from_dict(json.loads((tmp_path / "cluster1" / "topology.json").read_text())).nodes) == 3
    page = evidence.write_summary().read_text()
    assert "Topology pair (topology.json)" in page and "Topology pair (cluster1/topology.json)" in page


class FakeContainer:
    def __init__(self, logs: bytes = b"", files: dict[str, bytes] | None = None, broken: bool = False) -> None:
        self._logs, self._files, self._broken = logs, files or {}, broken

    def logs(self, **kwargs: Any) -> bytes:
        if self._broken:
            raise RuntimeError("container 3f2a gone")
        assert kwargs.get("timestamps") is True
        return self._logs

    def get_archive(self, path: str) -> tuple[list[bytes], dict[str, Any]]:
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as archive:
            data = self._files[path]
            info = tarfile.TarInfo(Path(path).name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        raw = buffer.getvalue()
        return [raw[:100], raw[100:]], {"name": Path(path).name}


class FakeTestcontainer:
    def __init__(self, inner: FakeContainer) -> None:
        self.inner = inner

    def get_wrapped_container(self) -> FakeContainer:
        return self.inner


def test_container_logs_and_files(tmp_path: Path) -> None:
    evidence = Evidence(tmp_path)
    node = FakeContainer(b"2024 started\n", {"/opt/wildfly/standalone/log/server.log": b"WFLYSRV0025 started\n"})
    evidence.add_container_logs("node1/container.log", FakeTestcontainer(node))
    evidence.add_container_file("node1/server.log", node, "/opt/wildfly/standalone/log/server.log")
    assert (tmp_path / "node1" / "container.log").read_text() == "2024 started\n"
    assert (tmp_path / "node1" / "server.log").read_text() == "WFLYSRV0025 started\n"
    assert evidence.errors == []


def test_collection_failures_are_recorded_not_raised(tmp_path: Path) -> None:
    evidence = Evidence(tmp_path)
    assert evidence.add_container_logs("node2.log", FakeContainer(broken=True)) is None
    assert evidence.add_container_file("error_log", FakeContainer(), "/var/log/apache2/error_log") is None
    assert evidence.add_file("missing.txt", tmp_path / "nope.txt") is None
    errors = (tmp_path / "errors.txt").read_text()
    assert "container 3f2a gone" in errors and "error_log" in errors and "nope.txt" in errors
    page = evidence.write_summary().read_text()
    assert "Evidence collection problems" in page and "container 3f2a gone" in page


def test_load_result_copied_or_linked(tmp_path: Path) -> None:
    history = saved("steady")
    outside = tmp_path / "run"
    outside.mkdir()
    (outside / "locust_stats.csv").write_text("Type,Name\n")
    (outside / "locust.log").write_text("Starting Locust\n")
    result = LoadResult(
        history,
        outside,
        outside / "history.jsonl",
        (outside / "locust.log",),
        (outside / "locust_stats.csv",),
        (0,),
        "stopped",
        8.5,
        96,
        0,
        {"node1": 32},
    )
    evidence = Evidence(tmp_path / "ev")
    evidence.add_load_result(result)
    assert (tmp_path / "ev" / "load" / "locust_stats.csv").read_text() == "Type,Name\n"
    assert json.loads((tmp_path / "ev" / "load.json").read_text())["how"] == "stopped"
    inside = Evidence(outside)  # a run that wrote straight into the evidence folder is linked, not copied
    inside.add_load_result(result)
    assert "locust_stats.csv" in inside.files and not (outside / "load").exists()
    page = evidence.write_summary().read_text()
    assert "96 requests (0 failed)" in page and 'href="load/locust.log"' in page


# --- summary.html ----------------------------------------------------------------------------------------


def test_summary_of_a_kill_shows_window_series_moves_and_verdicts(tmp_path: Path) -> None:
    history = saved("kill_failover")
    evidence = Evidence(tmp_path)
    evidence.add_history(history)
    evidence.add_verdicts([check_sticky_sessions(history), check_failover_within(history, history.windows[0], 3.0)])
    evidence.add_versions({"mod_proxy_cluster": "2.x"})
    page = evidence.write_summary("test_kill[sim]", "failed").read_text()
    svg = svg_of(page)
    x0, y0, width, height = plot_area(svg)
    lines = {g.get("data-node", ""): g for g in svg.iter(f"{SVG}polyline") if g.get("class") == "node"}
    assert sorted(lines) == ["node1", "node2", "node3"]
    window = next(g for g in svg.iter(f"{SVG}g") if g.get("class") == "window")
    label = window.find(f"{SVG}text")
    assert label is not None and label.text == "kill node1"
    shade = window.find(f"{SVG}rect")
    assert shade is not None
    w_start, w_end = float(shade.get("x", "0")), float(shade.get("x", "0")) + float(shade.get("width", "0"))
    assert x0 < w_start < w_end < x0 + width
    span = 3.0 / (history.records[-1].t_end - history.records[0].t) * width  # the window lasts 3 s
    assert w_end - w_start == pytest.approx(span, rel=0.05)
    baseline = y0 + height
    node1 = points(lines["node1"])
    assert any(y < baseline for x, y in node1 if x < w_start)
    assert all(y == baseline for x, y in node1 if x > w_start + 15)  # node1 serves nothing after the kill
    assert any(y < baseline for x, y in points(lines["node2"]) if x > w_start + 15)
    errors = [g for g in svg.iter(f"{SVG}polyline") if g.get("class") == "errors"]
    assert len(errors) == 1 and any(y < baseline for _, y in points(errors[0]))
    moves = [m for m in svg.iter(f"{SVG}line") if m.get("class") == "move"]
    assert len(moves) == 2 and all(m.get("stroke") != "#000" for m in moves)
    assert "outcome: <b>failed</b>" in page and "VALID</b> <code>failover_within" in page
    assert "Sessions that changed node (2)" in page and "mod_proxy_cluster" in page


def test_moves_without_a_fault_are_flagged(tmp_path: Path) -> None:
    history = saved("moved_without_fault")
    moves = session_moves(history)
    assert [(m.user, m.left, m.to, m.faulted) for m in moves] == [
        ("u2", "node2", "node1", False),
        ("u5", "node2", "node3", False),
    ]
    evidence = Evidence(tmp_path)
    evidence.add_history(history)
    page = evidence.write_summary(verdicts=[check_sticky_sessions(history)]).read_text()
    recorded = json.loads((tmp_path / "verdicts.json").read_text())[0]
    assert recorded["valid"] is False and recorded["outcome"] == "invalid"
    svg = svg_of(page)
    assert [m.get("stroke") for m in svg.iter(f"{SVG}line") if m.get("class") == "move"] == ["#000", "#000"]
    assert not [g for g in svg.iter(f"{SVG}g") if g.get("class") == "window"]
    assert '<li class="invalid"><b>INVALID</b> <code>sticky_sessions' in page
    assert "No fault windows." in page and "<td>NO</td>" in page


def test_unknown_verdicts_are_shown_as_unknown_after_invalid_ones(tmp_path: Path) -> None:
    history = saved("steady")
    verdicts = [
        check_sticky_sessions(history),
        check_sticky_sessions(history, min_sessions=99),
        check_sticky_sessions(saved("moved_without_fault")),
    ]
    page = Evidence(tmp_path).write_summary(verdicts=verdicts).read_text()
    listed = re.findall(r'<li class="(\w+)"><b>(\w+)</b>', page)
    assert listed == [("invalid", "INVALID"), ("unknown", "UNKNOWN"), ("valid", "VALID")]
    assert [v["outcome"] for v in json.loads((tmp_path / "verdicts.json").read_text())] == [
        "valid",
        "unknown",
        "invalid",
    ]


def test_a_partition_window_is_labelled_with_its_targets(tmp_path: Path) -> None:
    history = saved("partition_moved")
    svg = svg_of(timeline_svg(history))
    window = next(g for g in svg.iter(f"{SVG}g") if g.get("class") == "window")
    label = window.find(f"{SVG}text")
    assert label is not None and label.text == "partition node1,balancer"
    evidence = Evidence(tmp_path)
    evidence.add_history(history)
    assert "<td>node1,balancer</td>" in evidence.write_summary().read_text()
    assert [m.faulted for m in session_moves(history)] == [True, True]  # windows_for tests membership


def test_open_window_drawn_to_the_end(tmp_path: Path) -> None:
    history = saved("kill_stuck")
    svg = svg_of(timeline_svg(history))
    x0, _, width, _ = plot_area(svg)
    window = next(g for g in svg.iter(f"{SVG}g") if g.get("class") == "window")
    shade = window.find(f"{SVG}rect")
    label = window.find(f"{SVG}text")
    assert shade is not None and label is not None and label.text == "kill node1 (not healed)"
    assert float(shade.get("x", "0")) + float(shade.get("width", "0")) == pytest.approx(x0 + width, abs=0.2)


def test_page_is_self_contained_and_links_every_file(tmp_path: Path) -> None:
    evidence = Evidence(tmp_path)
    evidence.add_history(saved("two_kills"))
    evidence.add_text("node1/container.log", "x")
    page = evidence.write_summary().read_text()
    assert "<script" not in page and not re.search(r'(src|href)="(https?:)?//', page)
    for name in evidence.files:
        assert (tmp_path / name).is_file(), name
        assert f'href="{name}"' in page, name
    assert "versions.json" in evidence.files and (tmp_path / MARKER).is_file()
    assert (tmp_path / SUMMARY).is_file()
    assert len([g for g in svg_of(page).iter(f"{SVG}g") if g.get("class") == "window"]) == 2


def test_empty_history_says_so(tmp_path: Path) -> None:
    evidence = Evidence(tmp_path)
    evidence.add_history(History([]))
    page = evidence.write_summary().read_text()
    assert "No requests were recorded." in page and "<svg" not in page
