"""Backend connection reuse: how many TCP connections a node accepted per request it answered.

A balancer that pools its backend connections (httpd's mod_proxy with reuse on) opens a few connections per
worker thread for a whole run: the ratio is far below 1. One that opens a connection per proxied request
(mod_cluster 1.3.x <= 1.3.21 and 2.x before 0862b2d on httpd >= 2.4.59, MODCLUSTER-852) is at about 1.0.
The counts come from the node itself (the sim node's `http.accepted`, `http.served`, `http.options_probes`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.judge.bounds import validate_bound
from harness.judge.verdict import Verdict

MIN_REQUESTS = 50  # below this the ratio says little: unknown


def check_backend_reuse(node: str, http: Mapping[str, Any] | None, max_ratio: float) -> Verdict:
    """Valid when `node` accepted at most `max_ratio` connections per request it answered (requests served
    plus OPTIONS probes); unknown without counts (a node flavor that does not count its connections) or with
    fewer than MIN_REQUESTS requests."""
    validate_bound("max_ratio", max_ratio)
    name = f"backend_reuse:{node}"
    if http is None or not isinstance(http.get("accepted"), int):
        return Verdict(name, "unknown", {"node": node}, f"{node} does not report its accepted connections")
    accepted, served, probes = int(http["accepted"]), int(http.get("served", 0)), int(http.get("options_probes", 0))
    requests = served + probes
    details = {"node": node, "accepted": accepted, "served": served, "options_probes": probes, "max_ratio": max_ratio}
    if requests < MIN_REQUESTS:
        return Verdict(name, "unknown", details, f"{node} answered {requests} requests, need {MIN_REQUESTS}")
    ratio = accepted / requests
    details["ratio"] = round(ratio, 3)
    summary = (
        f"{node} accepted {accepted} connections for {requests} requests ({ratio:.2f} per request, max {max_ratio})"
    )
    return Verdict(name, ratio <= max_ratio, details, summary)
