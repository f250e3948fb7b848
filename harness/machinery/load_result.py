"""What a load run leaves: `LoadResult` (the merged history, Locust's own counts, logs, how it ended) and
`LoadError` (Locust did not start, died, or recorded nothing), which carries the result when there is one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.judge.history import History


class LoadError(RuntimeError):
    """Locust did not start, died, or recorded nothing; the message carries its traceback or log tail."""

    def __init__(self, message: str, result: LoadResult | None = None) -> None:
        super().__init__(message)
        self.result = result  # what was recorded anyway (for evidence), when the run got that far


@dataclass(frozen=True)
class LoadResult:
    history: History
    out_dir: Path
    history_path: Path
    log_paths: tuple[Path, ...]  # one per Locust process
    stats_paths: tuple[Path, ...]  # Locust's CSV and JSON statistics that exist
    exit_codes: tuple[int | None, ...]  # per process; None: killed (negative signal numbers fold into `how`)
    how: str  # "ended" (on its own: run time reached, or died), "stopped" (SIGTERM honoured), "killed" (deadline)
    duration_s: float
    locust_requests: int | None = None  # summed over the processes' locust.json; None when one wrote none
    locust_failures: int | None = None
    per_node: dict[str, int] = field(default_factory=dict)

    @property
    def processes(self) -> int:
        return len(self.log_paths)

    @property
    def log_path(self) -> Path:
        return self.log_paths[0]

    @property
    def exit_code(self) -> int | None:
        """None when a process was killed, else the first non-zero exit code, else 0."""
        if None in self.exit_codes:
            return None
        return next((code for code in self.exit_codes if code), 0)

    @property
    def requests(self) -> int:
        return len(self.history)

    @property
    def failures(self) -> int:
        return sum(r.failed for r in self.history.records)

    @property
    def rps(self) -> float:
        records = self.history.records
        if len(records) < 2:
            return 0.0
        span = max(r.t_end for r in records) - records[0].t
        return len(records) / span if span > 0 else 0.0

    def summary(self) -> str:
        nodes = ", ".join(f"{name}={n}" for name, n in sorted(self.per_node.items())) or "none"
        codes = ",".join(str(code) for code in self.exit_codes)
        who = "locust" if self.processes == 1 else f"{self.processes} locust processes"
        return (
            f"{self.requests} requests ({self.failures} failed) in {self.duration_s:.1f}s, "
            f"{self.rps:.1f} req/s; served by {nodes}; {who} {self.how}, exit {codes}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "summary": self.summary(),
            "requests": self.requests,
            "failures": self.failures,
            "rps": round(self.rps, 3),
            "per_node": dict(self.per_node),
            "duration_s": round(self.duration_s, 3),
            "how": self.how,
            "processes": self.processes,
            "exit_code": self.exit_code,
            "exit_codes": list(self.exit_codes),
            "locust_requests": self.locust_requests,
            "locust_failures": self.locust_failures,
            "history": str(self.history_path),
            "logs": [str(p) for p in self.log_paths],
            "stats": [str(p) for p in self.stats_paths],
        }


def summed_totals(totals: list[tuple[int | None, int | None]]) -> tuple[int | None, int | None]:
    """(requests, failures) over the processes; None where one of them wrote no statistics."""
    return _total([t[0] for t in totals]), _total([t[1] for t in totals])


def _total(values: list[int | None]) -> int | None:
    return None if any(v is None for v in values) else sum(v for v in values if v is not None)
