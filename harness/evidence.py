"""Evidence: one folder per test with everything needed to judge a failure after the containers are gone.

`Evidence(folder)` collects files (`add_*`) and writes `summary.html`: a self-contained page with a timeline
plot (requests/s per node, errors/s, fault windows shaded and labelled, session moves ticked), the verdicts,
the fault windows, the sessions that changed node, balancer states, versions and links to every file.

Collecting evidence runs while a test is being torn down, often because it failed: an `add_*` that touches
the outside world (a container, a file) never raises; its failure is written to `errors.txt` and shown.
"""

from __future__ import annotations

import hashlib
import html
import io
import json
import math
import platform
import re
import shutil
import tarfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any, Optional

from harness.balancer import BalancerState
from harness.checks import Verdict
from harness.history import NO_NODE, History, save_history
from harness.load import LoadResult
from harness.topology import Topology

MARKER = ".harness-evidence"  # marks a folder this module made (only such folders are cleared for reuse)
SUMMARY = "summary.html"
_UNSAFE = re.compile(r"[^A-Za-z0-9._\-\[\]=+,]+")
_MAX_NAME = 120
_COLORS = ("#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2", "#bcbd22", "#7f7f7f")
_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0)


def evidence_folder(base_dir: Path | str, nodeid: str) -> Path:
    """A filesystem-safe folder for a pytest node id, created empty under `base_dir`.

    "scenarios/test_x.py::test_kill[wildfly]" -> base_dir/"scenarios_test_x.py__test_kill[wildfly]"; long ids
    are cut and suffixed with a hash of the whole id. A previous run's evidence folder is cleared.
    """
    name = _UNSAFE.sub("_", nodeid.replace("::", "__").replace("/", "_")).strip("._") or "test"
    if len(name) > _MAX_NAME:
        name = f"{name[:_MAX_NAME - 11]}-{hashlib.sha1(nodeid.encode()).hexdigest()[:10]}"
    folder = Path(base_dir) / name
    if (folder / MARKER).is_file():
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@dataclass(frozen=True)
class SessionMove:
    t: float
    session: str
    user: str
    left: str
    to: str
    faulted: bool  # a fault window on the node it left covers the request


def session_moves(history: History) -> list[SessionMove]:
    """Every change of serving node within a session, in time order."""
    moves = []
    for session, records in history.by_session().items():
        served = [r for r in records if r.node is not None]
        for prev, cur in zip(served, served[1:]):
            if prev.node != cur.node and prev.node is not None and cur.node is not None:
                faulted = any(w.overlaps(cur.t, cur.t_end) for w in history.windows_for(prev.node))
                moves.append(SessionMove(cur.t, session, cur.user, prev.node, cur.node, faulted))
    return sorted(moves, key=lambda m: m.t)


class Evidence:
    def __init__(self, folder: Path | str) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / MARKER).write_text("made by harness.evidence\n")
        self.files: dict[str, str] = {}  # relative name -> description
        self.errors: list[str] = []
        self.history: Optional[History] = None
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

    def add_file(self, name: str, source: Path | str, description: str = "") -> Optional[Path]:
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

    def add_container_logs(self, name: str, container: Any, description: str = "") -> Optional[Path]:
        """Stdout and stderr of a container (docker SDK Container or testcontainers DockerContainer)."""
        try:
            logs = _sdk(container).logs(stdout=True, stderr=True, timestamps=True)
            return self.add_text(name, logs.decode("utf-8", errors="replace"), description or "container log")
        except Exception as exc:  # noqa: BLE001 - evidence never hides the test's failure
            self.add_error(f"logs of container for {name}", exc)
            return None

    def add_container_file(self, name: str, container: Any, path: str, description: str = "") -> Optional[Path]:
        """A file from inside a container (httpd error_log, WildFly server.log), through the Docker archive API."""
        try:
            stream, _stat = _sdk(container).get_archive(path)
            with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as archive:
                member = next(m for m in archive.getmembers() if m.isfile())
                data = archive.extractfile(member)
                assert data is not None
                self.path(name).write_bytes(data.read())
            return self._note(name, description or path)
        except Exception as exc:  # noqa: BLE001
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
        for source in (*result.stats_paths, result.log_path):
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


def utc(t: float) -> str:
    return datetime.fromtimestamp(t, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + "Z"


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


# -- the summary page (pure: evidence in, HTML text out) ----------------------------------------------------
def _bucket(span_s: float, requests: int) -> float:
    """The finest bucket giving at most 150 points over the span and about 8 requests per bucket."""
    rate = requests / span_s
    return next((b for b in _BUCKETS if span_s / b <= 150 and rate * b >= 8), _BUCKETS[-1])


def _ticks(top: float, count: int = 5) -> list[float]:
    """Round tick values 0, step, 2*step, ... up to `top` (about `count` of them)."""
    raw = max(top, 1e-9) / count
    magnitude = 10.0 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw * 0.999)
    return [round(i * step, 10) for i in range(int(top / step + 1e-9) + 1)]


