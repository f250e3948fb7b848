"""Where the httpd mod_cluster modules come from: a local checkout, a git URL@ref, or a source archive.

The modules are in no package registry, so the balancer image compiles them from a source the user names.
Both layouts are recognised: modcluster/mod_proxy_cluster (2.x: `native/balancers/`, mod_lbmethod_cluster; its
commits before 2023-05-25 still carry `native/mod_cluster_slotmem/` too) and modcluster/mod_cluster 1.3.x
(`native/` without `balancers/`). Only `native/` enters the image.

Build method, from the tree (the image does the same, images/httpd-modcluster/build-modules.sh): `cmake` when
`native/CMakeLists.txt` exists (mod_cluster 1.3.7.Final and later, every 2.x commit), else `autotools`: each
module folder with a `configure.in` is built with `./buildconf; ./configure --with-apxs; make`
(mod_cluster 1.3.0.Final .. 1.3.6.Final). The commit is `git rev-parse HEAD` when the tree is the top of a git
checkout (`+dirty` when `native/` has local changes), "unknown" otherwise (an archive, an exported tree).
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
UNKNOWN = "unknown"
BUILD_METHODS = ("cmake", "autotools")
MODULE_FOLDERS = ("mod_manager", "mod_proxy_cluster", "advertise", "mod_cluster_slotmem", "balancers")


class SourceError(ValueError):
    pass


@dataclass(frozen=True)
class ModClusterSource:
    root: Path  # folder holding native/
    line: str  # "1.3" or "2.x"
    release: str  # e.g. "mod_cluster/1.3.22.Final" or "mod_proxy_cluster/2.0.0.Dev"
    origin: str  # what the user gave
    build_method: str = "cmake"  # BUILD_METHODS: how the image compiles this tree
    commit: str = UNKNOWN  # git rev-parse HEAD of the checkout, "unknown" when the tree is not one

    @property
    def identity(self) -> str:
        """Release and commit in one line: "mod_cluster/1.3.22.Final @ 42b64bbafb59" ("@ unknown")."""
        return f"{self.release} @ {self.commit[:12] if self.commit != UNKNOWN else UNKNOWN}"

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
    if not (native / "mod_manager").is_dir():
        raise SourceError(
            f"mod_cluster source {origin!r}: {root} is not a mod_cluster tree: expected native/mod_manager/ and "
            "native/CMakeLists.txt (or, before CMake, native/*/configure.in): a checkout of "
            "modcluster/mod_proxy_cluster, or modcluster/mod_cluster 1.3.x"
        )
    line = "2.x" if (native / "balancers").is_dir() else "1.3"
    header = native / "include" / "mod_proxy_cluster.h"
    release = UNKNOWN
    if header.is_file():
        match = re.search(r'MOD_CLUSTER_EXPOSED_VERSION\s+"([^"]+)"', header.read_text(errors="replace"))
        if match:
            release = match[1]
    method = build_method(native, origin)
    return ModClusterSource(
        root=root, line=line, release=release, origin=origin, build_method=method, commit=commit_of(root)
    )


def build_method(native: Path, origin: str = "") -> str:
    """ "cmake" when native/CMakeLists.txt exists, "autotools" when the module folders have configure.in."""
    if (native / "CMakeLists.txt").is_file():
        return "cmake"
    folders = [native / name for name in MODULE_FOLDERS if (native / name).is_dir()]
    if folders and all((f / "configure.in").is_file() or (f / "configure.ac").is_file() for f in folders):
        return "autotools"
    missing = [f.name for f in folders if not ((f / "configure.in").is_file() or (f / "configure.ac").is_file())]
    raise SourceError(
        f"mod_cluster source {origin!r}: {native} has no CMakeLists.txt and "
        f"{', '.join(f'native/{m}/configure.in' for m in missing) or 'no module folder'} is missing: "
        "neither a CMake nor an autotools (buildconf/configure) tree"
    )


def commit_of(root: Path) -> str:
    """HEAD of the git checkout whose top is `root` (with "+dirty" when native/ has local changes), or
    "unknown": not a checkout, a folder inside another checkout, no git tool."""
    if not shutil.which("git"):
        return UNKNOWN
    top = _git(root, "rev-parse", "--show-toplevel")
    if top is None or Path(top).resolve() != root.resolve():
        return UNKNOWN
    head = _git(root, "rev-parse", "HEAD")
    if not head or not re.fullmatch(r"[0-9a-f]{40}", head):
        return UNKNOWN
    changes = _git(root, "status", "--porcelain", "--untracked-files=no", "--", "native")
    return f"{head}+dirty" if changes else head


def _git(folder: Path, *args: str) -> str | None:
    result = subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True)
    return result.stdout.strip() if result.returncode == 0 else None


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
    return _git(folder, "rev-parse", "HEAD") or ""
