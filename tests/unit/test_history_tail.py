"""harness.machinery.history_tail: history files read while they are written, merged in start-time order.

Writers are simulated with plain file appends, in chunks that cut lines anywhere (a line being written, a
multi-byte character split), so every poll sees what a reader of a live Locust history can see.
"""

from __future__ import annotations

import json
import random
from dataclasses import asdict, replace
from pathlib import Path

import pytest

from harness.judge.history import History, HistoryFormatError, RequestRecord, read_jsonl, record_from_dict
from harness.machinery.history_tail import FileTail, HistoryMerge, order_key

BASE = RequestRecord(
    t=0.0, t_end=0.0, user="u1", session="S", route="node1", new_route="node1", node="node1", status=200,
    latency_ms=0.0, error=None, path="/app/",
)  # fmt: skip


def record(user: str, t: float, latency_s: float = 0.01) -> RequestRecord:
    return replace(BASE, user=user, t=t, t_end=t + latency_s, latency_ms=latency_s * 1000)


def line(r: RequestRecord) -> bytes:
    return (json.dumps(asdict(r), ensure_ascii=False) + "\n").encode()  # raw UTF-8: a cut can split a character


def append(path: Path, data: bytes) -> None:
    with open(path, "ab") as out:
        out.write(data)


def written_by_end(records: list[RequestRecord]) -> list[RequestRecord]:
    """The order a Locust process writes its records in: when each request ends."""
    return sorted(records, key=lambda r: r.t_end)


def test_interleaved_files_merge_in_start_order(tmp_path: Path) -> None:
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    first = [record("u1", 1.0), record("u1", 1.2), record("u1", 1.4)]
    second = [record("u2", 1.1), record("u2", 1.3), record("u2", 1.5)]
    merge = HistoryMerge([a, b])
    assert merge.poll() == []  # neither file exists yet
    append(a, b"".join(map(line, first)))
    append(b, b"".join(map(line, second)))
    assert [r.t for r in merge.poll()] == [1.0, 1.1, 1.2, 1.3, 1.4, 1.5]
    assert merge.poll() == sorted(first + second, key=order_key)  # nothing read twice


