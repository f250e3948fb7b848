"""The run report page (pure: a Collector in, one self-contained HTML text out).

Failures first; each test with its outcome, verdicts, evidence link and, for tests with load, a zoomable
timeline (plotly; plotly.js is inlined once, so the page works offline). Without plotly installed the page
still renders, saying the timeline needs it.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from harness.entry.run_report import Collector, TestEntry

_COLORS = ("#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2", "#bcbd22")
_OUTCOME_COLORS = {
    "failed": "#c62828",
    "error": "#c62828",
    "xpassed": "#ef6c00",
    "passed": "#2e7d32",
    "xfailed": "#6d4c41",
    "skipped": "#757575",
    "unknown": "#757575",
}
ZOOM_MARGIN_S = 5.0  # the "zoom to fault" buttons show the window with this much before and after
_CSS = """
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222} h1{font-size:1.4em} h2{font-size:1.15em;margin-top:2em}
table{border-collapse:collapse;margin:.5em 0} td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;
vertical-align:top;font-size:.9em} th{background:#f3f3f3} .o{color:#fff;font-weight:bold;border-radius:3px;
padding:1px 6px;white-space:nowrap} pre{background:#f7f7f7;padding:.6em;overflow-x:auto;max-height:24em;
font-size:.85em} .bad{color:#c62828;font-weight:bold} .good{color:#2e7d32} .test{border-top:2px solid #ddd;
margin-top:1.5em} .muted{color:#777}
"""


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def utc(t: float) -> str:
    return datetime.fromtimestamp(t, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + "Z"


def _anchor(nodeid: str) -> str:
    return "t" + hashlib.sha1(nodeid.encode()).hexdigest()[:12]


def badge(outcome: str) -> str:
    return f'<span class="o" style="background:{_OUTCOME_COLORS.get(outcome, "#757575")}">{esc(outcome)}</span>'


def link(target: str | None, base: Path, text: str) -> str:
    """A link relative to the report's folder (so a downloaded artifact still links), or '' without target."""
    if not target:
        return ""
    href = os.path.relpath(target, base) if os.path.isabs(target) else target
    return f'<a href="{esc(Path(href).as_posix())}">{esc(text)}</a>'


def verdict_line(verdicts: list[dict[str, Any]]) -> str:
    """'3/4 valid; INVALID failover_within: ...' — the invalid ones named."""
    if not verdicts:
        return ""
    bad = [v for v in verdicts if not v.get("valid")]
    head = f"{len(verdicts) - len(bad)}/{len(verdicts)} valid"
    return "; ".join([head] + [f"INVALID {v.get('name')}: {v.get('summary', '')}" for v in bad])


def _info_table(info: dict[str, Any]) -> str:
    rows = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in info.items() if v not in (None, ""))
    return f"<table>{rows}</table>"


def _plain(entry: TestEntry) -> bool:
    """A test with nothing to look at: it did not fail and has no verdicts or load."""
    interesting = entry.outcome in ("failed", "error", "xpassed", "unknown")
    return not interesting and not entry.verdicts and not entry.timelines


def _indexes(entries: list[TestEntry], base: Path) -> str:
    """Failures and tests with verdicts in the open; the plain others folded away."""
    shown, plain = [e for e in entries if not _plain(e)], [e for e in entries if _plain(e)]
    folded = (
        (
            f"<details><summary>{len(plain)} other test(s) without verdicts or load</summary>"
            f"{_index(plain, base)}</details>"
        )
        if plain
        else ""
    )
    return (_index(shown, base) if shown else "") + folded


def _index(entries: list[TestEntry], base: Path) -> str:
    rows = []
    for entry in entries:
        anchor = _anchor(entry.nodeid)
        rows.append(
            f"<tr><td>{badge(entry.outcome)}</td><td><a href='#{anchor}'>{esc(entry.nodeid)}</a></td>"
            f"<td style='white-space:nowrap'>{entry.duration_s:.1f} s</td>"
            f"<td>{esc(verdict_line(entry.verdicts))}</td>"
            f"<td>{link(entry.evidence, base, 'evidence')}</td></tr>"
        )
    head = "<tr><th>outcome</th><th>test</th><th>time</th><th>verdicts</th><th>evidence</th></tr>"
    return f"<table>{head}{''.join(rows)}</table>"


