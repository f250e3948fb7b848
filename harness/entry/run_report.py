"""The run report's data: what every test of a pytest run did, gathered without changing how tests are written.

The pytest plugin feeds a `Collector`: outcomes from the test reports, and from each test that used the
`scenario` / `module_scenario` fixture its verdicts, fault windows and a timeline of its load (`timeline()`),
plus its evidence folder. Under pytest-xdist every worker dumps its part as JSON into a folder the controller
named (`dump_part`), and the controller merges the parts (`load_parts`) before rendering.

Pure data here (no Docker, no pytest); `harness.entry.run_report_html` renders it, and `report.json` beside
the HTML keeps it for `harness matrix`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from harness.judge.checks import Verdict
from harness.judge.history import History
from harness.judge.report import session_moves

OUTCOME_ORDER = ("failed", "error", "xpassed", "passed", "xfailed", "skipped")  # failures first
_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0)
MAX_SAMPLES = 20000  # per-request latency points kept per timeline (every failed request is kept)


@dataclass
class TestEntry:
    __test__ = False  # not a pytest test class
    nodeid: str
    outcome: str = "unknown"  # one of OUTCOME_ORDER (or unknown: never reported)
    duration_s: float = 0.0
    message: str = ""  # the failure's short text, or a skip's reason
    verdicts: list[dict[str, Any]] = field(default_factory=list)
    timelines: list[dict[str, Any]] = field(default_factory=list)  # one per load run (see timeline())
    evidence: str | None = None  # folder (absolute path)

    @property
    def failover_s(self) -> list[float]:
        """The measured failover times of the test's failover_within verdicts."""
        return [
            float(v["details"]["measured_max_s"])
            for v in self.verdicts
            if v.get("name") == "failover_within"
            and isinstance(v.get("details"), dict)
            and isinstance(v["details"].get("measured_max_s"), (int, float))
        ]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TestEntry:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known)


def _bucket(span_s: float, points: int = 1500) -> float:
    return next((b for b in _BUCKETS if span_s / b <= points), _BUCKETS[-1])


def timeline(history: History, label: str = "load0") -> dict[str, Any] | None:
    """A load's timeline as plain data, x in seconds since its first request: requests/s per node and
    errors/s per bucket, every request's latency (sampled past MAX_SAMPLES, failures always kept), fault
    windows and session moves. None for an empty history."""
    records = sorted(history.records, key=lambda r: r.t)
    if not records:
        return None
    t0 = records[0].t
    span = max(max(r.t_end for r in records) - t0, 1e-3)
    bucket = _bucket(span)
    slots = int(span / bucket) + 1
    per_node: dict[str, list[int]] = {}
    errors = [0] * slots
    for record in records:
        slot = min(int((record.t - t0) / bucket), slots - 1)
        if record.failed:
            errors[slot] += 1
        elif record.node is not None:
            per_node.setdefault(record.node, [0] * slots)[slot] += 1
    step = max(1, math.ceil(len(records) / MAX_SAMPLES))
    samples = [
        [round(r.t - t0, 3), round(r.latency_ms, 1), r.node or "", r.status, r.session or "", r.user]
        for index, r in enumerate(records)
        if r.failed or index % step == 0
    ]
    return {
        "label": label,
        "t0": t0,
        "bucket_s": bucket,
        "requests": len(records),
        "x": [round(i * bucket, 3) for i in range(slots)],
        "rps": {node: [c / bucket for c in counts] for node, counts in sorted(per_node.items())},
        "errors": [c / bucket for c in errors],
        "samples": samples,
        "windows": [
            {
                "kind": w.kind,
                "target": ",".join(w.targets),
                "start": round(w.start - t0, 3),
                "end": None if w.end is None else round(w.end - t0, 3),
                "detail": w.detail,
            }
            for w in history.windows
        ],
        "moves": [
            {
                "t": round(m.t - t0, 3),
                "session": m.session,
                "user": m.user,
                "from": m.left,
                "to": m.to,
                "faulted": m.faulted,
            }
            for m in session_moves(history)
        ],
    }


