"""The `http` timeline step run: one GET through the balancer's proxy port, its status judged.

`get_status(url, expected, name)` sends the request (no redirects followed, no retry: the first answer is the
one judged) and returns a Verdict: valid when the status is the expected one, invalid for another status or
no reply at all (the error named). The details carry the status, the reply's first bytes and its headers.
"""

from __future__ import annotations

import requests

from harness.judge.checks import Verdict

HTTP_TIMEOUT_S = 10.0
_BODY_CHARS = 500


def get_status(url: str, expected: int, name: str, timeout_s: float = HTTP_TIMEOUT_S) -> Verdict:
    """GET `url` once; valid when it answers `expected`."""
    try:
        reply = requests.get(url, timeout=timeout_s, allow_redirects=False)
    except requests.RequestException as exc:
        details = {"url": url, "expected": expected, "error": f"{type(exc).__name__}: {exc}"}
        return Verdict(name, "invalid", details, f"GET {url}: no reply ({type(exc).__name__}; expected {expected})")
    details = {
        "url": url,
        "status": reply.status_code,
        "expected": expected,
        "headers": dict(reply.headers),
        "body": reply.text[:_BODY_CHARS],
    }
    summary = f"GET {url} answered {reply.status_code} (expected {expected})"
    return Verdict(name, reply.status_code == expected, details, summary)
