"""The matrix report (pure: combination folders in, a table and its HTML/markdown out).

Rows are scenarios (JUnit test cases), columns are combinations. A cell has the outcome from the
combination's JUnit XML, its verdict summary and failover times from the run report's report.json, and links
to the run report and the test's evidence. A row whose outcomes differ between the combinations that ran is
marked, and so is each cell that differs from the row's most common outcome. Refused combinations are
columns with the reason and no cells.
"""

from __future__ import annotations

import html
import os
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from harness.entry.matrix_plan import Combination
from harness.entry.run_report import TestEntry, load_saved

PASSING = ("passed", "xfailed")
_RANK = {"failed": 0, "error": 1, "passed": 2, "xfailed": 2, "skipped": 3}


@dataclass(frozen=True)
class Cell:
    outcome: str  # passed | failed | error | xfailed | skipped | missing
    message: str = ""
    verdicts: str = ""
    failover_s: tuple[float, ...] = ()
    report: str | None = None  # paths (absolute) to link
    evidence: str | None = None


@dataclass
class Column:
    combo: Combination
    folder: Path
    cells: dict[str, Cell] = field(default_factory=dict)

    @property
    def ran(self) -> bool:
        return not self.combo.refused

    @property
    def problem(self) -> str:
        """Why a combination that ran has no usable result ('' when it has)."""
        if not self.ran or self.cells:
            return ""
        return f"{self.combo.outcome or 'not run'}: no JUnit results (see pytest.log)"


@dataclass
class Table:
    columns: list[Column]
    rows: list[str]

    def cell(self, row: str, column: Column) -> Cell | None:
        return column.cells.get(row)

    def differs(self, row: str) -> bool:
        return len({c.cells[row].outcome if row in c.cells else "missing" for c in self.columns if c.ran}) > 1

    def odd_cells(self, row: str) -> set[int]:
        """Indexes of the ran columns whose outcome differs from the row's most common one (all on a tie)."""
        outcomes = {
            i: (c.cells[row].outcome if row in c.cells else "missing") for i, c in enumerate(self.columns) if c.ran
        }
        if len(set(outcomes.values())) <= 1:
            return set()
        ranked = Counter(outcomes.values()).most_common()
        if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
            return set(outcomes)
        return {i for i, o in outcomes.items() if o != ranked[0][0]}

    def all_passed(self) -> bool:
        ran = [c for c in self.columns if c.ran]
        return (
            bool(ran)
            and all(not c.problem for c in ran)
            and all(cell.outcome in PASSING or cell.outcome == "skipped" for c in ran for cell in c.cells.values())
            and any(cell.outcome in PASSING for c in ran for cell in c.cells.values())
        )


def junit_key(nodeid: str) -> str:
    """A pytest node id in JUnit's terms: 'a/b/test_x.py::Class::test_y[p]' -> 'a.b.test_x.Class::test_y[p]'."""
    path, _, rest = nodeid.partition("::")
    parts = rest.split("::")
    classname = ".".join([path.removesuffix(".py").replace("/", ".")] + parts[:-1])
    return f"{classname}::{parts[-1]}"


def read_junit(path: Path) -> dict[str, tuple[str, str]]:
    """'classname::name' -> (outcome, message) of every test case in a JUnit XML file ({} when missing)."""
    if not path.is_file():
        return {}
    cases: dict[str, tuple[str, str]] = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        key = f"{case.get('classname', '')}::{case.get('name', '')}"
        outcome, message = "passed", ""
        for tag in ("failure", "error", "skipped"):
            found = case.find(tag)
            if found is not None:
                outcome = {"failure": "failed", "error": "error", "skipped": "skipped"}[tag]
                if tag == "skipped" and found.get("type") == "pytest.xfail":
                    outcome = "xfailed"  # a known-broken entry failing where it is known to: not a skip
                message = found.get("message", "") or (found.text or "")
                break
        if key not in cases or _RANK[outcome] < _RANK[cases[key][0]]:  # a case listed twice: the worse wins
            cases[key] = (outcome, message.strip()[:500])
    return cases


def _entries(folder: Path) -> dict[str, TestEntry]:
    saved = folder / "report.json"
    if not saved.is_file():
        return {}
    return {junit_key(e.nodeid): e for e in load_saved(saved).tests.values()}


def column(combo: Combination, folder: Path) -> Column:
    col = Column(combo, folder)
    if combo.refused:
        return col
    entries = _entries(folder)
    report = str((folder / "report.html").resolve()) if (folder / "report.html").is_file() else None
    from harness.entry.run_report_html import verdict_line

    for key, (outcome, message) in read_junit(folder / "junit.xml").items():
        entry = entries.get(key)
        col.cells[key] = Cell(
            outcome,
            message,
            verdict_line(entry.verdicts) if entry else "",
            tuple(entry.failover_s) if entry else (),
            report,
            entry.evidence if entry else None,
        )
    return col


def build(results: Sequence[tuple[Combination, Path]]) -> Table:
    """Columns in the given order, refused combinations last."""
    columns = sorted((column(combo, folder) for combo, folder in results), key=lambda c: not c.ran)
    rows = sorted({key for c in columns for key in c.cells})
    return Table(columns, rows)


