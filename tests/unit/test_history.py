"""The request history model: JSONL reading/writing, helpers, steady state."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from harness.judge.history import (
    NO_NODE,
    FaultWindow,
    History,
    HistoryFormatError,
    RequestRecord,
    load_history,
    read_jsonl,
    read_windows_jsonl,
    record_field_names,
    save_history,
    steady_state,
    write_jsonl,
)

DATA = Path(__file__).parent / "data" / "histories"
T0 = 1_700_000_000.0


def rec(
    t: float, node: str | None = "node1", status: int = 200, session: str | None = "s1", **kw: object
) -> RequestRecord:
    fields: dict[str, object] = {
        "t": T0 + t,
        "t_end": T0 + t + 0.01,
        "user": "u1",
        "session": session,
        "route": node,
        "new_route": node,
        "node": node,
        "status": status,
        "latency_ms": 10.0,
        "error": None,
        "path": "/app/",
    }
    fields.update(kw)
    return RequestRecord(**fields)  # type: ignore[arg-type]


def line(**overrides: object) -> str:
    base = json.loads(json.dumps(rec(0).__dict__))
    base.update(overrides)
    return json.dumps({k: v for k, v in base.items() if v != "__drop__"})


# --- files ---------------------------------------------------------------------------------------------


def test_saved_histories_match_their_generator() -> None:
    spec = importlib.util.spec_from_file_location("generate_histories", DATA / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rendered = module.render()
    assert sorted(rendered) == sorted(p.name for p in DATA.glob("*.jsonl"))
    for name, content in rendered.items():
        assert (DATA / name).read_text(encoding="utf-8") == content, f"{name} is stale: run generate.py"


def test_load_history_reads_records_and_windows() -> None:
    history = load_history(DATA / "kill_failover.jsonl", DATA / "kill_failover.windows.jsonl")
    assert len(history) == 96
    assert history.windows == (FaultWindow("kill", ("node1",), T0 + 5.0, T0 + 8.0, ""),)
    assert history.nodes() == ["node1", "node2", "node3"]
    assert [r.t for r in history.records] == sorted(r.t for r in history.records)


def test_round_trip(tmp_path: Path) -> None:
    history = History(
        [rec(1), rec(0, node=None, status=0, error="refused")], [FaultWindow("kill", ("node1",), T0, None)]
    )
    save_history(history, tmp_path / "h.jsonl", tmp_path / "w.jsonl")
    assert load_history(tmp_path / "h.jsonl", tmp_path / "w.jsonl") == history
    assert read_windows_jsonl(tmp_path / "w.jsonl")[0].end is None


@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        ("{not json", "Expecting property name"),
        (line(node="__drop__"), "missing field 'node'"),
        (line(status="200"), "field 'status' has str"),
        (line(status=True), "field 'status' has bool"),
        (line(user=None), "field 'user' has NoneType"),
        (line(extra=1), "unknown field(s) extra"),
        ("[1, 2]", "expected a JSON object, got list"),
        (line(extra=1, more=2), "unknown field(s) extra, more"),
    ],
)
def test_bad_line_names_file_line_and_field(tmp_path: Path, bad: str, expected: str) -> None:
    path = tmp_path / "history.jsonl"
    path.write_text(line() + "\n\n" + bad + "\n" + line() + "\n", encoding="utf-8")
    with pytest.raises(HistoryFormatError) as caught:
        read_jsonl(path)
    assert f"{path}:3: " in str(caught.value)
    assert expected in str(caught.value)


def test_integer_times_become_floats(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    path.write_text(line(t=5, t_end=6, latency_ms=1000) + "\n", encoding="utf-8")
    record = read_jsonl(path)[0]
    assert (record.t, record.t_end, record.latency_ms) == (5.0, 6.0, 1000.0)
    assert isinstance(record.t, float)


def test_partial_last_line_only_skipped_on_request(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    path.write_text(line() + "\n" + line()[:40], encoding="utf-8")
    assert len(read_jsonl(path, allow_partial_last_line=True)) == 1
    with pytest.raises(HistoryFormatError, match=r"h\.jsonl:2: "):
        read_jsonl(path)


def test_field_names_are_the_wire_format() -> None:
    assert record_field_names() == [
        "t",
        "t_end",
        "user",
        "session",
        "route",
        "new_route",
        "node",
        "status",
        "latency_ms",
        "error",
        "path",
    ]


_text = st.text(st.characters(codec="utf-8"), max_size=12)
_times = st.floats(min_value=0, max_value=4e9, allow_nan=False)
_records = st.builds(
    RequestRecord,
    t=_times,
    t_end=_times,
    user=_text,
    session=st.none() | _text,
    route=st.none() | _text,
    new_route=st.none() | _text,
    node=st.none() | _text,
    status=st.integers(0, 599),
    latency_ms=st.floats(0, 1e6, allow_nan=False),
    error=st.none() | _text,
    path=_text,
)


@given(st.lists(_records, max_size=8))
def test_write_read_property(records: list[RequestRecord]) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "h.jsonl"
        write_jsonl(path, records)
        assert read_jsonl(path) == records


# --- helpers -------------------------------------------------------------------------------------------


def test_by_session_groups_in_time_order_and_skips_none() -> None:
    history = History([rec(2, session="a"), rec(1, session="b"), rec(0, session="a"), rec(3, session=None)])
    groups = history.by_session()
    assert sorted(groups) == ["a", "b"]
    assert [r.t - T0 for r in groups["a"]] == [0, 2]


def test_between_is_half_open_and_keeps_windows() -> None:
    window = FaultWindow("pause", ("node2",), T0 + 1, T0 + 2)
    history = History([rec(0), rec(1), rec(2)], [window])
    part = history.between(T0 + 1, T0 + 2)
    assert [r.t - T0 for r in part.records] == [1]
    assert part.windows == (window,)


def test_in_any_window_with_grace_and_open_windows() -> None:
    windows = [FaultWindow("kill", ("node1",), T0 + 10, T0 + 12), FaultWindow("pause", ("node2",), T0 + 20, None)]
    history = History([], windows)
    assert not history.in_any_window(T0 + 9.9)
    assert history.in_any_window(T0 + 10)
    assert not history.in_any_window(T0 + 13)
    assert history.in_any_window(T0 + 13, grace_s=1.5)
    assert history.in_any_window(T0 + 10_000)


def test_rate_per_node_buckets_share_their_starts() -> None:
    history = History([rec(0.1), rec(0.5), rec(1.2, node="node2"), rec(2.9, node=None, status=0)])
    rates = history.rate_per_node(bucket_s=1.0)
    assert sorted(rates) == [NO_NODE, "node1", "node2"]
    assert [n for _, n in rates["node1"]] == [2.0, 0.0, 0.0]
    assert [n for _, n in rates["node2"]] == [0.0, 1.0, 0.0]
    assert [n for _, n in rates[NO_NODE]] == [0.0, 0.0, 1.0]
    assert [s for s, _ in rates["node1"]] == [T0 + 0.1, T0 + 1.1, T0 + 2.1]
    assert [n for _, n in history.rate_per_node(bucket_s=0.5)["node1"]][:2] == [4.0, 0.0]  # 2 in 0.5 s
    assert History([]).rate_per_node() == {}
    with pytest.raises(ValueError, match="bucket_s"):
        history.rate_per_node(0)


def test_record_outcome_properties() -> None:
    assert rec(0, status=0).failed and rec(0, status=502).failed and rec(0, status=500).failed
    assert not rec(0, status=404).failed and not rec(0, status=404).ok
    assert not rec(0, status=499).failed and not rec(0, status=499, error="HTTP 499").failed
    assert rec(0, route=None).is_new_session and not rec(0).is_new_session
    assert not rec(0, route=None, new_route=None).is_new_session
    assert rec(0).ok and rec(0, status=399).ok and rec(0, status=1).ok and not rec(0).failed


def test_a_reply_with_an_error_is_neither_ok_nor_a_success() -> None:
    broken = rec(0, status=200, error="ReadTimeout() after HTTP 200")
    assert not broken.ok and broken.failed
    assert not rec(0, status=399, error="x").ok and rec(0, status=399, error="x").failed


# --- fault windows -------------------------------------------------------------------------------------


def test_window_targets_are_a_tuple_and_tested_by_membership() -> None:
    window = FaultWindow("partition", ("node1", "balancer"), T0, T0 + 3)
    assert window.targets == ("node1", "balancer") and window.label() == "node1,balancer"
    assert window.touches("node1") and window.touches("balancer") and not window.touches("node1,balancer")
    assert not window.touches("node")  # membership, not a substring
    assert FaultWindow("kill", "node1,balancer", T0, None).targets == ("node1", "balancer")  # the old text
    assert FaultWindow("kill", ["node2"], T0, None).targets == ("node2",)  # type: ignore[arg-type]
    history = History([], [window, FaultWindow("kill", ("node2",), T0, None)])
    assert history.windows_for("node1") == [window] and history.windows_for("balancer") == [window]
    assert history.windows_for("node3") == []


@pytest.mark.parametrize("bad", [(), ("",), ("node1", 3), ""])
def test_window_needs_named_targets(bad: object) -> None:
    with pytest.raises(ValueError, match="targets"):
        FaultWindow("kill", bad, T0, None)  # type: ignore[arg-type]


def test_windows_file_has_a_list_of_targets_and_old_files_still_read(tmp_path: Path) -> None:
    window = FaultWindow("partition", ("node1", "balancer"), T0, T0 + 1.0, "cut")
    save_history(History([], [window]), tmp_path / "h.jsonl", tmp_path / "w.jsonl")
    assert json.loads((tmp_path / "w.jsonl").read_text())["targets"] == ["node1", "balancer"]
    assert read_windows_jsonl(tmp_path / "w.jsonl") == [window]
    old = tmp_path / "old.jsonl"
    old.write_text(
        json.dumps({"kind": "partition", "target": "node1,balancer", "start": T0, "end": T0 + 1.0, "detail": "cut"})
        + "\n",
        encoding="utf-8",
    )
    assert read_windows_jsonl(old) == [window]


@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        ({"kind": "kill", "target": 3, "start": T0, "end": None}, "field 'target' has int"),
        ({"kind": "kill", "targets": "node1", "start": T0, "end": None}, "field 'targets' has str"),
        ({"kind": "kill", "targets": ["node1", 2], "start": T0, "end": None}, "field 'targets'"),
        ({"kind": "kill", "targets": [], "start": T0, "end": None}, "targets"),
        ({"kind": "kill", "start": T0, "end": None}, "missing field 'targets'"),
        (
            {"kind": "kill", "targets": ["node1"], "target": "node1", "start": T0, "end": None},
            "unknown field(s) target",
        ),
    ],
)
def test_bad_window_lines_name_the_field(tmp_path: Path, bad: dict[str, object], expected: str) -> None:
    path = tmp_path / "w.jsonl"
    path.write_text(json.dumps(bad) + "\n", encoding="utf-8")
    with pytest.raises(HistoryFormatError) as caught:
        read_windows_jsonl(path)
    assert expected in str(caught.value) and f"{path}:1: " in str(caught.value)


# --- steady state --------------------------------------------------------------------------------------


def load(rps: int, seconds: int, fail_every: int = 0) -> list[RequestRecord]:
    step = 1 / rps
    return [rec(i * step, status=500 if fail_every and i % fail_every == 0 else 200) for i in range(rps * seconds)]


def test_steady_state_accepts_sustained_load() -> None:
    assert steady_state(load(10, 5), window_s=2, min_rps=8, max_error_rate=0)


@pytest.mark.parametrize(
    ("records", "kwargs", "why"),
    [
        (load(10, 1), {}, "load just started: history shorter than the window"),
        (load(3, 5), {}, "rate below min_rps"),
        (load(10, 5, fail_every=5), {}, "20% errors"),
        (load(10, 5), {"now": T0 + 60}, "load stopped long ago"),
        ([], {}, "no records"),
    ],
)
def test_steady_state_rejects(records: list[RequestRecord], kwargs: dict[str, float], why: str) -> None:
    assert not steady_state(records, window_s=2, min_rps=8, max_error_rate=0.05, **kwargs), why


def test_steady_state_waits_for_a_full_window() -> None:
    """1.5 s of 20 rps without errors: enough requests for 8 rps over 2 s, but the load has not run for
    the whole window yet, so it is not steady; a moment later it is."""
    young = load(20, 1) + [rec(1.0 + i / 20) for i in range(10)]  # 30 requests from 0 to 1.45 s
    assert len(young) / 2 >= 8
    assert not steady_state(young, window_s=2, min_rps=8, max_error_rate=0)
    assert steady_state(young, window_s=1.4, min_rps=8, max_error_rate=0)


def test_steady_state_bounds_are_inclusive() -> None:
    records = load(10, 5, fail_every=10)  # 10 % errors, 10 rps
    assert steady_state(records, window_s=2, min_rps=10, max_error_rate=0.1)
    assert not steady_state(records, window_s=2, min_rps=10.5, max_error_rate=0.1)
    assert not steady_state(records, window_s=2, min_rps=10, max_error_rate=0.09)
    end = max(r.t_end for r in records)
    assert steady_state(records, window_s=2, min_rps=10, max_error_rate=0.1, now=end)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"window_s": 0}, "window_s"),
        ({"window_s": float("nan")}, "window_s"),
        ({"window_s": float("inf")}, "window_s"),
        ({"min_rps": -1}, "min_rps"),
        ({"min_rps": float("nan")}, "min_rps"),
        ({"max_error_rate": 1.5}, "max_error_rate"),
        ({"max_error_rate": -0.1}, "max_error_rate"),
        ({"now": float("nan")}, "now"),
    ],
)
def test_steady_state_refuses_bad_bounds(kwargs: dict[str, float], name: str) -> None:
    arguments = {"window_s": 2.0, "min_rps": 1.0, "max_error_rate": 0.0, **kwargs}
    with pytest.raises(ValueError, match=rf"^{name}: "):
        steady_state([], **arguments)  # type: ignore[arg-type]


def test_steady_state_window_may_be_short() -> None:
    records = load(20, 3)
    assert steady_state(records, window_s=0.5, min_rps=8, max_error_rate=0)


def test_steady_state_edges_of_the_window_count() -> None:
    # the first request starts exactly `window_s` before `now`: the span is long enough, and it counts
    records = [rec(0.0), rec(1.0), rec(2.0)]
    assert steady_state(records, window_s=2, min_rps=1.5, max_error_rate=0, now=T0 + 2.0)
    assert not steady_state(records, window_s=2, min_rps=1.5, max_error_rate=0, now=T0 + 2.0 - 1e-6)


def test_windows_files_refuse_a_partial_last_line(tmp_path: Path) -> None:
    path = tmp_path / "w.jsonl"
    good = json.dumps({"kind": "kill", "targets": ["node1"], "start": T0, "end": None})
    path.write_text(good + "\n" + good[:20], encoding="utf-8")
    with pytest.raises(HistoryFormatError, match=r"w\.jsonl:2: "):
        read_windows_jsonl(path)


def test_partial_line_skip_is_only_for_the_last_line(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    path.write_text(line() + "\n" + line()[:40] + "\n" + line(), encoding="utf-8")  # no newline at the end
    with pytest.raises(HistoryFormatError, match=r"h\.jsonl:2: "):
        read_jsonl(path, allow_partial_last_line=True)


def test_by_user_groups_every_record_of_a_user_in_time_order() -> None:
    history = History([rec(2, user="u2"), rec(1, session=None), rec(0, user="u2", node=None, status=0)])
    groups = history.by_user()
    assert sorted(groups) == ["u1", "u2"]
    assert [r.t - T0 for r in groups["u2"]] == [0, 2] and groups["u1"] == [history.records[1]]


def test_window_edges_are_inside() -> None:
    window = FaultWindow("kill", ("node1",), T0 + 10, T0 + 12)
    assert window.covers(T0 + 10) and window.covers(T0 + 12) and not window.covers(T0 + 12.5)
    assert window.covers(T0 + 12.5, 0.5) and not window.covers(T0 + 9.99)
    assert window.overlaps(T0 + 9, T0 + 10) and window.overlaps(T0 + 12, T0 + 13)
    assert not window.overlaps(T0 + 9, T0 + 9.99) and not window.overlaps(T0 + 12.01, T0 + 13)
    assert window.overlaps(T0 + 12.5, T0 + 13, 0.5) and not window.overlaps(T0 + 12.5, T0 + 13)


def test_rate_per_node_default_bucket_is_one_second() -> None:
    history = History([rec(0.0), rec(1.5), rec(3.7)])
    rates = history.rate_per_node()
    assert rates["node1"] == [(T0, 1.0), (T0 + 1, 1.0), (T0 + 2, 0.0), (T0 + 3, 1.0)]
    halves = History([rec(0.0), rec(1.9), rec(2.1)]).rate_per_node(bucket_s=2.0)
    assert halves["node1"] == [(T0, 1.0), (T0 + 2, 0.5)]


def test_load_history_without_a_windows_file_has_no_windows(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "h.jsonl", [rec(1), rec(0)])
    history = load_history(tmp_path / "h.jsonl")
    assert history.windows == () and [r.t for r in history.records] == [T0, T0 + 1]


def test_an_open_window_overlaps_everything_after_its_start() -> None:
    window = FaultWindow("freeze", ("node1",), T0 + 10, None)
    assert window.overlaps(T0 + 1e6, T0 + 2e6) and window.overlaps(T0 + 9, T0 + 10)
    assert not window.overlaps(T0 + 1, T0 + 9.99)


@example(bucket_s=0.1, offsets=[0.0, 1.0])  # 1.0 // 0.1 == 9.0 but 1.0 / 0.1 == 10.0
@given(
    bucket_s=st.floats(0.01, 10.0),
    offsets=st.lists(st.floats(0.0, 100.0), min_size=1, max_size=20),
)
def test_rate_per_node_counts_every_record_once_in_buckets_from_first_to_last(
    bucket_s: float, offsets: list[float]
) -> None:
    records = [rec(t, node=f"node{i % 3}") for i, t in enumerate(offsets)]
    rates = History(records).rate_per_node(bucket_s)
    lengths = {len(series) for series in rates.values()}
    assert len(lengths) == 1, lengths  # every series has the same buckets
    counts = [[round(rate * bucket_s) for _, rate in series] for series in rates.values()]
    assert sum(map(sum, counts)) == len(records)
    assert any(c[0] for c in counts) and any(c[-1] for c in counts)  # no empty bucket before or after the records
    first = min(r.t for r in records)
    for series in rates.values():
        assert [start for start, _ in series] == [first + i * bucket_s for i in range(len(series))]
