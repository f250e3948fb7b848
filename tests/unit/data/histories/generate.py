"""Writes the saved histories next to this file (deterministic; run it after changing a case).

    python3 tests/unit/data/histories/generate.py

Each case is users with a list of outcomes: a node name (200 from that node, cookie route set to it),
"503" (balancer error page, no node, cookie kept), "0" (connection error after a 1 s timeout) or "-" (no
request at that step: the user is idle, time goes on). User k starts at 0.1 * (k - 1) s.
A session id is fixed per user (sessions replicate: a failover keeps the id and rewrites the route).
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
T0 = 1_700_000_000.0
PERIOD = 0.5  # think time + request, seconds
LATENCY = 0.02

Outcomes = list[str]


def user_records(user: str, offset: float, outcomes: Outcomes) -> list[dict[str, Any]]:
    session = f"S{user.upper()}"
    route: str | None = None
    t = T0 + offset
    records = []
    for outcome in outcomes:
        if outcome == "-":
            t += PERIOD
            continue
        status, node = (int(outcome), None) if outcome.isdigit() else (200, outcome)
        latency = 1.0 if status == 0 else LATENCY
        new_route = node if node is not None else route
        error = None if status == 200 else ("ConnectionRefusedError()" if status == 0 else f"HTTP {status}")
        records.append(
            {
                "t": round(t, 3), "t_end": round(t + latency, 3), "user": user, "session": session,
                "route": route, "new_route": new_route, "node": node, "status": status,
                "latency_ms": latency * 1000, "error": error, "path": "/app/",
            }
        )
        route = new_route
        t = max(t + PERIOD, t + latency + 0.01)
    return records


def steady(n_users: int = 6, steps: int = 16) -> dict[str, Outcomes]:
    return {f"u{i}": [f"node{(i - 1) % 3 + 1}"] * steps for i in range(1, n_users + 1)}


def with_steps(cases: dict[str, Outcomes], user: str, changes: dict[int, str]) -> dict[str, Outcomes]:
    out = {u: list(o) for u, o in cases.items()}
    for step, outcome in changes.items():
        out[user][step] = outcome
    return out


def from_step(cases: dict[str, Outcomes], user: str, step: int, tail: Outcomes) -> dict[str, Outcomes]:
    out = {u: list(o) for u, o in cases.items()}
    out[user] = out[user][:step] + tail + out[user][step + len(tail):]
    return out


def window(kind: str, targets: str, start: float, end: float | None) -> dict[str, Any]:
    """A window line; `targets` as "node1" or "node1,balancer" (written as a list)."""
    return {"kind": kind, "targets": targets.split(","), "start": T0 + start,
            "end": None if end is None else T0 + end, "detail": ""}


def old_window(kind: str, target: str, start: float, end: float | None) -> dict[str, Any]:
    """A window line in the old format: one "target" text, names joined by commas."""
    return {"kind": kind, "target": target, "start": T0 + start, "end": None if end is None else T0 + end,
            "detail": ""}


def idle_during(cases: dict[str, Outcomes], start: float, end: float) -> dict[str, Outcomes]:
    """No user sends a request that overlaps [start, end] (seconds from T0): those steps become "-"."""
    out = {}
    for index, (user, outcomes) in enumerate(cases.items()):
        offset = 0.1 * index
        out[user] = ["-" if offset + PERIOD * i <= end and offset + PERIOD * i + LATENCY >= start else o
                     for i, o in enumerate(outcomes)]
    return out


def sessions(counts: dict[str, int], steps: int = 2) -> dict[str, Outcomes]:
    """One user (one session) per count, on that node for `steps` requests: node1 users first."""
    nodes = [node for node, count in counts.items() for _ in range(count)]
    return {f"u{i}": [node] * steps for i, node in enumerate(nodes, start=1)}


def drawn(shares: dict[str, float], n: int, seed: int) -> dict[str, Outcomes]:
    """n sessions whose first node is drawn at random with these shares (a fixed seed: the same file)."""
    rng = random.Random(seed)
    picks = rng.choices(list(shares), weights=list(shares.values()), k=n)
    return {f"u{i}": [node] * 2 for i, node in enumerate(picks, start=1)}


def distribution_cases() -> dict[str, tuple[dict[str, Outcomes], list[dict[str, Any]]]]:
    """Sessions for the goodness-of-fit checker: 80/20 needs 21 sessions, 50/30/20 needs 94 (alpha 0.01,
    power 0.8 against an even split)."""
    return {
        "dist_80_20": (sessions({"node1": 32, "node2": 8}), []),
        "dist_even_2": (sessions({"node1": 20, "node2": 20}), []),
        "dist_node1_none": (sessions({"node2": 40}), []),
        "dist_too_few_2": (sessions({"node1": 8, "node2": 2}), []),
        "dist_drawn_80_20": (drawn({"node1": 0.8, "node2": 0.2}, 60, seed=80), []),
        "dist_drawn_even_2": (drawn({"node1": 0.5, "node2": 0.5}, 60, seed=50), []),
        "dist_50_30_20": (sessions({"node1": 50, "node2": 30, "node3": 20}), []),
        "dist_even_3": (sessions({"node1": 34, "node2": 34, "node3": 34}), []),
        "dist_three_node1_none": (sessions({"node2": 60, "node3": 40}), []),
        "dist_too_few_3": (sessions({"node1": 25, "node2": 15, "node3": 10}), []),
        "dist_drawn_50_30_20": (drawn({"node1": 0.5, "node2": 0.3, "node3": 0.2}, 150, seed=532), []),
        "dist_drawn_even_3": (drawn({"node1": 1, "node2": 1, "node3": 1}, 150, seed=333), []),
    }


def fault_cases(base: dict[str, Outcomes]) -> dict[str, tuple[dict[str, Outcomes], list[dict[str, Any]]]]:
    """Partitions, graceful stops and pauses of node1 from 5 s to 8 s (24 steps: load until 12 s)."""
    long = {u: o + o[:8] for u, o in base.items()}  # 24 steps
    moved = from_step(from_step(long, "u1", 11, ["node2"] * 13), "u4", 11, ["node2"] * 13)  # at 5.5 s, 5.8 s
    partition = [window("partition", "node1,balancer", 5.0, 8.0)]
    stop, pause = [window("stop", "node1", 5.0, 8.0)], [window("pause", "node1", 5.0, 8.0)]
    back = from_step(long, "u1", 10, ["-"] * 6)  # u1 idle during the pause, then node1 serves it again
    return {
        "recover_idle_window": (idle_during(long, 5.0, 8.0), partition),  # no request in the window, no move
        "partition_moved": (moved, partition),
        "partition_moved_old_format": (moved, [old_window("partition", "node1,balancer", 5.0, 8.0)]),
        "graceful_clean": (moved, stop),
        "graceful_503": (with_steps(moved, "u2", {12: "503"}), stop),  # at 6.1 s, inside the window
        "graceful_idle": (idle_during(long, 5.0, 8.0), stop),
        "frozen_back": (back, pause),
        "frozen_never_back": (moved, pause),  # node1's sessions left for good: node1 serves nothing after
        "frozen_no_load_after": ({u: o[:10] for u, o in long.items()}, pause),  # the load ended at 5 s
    }


def cases() -> dict[str, tuple[dict[str, Outcomes], list[dict[str, Any]]]]:
    base = steady()  # u1,u4 -> node1; u2,u5 -> node2; u3,u6 -> node3; 16 steps at 0.5 s, user k starts at 0.1*(k-1)
    moved = from_step(from_step(base, "u2", 8, ["node1"] * 8), "u5", 12, ["node3"] * 4)
    kill = from_step(from_step(base, "u1", 10, ["0"] + ["node2"] * 5), "u4", 10, ["0"] + ["node3"] * 5)
    twice = from_step(kill, "u1", 11, ["node2", "node1"] + ["node3"] * 3)
    two_kills = from_step(kill, "u1", 14, ["node3"] * 2)  # step 14 at 7.51 s, inside the node2 window
    stuck = from_step(from_step(base, "u1", 10, ["503"] * 6), "u4", 10, ["503"] * 6)
    errors_outside = with_steps(base, "u2", {3: "503", 4: "0"})
    skewed = {f"u{i}": ["node1"] * 16 for i in range(1, 6)} | {"u6": ["node2"] * 16}
    late_503 = with_steps(base, "u3", {12: "503"})  # at 6.2 s
    kill_node1 = [window("kill", "node1", 5.0, 8.0)]
    return {
        "steady": (base, []),
        "moved_without_fault": (moved, []),
        "kill_failover": (kill, kill_node1),
        "kill_moved_twice": (twice, kill_node1),
        "two_kills": (two_kills, kill_node1 + [window("kill", "node2", 7.2, 8.5)]),
        "kill_stuck": (stuck, [window("kill", "node1", 5.0, None)]),
        "errors_outside": (errors_outside, []),
        "skewed": (skewed, []),
        "late_503": (late_503, []),
    } | fault_cases(base) | distribution_cases()


def render() -> dict[str, str]:
    """File name -> content of every saved history and windows file."""
    files = {}
    for name, (users, windows) in cases().items():
        records = []
        for index, (user, outcomes) in enumerate(users.items()):
            records += user_records(user, 0.1 * index, outcomes)
        records.sort(key=lambda r: r["t"])
        files[f"{name}.jsonl"] = "".join(json.dumps(r) + "\n" for r in records)
        if windows:
            files[f"{name}.windows.jsonl"] = "".join(json.dumps(w) + "\n" for w in windows)
    return files


if __name__ == "__main__":
    for file_name, content in render().items():
        (HERE / file_name).write_text(content, encoding="utf-8")
        print(f"wrote {file_name}")
