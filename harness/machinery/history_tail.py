"""The request history read while Locust writes it: one tail per history file, merged in start-time order.

Each Locust process appends one JSON line per request to its own file when the request ENDS, in the order its
requests end; a line's `t` is when the request STARTED. So neither one file nor several are in start order as
written: a slow request started at t=1.0 is written after a fast one started at t=1.2, and a process that
writes later (a lagging file) still holds requests that started before records already read from the others.

The watermark question: a file's latest line bounds the END times still to come in that file, not their start
times (a request in flight, started long ago, is written only when it ends). Releasing only records older
than the minimum of every file's latest time would therefore still let a late record sort before released
ones. No prefix of the start-ordered history is final while Locust runs, so the merge sorts on read:
`HistoryMerge.poll()` reads the complete lines added to every file since the last poll (a partial last line
waits for its newline), each exactly once (by byte offset), and merges them into one list ordered by
(t, t_end), the order of `History`. Successive polls return supersets of each other, not extensions: compare
them as sets. Once the writers are gone, a last poll gives the whole history, a torn last line left out.
"""

from __future__ import annotations

import bisect
import heapq
import json
from collections.abc import Sequence
from pathlib import Path

from harness.judge.history import HistoryFormatError, RequestRecord, record_from_dict, write_jsonl


def order_key(record: RequestRecord) -> tuple[float, float]:
    """The order of the merged history (that of `harness.judge.history.History`)."""
    return record.t, record.t_end


class FileTail:
    """Complete lines appended to one JSONL history file since the last read (the file may not exist yet)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.users: set[str] = set()  # user ids seen in this file
        self.count = 0  # records read so far
        self.pending = 0  # bytes after the last newline at the last read (a line being written, or torn)
        self._offset = 0
        self._line = 0

    def read_new(self) -> list[RequestRecord]:
        """The records of the lines completed since the last call, in file order; HistoryFormatError names
        file and line of one that does not parse."""
        try:
            with open(self.path, "rb") as stream:
                stream.seek(self._offset)
                chunk = stream.read()
        except FileNotFoundError:
            return []
        end = chunk.rfind(b"\n") + 1
        self.pending = len(chunk) - end
        records = []
        for raw in chunk[:end].decode("utf-8").split("\n")[:-1]:
            self._line += 1
            if raw.strip():
                try:
                    records.append(record_from_dict(json.loads(raw)))
                except ValueError as exc:  # json.JSONDecodeError is a ValueError
                    raise HistoryFormatError(f"{self.path}:{self._line}: {exc}") from exc
        self._offset += end
        self.count += len(records)
        self.users.update(r.user for r in records)
        return records


class HistoryMerge:
    """The records of several history files as one list ordered by start time (see the module docstring)."""

    def __init__(self, paths: Sequence[Path]) -> None:
        if not paths:
            raise ValueError("HistoryMerge needs at least one history file")
        resolved = [Path(p).resolve() for p in paths]
        if len(set(resolved)) != len(resolved):
            raise ValueError(f"a history file is given twice: {', '.join(str(p) for p in paths)}")
        self.tails = [FileTail(Path(p)) for p in paths]
        self.records: list[RequestRecord] = []

    def poll(self) -> list[RequestRecord]:
        """Read what every file completed since the last poll and merge it in; the merged list (not a copy)."""
        for tail in self.tails:
            self._merge(tail.read_new())
        return self.records

    def _merge(self, batch: list[RequestRecord]) -> None:
        if not batch:
            return
        batch.sort(key=order_key)  # stable: equal keys keep file order
        first = order_key(batch[0])
        # late records land near the end: merge only the tail they fall into
        at = bisect.bisect_right(self.records, first, key=order_key)
        self.records[at:] = list(heapq.merge(self.records[at:], batch, key=order_key))

    def shared_users(self) -> list[str]:
        """User ids found in more than one file (processes that numbered their users alike), sorted."""
        seen: set[str] = set()
        shared: set[str] = set()
        for tail in self.tails:
            shared |= seen & tail.users
            seen |= tail.users
        return sorted(shared)

    def write_merged(self, path: Path) -> None:
        """Write the merged records to `path` (atomically) and remove the files merged into it; nothing when
        no file was ever written. Call it once the writers are gone, after a last `poll()`."""
        if not self.records and not any(tail.path.exists() for tail in self.tails):
            return
        partial = path.with_name(path.name + ".partial")
        write_jsonl(partial, self.records)
        partial.replace(path)
        for tail in self.tails:
            if tail.path.resolve() != path.resolve():
                tail.path.unlink(missing_ok=True)

    @property
    def pending_bytes(self) -> int:
        """Bytes after the last newline of every file at the last poll (torn last lines once writers are gone)."""
        return sum(tail.pending for tail in self.tails)