def outcome_of(when: str, passed: bool, failed: bool, skipped: bool, xfail: bool) -> str | None:
    """A test's outcome from one phase report, or None when the phase does not decide it (a passing setup or
    teardown). A failing setup/teardown is an error; xfail marks give xfailed/xpassed."""
    if when == "call":
        if xfail:
            return "xfailed" if skipped else "xpassed"
        return "passed" if passed else "failed" if failed else "skipped"
    if failed:
        return "error"
    if skipped:
        return "skipped"
    return None


@dataclass
class Collector:
    """Everything the run report shows, keyed by node id; `info` says what ran (flavors, versions)."""

    info: dict[str, Any] = field(default_factory=dict)
    tests: dict[str, TestEntry] = field(default_factory=dict)
    _seen: dict[int, int] = field(default_factory=dict)  # id(ScenarioRun) -> verdicts already attributed

    def entry(self, nodeid: str) -> TestEntry:
        return self.tests.setdefault(nodeid, TestEntry(nodeid))

    def outcome(self, nodeid: str, when: str, outcome: str | None, duration_s: float, message: str) -> None:
        entry = self.entry(nodeid)
        entry.duration_s = round(entry.duration_s + duration_s, 3)
        if outcome is None or (entry.outcome in ("failed", "error") and outcome == "error" and when == "teardown"):
            return
        if entry.outcome == "unknown" or OUTCOME_ORDER.index(outcome) < OUTCOME_ORDER.index(entry.outcome):
            entry.outcome, entry.message = outcome, message[:4000]

    def scenario(self, nodeid: str, run_key: int, verdicts: Iterable[Verdict], histories: Iterable[History]) -> None:
        """A test's ScenarioRun at the end of its call: the verdicts it added (a module_scenario run is
        shared, so only those since the previous test of the module) and a timeline per load."""
        verdicts = list(verdicts)
        start = self._seen.get(run_key, 0)
        self._seen[run_key] = len(verdicts)
        entry = self.entry(nodeid)
        entry.verdicts.extend(v.to_dict() for v in verdicts[start:])
        for index, history in enumerate(histories):
            data = timeline(history, f"load{index}")
            if data is not None:
                entry.timelines.append(data)

    def evidence(self, nodeids: Iterable[str], folder: Path) -> None:
        for nodeid in nodeids:
            self.entry(nodeid).evidence = str(Path(folder).resolve())

    def ordered(self) -> list[TestEntry]:
        """Failures first, then by outcome, then node id."""
        rank = {o: i for i, o in enumerate(OUTCOME_ORDER)}
        return sorted(self.tests.values(), key=lambda e: (rank.get(e.outcome, -1), e.nodeid))

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for entry in self.tests.values():
            counts[entry.outcome] = counts.get(entry.outcome, 0) + 1
        return counts

    # --- parts (pytest-xdist workers) and the saved data ----------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {"info": self.info, "counts": self.counts(), "tests": [e.to_dict() for e in self.ordered()]}

    def merge(self, data: Mapping[str, Any]) -> None:
        """Add a worker's part: scenario data and what its clusters ran (info keys the controller lacks) are
        merged in; outcomes come from the controller's own reports."""
        for key, value in data.get("info", {}).items():
            self.info.setdefault(key, value)
        for raw in data.get("tests", []):
            part = TestEntry.from_dict(raw)
            entry = self.entry(part.nodeid)
            entry.verdicts.extend(part.verdicts)
            entry.timelines.extend(part.timelines)
            entry.evidence = entry.evidence or part.evidence

    def dump_part(self, folder: Path, worker: str) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{worker}.json"
        path.write_text(json.dumps(self.to_dict(), default=str), encoding="utf-8")
        return path

    def load_parts(self, folder: Path) -> int:
        count = 0
        for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
            self.merge(json.loads(path.read_text(encoding="utf-8")))
            count += 1
        return count


def load_saved(path: Path) -> Collector:
    """A run's report.json back as a Collector (for harness matrix)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    collector = Collector(info=dict(data.get("info", {})))
    for raw in data.get("tests", []):
        entry = TestEntry.from_dict(raw)
        collector.tests[entry.nodeid] = entry
    return collector
