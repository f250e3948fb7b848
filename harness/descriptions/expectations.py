"""Expectation names: the words a reproduction uses for its checks (final `checks` and `expect` steps).

    KIND[:ARGUMENT]   (no commas: a YAML flow list [a, b] splits at them)

Over the request history (so far, at an `expect` step; all of it, at the end); each states the evidence it
needs, below which the verdict is unknown (which fails the reproduction):
    sticky                     no session changes node unless its node was faulted (then once); >= 1 session
    moved:<n>                  as sticky, and at least <n> session moves excused by a fault
    failover_within:<s>        sessions of each faulted node served elsewhere within <s> seconds; >= 1 session
    no_errors                  no failed request at all (status 0 or >= 500); each window overlaps a request
    no_errors_outside_windows  no failed request outside fault windows (plus a 2 s grace); likewise
    every_node_served          every node of the topology served requests
    serves_after_faults        every node served successfully after the last window closed
    no_status:<code>           no reply with this status after the last window closed; >= 1 request then
Over one balancer snapshot taken at that moment (no waiting: a `wait_until` step waits):
    registered:<node>          the balancer knows the node
    not_registered:<node>      it does not (removed, never came)
    node_up:<node> / node_down:<node>   the balancer says OK / NOTOK (unknown when the flavor cannot tell)
    context:<node>:<path>:<STATUS>      the node's context has this status (ENABLED, DISABLED, STOPPED)
    load:<node>:<n>            the balancer holds this load for the node
Over the balancer's view sampled every ~0.5 s from the cluster's start to the timeline's end (final
`checks` only; the sampler runs only when one of these is named):
    served_by_registered       every successful request came from a node the balancer had registered, up,
                               with the request's context ENABLED (DISABLED for a sticky one), by the polls
                               just before and after it (both must say no); >= 2 polls, >= 10 requests judged
    converges_within:<s>       after the last window closed, every node registered, up, its contexts ENABLED
                               within <s> seconds, and so until the end; >= 1 poll after the heal
Over the balancer's logs (its evidence files: error_log, ...):
    log_free_of:<regex>        no line matches (Python regex, no spaces: write \\s)
    no_child_crash             no child killed by a signal or failing fatally (httpd AH00050/51/52, "exit
                               signal", "Segmentation fault"), no JVM crash report
Over one node's own counters (flavors that count them: sim; elsewhere unknown):
    backend_reuse:<node>:<r>   the node accepted at most <r> connections per request answered; >= 50 requests

Pure: parsing and the vocabulary only; the run layer turns names into verdicts.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from harness.descriptions.base import NAME_PATTERN, SpecError

CONTEXT_STATES = ("ENABLED", "DISABLED", "STOPPED")
_NODE_RE = re.compile(NAME_PATTERN)


class UnknownExpectation(SpecError):
    """An expectation name that does not parse; `field` names where it was written (may be empty)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(field, message)
        if not field:
            self.args = (message,)


def _seconds(text: str) -> float:
    value = float(text)
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"got {value}; expected a finite number of seconds >= 0")
    return value


def _count(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(f"got {value}; expected a count >= 1")
    return value


def _status(text: str) -> int:
    value = int(text)
    if not 100 <= value <= 599:
        raise ValueError(f"got {value}; expected an HTTP status 100..599")
    return value


def _node(text: str) -> str:
    if not _NODE_RE.fullmatch(text):
        raise ValueError(f"got {text!r}; expected a node name")
    return text


def _context(text: str) -> tuple[str, str, str]:
    node, _, rest = text.partition(":")
    path, _, status = rest.rpartition(":")
    if not path.startswith("/") or status not in CONTEXT_STATES:
        raise ValueError(f"got {text!r}; expected NODE:/PATH:STATUS with STATUS one of {', '.join(CONTEXT_STATES)}")
    return _node(node), path, status


def _node_load(text: str) -> tuple[str, int]:
    node, _, load = text.partition(":")
    value = int(load)
    if not -1 <= value <= 100:
        raise ValueError(f"got {value}; expected a load -1..100")
    return _node(node), value


def _node_ratio(text: str) -> tuple[str, float]:
    node, _, ratio = text.partition(":")
    value = float(ratio)
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"got {value}; expected a finite ratio >= 0")
    return _node(node), value


def _regex(text: str) -> str:
    try:
        re.compile(text)
    except re.error as exc:
        raise ValueError(f"not a regular expression ({exc})") from None
    return text


# name -> (argument converter or None, an example of the argument, what it looks at)
HISTORY, STATE, LOG, NODE, SAMPLES = "history", "state", "log", "node", "samples"
ARGUMENTS: dict[str, tuple[Callable[[str], Any] | None, str, str]] = {
    "sticky": (None, "", HISTORY),
    "moved": (_count, "1", HISTORY),
    "failover_within": (_seconds, "10", HISTORY),
    "no_errors": (None, "", HISTORY),
    "no_errors_outside_windows": (None, "", HISTORY),
    "every_node_served": (None, "", HISTORY),
    "serves_after_faults": (None, "", HISTORY),
    "no_status": (_status, "503", HISTORY),
    "registered": (_node, "node1", STATE),
    "not_registered": (_node, "node1", STATE),
    "node_up": (_node, "node1", STATE),
    "node_down": (_node, "node1", STATE),
    "context": (_context, "node1:/app:ENABLED", STATE),
    "load": (_node_load, "node1:50", STATE),
    "served_by_registered": (None, "", SAMPLES),
    "converges_within": (_seconds, "10", SAMPLES),
    "log_free_of": (_regex, "AH00052", LOG),
    "no_child_crash": (None, "", LOG),
    "backend_reuse": (_node_ratio, "node1:0.5", NODE),
}


def parse_expectation(name: object, field: str = "") -> tuple[str, Any]:
    """(kind, argument) of an expectation name, or UnknownExpectation naming `field` and the accepted forms."""
    if not isinstance(name, str):
        raise UnknownExpectation(field, f"got {name!r}; expected an expectation name ({', '.join(ARGUMENTS)})")
    kind, _, text = name.partition(":")
    if kind not in ARGUMENTS:
        raise UnknownExpectation(field, f"expectation {name!r}: known names are {', '.join(ARGUMENTS)}")
    convert, example, _ = ARGUMENTS[kind]
    if convert is None:
        if text:
            raise UnknownExpectation(field, f"expectation {name!r}: {kind} takes no argument")
        return kind, None
    try:
        return kind, convert(text)
    except ValueError as exc:
        raise UnknownExpectation(
            field, f"expectation {name!r}: {kind} needs an argument as in {kind}:{example} ({exc})"
        ) from None


def looks_at(kind: str) -> str:
    """ "history", "state", "log", "node" or "samples": what the expectation is judged over."""
    return ARGUMENTS[kind][2]


def needs_history(kind: str) -> bool:
    """The expectation reads the request history (so needs load): history names and served_by_registered."""
    return looks_at(kind) == HISTORY or kind == "served_by_registered"


def nodes_named(kind: str, argument: Any) -> tuple[str, ...]:
    """The node names an expectation refers to (checked against the topology)."""
    if looks_at(kind) not in (STATE, NODE):
        return ()
    return (argument,) if isinstance(argument, str) else (argument[0],)
