"""harness matrix: the combinations, the registry's refusals, and the scenario x combination table (pure)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.descriptions.options import HarnessOptions, OptionError
from harness.entry import matrix_report
from harness.entry.matrix import Combination, combinations, judge, registry_check, save, saved
from harness.entry.run_report import Collector
from harness.entry.run_report_html import write as write_run_report
from harness.judge.checks import Verdict

W = "39.0.1.Final"


def test_cross_product_in_order_and_a_balancer_without_source_runs_once() -> None:
    combos = combinations(["httpd-modcluster", "undertow"], ["sim", "wildfly"], ["/a", "/b"], ["proxy_cluster"], [W])
    assert [(c.balancer, c.node, c.source) for c in combos] == [
        ("httpd-modcluster", "sim", "/a"),
        ("httpd-modcluster", "sim", "/b"),
        ("httpd-modcluster", "wildfly", "/a"),
        ("httpd-modcluster", "wildfly", "/b"),
        ("undertow", "sim", None),
        ("undertow", "wildfly", None),
    ]


def test_no_source_given_is_one_combination_without_source() -> None:
    modes = ["proxy_cluster", "lbmethod_cluster"]
    combos = combinations(["httpd-modcluster"], ["sim"], [None], modes, [W, "38.0.1.Final"])
    assert len(combos) == 4 and {c.source for c in combos} == {None}


def _fake_check(options: HarnessOptions) -> None:
    if options.modcluster_mode == "lbmethod_cluster" and options.modcluster_source == "/src/1.3":
        raise OptionError("lbmethod_cluster needs a 2.x source")
    if options.balancer == "undertow" and options.modcluster_mode != "proxy_cluster":
        raise OptionError("undertow has no lbmethod mode")


def test_refused_combinations_carry_the_reason_and_labels_name_the_release() -> None:
    combos = combinations(
        ["httpd-modcluster", "undertow"], ["sim"], ["/src/1.3", "/src/2"], ["proxy_cluster", "lbmethod_cluster"], [W]
    )
    judged = judge(combos, _fake_check, lambda s: {"/src/1.3": "mod_cluster/1.3.22.Final"}.get(s, "main"))
    refused = {c.label: c.refused for c in judged if c.refused}
    assert refused == {
        "httpd-modcluster / sim / mod_cluster/1.3.22.Final / lbmethod_cluster": "lbmethod_cluster needs a 2.x source",
        "undertow / sim / lbmethod_cluster / wildfly 39.0.1.Final": "undertow has no lbmethod mode",
    }
    assert sum(not c.refused for c in judged) == 4


def test_the_real_registry_refuses_undertow_with_lbmethod() -> None:
    combos = judge(combinations(["undertow"], ["sim"], [None], ["lbmethod_cluster"], [W]), registry_check, str)
    assert "undertow balancer has no mod_lbmethod_cluster mode" in combos[0].refused


def test_a_combination_gives_pytest_its_flags_and_a_safe_folder_name() -> None:
    combo = Combination("httpd-modcluster", "wildfly", "/srv/x y", "lbmethod_cluster", W, "mod_proxy_cluster/2.0")
    flags = combo.pytest_flags()
    assert flags[flags.index("--modcluster-source") + 1] == "/srv/x y"
    assert flags[flags.index("--modcluster-mode") + 1] == "lbmethod_cluster"
    assert "/" not in combo.slug and " " not in combo.slug


JUNIT = """<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest">
<testcase classname="scenarios.failover.test_kill" name="test_kill" time="20"/>
<testcase classname="scenarios.failover.test_kill" name="test_stop" time="20">{stop}</testcase>
</testsuite></testsuites>"""


def _combination_folder(base: Path, combo: Combination, stop: str, failover: float) -> tuple[Combination, Path]:
    folder = base / combo.slug
    folder.mkdir(parents=True)
    (folder / "junit.xml").write_text(JUNIT.format(stop=stop))
    collector = Collector()
    collector.outcome("scenarios/failover/test_kill.py::test_kill", "call", "passed", 1, "")
    collector.scenario(
        "scenarios/failover/test_kill.py::test_kill",
        1,
        [Verdict("failover_within", True, {"measured_max_s": failover}, "ok")],
        [],
    )
    write_run_report(collector, folder / "report.html")
    done = Combination(**{**combo.to_dict(), "outcome": "ran (exit 0)"})
    save(done, folder)
    return done, folder


@pytest.fixture
def table(tmp_path: Path) -> matrix_report.Table:
    a = Combination("httpd-modcluster", "sim", "/a", source_label="2.x")
    b = Combination("httpd-modcluster", "sim", "/b", source_label="1.3")
    c = Combination("httpd-modcluster", "sim", "/b", "lbmethod_cluster", source_label="1.3", refused="needs 2.x")
    _combination_folder(tmp_path, a, "", 0.5)
    _combination_folder(tmp_path, b, '<failure message="failover too slow">x</failure>', 3.0)
    save(c, tmp_path / c.slug)
    return matrix_report.build(saved([tmp_path]))


def test_table_rows_are_scenarios_and_cells_come_from_junit_and_the_run_report(table: matrix_report.Table) -> None:
    assert table.rows == ["scenarios.failover.test_kill::test_kill", "scenarios.failover.test_kill::test_stop"]
    ran = [c for c in table.columns if c.ran]
    assert len(ran) == 2 and len(table.columns) == 3
    kill = {c.combo.source_label: c.cells["scenarios.failover.test_kill::test_kill"] for c in ran}
    assert kill["2.x"].failover_s == (0.5,) and kill["1.3"].failover_s == (3.0,)
    assert kill["2.x"].verdicts == "1/1 valid" and kill["2.x"].report is not None


def test_a_row_that_differs_between_combinations_is_marked(table: matrix_report.Table) -> None:
    stop = "scenarios.failover.test_kill::test_stop"
    assert table.differs(stop) and not table.differs("scenarios.failover.test_kill::test_kill")
    assert len(table.odd_cells(stop)) == 2  # a tie between two combinations: both stand out
    assert not table.all_passed()


def test_the_page_shows_refused_columns_with_the_reason_and_outlines_differing_cells(
    table: matrix_report.Table, tmp_path: Path
) -> None:
    page = matrix_report.write(table, tmp_path / "out").read_text()
    assert "refused: needs 2.x" in page
    assert "class='failed odd'" in page and "class='passed odd'" in page
    assert "failover 3.00 s" in page and "(differs)" in page
    assert "href='../" in page  # links relative to the report's folder
    markdown = (tmp_path / "out" / "matrix.md").read_text()
    assert "**failed** ⚠" in markdown and "passed (0.50 s)" in markdown and "refused: needs 2.x" in markdown


def test_junit_key_matches_pytest_junit_names() -> None:
    assert matrix_report.junit_key("a/b/test_x.py::Cls::test_y[p-1]") == "a.b.test_x.Cls::test_y[p-1]"
    assert matrix_report.junit_key("test_x.py::test_y") == "test_x::test_y"


def test_a_combination_without_junit_results_is_a_problem_not_a_pass(tmp_path: Path) -> None:
    combo = Combination("httpd-modcluster", "sim", "/a", outcome="ran (exit 4)")
    save(combo, tmp_path / "one")
    table = matrix_report.build(saved([tmp_path / "one"]))
    assert "ran (exit 4): no JUnit results" in table.columns[0].problem
    assert not table.all_passed()


def test_a_test_case_listed_twice_keeps_the_worse_outcome(tmp_path: Path) -> None:
    path = tmp_path / "junit.xml"
    path.write_text(
        '<testsuite><testcase classname="m" name="t"/><testcase classname="m" name="t">'
        '<error message="teardown failed"/></testcase></testsuite>'
    )
    assert matrix_report.read_junit(path) == {"m::t": ("error", "teardown failed")}
    assert json.loads(json.dumps(matrix_report.read_junit(tmp_path / "missing.xml"))) == {}


def test_an_xfailed_case_is_xfailed_not_skipped(tmp_path: Path) -> None:
    path = tmp_path / "junit.xml"
    path.write_text(
        "<testsuites><testsuite>"
        "<testcase classname='s.t' name='known'><skipped type='pytest.xfail' message='known broken on 2.x'/></testcase>"
        "<testcase classname='s.t' name='skip'><skipped type='pytest.skip' message='needs a source'/></testcase>"
        "</testsuite></testsuites>"
    )
    cases = matrix_report.read_junit(path)
    assert cases["s.t::known"] == ("xfailed", "known broken on 2.x")
    assert cases["s.t::skip"] == ("skipped", "needs a source")
