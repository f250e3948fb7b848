"""Evidence: one folder per test with everything needed to judge a failure after the containers are gone.

`Evidence(folder)` collects files (`add_*`) and writes `summary.html` (rendered by `harness.evidence_html`):
a self-contained page with a timeline plot, the verdicts, the fault windows, the sessions that changed node,
balancer states, versions and links to every file.

Collecting evidence runs while a test is being torn down, often because it failed: an `add_*` that touches
the outside world (a container, a file) never raises; its failure is written to `errors.txt` and shown.
"""

from __future__ import annotations

import hashlib
import json
import platform
import re
import shutil
from collections.abc import Iterable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

from harness.descriptions.topology import Topology
from harness.judge.checks import Verdict
from harness.judge.history import History, save_history
from harness.judge.report import render_summary
from harness.machinery.containers import read_container_file
from harness.machinery.contracts import BalancerState
from harness.machinery.load import LoadResult

MARKER = ".harness-evidence"  # marks a folder this module made (only such folders are cleared for reuse)
SUMMARY = "summary.html"
_UNSAFE = re.compile(r"[^A-Za-z0-9._\-\[\]=+,]+")
_MAX_NAME = 120


def evidence_name(nodeid: str) -> str:
    """The filesystem-safe folder name for a pytest node id (see `evidence_folder`)."""
    name = _UNSAFE.sub("_", nodeid.replace("::", "__").replace("/", "_")).strip("._") or "test"
    if len(name) > _MAX_NAME:
        name = f"{name[: _MAX_NAME - 11]}-{hashlib.sha1(nodeid.encode()).hexdigest()[:10]}"
    return name


