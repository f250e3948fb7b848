"""The evidence summary page (pure: evidence in, HTML text out).

`render_summary(evidence, title, outcome)` builds `summary.html`: self-contained, no scripts, no external
resources. `timeline_svg(history)` plots requests/s per node, errors/s, fault windows (shaded, labelled) and
session moves (`session_moves`) as an inline SVG.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Protocol

from harness.judge.checks import Verdict
from harness.judge.history import NO_NODE, History


class Summarized(Protocol):
    """What the summary page reads: the evidence collector (machinery.evidence.Evidence) provides it."""

    errors: list[str]
    verdicts: list[Verdict]
    history: History | None
    load: dict[str, Any]
    states: list[tuple[str, Any]]  # (label, a balancer state with .summary())
    topologies: list[tuple[str, Any]]  # (label, a topology with .name and .to_dict())
    versions: dict[str, str]
    files: dict[str, str]


_COLORS = ("#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2", "#bcbd22", "#7f7f7f")
_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0)


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


def utc(t: float) -> str:
    return datetime.fromtimestamp(t, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + "Z"


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


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
    left, right, upper, lower = 56, 190, 24, 44  # right margin: the legend ("session moved (no fault!)")
    pw, ph = width - left - right, height - upper - lower

    def x(t: float) -> float:
        return round(left + (t - t0) / span * pw, 1)

    def y(v: float) -> float:
        return round(upper + ph - v / top * ph, 1)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11" role="img">',
        f"<title>timeline: requests/s per node, errors/s, fault windows ({bucket:g} s buckets)</title>",
        f'<rect x="{left}" y="{upper}" width="{pw}" height="{ph}" fill="#fff" stroke="#999"/>',
    ]
    for i, w in enumerate(history.windows):
        x0, x1 = x(w.start), x(w.end if w.end is not None else t1)
        label = f"{w.kind} {w.label()}" + ("" if w.end is not None else " (not healed)")
        out.append(
            f'<g class="window"><title>{esc(label)}: {esc(utc(w.start))} for '
            f"{esc(_duration(w.start, w.end))} {esc(w.detail)}</title>"
            f'<rect x="{x0}" y="{upper}" width="{max(x1 - x0, 1.0)}" height="{ph}" fill="#f4a582" '
            f'fill-opacity="0.35" stroke="#d6604d" stroke-dasharray="3,2"/>'
            f'<text x="{x0 + 3}" y="{upper + 13 + 13 * (i % 4)}" fill="#b2182b">{esc(label)}</text></g>'
        )
    for v in _ticks(top / 1.1):
        out.append(
            f'<line x1="{left - 4}" x2="{left + pw}" y1="{y(v)}" y2="{y(v)}" stroke="#eee"/>'
            f'<text x="{left - 6}" y="{y(v) + 4}" text-anchor="end">{v:g}</text>'
        )
    for s in _ticks(span, 8):
        out.append(
            f'<line x1="{x(t0 + s)}" x2="{x(t0 + s)}" y1="{upper + ph}" y2="{upper + ph + 4}" stroke="#999"/>'
            f'<text x="{x(t0 + s)}" y="{upper + ph + 26}" text-anchor="middle">{s:g}s</text>'
        )
    out.append(
        f'<text x="14" y="{upper + ph / 2}" transform="rotate(-90 14 {upper + ph / 2})" '
        f'text-anchor="middle">requests/s</text>'
    )
    legend = []
    for i, (node, points) in enumerate(series.items()):
        color = _COLORS[i % len(_COLORS)]
        path = " ".join(f"{x(t + bucket / 2)},{y(rate)}" for t, rate in points)
        out.append(
            f'<polyline class="node" data-node="{esc(node)}" fill="none" stroke="{color}" '
            f'stroke-width="1.5" points="{path}"><title>{esc(node)}</title></polyline>'
        )
        legend.append((color, node, ""))
    if any(errors):
        path = " ".join(f"{x(base + i * bucket + bucket / 2)},{y(v)}" for i, v in enumerate(errors))
        out.append(
            f'<polyline class="errors" fill="none" stroke="#d62728" stroke-width="1.5" '
            f'stroke-dasharray="4,2" points="{path}"><title>errors/s</title></polyline>'
        )
        legend.append(("#d62728", "errors/s", ' stroke-dasharray="4,2"'))
    moves = session_moves(history)
    for faulted, color in ((True, "#e08214"), (False, "#000")):
        if any(m.faulted == faulted for m in moves):
            legend.append((color, "session moved" + (" (fault)" if faulted else " (no fault!)"), ""))
    for move in moves:
        color = "#e08214" if move.faulted else "#000"
        out.append(
            f'<line class="move" x1="{x(move.t)}" x2="{x(move.t)}" y1="{upper + ph + 6}" '
            f'y2="{upper + ph + 14}" stroke="{color}"><title>{esc(move.session)} ({esc(move.user)}) '
            f"{esc(move.left)} -&gt; {esc(move.to)}</title></line>"
        )
    for i, (color, name, dash) in enumerate(legend):
        ly = upper + 10 + 16 * i
        out.append(
            f'<line x1="{left + pw + 12}" x2="{left + pw + 36}" y1="{ly}" y2="{ly}" stroke="{color}" '
            f'stroke-width="2"{dash}/><text x="{left + pw + 42}" y="{ly + 4}">{esc(name)}</text>'
        )
    out.append("</svg>")
    return "\n".join(out)


def _t0(history: History) -> float:
    """Time zero of the plot and the tables: the first request or fault window."""
    starts = [r.t for r in history.records[:1]] + [w.start for w in history.windows]
    return min(starts) if starts else 0.0


def _duration(start: float, end: float | None) -> str:
    return "(open)" if end is None else f"{end - start:.3f} s"


def _table(header: Iterable[str], rows: Iterable[Iterable[object]]) -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


_LISTED_FIRST = ("invalid", "unknown", "valid")


def _verdicts_html(verdicts: list[Verdict]) -> str:
    if not verdicts:
        return "<p>No verdicts recorded.</p>"
    items = []
    for v in sorted(verdicts, key=lambda v: _LISTED_FIRST.index(v.outcome)):
        cls, word = v.outcome, v.outcome.upper()
        details = esc(json.dumps(v.details, indent=2, default=str))
        items.append(
            f'<li class="{cls}"><b>{word}</b> <code>{esc(v.name)}</code>: {esc(v.summary)}'
            f"<details><summary>details</summary><pre>{details}</pre></details></li>"
        )
    return f'<ul class="verdicts">{"".join(items)}</ul>'


def _history_sections(history: History) -> list[str]:
    t0 = _t0(history)
    windows = [
        (w.kind, w.label(), f"{w.start - t0:+.3f}", utc(w.start), _duration(w.start, w.end), w.detail)
        for w in history.windows
    ]
    moves = session_moves(history)
    rows = [(f"{m.t - t0:+.3f}", m.session, m.user, m.left, m.to, "yes" if m.faulted else "NO") for m in moves[:200]]
    failed = sum(r.failed for r in history.records)
    return [
        "<h2>Timeline</h2>",
        timeline_svg(history),
        f"<p>{len(history)} requests, {failed} failed, {len(history.by_session())} sessions; nodes: "
        f"{esc(', '.join(history.nodes()) or 'none')}; t=0 at {esc(utc(t0))}.</p>",
        "<h2>Fault windows</h2>",
        _table(("kind", "target", "start (s)", "start (UTC)", "duration", "detail"), windows)
        if windows
        else "<p>No fault windows.</p>",
        f"<h2>Sessions that changed node ({len(moves)})</h2>",
        _table(("t (s)", "session", "user", "from", "to", "explained by a fault"), rows)
        if rows
        else "<p>No session changed node.</p>",
    ]


def render_summary(evidence: Summarized, title: str, outcome: str = "") -> str:
    parts = [f"<h1>{esc(title)}</h1>"]
    if outcome:
        parts.append(f'<p class="outcome {esc(outcome)}">outcome: <b>{esc(outcome)}</b></p>')
    if evidence.errors:
        parts.append("<h2>Evidence collection problems</h2>" + _table(("problem",), ([e] for e in evidence.errors)))
    parts += ["<h2>Verdicts</h2>", _verdicts_html(evidence.verdicts)]
    if evidence.history is not None:
        parts += _history_sections(evidence.history)
    if evidence.load:
        parts += ["<h2>Load</h2>", f"<p>{esc(evidence.load.get('summary', ''))}</p>"]
    if evidence.states:
        parts += ["<h2>Balancer states</h2>", _table(("when", "state"), ((l, s.summary()) for l, s in evidence.states))]
    for name, topology in evidence.topologies:
        parts += [
            f"<h2>Topology {esc(topology.name)} ({esc(name)})</h2>",
            f"<pre>{esc(json.dumps(topology.to_dict(), indent=2, default=str))}</pre>",
        ]
    parts += ["<h2>Versions</h2>", _table(("what", "version"), sorted(evidence.versions.items()))]
    links = "".join(
        f'<li><a href="{esc(name)}">{esc(name)}</a> {esc(desc)}</li>' for name, desc in sorted(evidence.files.items())
    )
    parts += ["<h2>Files</h2>", f"<ul>{links}</ul>"]
    body = "\n".join(parts)
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>'
        f"<style>{_CSS}</style></head><body>\n{body}\n</body></html>\n"
    )


_CSS = (
    "body{font-family:sans-serif;margin:1.5em;max-width:1100px}table{border-collapse:collapse;margin:.5em 0}"
    "td,th{border:1px solid #ccc;padding:2px 6px;font-size:13px;text-align:left}"
    "li.valid b{color:#1a7f37}li.invalid b{color:#c62828}li.unknown b{color:#b26a00}.outcome.failed b{color:#c62828}"
    "pre{background:#f6f8fa;padding:.5em;overflow:auto;max-height:30em}ul.verdicts li{margin:.3em 0}"
)