# --- rendering ------------------------------------------------------------------------------------------------
def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


_CSS = """body{font-family:system-ui,sans-serif;margin:1.5em;color:#222} table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top;font-size:.88em;text-align:left;max-width:15em;
overflow-wrap:anywhere} th.row{max-width:24em;font-weight:normal}
th{background:#f3f3f3} .passed{background:#e8f5e9} .xfailed{background:#fff8e1} .failed,.error,.missing{background:#ffebee}
.skipped{background:#f5f5f5;color:#666} .refused{background:#eceff1;color:#555;font-style:italic}
.odd{outline:3px solid #ff6f00;outline-offset:-3px} tr.differs th.row{background:#fff3e0}
.small{font-size:.85em;color:#555}"""


def _link(target: str | None, base: Path, text: str) -> str:
    if not target:
        return ""
    return f"<a href='{esc(Path(os.path.relpath(target, base)).as_posix())}'>{esc(text)}</a>"


def _cell_html(cell: Cell | None, odd: bool, base: Path) -> str:
    if cell is None:
        return f"<td class='missing{' odd' if odd else ''}'>no result</td>"
    times = f"<div>failover {', '.join(f'{t:.2f} s' for t in cell.failover_s)}</div>" if cell.failover_s else ""
    text = cell.verdicts or cell.message[:200]
    detail = f"<div class='small'>{esc(text)}</div>" if text else ""
    links = " ".join(x for x in (_link(cell.report, base, "report"), _link(cell.evidence, base, "evidence")) if x)
    return (
        f"<td class='{cell.outcome}{' odd' if odd else ''}'><b>{esc(cell.outcome)}</b>{times}{detail}"
        f"<div class='small'>{links}</div></td>"
    )


def _label(combo: Combination) -> str:
    return "<br>".join(esc(part) for part in combo.label.split(" / "))


def _row_label(row: str) -> str:
    """'scenarios.failover.test_kill::test_x' -> the test name, its module small below."""
    module, _, name = row.partition("::")
    return f"<b>{esc(name)}</b><div class='small'>{esc(module)}</div>"


def _header(col: Column, base: Path) -> str:
    if col.combo.refused:
        reason = esc(col.combo.refused)
        return f"<th class='refused'>{_label(col.combo)}<div class='small'>refused: {reason}</div></th>"
    note = f"<div class='small'>{esc(col.problem)}</div>" if col.problem else ""
    log = _link(str((col.folder / "pytest.log").resolve()), base, "pytest.log")
    return (
        f"<th>{_label(col.combo)}<div class='small'>{esc(col.combo.outcome)}, {col.combo.seconds:.0f} s "
        f"{log}</div>{note}</th>"
    )


def render(table: Table, base: Path) -> str:
    head = "<tr><th>scenario</th>" + "".join(_header(c, base) for c in table.columns) + "</tr>"
    body = []
    for row in table.rows:
        odd = table.odd_cells(row)
        cells = "".join(
            _cell_html(c.cells.get(row), i in odd, base) if c.ran else "<td class='refused'>refused</td>"
            for i, c in enumerate(table.columns)
        )
        body.append(
            f"<tr class='{'differs' if table.differs(row) else ''}'><th class='row'>{_row_label(row)}"
            f"{' <b>(differs)</b>' if table.differs(row) else ''}</th>{cells}</tr>"
        )
    differing = sum(table.differs(r) for r in table.rows)
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>harness matrix</title><style>{_CSS}</style>"
        f"</head><body><h1>harness matrix</h1><p>{len(table.rows)} scenario(s) x {len(table.columns)} "
        f"combination(s); {differing} row(s) differ between combinations (outlined cells differ from their "
        f"row)</p><table>{head}{''.join(body)}</table></body></html>\n"
    )


def markdown(table: Table) -> str:
    """The table for $GITHUB_STEP_SUMMARY (and the terminal)."""
    lines = [
        "| scenario | " + " | ".join(c.combo.label for c in table.columns) + " |",
        "|---" * (len(table.columns) + 1) + "|",
    ]
    for row in table.rows:
        odd = table.odd_cells(row)
        cells = []
        for i, col in enumerate(table.columns):
            cell = col.cells.get(row)
            text = "refused" if not col.ran else (cell.outcome if cell else "no result")
            if cell and cell.failover_s:
                text += f" ({max(cell.failover_s):.2f} s)"
            cells.append(f"**{text}** ⚠" if i in odd else text)
        lines.append(f"| {row} | " + " | ".join(cells) + " |")
    for col in table.columns:
        if col.combo.refused or col.problem:
            why = f"refused: {col.combo.refused}" if col.combo.refused else col.problem
            lines.append(f"\n- {col.combo.label}: {why}")
    return "\n".join(lines) + "\n"


def write(table: Table, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    page = out / "matrix.html"
    page.write_text(render(table, out.resolve()), encoding="utf-8")
    (out / "matrix.md").write_text(markdown(table), encoding="utf-8")
    return page
