"""Writes the saved histories next to this file (deterministic; run it after changing a case).

    python3 tests/unit/data/histories/generate.py

Each case is users with a list of outcomes: a node name (200 from that node, cookie route set to it),
"503" (balancer error page, no node, cookie kept) or "0" (connection error after a 1 s timeout).
A session id is fixed per user (sessions replicate: a failover keeps the id and rewrites the route).
"""

from __future__ import annotations

import json
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


def window(kind: str, target: str, start: float, end: float | None) -> dict[str, Any]:
    return {"kind": kind, "target": target, "start": T0 + start, "end": None if end is None else T0 + end,
            "detail": ""}


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
    }


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
