"""Unit tier for the flavor registry: one declaration per flavor, and every refusal before anything starts."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from harness.descriptions import settings
from harness.descriptions.faults import BalancerRestart, Kill, Partition, Slowness
from harness.descriptions.options import HarnessOptions, OptionError
from harness.descriptions.topology import Advertise, BalancerSpec, StaticWorkers, Topology
from harness.entry import cli
from harness.flavors import registry
from harness.flavors.base import FlavorRefused, FlavorUnavailable
from harness.flavors.httpd_modcluster.flavor import source_for

ROOT = settings.PROJECT_ROOT


def options(**values: object) -> HarnessOptions:
    return HarnessOptions.from_values({f"harness_{k}": v for k, v in values.items()})


def fake_source(tmp_path: Path, line: str) -> Path:
    """The smallest tree that source inspection recognises as a 1.3 or 2.x checkout."""
    native = tmp_path / f"src-{line}" / "native"
    (native / "mod_manager").mkdir(parents=True)
    (native / "CMakeLists.txt").write_text("project(x)\n")
    (native / ("mod_cluster_slotmem" if line == "1.3" else "balancers")).mkdir()
    (native / "include").mkdir()
    release = "mod_cluster/1.3.22.Final" if line == "1.3" else "mod_proxy_cluster/2.0.0.Dev"
    (native / "include" / "mod_proxy_cluster.h").write_text(f'#define MOD_CLUSTER_EXPOSED_VERSION "{release}"\n')
    return native.parent


# --- the registry is the one declaration ------------------------------------------------------------------
def test_every_flavor_names_an_image_folder_and_declares_its_role() -> None:
    for role, name, image, summary in registry.flavor_table():
        assert (ROOT / "images" / image / "Dockerfile").is_file(), f"{name}: images/{image}/Dockerfile"
        assert role in ("balancer", "node") and summary
    assert set(registry.BALANCERS) == {"httpd-modcluster", "undertow", "httpd-modjk"}
    assert set(registry.NODES) == {"sim", "wildfly", "tomcat"}


def test_readme_flavor_table_lists_every_registered_flavor() -> None:
    readme = (ROOT / "README.md").read_text()
    rows = [line for line in readme.splitlines() if re.match(r"^\| (balancer|node) \| `", line)]
    expected = [
        f"| {role} | `{name}` | `images/{image}/` | {summary} |"
        for role, name, image, summary in registry.flavor_table()
    ]
    assert rows == expected, "README's flavor table differs from the registry (harness flavors prints it)"


def test_cli_choices_and_pytest_choices_come_from_the_registry() -> None:
    parser = cli.build_parser()
    with pytest.raises(SystemExit):
        parser.parse_args(["up", "--balancer", "nginx"])
    args = parser.parse_args(["up", "--balancer", "undertow", "--node-flavor", "wildfly"])
    assert args.harness_balancer == "undertow"


# --- spec fields a flavor cannot honour ------------------------------------------------------------------
def test_undertow_refuses_a_balancer_field_it_does_not_honour() -> None:
    topology = Topology.simple("t", 2, balancer=BalancerSpec(flavor="undertow", max_node=2))
    with pytest.raises(FlavorRefused) as err:
        registry.resolve(topology, options())
    assert err.value.field == "balancer.max_node" and err.value.flavor == "undertow"
    assert "max_node" in str(err.value) and "undertow" in str(err.value)


def test_undertow_refuses_lbmethod_mode() -> None:
    topology = Topology.simple("t", 2, balancer=BalancerSpec(flavor="undertow", mode="lbmethod_cluster"))
    with pytest.raises(FlavorRefused) as err:
        registry.resolve(topology, options())
    assert err.value.field == "balancer.mode"


def test_fields_at_their_defaults_are_never_refused() -> None:
    topology = Topology.simple("t", 2, balancer=BalancerSpec(flavor="undertow", proxy_port=8001))
    assert registry.resolve(topology, options()).balancer.proxy_port == 8001


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"include_sticky_force": False}, "nodes[0].include_sticky_force"),
        ({"faults": ("freeze",)}, "nodes[0].faults"),
        ({"status_interval_s": 1.5}, "nodes[0].status_interval_s"),
        ({"load": -1}, "nodes[0].load"),
    ],
)
def test_wildfly_limits_are_refused_before_start(changes: dict[str, object], field: str) -> None:
    topology = Topology.simple("t", 1, flavor="wildfly", balancer=BalancerSpec(flavor="undertow"), **changes)
    with pytest.raises(FlavorRefused) as err:
        registry.resolve(topology, options())
    assert err.value.field == field and err.value.flavor == "wildfly"


def test_the_sim_takes_what_wildfly_refuses() -> None:
    topology = Topology.simple(
        "t",
        1,
        flavor="sim",
        balancer=BalancerSpec(flavor="undertow"),
        include_sticky_force=False,
        load=-1,
        status_interval_s=1.5,
    )
    assert registry.resolve(topology, options()).nodes[0].load == -1


def test_a_discovery_mode_the_flavor_does_not_speak_is_refused() -> None:
    topology = Topology.simple("t", 1, balancer=BalancerSpec(flavor="undertow"), discovery=StaticWorkers())
    with pytest.raises(FlavorRefused) as err:
        registry.resolve(topology, options())
    assert err.value.field == "discovery"


def test_unknown_flavor_in_a_topology_names_the_field() -> None:
    with pytest.raises(FlavorRefused) as err:
        registry.resolve(Topology.simple("t", 2, flavor="jetty", balancer=BalancerSpec(flavor="undertow")), options())
    assert err.value.field == "nodes[0].flavor" and "sim, wildfly, tomcat" in str(err.value)


# --- the mode is applied before checks, so the evidence says what ran --------------------------------------
def test_modcluster_mode_is_applied_to_the_topology_that_runs(tmp_path: Path) -> None:
    source = str(fake_source(tmp_path, "2.x"))
    resolved = registry.resolve(
        Topology.simple("t", 2, balancer=BalancerSpec()),
        options(modcluster_source=source, modcluster_mode="lbmethod_cluster"),
    )
    assert resolved.balancer.mode == "lbmethod_cluster"
    assert resolved.to_dict()["balancer"]["mode"] == "lbmethod_cluster"


def test_lbmethod_refusals_run_on_the_resolved_topology(tmp_path: Path) -> None:
    """lbmethod_growth must cover the nodes: checked on the topology the options produce."""
    source = str(fake_source(tmp_path, "2.x"))
    with pytest.raises(Exception) as err:
        registry.resolve(
            Topology.simple("t", 3, balancer=BalancerSpec(lbmethod_growth=2)),
            options(modcluster_source=source, modcluster_mode="lbmethod_cluster"),
        )
    assert "lbmethod_growth" in str(err.value)


# --- inputs given but unusable are errors, not skips -----------------------------------------------------
def test_lbmethod_with_a_13_source_names_the_option(tmp_path: Path) -> None:
    source = str(fake_source(tmp_path, "1.3"))
    with pytest.raises(OptionError) as err:
        registry.validate_options(
            options(balancer="httpd-modcluster", modcluster_source=source, modcluster_mode="lbmethod_cluster")
        )
    assert "--modcluster-mode" in str(err.value) and "1.3.22" in str(err.value)


def test_a_mistyped_source_is_an_error_naming_the_option(tmp_path: Path) -> None:
    with pytest.raises(OptionError) as err:
        registry.validate_options(options(balancer="httpd-modcluster", modcluster_source=str(tmp_path / "nope")))
    assert "--modcluster-source" in str(err.value) and "nope" in str(err.value)


def test_no_source_is_unavailable_not_an_error() -> None:
    registry.validate_options(options(balancer="httpd-modcluster"))
    with pytest.raises(FlavorUnavailable) as err:
        source_for(None)
    assert "--modcluster-source" in str(err.value)


def test_undertow_refuses_the_lbmethod_option() -> None:
    with pytest.raises(OptionError) as err:
        registry.validate_options(options(balancer="undertow", modcluster_mode="lbmethod_cluster"))
    assert "--modcluster-mode" in str(err.value)


def test_a_missing_wildfly_archive_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(OptionError) as err:
        registry.validate_options(options(node_flavor="wildfly", wildfly_archive=str(tmp_path / "wf.tar.gz")))
    assert "--wildfly-archive" in str(err.value)


# --- faults a flavor cannot take ------------------------------------------------------------------------
def test_faults_are_checked_against_the_targets_flavor() -> None:
    wildfly = Topology.simple("t", 2, flavor="wildfly", balancer=BalancerSpec(flavor="undertow"))
    with pytest.raises(FlavorRefused) as err:
        registry.validate_fault(wildfly, Slowness("node1"))
    assert err.value.flavor == "wildfly" and "slowness" in err.value.field
    registry.validate_fault(wildfly, Kill("node1"))
    registry.validate_fault(wildfly, Partition("node1"))
    registry.validate_fault(wildfly, BalancerRestart())
    sim = Topology.simple("t", 2, flavor="sim", balancer=BalancerSpec(flavor="undertow"))
    registry.validate_fault(sim, Slowness("node1"))


# --- entry points: refusals before anything is created ---------------------------------------------------
def test_pytest_refuses_a_bad_environment_value_without_internal_error(tmp_path: Path) -> None:
    env = {"HARNESS_BALANCER": "nginx", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "tests/unit/test_war.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 4, output
    assert "INTERNALERROR" not in output and "HARNESS_BALANCER" in output and "'nginx'" in output


def test_pytest_refuses_a_mistyped_source_instead_of_skipping(tmp_path: Path) -> None:
    env = {"HARNESS_MODCLUSTER_SOURCE": str(tmp_path / "typo"), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "tests/unit/test_war.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 4 and "--modcluster-source" in output and "typo" in output, output


def test_harness_up_refuses_a_bad_source_before_creating_anything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from harness.machinery import engine

    def no_engine() -> None:
        raise AssertionError("the engine was reached before the input was checked")

    monkeypatch.setattr(engine, "client", no_engine)
    code = cli.main(["up", "--balancer", "httpd-modcluster", "--modcluster-source", str(tmp_path / "missing")])
    assert code == 2 and "--modcluster-source" in capsys.readouterr().err


def test_harness_up_refuses_an_unhonoured_field_before_creating_anything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from harness.machinery import engine

    monkeypatch.setattr(engine, "client", lambda: (_ for _ in ()).throw(AssertionError("engine reached")))
    topology = Topology.simple("t", 2, balancer=BalancerSpec(flavor="undertow", max_node=2))
    path = tmp_path / "t.json"
    path.write_text(json.dumps(topology.to_dict()))
    code = cli.main(["up", "--topology", str(path)])
    err = capsys.readouterr().err
    assert code == 2 and "balancer.max_node" in err and "undertow" in err


def test_harness_status_names_a_truncated_state_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path))
    state = tmp_path / "up"
    state.mkdir()
    (state / "poke.json").write_text('{"name": "poke", "run": "ab')
    code = cli.main(["status"])
    err = capsys.readouterr().err
    assert code == 2 and str(state / "poke.json") in err


def test_advertise_topology_with_every_flavor_resolves() -> None:
    """Every pair of flavors speaking Advertise (mod_jk and Tomcat speak StaticWorkers only)."""
    for balancer, balancer_flavor in registry.BALANCERS.items():
        if balancer == "httpd-modcluster" or Advertise not in balancer_flavor.discovery:
            continue  # needs a source; covered above
        for node in (name for name, flavor in registry.NODES.items() if Advertise in flavor.discovery):
            topology = Topology.simple(
                "t",
                2,
                flavor=node,
                balancer=BalancerSpec(flavor=balancer),
                discovery=Advertise(),
                status_interval_s=1.0,
            )
            assert registry.resolve(topology, options()).discovery == Advertise()


def test_readme_layout_lists_every_module_of_the_tree() -> None:
    """Each harness folder has a line in the README's layout naming every module in it, and nothing else."""
    readme = (ROOT / "README.md").read_text()
    block = readme[readme.index("## Layout") :]
    block = block[block.index("```") + 3 :]
    block = block[: block.index("```")]
    listed: dict[str, set[str]] = {}
    folder = ""
    for line in block.splitlines():
        head = line.split()[0] if line.strip() else ""
        if head.startswith("harness/"):
            folder = head.rstrip("/")
            listed[folder] = set()
            line = line[len(head) :]
        elif not line.startswith(" "):
            folder = ""
        if folder:
            listed[folder] |= set(re.findall(r"\b[a-z_]+\b", line.split(":", 1)[-1]))
    for path in sorted((ROOT / "harness").rglob("*.py")):
        if path.name == "__init__.py" or "__pycache__" in path.parts:
            continue
        where = str(path.parent.relative_to(ROOT))
        assert where in listed, f"README layout has no line for {where}/"
        assert path.stem in listed[where], f"README layout line for {where}/ does not name {path.stem}"
    for where in listed:
        assert (ROOT / where).is_dir(), f"README layout names {where}/, which does not exist"
