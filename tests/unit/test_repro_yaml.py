"""Unit tier: reproductions read from YAML (and .py) files: good files give the same data as Python, bad files
name the file and the field path, nothing is lost in silence; the catalogue reads its folder (no Docker)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.descriptions.balancer import MpmSpec
from harness.descriptions.faults import Kill
from harness.descriptions.repro_yaml import (
    ReproFileError,
    load_reproduction_yaml,
    reproduction_from_yaml,
    reproduction_to_yaml,
)
from harness.descriptions.reproduction import Observation, RunFacts
from harness.descriptions.timeline import Expect, Heal, Hold, Inject, Mcmp, WaitUntil
from harness.run.repro_catalogue import CatalogueError, find, load_file, load_folder, unique
from scenarios.reproductions.catalogue import FOLDER, catalogue

DATA = Path(__file__).parent / "data" / "repro"
GOOD = """\
key: X-1
topology: {nodes: 2}
timeline:
  - inject: {kind: kill, node: node1}
  - hold: 1
checks: [sticky]
"""


def test_a_file_with_every_field_reads_into_the_same_data_as_python() -> None:
    repro = load_reproduction_yaml(DATA / "every-step.yaml")
    assert repro.key == "MODCLUSTER-000-every-step" and repro.repeats == 3
    assert repro.topology.balancer["mpm"] == MpmSpec(
        start_servers=1, server_limit=1, max_request_workers=25, max_spare_threads=50
    )
    assert repro.topology.balancer["overlay"] == ("ProxyTimeout 5",) and repro.topology.per_node == {
        "node2": {"load": 20}
    }
    config = repro.timeline[1]
    assert isinstance(config, Mcmp) and dict(config.params)["StickySessionForce"] == "No"
    assert dict(config.params)["Port"] == "8080" and config.expect_status == 200
    assert [type(s) for s in repro.timeline] == [WaitUntil, Mcmp, Expect, Mcmp, Inject, WaitUntil, Hold, Expect,
                                                  Heal, WaitUntil]  # fmt: skip
    assert repro.timeline[4] == Inject(Kill("node1")) and repro.timeline[7] == Expect(("failover_within:10",))
    assert repro.applies.line == ("1.3", "2.x") and repro.known_broken[0].where.line == ("2.x",)
    assert repro.observed[0] == Observation("1.3.22.Final", "invalid", "2026-11-03", "first seen in production")
    assert repro.notes.startswith("Seen twice")
    broken = RunFacts("httpd-modcluster", "sim", "lbmethod_cluster", "2.x", "mod_proxy_cluster/2.0.0.Dev")
    assert repro.where_broken(broken) is not None
    assert reproduction_from_yaml(reproduction_to_yaml(repro)) == repro


def test_the_checked_in_yaml_entry_is_in_the_catalogue_and_every_entry_writes_back_as_yaml() -> None:
    sample = load_file(FOLDER / "kill-under-load-fails-over.yaml")
    assert sample in catalogue()
    for repro in catalogue():
        text = reproduction_to_yaml(repro)
        assert text.startswith("version: 2\n") and reproduction_from_yaml(text, "again.yaml") == repro


@pytest.mark.parametrize(
    "text, message",
    [
        (GOOD.replace("kind: kill", "kind: kil"),
         "repro.yaml: timeline[0].inject.kind: got 'kil'; accepted values: kill, stop, pause"),
        (GOOD.replace("checks: [sticky]", "checks: [sticky, stickyy]"),
         "repro.yaml: checks[1]: expectation 'stickyy': known names are sticky"),
        (GOOD.replace("checks:", "expectations:"), "repro.yaml: expectations: unknown field of Reproduction; accepted: key,"),
        (GOOD.replace("  - hold: 1", "  - heal: kill:node2"),
         "repro.yaml: timeline[1].heal: 'kill:node2' is not active here; active faults: kill:node1"),
        (GOOD.replace("node: node1}", "node: node9}"), "repro.yaml: timeline[0].inject: kill:node9: unknown name 'node9'; known: node1, node2, balancer"),
        (GOOD + "key: X-2\n", "repro.yaml: line 7, column 1: key 'key' given twice (line 1 and line 7)"),
        (GOOD.replace("  - hold: 1", "  - mcmp: {command: CONFIG, params: {JVMRoute: node1, StickySessionForce: No}}"),
         "repro.yaml: timeline[1].mcmp.params.StickySessionForce: got False; YAML reads unquoted yes/no"),
        (GOOD + "applies: {line: 1.3}\n", "repro.yaml: applies.line[0]: got 1.3 (a number: quote it, '1.3')"),
        (GOOD + "version: 3\n", "repro.yaml: version: got 3; this harness reads version 2"),
        (GOOD.replace("{nodes: 2}", "{nodes: 2, balancer: {flavor: undertow}}"),
         "repro.yaml: topology.balancer.flavor: the run chooses the flavor; say where the entry applies: applies.balancer"),
        (GOOD.replace("  - hold: 1", "  - hold: 1\n   - hold: 2"), "repro.yaml: line 6, column 4: "),
        ("", "repro.yaml: empty: expected a mapping with at least key and checks"),
        ("- key: X\n", "repro.yaml: got a list at the top; expected a mapping (key: ...)"),
        (GOOD.replace("timeline:", "timeline: {}\nold:"), "repro.yaml: old: unknown field of Reproduction"),
        (GOOD.replace("  - inject: {kind: kill, node: node1}\n  - hold: 1\n", "  - {hold: 1, heal: kill:node1}\n"),
         "repro.yaml: timeline[0]: got {'hold': 1, 'heal': 'kill:node1'}; expected a mapping with one key"),
    ],
)  # fmt: skip
def test_bad_files_name_the_file_and_the_field(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "repro.yaml"
    path.write_text(text)
    with pytest.raises(ReproFileError) as excinfo:
        load_reproduction_yaml(path)
    assert str(excinfo.value).startswith(str(tmp_path) + "/"), str(excinfo.value)
    assert message in str(excinfo.value), str(excinfo.value)
    with pytest.raises(CatalogueError, match="repro.yaml: "):
        load_file(path)


def test_files_that_are_not_reproductions(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match="no such file"):
        load_file(tmp_path / "missing.yaml")
    (tmp_path / "notes.txt").write_text("key: X")
    with pytest.raises(CatalogueError, match=r"notes.txt: expected a \.yaml, \.yml or \.py file"):
        load_file(tmp_path / "notes.txt")
    (tmp_path / "binary.yaml").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(CatalogueError, match="binary.yaml: cannot be read"):
        load_file(tmp_path / "binary.yaml")


def test_a_python_file_defines_its_reproduction(tmp_path: Path) -> None:
    good = tmp_path / "repro.py"
    good.write_text(
        "from harness.descriptions.faults import Kill\n"
        "from harness.descriptions.reproduction import Reproduction\n"
        "REPRODUCTION = Reproduction('PY-1', faults=(Kill('node1'),), checks=('sticky',))\n"
    )
    assert load_file(good).key == "PY-1" and find(str(good), []).key == "PY-1"
    (tmp_path / "none.py").write_text("X = 1\n")
    with pytest.raises(CatalogueError, match="none.py: defines no REPRODUCTION"):
        load_file(tmp_path / "none.py")
    (tmp_path / "bad.py").write_text(
        "from harness.descriptions.reproduction import Reproduction\nREPRODUCTION = Reproduction('PY-2', checks=('x',))\n"
    )
    with pytest.raises(CatalogueError, match=r"bad.py: checks\[0\]: expectation 'x'"):
        load_file(tmp_path / "bad.py")
    (tmp_path / "boom.py").write_text("raise RuntimeError('no')\n")
    with pytest.raises(CatalogueError, match="boom.py: running it failed: RuntimeError: no"):
        load_file(tmp_path / "boom.py")


def test_the_run_layer_checks_flavor_names_in_files(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text(GOOD + "applies: {balancer: undertw}\n")
    assert load_reproduction_yaml(path).applies.balancer == ("undertw",)  # pure data: any name
    with pytest.raises(CatalogueError, match=r"r.yaml: applies.balancer\[0\]: no balancer flavor 'undertw'; known:"):
        load_file(path)


def test_folders_and_keys(tmp_path: Path) -> None:
    (tmp_path / "b.yaml").write_text(GOOD.replace("X-1", "B-1"))
    (tmp_path / "a.yml").write_text(GOOD)
    (tmp_path / "README.md").write_text("not read")
    entries = load_folder(tmp_path)
    assert [r.key for r in entries] == ["X-1", "B-1"]
    assert find("B-1", entries).key == "B-1"
    with pytest.raises(CatalogueError, match="no reproduction with key 'C-1'; known keys: X-1, B-1"):
        find("C-1", entries)
    with pytest.raises(CatalogueError, match="key 'X-1' given twice"):
        unique(entries + entries[:1], "here")
    (tmp_path / "c.yaml").write_text(GOOD.replace("hold: 1", "hold: -1"))
    with pytest.raises(CatalogueError, match=r"c.yaml: timeline\[1\].hold.seconds"):
        load_folder(tmp_path)