def _verdicts_table(verdicts: list[dict[str, Any]]) -> str:
    if not verdicts:
        return ""
    rows = []
    for v in sorted(verdicts, key=lambda v: bool(v.get("valid"))):
        css, word = ("good", "VALID") if v.get("valid") else ("bad", "INVALID")
        details = json.dumps(v.get("details", {}), indent=1, default=str)
        rows.append(
            f"<tr><td class='{css}'>{word}</td><td>{esc(v.get('name'))}</td><td>{esc(v.get('summary'))}"
            f"<details><summary>details</summary><pre>{esc(details[:6000])}</pre></details></td></tr>"
        )
    return f"<table><tr><th></th><th>verdict</th><th>summary</th></tr>{''.join(rows)}</table>"


def timeline_figure(data: dict[str, Any]) -> Any:
    """A plotly figure: requests/s per node and errors/s above, request latencies below, fault windows
    shaded over both, session moves marked, a button per window zooming to it."""
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.06, row_heights=[0.55, 0.45])
    colors = {node: _COLORS[i % len(_COLORS)] for i, node in enumerate(data["rps"])}
    for node, values in data["rps"].items():
        fig.add_scatter(
            x=data["x"],
            y=values,
            name=f"{node} req/s",
            mode="lines",
            line={"color": colors[node]},
            legendgroup=node,
            row=1,
            col=1,
        )
    fig.add_scatter(
        x=data["x"],
        y=data["errors"],
        name="errors/s",
        mode="lines",
        line={"color": "#d62728", "dash": "dot"},
        row=1,
        col=1,
    )
    _add_samples(fig, data["samples"], colors)
    if data["moves"]:
        moves = data["moves"]
        fig.add_scatter(
            x=[m["t"] for m in moves],
            y=[0] * len(moves),
            mode="markers",
            name="session moves",
            marker={"symbol": "x", "size": 9, "color": "#000"},
            row=1,
            col=1,
            text=[
                f"{m['session']} ({m['user']}): {m['from']} -> {m['to']}"
                f"{' (faulted)' if m['faulted'] else ' (NO fault)'}"
                for m in moves
            ],
            hoverinfo="text+x",
        )
    end = data["x"][-1] + data["bucket_s"] if data["x"] else 1.0
    buttons = [{"label": "all", "method": "relayout", "args": [{"xaxis.autorange": True}]}]
    for index, window in enumerate(data["windows"]):
        stop = window["end"] if window["end"] is not None else end
        fig.add_vrect(
            x0=window["start"],
            x1=stop,
            fillcolor="#ff9800",
            opacity=0.18,
            line_width=0,
            row="all",
            col=1,
            annotation_text=f"{window['kind']} {window['target']}",
            annotation_position="top left",
        )
        zoom = [window["start"] - ZOOM_MARGIN_S, stop + ZOOM_MARGIN_S]
        buttons.append(
            {
                "label": f"zoom: {window['kind']} {window['target']}",
                "method": "relayout",
                "args": [{"xaxis.range": zoom, "xaxis2.range": zoom}],
                "name": f"w{index}",
            }
        )
    fig.update_layout(
        height=560,
        margin={"l": 60, "r": 20, "t": 40, "b": 40},
        hovermode="closest",
        legend={"orientation": "h", "y": -0.12},
        template="plotly_white",
        updatemenus=[
            {
                "type": "buttons",
                "direction": "right",
                "x": 0,
                "y": 1.12,
                "xanchor": "left",
                "buttons": buttons,
                "showactive": False,
            }
        ],
    )
    fig.update_yaxes(title_text="per second", row=1, col=1)
    fig.update_yaxes(title_text="latency ms", type="log", dtick=1, row=2, col=1)
    fig.update_xaxes(title_text=f"seconds since {utc(data['t0'])}", row=2, col=1)
    return fig


