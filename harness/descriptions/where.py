"""Where a reproduction applies, where it is known broken, and what was seen with which build.

`Where` is a set of runs as data (never a lambda): balancer and node flavors, mod_cluster mode, the line of
the mod_cluster source in use ("1.3", "2.x") and a release range; `Where.mismatch(RunFacts)` says which
field excludes a run. `KnownBroken(where, reason)` marks a reproduced, unfixed bug (a strict xfail there);
`Observation(build, verdict, date, note)` records a build seen bad or good (first bad / first good).

Pure; the run layer tells the facts of a run (harness.run.repro_facts).
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from typing import Any

from harness.descriptions.base import (
    SpecError,
    field_prefix,
    fields_to_dict,
    leaf_from_dict,
    set_field,
    validate_choice,
    validate_mapping,
    validate_name,
    validate_tuple,
)
from harness.descriptions.options import MODCLUSTER_MODES

LINES = ("1.3", "2.x")
VERDICTS = ("valid", "invalid", "unknown")
_VERSION_RE = re.compile(r"(\d+)\.(\d+)\.(\d+)")


@dataclass(frozen=True)
class RunFacts:
    """What a run is, as far as `Where` asks: flavors, mode, and the mod_cluster source in use (None: none)."""

    balancer: str
    node: str
    mode: str = "proxy_cluster"
    line: str | None = None
    release: str | None = None  # "mod_cluster/1.3.22.Final"

    @property
    def version(self) -> tuple[int, int, int] | None:
        return _version(self.release) if self.release else None


@dataclass(frozen=True)
class Where:
    """A set of runs: every field given must match (() / None: any). `since` / `until` are releases, inclusive
    ("1.3.10"), compared by their x.y.z; `line` and the releases need a mod_cluster source in use."""

    balancer: tuple[str, ...] = ()
    node: tuple[str, ...] = ()
    mode: tuple[str, ...] = ()
    line: tuple[str, ...] = ()
    since: str | None = None
    until: str | None = None

    def __post_init__(self) -> None:
        for name in ("balancer", "node", "mode", "line"):
            value = getattr(self, name)
            value = (value,) if isinstance(value, (str, int, float)) and not isinstance(value, bool) else value
            check = {"mode": _mode, "line": _line}.get(name, validate_name)
            set_field(self, name, validate_tuple(name, value, check, unique=True))
        for name in ("since", "until"):
            value = getattr(self, name)
            if value is not None:
                set_field(self, name, _release(name, value))
        if self.since and self.until and _xyz(self.since) > _xyz(self.until):
            raise SpecError("until", f"got {self.until!r}; before since {self.since!r}")

    def mismatch(self, facts: RunFacts) -> str | None:
        """None when `facts` is in this set, else which field excludes it and why."""
        for name, value in (("balancer", facts.balancer), ("node", facts.node), ("mode", facts.mode)):
            wanted = getattr(self, name)
            if wanted and value not in wanted:
                return f"{name}: the run's is {value!r}; wanted {', '.join(wanted)}"
        needs_source = self.line or self.since or self.until
        if needs_source and facts.line is None:
            return f"line/since/until: the run uses no mod_cluster source (balancer {facts.balancer})"
        if self.line and facts.line not in self.line:
            return f"line: the run's mod_cluster line is {facts.line}; wanted {', '.join(self.line)}"
        version = facts.version
        for name, bound, outside in (("since", self.since, -1), ("until", self.until, 1)):
            if bound is None:
                continue
            if version is None:
                return f"{name}: the run's release {facts.release!r} has no x.y.z version to compare"
            limit = _xyz(bound)
            if (version > limit) - (version < limit) == outside:
                return f"{name}: the run's release is {facts.release}; wanted {name} {bound}"
        return None

    def describe(self) -> str:
        parts = [f"{n} {'|'.join(getattr(self, n))}" for n in ("balancer", "node", "mode", "line") if getattr(self, n)]
        parts += [f"{n} {getattr(self, n)}" for n in ("since", "until") if getattr(self, n)]
        return ", ".join(parts) or "everywhere"

    def to_dict(self) -> dict[str, Any]:
        return fields_to_dict(self)


@dataclass(frozen=True)
class KnownBroken:
    """Reproduced, not fixed: where it shows, and why it is expected to fail there."""

    where: Where
    reason: str

    def __post_init__(self) -> None:
        if not isinstance(self.where, Where):
            raise SpecError("where", f"got {self.where!r}; expected a Where")
        if not isinstance(self.reason, str) or not self.reason.strip():
            raise SpecError("reason", f"got {self.reason!r}; expected a non-empty reason")

    def to_dict(self) -> dict[str, Any]:
        return fields_to_dict(self)


@dataclass(frozen=True)
class Observation:
    """One build seen with the reproduction: its name (release, commit, tag), the verdict, when, a note."""

    build: str
    verdict: str
    date: str = ""
    note: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.build, str) or not self.build.strip():
            raise SpecError("build", f"got {self.build!r}; expected a release, tag or commit")
        validate_choice("verdict", self.verdict, VERDICTS)
        if isinstance(self.date, datetime.date):  # YAML reads an unquoted 2026-11-03 as a date
            set_field(self, "date", self.date.isoformat())
        if not isinstance(self.date, str) or (self.date and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", self.date)):
            raise SpecError("date", f"got {self.date!r}; expected YYYY-MM-DD or empty")
        if not isinstance(self.note, str):
            raise SpecError("note", f"got {self.note!r}; expected a string")

    def to_dict(self) -> dict[str, Any]:
        return fields_to_dict(self)


def known_broken_from_dict(data: object, field: str) -> KnownBroken:
    values = validate_mapping(field, data, KnownBroken, ignore=())
    if "where" in values:
        values["where"] = leaf_from_dict(Where, (data or {})["where"] or {}, f"{field}.where")  # type: ignore[index]
    with field_prefix(field):
        return KnownBroken(**values)


def _mode(field: str, value: object) -> str:
    return validate_choice(field, value, MODCLUSTER_MODES)


def _line(field: str, value: object) -> str:
    if isinstance(value, float):
        raise SpecError(field, f"got {value!r} (a number: quote it, '{value}'); accepted values: {', '.join(LINES)}")
    return validate_choice(field, value, LINES)


def _release(field: str, value: object) -> str:
    if isinstance(value, float):
        raise SpecError(field, f"got {value!r} (a number: quote it); expected a release x.y.z such as '1.3.22'")
    if not isinstance(value, str) or _version(value) is None:
        raise SpecError(field, f"got {value!r}; expected a release x.y.z such as '1.3.22'")
    return value


def _version(text: str) -> tuple[int, int, int] | None:
    match = _VERSION_RE.search(text)
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


def _xyz(release: str) -> tuple[int, int, int]:
    """The x.y.z of a release already validated by `_release`."""
    version = _version(release)
    if version is None:
        raise SpecError("release", f"got {release!r}; expected a release x.y.z")
    return version
