"""Shared pieces of the description layer: `SpecError`, field validators and dict conversion.

Pure: no Docker, no network. Every validator takes the dotted field path first so the error names it,
returns the checked (possibly normalised) value and raises `SpecError` otherwise.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

NAME_PATTERN = r"[A-Za-z0-9_-]{1,63}"
_NAME_RE = re.compile(NAME_PATTERN)
_TOKEN_RE = re.compile(r"[!#-\[\]-~]+")  # printable ASCII without space, '"' and '\'

T = TypeVar("T")


class SpecError(ValueError):
    """A description field holds a value the harness does not accept.

    `field` is the dotted path of the field ("nodes[1].name", "balancer.max_mcmp_mess_size").
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message

    def with_prefix(self, prefix: str) -> SpecError:
        """The same error seen from an enclosing object ("name" -> "nodes[1].name")."""
        field = f"{prefix}.{self.field}" if self.field else prefix
        return type(self)(field, self.message)


@contextmanager
def field_prefix(prefix: str) -> Iterator[None]:
    """Re-raise a `SpecError` from the block with `prefix` in front of its field path."""
    try:
        yield
    except SpecError as err:
        raise err.with_prefix(prefix) from err


def set_field(obj: object, name: str, value: object) -> None:
    """Store a normalised value on a frozen dataclass during `__post_init__`."""
    object.__setattr__(obj, name, value)


def validate_choice(field: str, value: object, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise SpecError(field, f"got {value!r}; accepted values: {', '.join(repr(c) for c in choices)}")
    return value


def validate_name(field: str, value: object, max_len: int = 63) -> str:
    if not isinstance(value, str) or not _NAME_RE.fullmatch(value) or len(value) > max_len:
        raise SpecError(field, f"got {value!r}; expected 1..{max_len} characters of [A-Za-z0-9_-]")
    return value


def validate_token(field: str, value: object, max_len: int = 255) -> str:
    """A non-empty printable ASCII word without whitespace, quotes or backslashes."""
    if not isinstance(value, str) or not _TOKEN_RE.fullmatch(value) or len(value) > max_len:
        raise SpecError(
            field, f"got {value!r}; expected 1..{max_len} printable ASCII characters without spaces, '\"' or '\\'"
        )
    return value


def validate_bool(field: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise SpecError(field, f"got {value!r}; accepted values: True, False")
    return value


def validate_int(field: str, value: object, lo: int | None = None, hi: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise SpecError(field, f"got {value!r}; expected an integer{_range_text(lo, hi)}")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise SpecError(field, f"got {value}; expected an integer{_range_text(lo, hi)}")
    return value


def validate_number(field: str, value: object, lo: float | None = None, hi: float | None = None) -> float:
    """An int or float (not bool), returned as float."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        raise SpecError(field, f"got {value!r}; expected a number{_range_text(lo, hi)}")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise SpecError(field, f"got {value}; expected a number{_range_text(lo, hi)}")
    return float(value)


def validate_port(field: str, value: object) -> int:
    return validate_int(field, value, 1, 65535)


def validate_path(field: str, value: object, max_len: int = 255) -> str:
    """A URL path: starts with '/', no whitespace, quotes or backslashes."""
    path = validate_token(field, value, max_len)
    if not path.startswith("/"):
        raise SpecError(field, f"got {value!r}; expected a path starting with '/'")
    return path


def validate_tuple(
    field: str,
    value: object,
    item: Callable[[str, Any], T],
    *,
    non_empty: bool = False,
    unique: bool = False,
) -> tuple[T, ...]:
    """A tuple (a list is accepted and converted) whose items pass `item(field[i], value)`."""
    if isinstance(value, (str, bytes)) or not isinstance(value, (tuple, list)):
        raise SpecError(field, f"got {value!r}; expected a tuple")
    if non_empty and not value:
        raise SpecError(field, "got an empty tuple; expected at least one item")
    items = tuple(item(f"{field}[{i}]", v) for i, v in enumerate(value))
    if unique:
        for i, checked in enumerate(items):
            if checked in items[:i]:
                raise SpecError(f"{field}[{i}]", f"duplicate value {checked!r}; items must be unique")
    return items


def _range_text(lo: float | None, hi: float | None) -> str:
    if lo is not None and hi is not None:
        return f" in {lo}..{hi}"
    if lo is not None:
        return f" >= {lo}"
    if hi is not None:
        return f" <= {hi}"
    return ""


# ---- dict conversion -------------------------------------------------------------------------------


def to_jsonable(value: Any) -> Any:
    """Dataclasses through their own `to_dict()`, tuples as lists, everything else as is."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return value.to_dict()  # type: ignore[attr-defined]
    if isinstance(value, (tuple, list)):
        return [to_jsonable(v) for v in value]
    return value


def fields_to_dict(obj: Any, kind: str | None = None) -> dict[str, Any]:
    """All dataclass fields of `obj`, JSON-safe; with `kind`, a "kind" tag first."""
    out: dict[str, Any] = {"kind": kind} if kind is not None else {}
    for f in dataclasses.fields(obj):
        out[f.name] = to_jsonable(getattr(obj, f.name))
    return out


def validate_mapping(field: str, data: object, cls: type, *, ignore: tuple[str, ...] = ("kind",)) -> dict[str, Any]:
    """`data` as a dict of `cls` field values; unknown keys are a SpecError naming them."""
    if not isinstance(data, Mapping):
        raise SpecError(field or cls.__name__, f"got {type(data).__name__}; expected a mapping")
    names = [f.name for f in dataclasses.fields(cls)]
    for key in data:
        if key not in names and key not in ignore:
            path = f"{field}.{key}" if field else str(key)
            raise SpecError(path, f"unknown field of {cls.__name__}; accepted: {', '.join(names)}")
    return {k: _tuplify(v) for k, v in data.items() if k not in ignore}


def leaf_from_dict(cls: type[T], data: object, field: str = "") -> T:
    """Build a dataclass whose fields are plain values or tuples of them."""
    values = validate_mapping(field, data, cls)
    if not field:
        return cls(**values)
    with field_prefix(field):
        return cls(**values)


def replace_checked(obj: T, field: str, changes: Mapping[str, Any]) -> T:
    """`dataclasses.replace` with unknown fields and invalid values reported under `field`."""
    names = [f.name for f in dataclasses.fields(obj)]  # type: ignore[arg-type]
    for key in changes:
        if key not in names:
            raise SpecError(f"{field}.{key}", f"unknown field of {type(obj).__name__}; accepted: {', '.join(names)}")
    with field_prefix(field):
        return dataclasses.replace(obj, **changes)  # type: ignore[type-var]


def _tuplify(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_tuplify(v) for v in value)
    return value