def _add_samples(fig: Any, samples: list[list[Any]], colors: dict[str, str]) -> None:
    by_kind: dict[str, list[list[Any]]] = {}
    for sample in samples:
        failed = sample[3] == 0 or sample[3] >= 500
        by_kind.setdefault("failed" if failed else sample[2] or "(none)", []).append(sample)
    for kind, rows in sorted(by_kind.items()):
        color = "#d62728" if kind == "failed" else colors.get(kind, "#7f7f7f")
        fig.add_scatter(
            x=[r[0] for r in rows],
            y=[max(r[1], 0.1) for r in rows],
            mode="markers",
            name=f"{kind} latency",
            legendgroup=kind,
            showlegend=kind == "failed",
            marker={"size": 4 if kind != "failed" else 6, "color": color},
            text=[f"{r[4]} {r[5]} node={r[2] or '-'} status={r[3]}" for r in rows],
            hoverinfo="text+x+y",
            row=2,
            col=1,
        )


def _timelines(entry: TestEntry, plotly_ok: bool) -> str:
    parts = []
    for data in entry.timelines:
        head = (
            f"<p>{esc(data['label'])}: {data['requests']} requests from {esc(utc(data['t0']))}, "
            f"{len(data['windows'])} fault window(s), {len(data['moves'])} session move(s)</p>"
        )
        if not plotly_ok:
            parts.append(head + "<p class='muted'>(install plotly for the interactive timeline)</p>")
            continue
        figure = timeline_figure(data)
        parts.append(
            head
            + figure.to_html(full_html=False, include_plotlyjs=False, config={"displaylogo": False, "scrollZoom": True})
        )
    return "".join(parts)


def _test_section(entry: TestEntry, base: Path, plotly_ok: bool) -> str:
    anchor = _anchor(entry.nodeid)
    message = f"<pre>{esc(entry.message)}</pre>" if entry.message else ""
    evidence = link(entry.evidence, base, "evidence folder")
    summary = link(str(Path(entry.evidence) / "summary.html") if entry.evidence else None, base, "summary")
    links = f"<p>{evidence} {summary}</p>" if evidence else ""
    return (
        f"<div class='test' id='{anchor}'><h2>{badge(entry.outcome)} {esc(entry.nodeid)}</h2>{message}"
        f"{links}{_verdicts_table(entry.verdicts)}{_timelines(entry, plotly_ok)}</div>"
    )


def _plotly_js() -> str | None:
    try:
        from plotly.offline import get_plotlyjs
    except ImportError:
        return None
    return str(get_plotlyjs())


def render(collector: Collector, base: Path, title: str = "harness run report") -> str:
    """The page; `base` is the folder the page is written to (links are made relative to it)."""
    entries = collector.ordered()
    needs_plot = any(e.timelines for e in entries)
    script = _plotly_js() if needs_plot else None
    plot_js = f"<script>{script}</script>" if script else ""
    counts = ", ".join(f"{n} {o}" for o, n in sorted(collector.counts().items()))
    detailed = [e for e in entries if e.outcome in ("failed", "error", "xpassed") or e.verdicts or e.timelines]
    sections = "".join(_test_section(e, base, script is not None) for e in detailed)
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{esc(title)}</title><style>{_CSS}</style>"
        f"{plot_js}</head><body><h1>{esc(title)}</h1><p>{esc(counts) or 'no tests'}</p>"
        f"{_info_table(collector.info)}<h2>Tests (failures first)</h2>{_indexes(entries, base)}{sections}"
        "</body></html>\n"
    )


def write(collector: Collector, path: Path) -> Path:
    """report.html and report.json (the data, for harness matrix) at `path` and beside it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(collector, path.parent.resolve()), encoding="utf-8")
    path.with_suffix(".json").write_text(json.dumps(collector.to_dict(), default=str), encoding="utf-8")
    return path