def timeline_svg(history: History, width: int = 960, height: int = 320) -> str:
    """Requests/s per node (one line each), errors/s (red, dashed), fault windows (shaded, labelled) and
    session moves (ticks under the axis: orange when a fault explains it, black when not)."""
    records = history.records
    if not records:
        return "<p>No requests were recorded.</p>"
    t0 = _t0(history)
    t1 = max([max(r.t_end for r in records)] + [w.end or w.start for w in history.windows])
    span = max(t1 - t0, 1e-3)
    bucket = _bucket(span, len(records))
    series = {n: s for n, s in history.rate_per_node(bucket).items() if n != NO_NODE}
    base = records[0].t
    errors = [0.0] * (int((records[-1].t - base) // bucket) + 1)
    for r in records:
        if r.failed:
            errors[int((r.t - base) // bucket)] += 1 / bucket
    top = max([rate for s in series.values() for _, rate in s] + errors + [1.0]) * 1.1
    left, right, upper, lower = 56, 150, 24, 44
    pw, ph = width - left - right, height - upper - lower

    def x(t: float) -> float:
        return round(left + (t - t0) / span * pw, 1)

    def y(v: float) -> float:
        return round(upper + ph - v / top * ph, 1)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11" role="img">',
           f"<title>timeline: requests/s per node, errors/s, fault windows ({bucket:g} s buckets)</title>",
           f'<rect x="{left}" y="{upper}" width="{pw}" height="{ph}" fill="#fff" stroke="#999"/>']
    for i, w in enumerate(history.windows):
        x0, x1 = x(w.start), x(w.end if w.end is not None else t1)
        label = f"{w.kind} {w.target}" + ("" if w.end is not None else " (not healed)")
        out.append(f'<g class="window"><title>{esc(label)}: {esc(utc(w.start))} for '
                   f'{esc(_duration(w.start, w.end))} {esc(w.detail)}</title>'
                   f'<rect x="{x0}" y="{upper}" width="{max(x1 - x0, 1.0)}" height="{ph}" fill="#f4a582" '
                   f'fill-opacity="0.35" stroke="#d6604d" stroke-dasharray="3,2"/>'
                   f'<text x="{x0 + 3}" y="{upper + 13 + 13 * (i % 4)}" fill="#b2182b">{esc(label)}</text></g>')
    for v in _ticks(top / 1.1):
        out.append(f'<line x1="{left - 4}" x2="{left + pw}" y1="{y(v)}" y2="{y(v)}" stroke="#eee"/>'
                   f'<text x="{left - 6}" y="{y(v) + 4}" text-anchor="end">{v:g}</text>')
    for s in _ticks(span, 8):
        out.append(f'<line x1="{x(t0 + s)}" x2="{x(t0 + s)}" y1="{upper + ph}" y2="{upper + ph + 4}" stroke="#999"/>'
                   f'<text x="{x(t0 + s)}" y="{upper + ph + 26}" text-anchor="middle">{s:g}s</text>')
    out.append(f'<text x="14" y="{upper + ph / 2}" transform="rotate(-90 14 {upper + ph / 2})" '
               f'text-anchor="middle">requests/s</text>')
    legend = []
    for i, (node, points) in enumerate(series.items()):
        color = _COLORS[i % len(_COLORS)]
        path = " ".join(f"{x(t + bucket / 2)},{y(rate)}" for t, rate in points)
        out.append(f'<polyline class="node" data-node="{esc(node)}" fill="none" stroke="{color}" '
                   f'stroke-width="1.5" points="{path}"><title>{esc(node)}</title></polyline>')
        legend.append((color, node, ""))
    if any(errors):
        path = " ".join(f"{x(base + i * bucket + bucket / 2)},{y(v)}" for i, v in enumerate(errors))
        out.append(f'<polyline class="errors" fill="none" stroke="#d62728" stroke-width="1.5" '
                   f'stroke-dasharray="4,2" points="{path}"><title>errors/s</title></polyline>')
        legend.append(("#d62728", "errors/s", ' stroke-dasharray="4,2"'))
    moves = session_moves(history)
    for faulted, color in ((True, "#e08214"), (False, "#000")):
        if any(m.faulted == faulted for m in moves):
            legend.append((color, "session moved" + (" (fault)" if faulted else " (no fault!)"), ""))
    for move in moves:
        color = "#e08214" if move.faulted else "#000"
        out.append(f'<line class="move" x1="{x(move.t)}" x2="{x(move.t)}" y1="{upper + ph + 6}" '
                   f'y2="{upper + ph + 14}" stroke="{color}"><title>{esc(move.session)} ({esc(move.user)}) '
                   f'{esc(move.left)} -&gt; {esc(move.to)}</title></line>')
    for i, (color, name, dash) in enumerate(legend):
        ly = upper + 10 + 16 * i
        out.append(f'<line x1="{left + pw + 12}" x2="{left + pw + 36}" y1="{ly}" y2="{ly}" stroke="{color}" '
                   f'stroke-width="2"{dash}/><text x="{left + pw + 42}" y="{ly + 4}">{esc(name)}</text>')
    out.append("</svg>")
    return "\n".join(out)


def _t0(history: History) -> float:
    """Time zero of the plot and the tables: the first request or fault window."""
    starts = [r.t for r in history.records[:1]] + [w.start for w in history.windows]
    return min(starts) if starts else 0.0


def _duration(start: float, end: Optional[float]) -> str:
    return "(open)" if end is None else f"{end - start:.3f} s"


def _table(header: Iterable[str], rows: Iterable[Iterable[object]]) -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _verdicts_html(verdicts: list[Verdict]) -> str:
    if not verdicts:
        return "<p>No verdicts recorded.</p>"
    items = []
    for v in sorted(verdicts, key=lambda v: v.valid):
        cls, word = ("valid", "VALID") if v.valid else ("invalid", "INVALID")
        details = esc(json.dumps(v.details, indent=2, default=str))
        items.append(f'<li class="{cls}"><b>{word}</b> <code>{esc(v.name)}</code>: {esc(v.summary)}'
                     f"<details><summary>details</summary><pre>{details}</pre></details></li>")
    return f'<ul class="verdicts">{"".join(items)}</ul>'


def _history_sections(history: History) -> list[str]:
    t0 = _t0(history)
    windows = [(w.kind, w.target, f"{w.start - t0:+.3f}", utc(w.start), _duration(w.start, w.end), w.detail)
               for w in history.windows]
    moves = session_moves(history)
    rows = [(f"{m.t - t0:+.3f}", m.session, m.user, m.left, m.to, "yes" if m.faulted else "NO")
            for m in moves[:200]]
    failed = sum(r.failed for r in history.records)
    return [
        "<h2>Timeline</h2>", timeline_svg(history),
        f"<p>{len(history)} requests, {failed} failed, {len(history.by_session())} sessions; nodes: "
        f"{esc(', '.join(history.nodes()) or 'none')}; t=0 at {esc(utc(t0))}.</p>",
        "<h2>Fault windows</h2>",
        _table(("kind", "target", "start (s)", "start (UTC)", "duration", "detail"), windows)
        if windows else "<p>No fault windows.</p>",
        f"<h2>Sessions that changed node ({len(moves)})</h2>",
        _table(("t (s)", "session", "user", "from", "to", "explained by a fault"), rows)
        if rows else "<p>No session changed node.</p>",
    ]


def render_summary(evidence: Evidence, title: str, outcome: str = "") -> str:
    parts = [f"<h1>{esc(title)}</h1>"]
    if outcome:
        parts.append(f'<p class="outcome {esc(outcome)}">outcome: <b>{esc(outcome)}</b></p>')
    if evidence.errors:
        parts.append("<h2>Evidence collection problems</h2>"
                     + _table(("problem",), ([e] for e in evidence.errors)))
    parts += ["<h2>Verdicts</h2>", _verdicts_html(evidence.verdicts)]
    if evidence.history is not None:
        parts += _history_sections(evidence.history)
    if evidence.load:
        parts += ["<h2>Load</h2>", f"<p>{esc(evidence.load.get('summary', ''))}</p>"]
    if evidence.states:
        parts += ["<h2>Balancer states</h2>", _table(("when", "state"), ((l, s.summary()) for l, s in evidence.states))]
    for name, topology in evidence.topologies:
        parts += [f"<h2>Topology {esc(topology.name)} ({esc(name)})</h2>",
                  f"<pre>{esc(json.dumps(topology.to_dict(), indent=2, default=str))}</pre>"]
    parts += ["<h2>Versions</h2>", _table(("what", "version"), sorted(evidence.versions.items()))]
    links = "".join(f'<li><a href="{esc(name)}">{esc(name)}</a> {esc(desc)}</li>'
                    for name, desc in sorted(evidence.files.items()))
    parts += ["<h2>Files</h2>", f"<ul>{links}</ul>"]
    body = "\n".join(parts)
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{esc(title)}</title>"
            f"<style>{_CSS}</style></head><body>\n{body}\n</body></html>\n")


_CSS = ("body{font-family:sans-serif;margin:1.5em;max-width:1100px}table{border-collapse:collapse;margin:.5em 0}"
        "td,th{border:1px solid #ccc;padding:2px 6px;font-size:13px;text-align:left}"
        "li.valid b{color:#1a7f37}li.invalid b{color:#c62828}.outcome.failed b{color:#c62828}"
        "pre{background:#f6f8fa;padding:.5em;overflow:auto;max-height:30em}ul.verdicts li{margin:.3em 0}")
