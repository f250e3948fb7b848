"""The request history: what every simulated user's request saw, and the fault windows around it.

Pure data and file I/O only (no Docker, no network). The Locust file in `locustfiles/` writes one JSON line
per request with exactly the fields of `RequestRecord`; the fault machinery writes one JSON line per
`FaultWindow`. Checkers in `harness.checks` judge a `History` afterwards.

Field meanings (the locustfile is the writer, this module is the reference):
- `t`, `t_end`: wall-clock epoch seconds at request start and end.
- `user`: simulated user id ("u1", ...).
- `session`: the JSESSIONID id (text before the last '.') the client held when sending; when it held none,
  the id it received with the response (so a session's first request belongs to it); else None.
- `route`: the route suffix (text after the last '.') of the cookie held when sending, or None.
- `new_route`: the route suffix of the cookie held after the response, or None.
- `node`: the `X-Harness-Node` response header, or None (error pages of the balancer, connection errors).
- `status`: HTTP status, 0 for connection errors. `latency_ms`, `error` (None on success), `path`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, cast

from harness.judge.bounds import validate_bound

NO_NODE = "(none)"  # rate_per_node key for requests no node answered


@dataclass(frozen=True)
class RequestRecord:
    t: float
    t_end: float
    user: str
    session: str | None
    route: str | None
    new_route: str | None
    node: str | None
    status: int
    latency_ms: float
    error: str | None
    path: str

    @property
    def failed(self) -> bool:
        """A failure for error budgets: a connection error (status 0), a server error (>= 500), or a reply
        below 400 that still carries an error (a broken body)."""
        return self.status == 0 or self.status >= 500 or (self.status < 400 and self.error is not None)

    @property
    def ok(self) -> bool:
        """Served successfully: 2xx/3xx and no error."""
        return 0 < self.status < 400 and self.error is None

    @property
    def is_new_session(self) -> bool:
        """The client sent no route and received a session cookie: a session was created by `node`."""
        return self.route is None and self.new_route is not None


@dataclass(frozen=True)
class FaultWindow:
    """A fault's time span and the names it touched (`targets`: nodes and/or "balancer").

    A text given as `targets` is split at commas: the format of old history files ("node1,balancer").
    """

    kind: str
    targets: tuple[str, ...]
    start: float
    end: float | None  # None: never healed (or still open)
    detail: str = ""

    def __post_init__(self) -> None:
        targets: Any = self.targets
        if isinstance(targets, str):
            targets = targets.split(",")
        targets = tuple(targets)
        if not targets or not all(isinstance(t, str) and t for t in targets):
            raise ValueError(f"targets: expected one or more non-empty names, got {self.targets!r}")
        object.__setattr__(self, "targets", targets)

    def touches(self, name: str) -> bool:
        """`name` is one of the targets."""
        return name in self.targets

    def label(self) -> str:
        """The targets for display: "node1,balancer"."""
        return ",".join(self.targets)

    def covers(self, t: float, grace_s: float = 0.0) -> bool:
        """`t` lies in [start, end + grace_s] (an open window never ends)."""
        end = math.inf if self.end is None else self.end
        return self.start <= t <= end + grace_s

    def overlaps(self, t0: float, t1: float, grace_s: float = 0.0) -> bool:
        """The interval [t0, t1] meets [start, end + grace_s]."""
        end = math.inf if self.end is None else self.end
        return t1 >= self.start and t0 <= end + grace_s


class HistoryFormatError(ValueError):
    """A history or windows file line that does not parse; the message names file, line and field."""


_FLOAT = (float, int)
_RECORD_TYPES: dict[str, tuple[tuple[type, ...], bool]] = {
    # field: (accepted JSON types, may be null)
    "t": (_FLOAT, False),
    "t_end": (_FLOAT, False),
    "user": ((str,), False),
    "session": ((str,), True),
    "route": ((str,), True),
    "new_route": ((str,), True),
    "node": ((str,), True),
    "status": ((int,), False),
    "latency_ms": (_FLOAT, False),
    "error": ((str,), True),
    "path": ((str,), False),
}
_WINDOW_TYPES: dict[str, tuple[tuple[type, ...], bool]] = {
    "kind": ((str,), False),
    "targets": ((list,), False),
    "start": (_FLOAT, False),
    "end": (_FLOAT, True),
    "detail": ((str,), False),
}
_FLOAT_FIELDS = {"t", "t_end", "latency_ms", "start", "end"}


def _validated(obj: Any, types: Mapping[str, tuple[tuple[type, ...], bool]], optional: set[str]) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise ValueError(f"expected a JSON object, got {type(obj).__name__}")
    unknown = sorted(set(obj) - set(types))
    if unknown:
        raise ValueError(f"unknown field(s) {', '.join(unknown)}")
    out: dict[str, Any] = {}
    for name, (accepted, nullable) in types.items():
        if name not in obj:
            if name in optional:
                continue
            raise ValueError(f"missing field '{name}'")
        value = obj[name]
        if value is None and nullable:
            out[name] = None
            continue
        if isinstance(value, bool) or not isinstance(value, accepted):
            raise ValueError(f"field '{name}' has {type(value).__name__} {value!r}, expected {accepted[0].__name__}")
        out[name] = float(cast(float, value)) if name in _FLOAT_FIELDS else value
    return out


def record_from_dict(obj: Any) -> RequestRecord:
    """A RequestRecord from one decoded JSON object; ValueError names the offending field."""
    return RequestRecord(**_validated(obj, _RECORD_TYPES, set()))


def window_from_dict(obj: Any) -> FaultWindow:
    """A FaultWindow from one decoded JSON object; ValueError names the offending field.

    Old files have "target" (one text, names joined by commas) instead of "targets" (a list of names).
    """
    if isinstance(obj, dict) and "target" in obj and "targets" not in obj:
        obj = {("targets" if key == "target" else key): value for key, value in obj.items()}
        if not isinstance(obj["targets"], str):
            raise ValueError(f"field 'target' has {type(obj['targets']).__name__}, expected str")
        obj["targets"] = obj["targets"].split(",")
    values = _validated(obj, _WINDOW_TYPES, {"detail"})
    if not all(isinstance(name, str) for name in values["targets"]):
        raise ValueError(f"field 'targets' has {values['targets']!r}, expected a list of str")
    return FaultWindow(**{**values, "targets": tuple(values["targets"])})


def _read_lines(path: Path | str, parse: Any, allow_partial_last_line: bool) -> list[Any]:
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    items = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            items.append(parse(json.loads(line)))
        except ValueError as exc:  # json.JSONDecodeError is a ValueError
            is_unterminated_tail = number == len(lines) and not text.endswith("\n")
            if allow_partial_last_line and is_unterminated_tail:
                break
            raise HistoryFormatError(f"{path}:{number}: {exc}") from exc
    return items


def read_jsonl(path: Path | str, *, allow_partial_last_line: bool = False) -> list[RequestRecord]:
    """Records from a JSONL history file (blank lines skipped).

    `allow_partial_last_line` skips an unparsable final line without newline (a writer killed mid-line).
    """
    return _read_lines(path, record_from_dict, allow_partial_last_line)


def read_windows_jsonl(path: Path | str) -> list[FaultWindow]:
    return _read_lines(path, window_from_dict, False)


def _write_lines(path: Path | str, items: Iterable[Any]) -> None:
    with open(path, "w", encoding="utf-8") as out:
        for item in items:
            out.write(json.dumps(asdict(item)) + "\n")


def write_jsonl(path: Path | str, records: Iterable[RequestRecord]) -> None:
    _write_lines(path, records)


def write_windows_jsonl(path: Path | str, windows: Iterable[FaultWindow]) -> None:
    _write_lines(path, windows)


@dataclass(frozen=True, init=False)
class History:
    """Records ordered by start time, plus the fault windows of the run."""

    records: tuple[RequestRecord, ...]
    windows: tuple[FaultWindow, ...]

    def __init__(self, records: Iterable[RequestRecord], windows: Iterable[FaultWindow] = ()) -> None:
        object.__setattr__(self, "records", tuple(sorted(records, key=lambda r: (r.t, r.t_end))))
        object.__setattr__(self, "windows", tuple(sorted(windows, key=lambda w: w.start)))

    def __len__(self) -> int:
        return len(self.records)

    def by_session(self) -> dict[str, list[RequestRecord]]:
        """Records grouped by session id (records without a session are left out), each list by time."""
        groups: dict[str, list[RequestRecord]] = {}
        for record in self.records:
            if record.session is not None:
                groups.setdefault(record.session, []).append(record)
        return groups

    def by_user(self) -> dict[str, list[RequestRecord]]:
        groups: dict[str, list[RequestRecord]] = {}
        for record in self.records:
            groups.setdefault(record.user, []).append(record)
        return groups

    def nodes(self) -> list[str]:
        """Names of every node that answered at least one request, sorted."""
        return sorted({r.node for r in self.records if r.node is not None})

    def between(self, t0: float, t1: float) -> History:
        """Records that started in [t0, t1), with the same windows."""
        return History([r for r in self.records if t0 <= r.t < t1], self.windows)

    def windows_for(self, target: str) -> list[FaultWindow]:
        """Windows whose targets include `target`."""
        return [w for w in self.windows if w.touches(target)]

    def in_any_window(self, t: float, grace_s: float = 0.0) -> bool:
        return any(w.covers(t, grace_s) for w in self.windows)

    def rate_per_node(self, bucket_s: float = 1.0) -> dict[str, list[tuple[float, float]]]:
        """Requests per second per answering node (NO_NODE for none) in buckets of `bucket_s` seconds.

        Every series has the same bucket starts (from the first record's start), zeros included.
        """
        if bucket_s <= 0:
            raise ValueError(f"bucket_s must be > 0, got {bucket_s}")
        if not self.records:
            return {}
        t0 = self.records[0].t
        count = int((self.records[-1].t - t0) // bucket_s) + 1
        series: dict[str, list[int]] = {}
        for record in self.records:
            key = record.node if record.node is not None else NO_NODE
            series.setdefault(key, [0] * count)[int((record.t - t0) // bucket_s)] += 1
        return {
            key: [(t0 + i * bucket_s, n / bucket_s) for i, n in enumerate(counts)]
            for key, counts in sorted(series.items())
        }


def load_history(history_path: Path | str, windows_path: Path | str | None = None) -> History:
    """A History from a records file and an optional windows file (a missing windows file is an error)."""
    windows = read_windows_jsonl(windows_path) if windows_path is not None else []
    return History(read_jsonl(history_path), windows)


def save_history(history: History, history_path: Path | str, windows_path: Path | str | None = None) -> None:
    write_jsonl(history_path, history.records)
    if windows_path is not None:
        write_windows_jsonl(windows_path, history.windows)


def steady_state(
    records: Sequence[RequestRecord],
    *,
    window_s: float,
    min_rps: float,
    max_error_rate: float,
    now: float | None = None,
) -> bool:
    """Load is steady: over the last `window_s` seconds (ending at `now`, default the latest request end)
    at least `min_rps` requests per second started and at most `max_error_rate` of them failed.

    False while the records span less than `window_s` (load just started). Bad bounds raise ValueError.
    """
    validate_bound("window_s", window_s, lo=0.0, lo_open=True)
    validate_bound("min_rps", min_rps)
    validate_bound("max_error_rate", max_error_rate, hi=1.0)
    if now is not None:
        validate_bound("now", now)
    if not records:
        return False
    end = now if now is not None else max(r.t_end for r in records)
    start = end - window_s
    if min(r.t for r in records) > start:
        return False
    recent = [r for r in records if start <= r.t <= end]
    if not recent or len(recent) / window_s < min_rps:
        return False
    return sum(r.failed for r in recent) / len(recent) <= max_error_rate


def record_field_names() -> list[str]:
    """The JSON keys of one history line, in order (the locustfile writes exactly these)."""
    return [f.name for f in fields(RequestRecord)]
