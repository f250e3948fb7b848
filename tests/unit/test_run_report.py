"""The run report's data assembly (Collector, timeline) and its page (pure)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.entry import run_report_html
from harness.entry.run_report import Collector, TestEntry, load_saved, outcome_of, timeline
from harness.judge.checks import Verdict
from harness.judge.history import FaultWindow, History, RequestRecord


def rec(t: float, node: str | None, session: str = "s1", status: int = 200, user: str = "u1") -> RequestRecord:
    return RequestRecord(
        t=t,
        t_end=t + 0.01,
        user=user,
        session=session,
        route=None,
        new_route=None,
        node=node,
        status=status,
        latency_ms=10.0,
        error=None if status else "refused",
        path="/",
    )


def kill_history() -> History:
    records = [rec(100 + i * 0.1, "node1") for i in range(20)]  # 2 s on node1
    records += [rec(102 + i * 0.1, "node2") for i in range(20)]  # then node2
    records += [rec(102.05, None, status=0)]
    return History(records, [FaultWindow("kill", "node1", 101.9, 103.0)])


def test_timeline_counts_per_node_errors_windows_and_moves_relative_to_first_request() -> None:
    data = timeline(kill_history())
    assert data is not None
    assert data["t0"] == 100 and data["requests"] == 41
    assert data["bucket_s"] == 0.1
    assert sum(data["rps"]["node1"]) * data["bucket_s"] == pytest.approx(20)
    assert sum(data["rps"]["node2"]) * data["bucket_s"] == pytest.approx(20)
    assert sum(data["errors"]) * data["bucket_s"] == pytest.approx(1)
    assert data["windows"] == [{"kind": "kill", "target": "node1", "start": 1.9, "end": 3.0, "detail": ""}]
    assert [(m["from"], m["to"], m["faulted"]) for m in data["moves"]] == [("node1", "node2", True)]
    assert any(s[3] == 0 for s in data["samples"])  # the failed request is kept as a sample


def test_timeline_of_an_empty_history_is_none() -> None:
    assert timeline(History([])) is None


def test_timeline_samples_are_capped_but_keep_every_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.entry import run_report

    monkeypatch.setattr(run_report, "MAX_SAMPLES", 10)
    records = [rec(i * 0.01, "node1") for i in range(100)] + [rec(0.505, None, status=503)]
    data = timeline(History(records))
    assert data is not None
    assert len(data["samples"]) <= 12
    assert [s[3] for s in data["samples"]].count(503) == 1


@pytest.mark.parametrize(
    "when, passed, failed, skipped, xfail, expected",
    [
        ("setup", True, False, False, False, None),
        ("setup", False, True, False, False, "error"),
        ("setup", False, False, True, False, "skipped"),
        ("call", True, False, False, False, "passed"),
        ("call", False, True, False, False, "failed"),
        ("call", False, False, True, True, "xfailed"),
        ("call", True, False, False, True, "xpassed"),
        ("teardown", False, True, False, False, "error"),
        ("teardown", True, False, False, False, None),
    ],
)
def test_outcome_of_a_phase(
    when: str, passed: bool, failed: bool, skipped: bool, xfail: bool, expected: str | None
) -> None:
    assert outcome_of(when, passed, failed, skipped, xfail) == expected


def test_collector_keeps_the_worst_outcome_and_adds_durations() -> None:
    collector = Collector()
    collector.outcome("t::a", "setup", None, 1.0, "")
    collector.outcome("t::a", "call", "passed", 2.0, "")
    collector.outcome("t::a", "teardown", "error", 0.5, "teardown boom")
    entry = collector.tests["t::a"]
    assert (entry.outcome, entry.message, entry.duration_s) == ("error", "teardown boom", 3.5)


def test_a_shared_run_attributes_only_the_new_verdicts_to_each_test() -> None:
    collector, run_verdicts = Collector(), [Verdict("one", True)]
    collector.scenario("m::first", 7, run_verdicts, [])
    run_verdicts.append(Verdict("two", False, summary="broken"))
    collector.scenario("m::second", 7, run_verdicts, [kill_history()])
    assert [v["name"] for v in collector.tests["m::first"].verdicts] == ["one"]
    assert [v["name"] for v in collector.tests["m::second"].verdicts] == ["two"]
    assert len(collector.tests["m::second"].timelines) == 1


def test_failures_come_first_and_failover_times_are_read_from_verdicts() -> None:
    collector = Collector()
    for nodeid, outcome in (("b::ok", "passed"), ("c::skip", "skipped"), ("a::bad", "failed"), ("d::err", "error")):
        collector.outcome(nodeid, "call", outcome, 0.1, "")
    assert [e.nodeid for e in collector.ordered()] == ["a::bad", "d::err", "b::ok", "c::skip"]
    entry = TestEntry(
        "x",
        verdicts=[
            {"name": "failover_within", "details": {"measured_max_s": 1.5}},
            {"name": "failover_within", "details": {"measured_max_s": None}},
        ],
    )
    assert entry.failover_s == [1.5]


def test_worker_parts_merge_scenario_data_but_not_outcomes(tmp_path: Path) -> None:
    worker = Collector()
    worker.outcome("t::a", "call", "passed", 1.0, "")
    worker.scenario("t::a", 1, [Verdict("v", True)], [kill_history()])
    worker.evidence(["t::a"], tmp_path / "ev")
    worker.dump_part(tmp_path / "parts", "gw0")
    controller = Collector()
    controller.outcome("t::a", "call", "failed", 1.0, "assert")
    assert controller.load_parts(tmp_path / "parts") == 1
    entry = controller.tests["t::a"]
    assert entry.outcome == "failed" and [v["name"] for v in entry.verdicts] == ["v"]
    assert entry.evidence == str((tmp_path / "ev").resolve()) and len(entry.timelines) == 1


def test_worker_parts_add_what_their_clusters_ran_without_overriding_the_controller(tmp_path: Path) -> None:
    worker = Collector(info={"run id": "worker", "httpd": "Apache/2.4.71 (Debian)", "tomcat": "10.1.40-1"})
    worker.dump_part(tmp_path / "parts", "gw0")
    controller = Collector(info={"run id": "controller"})
    controller.load_parts(tmp_path / "parts")
    assert controller.info == {"run id": "controller", "httpd": "Apache/2.4.71 (Debian)", "tomcat": "10.1.40-1"}


def test_run_info_names_release_commit_and_wildfly_only_when_it_runs(tmp_path: Path) -> None:
    from harness.descriptions.options import HarnessOptions
    from harness.entry.run_report_plugin import run_info

    native = tmp_path / "src" / "native"
    for folder in ("mod_manager", "mod_cluster_slotmem", "include"):
        (native / folder).mkdir(parents=True)
    (native / "CMakeLists.txt").write_text("PROJECT(x)\n")
    (native / "include" / "mod_proxy_cluster.h").write_text('#define MOD_CLUSTER_EXPOSED_VERSION "mod_cluster/1.3.9"\n')
    info = run_info(HarnessOptions(balancer="httpd-modcluster", modcluster_source=str(tmp_path / "src")), [])
    assert info["mod_cluster"].startswith("mod_cluster/1.3.9 (line 1.3, cmake build) from ")
    assert info["mod_cluster commit"] == "unknown" and "wildfly" not in info
    assert run_info(HarnessOptions(balancer="undertow", node="wildfly"), [])["wildfly"]


def _collector_with_failure(tmp_path: Path) -> Collector:
    collector = Collector(info={"balancer": "httpd-modcluster", "mod_cluster": "mod_cluster/1.3.22.Final"})
    collector.outcome("s::passing", "call", "passed", 1.0, "")
    collector.outcome("s::failing", "call", "failed", 1.0, "AssertionError: failover too slow")
    collector.scenario(
        "s::failing",
        1,
        [Verdict("failover_within", False, {"measured_max_s": 12.0}, "failover took 12 s > 10 s")],
        [kill_history()],
    )
    collector.evidence(["s::failing"], tmp_path / "evidence" / "s_failing")
    return collector


def test_page_lists_failures_first_with_verdicts_versions_and_relative_evidence_links(tmp_path: Path) -> None:
    page = run_report_html.render(_collector_with_failure(tmp_path), tmp_path)
    assert page.index("s::failing") < page.index("s::passing")
    assert "INVALID failover_within: failover took 12 s &gt; 10 s" in page
    assert "mod_cluster/1.3.22.Final" in page
    assert "href='evidence/s_failing'" in page.replace('"', "'")
    assert "AssertionError: failover too slow" in page


def test_page_inlines_plotly_once_and_loads_nothing_from_the_network(tmp_path: Path) -> None:
    pytest.importorskip("plotly")
    page = run_report_html.render(_collector_with_failure(tmp_path), tmp_path)
    from plotly.offline import get_plotlyjs

    library = get_plotlyjs()
    assert page.count(library) == 1
    rest = page.replace(library, "")
    assert "cdn.plot.ly" not in rest and "<script src=" not in rest and 'src="http' not in rest
    assert "zoom: kill node1" in page  # a button zooming to the fault window


def test_page_without_load_has_no_script(tmp_path: Path) -> None:
    collector = Collector()
    collector.outcome("u::t", "call", "passed", 0.1, "")
    assert "<script" not in run_report_html.render(collector, tmp_path)


def test_zoom_button_spans_the_window_with_margins() -> None:
    pytest.importorskip("plotly")
    data = timeline(kill_history())
    assert data is not None
    figure = run_report_html.timeline_figure(data).to_plotly_json()
    buttons = figure["layout"]["updatemenus"][0]["buttons"]
    zoom = buttons[1]["args"][0]["xaxis.range"]
    margin = run_report_html.ZOOM_MARGIN_S
    assert zoom == [pytest.approx(1.9 - margin), pytest.approx(3.0 + margin)]


def test_write_saves_the_page_and_the_data_for_the_matrix(tmp_path: Path) -> None:
    path = run_report_html.write(_collector_with_failure(tmp_path), tmp_path / "out" / "report.html")
    assert path.is_file()
    saved = load_saved(path.with_suffix(".json"))
    assert saved.tests["s::failing"].outcome == "failed"
    assert saved.tests["s::failing"].failover_s == [12.0]
    assert json.loads(path.with_suffix(".json").read_text())["counts"] == {"failed": 1, "passed": 1}


def test_plain_passing_tests_are_folded_away_below_the_ones_with_something_to_see(tmp_path: Path) -> None:
    collector = _collector_with_failure(tmp_path)
    collector.outcome("u::plain", "call", "passed", 0.1, "")
    page = run_report_html.render(collector, tmp_path)
    folded = page.index("other test(s) without verdicts or load")
    assert page.index("s::failing") < folded < page.index("u::plain")


class _Part:
    def __init__(self, versions: dict[str, str] | None = None) -> None:
        self._versions = versions

    def versions(self) -> dict[str, str]:
        if self._versions is None:
            raise ConnectionError("management port closed")
        return self._versions


def test_cluster_versions_name_each_component_and_say_what_could_not_be_read() -> None:
    from typing import Any, cast

    from harness.descriptions.options import HarnessOptions
    from harness.descriptions.topology import Topology
    from harness.run.cluster import Cluster

    cluster = Cluster(Topology.simple("t", 3), cast(Any, None), HarnessOptions())
    cluster.balancer = cast(Any, _Part({"httpd": "Apache/2.4.71 (Debian)", "mod_cluster commit": "c0ffee"}))
    cluster.nodes = cast(
        Any, {"node1": _Part({"tomcat": "10.1.40-1"}), "node2": _Part({"tomcat": "10.1.41-1"}), "node3": _Part()}
    )
    assert cluster.versions() == {
        "httpd": "Apache/2.4.71 (Debian)",
        "mod_cluster commit": "c0ffee",
        "tomcat": "10.1.40-1",
        "tomcat (node2)": "10.1.41-1",
        "node3": "(unavailable: ConnectionError: management port closed)",
    }
