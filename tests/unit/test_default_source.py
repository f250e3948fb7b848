"""The default mod_cluster source: the pinned release fetched (file:// git repo here) or the one-line fallback."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from harness.descriptions.options import HarnessOptions
from harness.flavors.httpd_modcluster import source as modcluster_source
from harness.flavors.httpd_modcluster.flavor import NO_DEFAULT_ENV, apply_default_source, source_for
from harness.flavors.httpd_modcluster.source import PinnedRelease, SourceError, fetch_pinned

TAG = "1.3.22.Final"


def _git(folder: Path, *args: str) -> str:
    result = subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True, check=True)
    return result.stdout.strip()


@pytest.fixture
def upstream(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> PinnedRelease:
    """A tiny mod_cluster 1.3-shaped git repo with the tag; the cache dir in tmp."""
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv(NO_DEFAULT_ENV, raising=False)
    repo = tmp_path / "mod_cluster"
    for folder in ("native/mod_manager", "native/mod_cluster_slotmem", "native/include"):
        (repo / folder).mkdir(parents=True)
        (repo / folder / "README").write_text("git keeps no empty folder\n")
    (repo / "native/CMakeLists.txt").write_text("project(mod_cluster)\n")
    (repo / "native/include/mod_proxy_cluster.h").write_text(
        f'#define MOD_CLUSTER_EXPOSED_VERSION "mod_cluster/{TAG}"\n'
    )
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    _git(repo, "add", "-A")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "release")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "tag", "-a", TAG, "-m", TAG)
    return PinnedRelease(f"file://{repo}", TAG, _git(repo, "rev-parse", "HEAD"))


def test_fetch_clones_the_tag_into_the_cache_once_and_checks_the_commit(upstream: PinnedRelease) -> None:
    tree = fetch_pinned(upstream)
    assert tree.is_relative_to(Path(modcluster_source.settings.cache_dir()))
    assert source_for(str(tree)).release == f"mod_cluster/{TAG}" and source_for(str(tree)).line == "1.3"
    assert fetch_pinned(upstream) == tree  # cached


def test_a_tag_at_another_commit_is_refused(upstream: PinnedRelease) -> None:
    wrong = PinnedRelease(upstream.url, upstream.tag, "0" * 40)
    with pytest.raises(SourceError, match="expected the pinned commit 0000000000"):
        fetch_pinned(wrong)


def test_no_source_and_upstream_answering_gives_httpd_with_the_pinned_release(upstream: PinnedRelease) -> None:
    options, note = apply_default_source(HarnessOptions(), balancer_given=False, release=upstream)
    assert options.balancer == "httpd-modcluster"
    assert options.modcluster_source is not None and Path(options.modcluster_source, "native").is_dir()
    assert f"pinned release {TAG}" in note and "--modcluster-source none" in note


def test_upstream_silent_falls_back_to_undertow_in_one_line_naming_the_option(upstream: PinnedRelease) -> None:
    options, note = apply_default_source(
        HarnessOptions(), balancer_given=False, release=upstream, probe=lambda url: False
    )
    assert options == HarnessOptions()
    assert "\n" not in note and "does not answer, so the balancer is undertow" in note
    assert "--modcluster-source" in note


def test_the_real_probe_of_a_missing_file_url_fails(tmp_path: Path) -> None:
    assert not modcluster_source.upstream_answers(f"file://{tmp_path}/absent")
    assert modcluster_source.upstream_answers(f"file://{tmp_path}")


@pytest.mark.parametrize(
    "options, given, env",
    [
        (HarnessOptions(modcluster_source="/my/checkout"), False, ""),  # a source given: used as is
        (HarnessOptions(balancer="undertow"), True, ""),  # undertow chosen on purpose
        (HarnessOptions(modcluster_mode="lbmethod_cluster"), False, ""),  # the pinned 1.3 has no lbmethod
        (HarnessOptions(), False, "1"),  # opted out by environment
    ],
)
def test_no_probe_and_no_change_when_not_wanted(
    upstream: PinnedRelease, monkeypatch: pytest.MonkeyPatch, options: HarnessOptions, given: bool, env: str
) -> None:
    if env:
        monkeypatch.setenv(NO_DEFAULT_ENV, env)
    probed: list[str] = []
    result = apply_default_source(options, balancer_given=given, release=upstream, probe=probed.append)
    assert result == (options, "") and probed == []


def test_source_none_opts_out_and_means_no_source(upstream: PinnedRelease) -> None:
    options, note = apply_default_source(
        HarnessOptions(modcluster_source="none"), balancer_given=False, release=upstream
    )
    assert options.modcluster_source is None and note == "" and options.balancer == "undertow"
