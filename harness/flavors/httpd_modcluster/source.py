"""Where the httpd mod_cluster modules come from: a local checkout, a git URL@ref, or a source archive.

The modules are in no package registry, so the balancer image compiles them from a source the user names.
Both layouts are recognised: modcluster/mod_proxy_cluster (2.x, `native/` with `balancers/`) and
modcluster/mod_cluster 1.3.x (`native/` with `mod_cluster_slotmem/`). Only `native/` enters the image.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from harness.descriptions import settings

OPTION_HINT = "set --modcluster-source or HARNESS_MODCLUSTER_SOURCE"


class SourceError(ValueError):
    pass


@dataclass(frozen=True)
class ModClusterSource:
    root: Path  # folder holding native/
    line: str  # "1.3" or "2.x"
    release: str  # e.g. "mod_cluster/1.3.22.Final" or "mod_proxy_cluster/2.0.0.Dev"
    origin: str  # what the user gave

    @property
    def native(self) -> Path:
        return self.root / "native"

    @property
    def version(self) -> tuple[int, int, int] | None:
        match = re.search(r"/(\d+)\.(\d+)\.(\d+)", self.release)
        return (int(match[1]), int(match[2]), int(match[3])) if match else None

    def supports_mode(self, mode: str) -> bool:
        return mode == "proxy_cluster" or self.line == "2.x"


def inspect_tree(root: Path, origin: str) -> ModClusterSource:
    """Recognise a mod_cluster source tree, or say what was expected at `root`."""
    native = root / "native"
    if not root.is_dir():
        raise SourceError(f"mod_cluster source {origin!r}: {root} is not a folder ({OPTION_HINT})")
    if not (native / "CMakeLists.txt").is_file() or not (native / "mod_manager").is_dir():
        raise SourceError(
            f"mod_cluster source {origin!r}: {root} is not a mod_cluster tree: expected native/CMakeLists.txt and "
            "native/mod_manager/ (a checkout of modcluster/mod_proxy_cluster, or modcluster/mod_cluster 1.3.x)"
        )
    line = "1.3" if (native / "mod_cluster_slotmem").is_dir() else "2.x"
    header = native / "include" / "mod_proxy_cluster.h"
    release = "unknown"
    if header.is_file():
        match = re.search(r'MOD_CLUSTER_EXPOSED_VERSION\s+"([^"]+)"', header.read_text(errors="replace"))
        if match:
            release = match[1]
    return ModClusterSource(root=root, line=line, release=release, origin=origin)


def resolve(given: str | None) -> ModClusterSource:
    """Turn what the user gave into a source tree on this machine (cloning or unpacking into the cache)."""
    if not given:
        raise SourceError(f"no mod_cluster source given: {OPTION_HINT} (a checkout path, git URL@ref or archive)")
    path = Path(given).expanduser()
    if path.is_dir():
        return inspect_tree(path.resolve(), given)
    if path.is_file() and _is_archive(path):
        return inspect_tree(_unpack(path), given)
    if _looks_like_git(given):
        return inspect_tree(_clone(given), given)
    raise SourceError(f"mod_cluster source {given!r}: no such folder or archive, and not a git URL ({OPTION_HINT})")


def _is_archive(path: Path) -> bool:
    return path.suffix == ".zip" or path.name.endswith((".tar.gz", ".tgz", ".tar"))


def _looks_like_git(text: str) -> bool:
    return text.startswith(("http://", "https://", "git@", "ssh://", "git://", "file://")) or ".git@" in text


def _cache_slot(kind: str, key: str) -> Path:
    return settings.cache_dir() / "sources" / f"{kind}-{hashlib.sha256(key.encode()).hexdigest()[:12]}"


def _single_top(folder: Path) -> Path:
    entries = [p for p in folder.iterdir() if not p.name.startswith(".")]
    return entries[0] if len(entries) == 1 and entries[0].is_dir() else folder


def _unpack(archive: Path) -> Path:
    stat = archive.stat()
    slot = _cache_slot("archive", f"{archive.resolve()}:{stat.st_size}:{stat.st_mtime_ns}")
    if not slot.is_dir():
        partial = slot.with_name(slot.name + ".part")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        try:
            if archive.suffix == ".zip":
                with zipfile.ZipFile(archive) as zipped:
                    zipped.extractall(partial)
            else:
                with tarfile.open(archive) as tarred:
                    tarred.extractall(partial, filter="data")
        except (OSError, zipfile.BadZipFile, tarfile.TarError) as exc:
            shutil.rmtree(partial, ignore_errors=True)
            raise SourceError(f"mod_cluster source archive {archive}: cannot unpack ({exc})") from exc
        partial.rename(slot)
    return _single_top(slot)


def _clone(given: str) -> Path:
    url, _, ref = (
        given.rpartition("@") if given.count("@") > (1 if given.startswith("git@") else 0) else (given, "", "")
    )
    if not shutil.which("git"):
        raise SourceError(f"mod_cluster source {given!r} is a git URL but the `git` tool is missing")
    slot = _cache_slot("git", given)
    if not slot.is_dir():
        partial = slot.with_name(slot.name + ".part")
        shutil.rmtree(partial, ignore_errors=True)
        command = ["git", "clone", "--quiet", "--depth", "1"] + (["--branch", ref] if ref else []) + [url, str(partial)]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            shutil.rmtree(partial, ignore_errors=True)
            raise SourceError(f"mod_cluster source {given!r}: git clone failed: {result.stderr.strip()[-500:]}")
        partial.rename(slot)
    return slot


# --- the default source: a pinned mod_cluster release fetched when the upstream git host answers -----------
@dataclass(frozen=True)
class PinnedRelease:
    url: str
    tag: str
    commit: str  # the tag's commit: a fetched tree with another HEAD is refused


PINNED = PinnedRelease(
    "https://github.com/modcluster/mod_cluster", "1.3.22.Final", "42b64bbafb597df26b7c7441e922f295b238247c"
)


def upstream_answers(url: str, timeout_s: float = 3.0) -> bool:
    """A short probe: does the git host answer at all (any HTTP reply)? file:// URLs answer when the path exists."""
    if url.startswith("file://"):
        return Path(url.removeprefix("file://")).exists()
    import requests

    try:
        requests.head(url, timeout=timeout_s, allow_redirects=False)
    except requests.RequestException:
        return False
    return True