def evidence_folder(base_dir: Path | str, nodeid: str) -> Path:
    """A filesystem-safe folder for a pytest node id, created empty under `base_dir`.

    "scenarios/test_x.py::test_kill[wildfly]" -> base_dir/"scenarios_test_x.py__test_kill[wildfly]"; long ids
    are cut and suffixed with a hash of the whole id. A previous run's evidence folder is cleared.
    """
    folder = Path(base_dir) / evidence_name(nodeid)
    if (folder / MARKER).is_file():
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class Evidence:
    def __init__(self, folder: Path | str) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / MARKER).write_text("made by harness.evidence\n")
        self.files: dict[str, str] = {}  # relative name -> description
        self.errors: list[str] = []
        self.history: History | None = None
        self.verdicts: list[Verdict] = []
        self.states: list[tuple[str, BalancerState]] = []
        self.topologies: list[tuple[str, Topology]] = []
        self.load: dict[str, Any] = {}
        self.versions: dict[str, str] = _own_versions()

    def path(self, name: str) -> Path:
        """The path of a file `name` (relative, may have folders) in the evidence folder; parents created."""
        relative = Path(name)
        if relative.is_absolute() or ".." in relative.parts or not relative.parts:
            raise ValueError(f"evidence file name {name!r} must be a relative path inside the folder")
        target = self.folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        return target

    def _note(self, name: str, description: str) -> Path:
        self.files[name] = description
        return self.folder / name

    def add_text(self, name: str, text: str, description: str = "") -> Path:
        self.path(name).write_text(text, encoding="utf-8")
        return self._note(name, description)

    def add_json(self, name: str, obj: Any, description: str = "") -> Path:
        return self.add_text(name, json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n", description)

    def add_error(self, what: str, exc: BaseException | str) -> None:
        """Record a collection failure (shown in the summary and errors.txt) instead of raising it."""
        text = exc if isinstance(exc, str) else f"{type(exc).__name__}: {exc}"
        self.errors.append(f"{what}: {text}")
        self.add_text("errors.txt", "\n".join(self.errors) + "\n", "evidence collection problems")

    def add_file(self, name: str, source: Path | str, description: str = "") -> Path | None:
        """Copy a file (or a folder) in; a missing source is recorded as an error, not raised."""
        try:
            target = self.path(name)
            if Path(source).is_dir():
                shutil.copytree(source, target, dirs_exist_ok=True)
            elif Path(source).resolve() != target.resolve():
                shutil.copyfile(source, target)
            return self._note(name, description or str(source))
        except (OSError, ValueError) as exc:
            self.add_error(f"copy {source} -> {name}", exc)
            return None

    def add_container_logs(self, name: str, container: Any, description: str = "") -> Path | None:
        """Stdout and stderr of a container (docker SDK Container or testcontainers DockerContainer)."""
        try:
            logs = _sdk(container).logs(stdout=True, stderr=True, timestamps=True)
            return self.add_text(name, logs.decode("utf-8", errors="replace"), description or "container log")
        except Exception as exc:
            self.add_error(f"logs of container for {name}", exc)
            return None

    def add_container_file(self, name: str, container: Any, path: str, description: str = "") -> Path | None:
        """A file from inside a container (httpd error_log, WildFly server.log), through the Docker archive API
        (works on a stopped container too)."""
        try:
            self.path(name).write_bytes(read_container_file(container, path))
            return self._note(name, description or path)
        except Exception as exc:
            self.add_error(f"{path} from container for {name}", exc)
            return None

    def add_history(self, history: History) -> None:
        """history.jsonl (every request) and windows.jsonl (fault windows); the timeline plots this history."""
        save_history(history, self.path("history.jsonl"), self.path("windows.jsonl"))
        self._note("history.jsonl", f"{len(history)} requests, one JSON line each")
        self._note("windows.jsonl", f"{len(history.windows)} fault windows")
        self.history = history

    def add_state(self, label: str, state: BalancerState) -> None:
        """Balancer state at a moment ("before-kill-node1"): parsed JSON plus each raw reply as text."""
        safe = _UNSAFE.sub("_", label)
        self.add_text(f"state/{safe}.json", state.to_json() + "\n", f"balancer state {label}: {state.summary()}")
        for key, raw in sorted(state.raw.items()):
            self.add_text(f"state/{safe}.{_UNSAFE.sub('_', key)}.txt", raw, f"raw {key} reply, {label}")
        self.states.append((label, state))

    def add_topology(self, topology: Topology, name: str = "topology.json") -> None:
        self.add_json(name, topology.to_dict(), f"topology {topology.name} as data")
        self.topologies.append((name, topology))

    def add_verdicts(self, verdicts: Iterable[Verdict]) -> None:
        self.verdicts.extend(verdicts)
        self.add_json("verdicts.json", [v.to_dict() for v in self.verdicts], "checker verdicts")

    def add_versions(self, versions: Mapping[str, str]) -> None:
        self.versions.update({str(k): str(v) for k, v in versions.items()})
        self.add_json("versions.json", self.versions, "versions of everything involved")

    def add_load_result(self, result: LoadResult) -> None:
        """A `harness.load.LoadResult`: its summary as load.json, Locust's statistics and log copied in."""
        self.load = result.to_dict()
        self.add_json("load.json", self.load, result.summary())
        for source in (*result.stats_paths, *result.log_paths):
            inside = Path(source).resolve().is_relative_to(self.folder.resolve())
            if inside:  # the run wrote straight into this folder: link, do not copy
                self._note(str(Path(source).resolve().relative_to(self.folder.resolve())), "Locust output")
            else:
                self.add_file(f"load/{Path(source).name}", source, "Locust output")

    def write_summary(self, title: str = "", outcome: str = "", verdicts: Iterable[Verdict] = ()) -> Path:
        """summary.html: self-contained, no scripts, no external resources. `verdicts` are added first."""
        verdicts = list(verdicts)
        if verdicts:
            self.add_verdicts(verdicts)
        if self.versions and "versions.json" not in self.files:
            self.add_json("versions.json", self.versions, "versions of everything involved")
        page = render_summary(self, title or self.folder.name, outcome)
        self.path(SUMMARY).write_text(page, encoding="utf-8")
        return self.folder / SUMMARY


def _sdk(container: Any) -> Any:
    """The docker SDK container behind a testcontainers DockerContainer (or the SDK container itself)."""
    wrapped = getattr(container, "get_wrapped_container", None)
    return wrapped() if callable(wrapped) else container


def _own_versions() -> dict[str, str]:
    versions = {"python": platform.python_version(), "platform": platform.platform()}
    for package in ("locust", "testcontainers", "docker", "pytest", "modcluster-harness"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            pass
    return versions