def test_a_slow_request_written_late_sorts_before_records_already_read(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    slow, fast = record("u1", 1.0, latency_s=2.0), record("u2", 1.5)
    merge = HistoryMerge([path])
    append(path, line(fast))
    assert merge.poll() == [fast]
    append(path, line(slow))  # started first, ended (and was written) last
    assert merge.poll() == [slow, fast]


def test_partial_last_lines_wait_for_their_newline(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    one, two = record("u1", 1.0), replace(record("u2", 2.0), error="caf\u00e9 \u2603 down", status=503)
    data = line(one) + line(two)
    cut = len(line(one)) + line(two).index("\u2603".encode()) + 1  # inside a 3-byte character
    tail = FileTail(path)
    append(path, data[:cut])
    assert tail.read_new() == [one] and tail.pending == cut - len(line(one))
    assert tail.read_new() == []  # the torn line is not parsed, nor skipped
    append(path, data[cut:])
    assert tail.read_new() == [two] and tail.pending == 0 and tail.count == 2 and tail.users == {"u1", "u2"}


def test_a_lagging_file_is_merged_in_place_when_it_catches_up(tmp_path: Path) -> None:
    fast, lagging = tmp_path / "fast.jsonl", tmp_path / "lagging.jsonl"
    early = [record("u2", t) for t in (1.05, 1.15, 1.25)]
    merge = HistoryMerge([fast, lagging])
    append(fast, b"".join(line(record("u1", t)) for t in (1.0, 1.1, 1.2, 1.3)))
    append(lagging, line(early[0]))
    assert [r.t for r in merge.poll()] == [1.0, 1.05, 1.1, 1.2, 1.3]
    append(lagging, line(early[1]) + line(early[2])[:10])  # catching up, its last line still being written
    assert [r.t for r in merge.poll()] == [1.0, 1.05, 1.1, 1.15, 1.2, 1.3]
    append(lagging, line(early[2])[10:])
    assert [r.t for r in merge.poll()] == [1.0, 1.05, 1.1, 1.15, 1.2, 1.25, 1.3]
    assert merge.pending_bytes == 0


@pytest.mark.parametrize("seed", range(20))
def test_live_merge_never_loses_duplicates_or_misorders(tmp_path: Path, seed: int) -> None:
    """Three writers with concurrent users and random latencies, appended in random chunks between polls:
    every poll is ordered, holds only written records and everything the previous poll held; the last poll
    is exactly the union of the files."""
    rng = random.Random(seed)
    paths = [tmp_path / f"p{i}.jsonl" for i in range(3)]
    streams = []
    for i in range(3):
        records = [
            record(f"u{i + 1 + 3 * k}", round(rng.uniform(0, 10), 6), rng.uniform(0.001, 1.5)) for k in range(60)
        ]
        streams.append(b"".join(line(r) for r in written_by_end(records)))
    everything = sorted((r for p in streams for r in read_records(p)), key=order_key)
    merge, offsets, previous = HistoryMerge(paths), [0, 0, 0], list[RequestRecord]()
    while offsets != [len(s) for s in streams]:
        for i, stream in enumerate(streams):
            step = rng.choice((0, 1, 7, 50, 400, 3000))
            append(paths[i], stream[offsets[i] : offsets[i] + step])
            offsets[i] = min(len(stream), offsets[i] + step)
        seen = list(merge.poll())
        assert seen == sorted(seen, key=order_key)
        assert set(previous) <= set(seen) <= set(everything) and len(set(seen)) == len(seen)
        previous = seen
    assert merge.poll() == everything and merge.pending_bytes == 0
    assert History(everything).records == tuple(everything)  # the order History keeps


def read_records(data: bytes) -> list[RequestRecord]:
    return [record_from_dict(json.loads(raw)) for raw in data.decode().splitlines()]


def test_users_in_several_files_are_named(tmp_path: Path) -> None:
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    append(a, line(record("u1", 1.0)) + line(record("u2", 1.1)))
    append(b, line(record("u1", 1.2)) + line(record("u3", 1.3)))
    merge = HistoryMerge([a, b])
    merge.poll()
    assert merge.shared_users() == ["u1"]


def test_write_merged_replaces_the_parts_with_one_ordered_file(tmp_path: Path) -> None:
    parts = [tmp_path / "history.p1.jsonl", tmp_path / "history.p2.jsonl"]
    append(parts[0], line(record("u1", 2.0)) + line(record("u1", 1.0, 5.0)) + b'{"t": 9')  # torn by a kill
    append(parts[1], line(record("u2", 1.5)))
    merge = HistoryMerge(parts)
    merge.poll()
    target = tmp_path / "history.jsonl"
    merge.write_merged(target)
    assert [r.t for r in read_jsonl(target)] == [1.0, 1.5, 2.0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["history.jsonl"]


def test_write_merged_in_place_and_with_nothing_written(tmp_path: Path) -> None:
    only = tmp_path / "history.jsonl"
    append(only, line(record("u1", 2.0, 0.1)) + line(record("u2", 1.0, 2.0)))
    merge = HistoryMerge([only])
    merge.poll()
    merge.write_merged(only)
    assert [r.t for r in read_jsonl(only)] == [1.0, 2.0]
    empty = HistoryMerge([tmp_path / "never.jsonl"])
    empty.poll()
    empty.write_merged(tmp_path / "merged.jsonl")
    assert not (tmp_path / "merged.jsonl").exists()


def test_bad_lines_and_bad_file_lists_are_named(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    append(path, line(record("u1", 1.0)) + b'{"t": "soon"}\n')
    with pytest.raises(HistoryFormatError, match=r"h.jsonl:2: .*'t'"):
        HistoryMerge([path]).poll()
    with pytest.raises(ValueError, match="given twice"):
        HistoryMerge([path, tmp_path / "." / "h.jsonl"])
    with pytest.raises(ValueError, match="at least one"):
        HistoryMerge([])