def fetch_pinned(release: PinnedRelease = PINNED) -> Path:
    """The release's tree in the cache (cloned once at its tag), its HEAD checked against the pinned commit."""
    if not shutil.which("git"):
        raise SourceError(f"mod_cluster {release.tag}: the `git` tool is missing to fetch {release.url}")
    slot = _cache_slot("pinned", f"{release.url}@{release.tag}:{release.commit}")
    if not slot.is_dir():
        partial = slot.with_name(f"{slot.name}.part{os.getpid()}")
        shutil.rmtree(partial, ignore_errors=True)
        command = ["git", "clone", "--quiet", "--depth", "1", "--branch", release.tag, release.url, str(partial)]
        result = subprocess.run(command, capture_output=True, text=True, timeout=600)
        if result.returncode != 0:
            shutil.rmtree(partial, ignore_errors=True)
            raise SourceError(
                f"mod_cluster {release.tag}: git clone of {release.url} failed: {result.stderr.strip()[-300:]}"
            )
        head = _head(partial)
        if head != release.commit:
            shutil.rmtree(partial, ignore_errors=True)
            raise SourceError(
                f"mod_cluster {release.tag} from {release.url}: tag points at {head}, "
                f"expected the pinned commit {release.commit}"
            )
        try:
            partial.rename(slot)
        except OSError:  # another process finished the same fetch first
            shutil.rmtree(partial, ignore_errors=True)
    if _head(slot) != release.commit:
        raise SourceError(f"mod_cluster {release.tag}: cached tree {slot} is not at {release.commit}; delete it")
    return slot


def _head(folder: Path) -> str:
    result = subprocess.run(["git", "-C", str(folder), "rev-parse", "HEAD"], capture_output=True, text=True)
    return result.stdout.strip()
