"""How mod_manager reads an MCMP body and its values, per line (ports of process_buff, decodeenc, the alias /
context list splitter and the value converters). Pure and standard library only; used by `mcmp_model`.

`split_body(kind, body)` gives the items mod_manager iterates over (key, value, key, value...; on 2.x a
value may be missing: None) or None when the body is refused (SMESPAR).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

FORBIDDEN = frozenset("<>\"'\r\n")  # refused after %-decoding (apr_escape_entity / apr_escape_shell)
_HEX = "0123456789abcdefABCDEF"


@dataclass(frozen=True)
class Body:
    """The items of a body as mod_manager holds them (C strings: a decoded NUL ends one). On 2.x a value may
    be missing (None). `buffer` and `offsets` keep the 2.x buffer as decoded in place (items side by side,
    NUL-separated, leftovers of shortened items kept), which the 2.x list splitter can run into."""

    items: tuple[str | None, ...]
    buffer: str = ""
    offsets: tuple[int, ...] = ()

    def pairs(self) -> list[tuple[str, str | None, int]]:
        """(key, value, index of the value item) in order; key "" for an empty key."""
        out = []
        for i in range(0, len(self.items), 2):
            value = self.items[i + 1] if i + 1 < len(self.items) else None
            out.append((self.items[i] or "", value, i + 1))
        return out

    def tail(self, index: int) -> str:
        """The buffer from item `index` on, with the zeroed bytes after the body."""
        return self.buffer[self.offsets[index] :] + "\0\0" if index < len(self.offsets) else "\0\0"


def _decode(text: str) -> str | None:
    """%XX decoding of one item (invalid escapes kept, NULs kept); None when a forbidden character results."""
    out, i = [], 0
    while i < len(text):
        ch = text[i]
        if ch == "%" and i + 2 < len(text) and text[i + 1] in _HEX and text[i + 2] in _HEX:
            ch = chr(int(text[i + 1 : i + 3], 16))
            i += 2
        if ch in FORBIDDEN:
            return None
        out.append(ch)
        i += 1
    return "".join(out)


def c_string(text: str) -> str:
    return text.split("\0", 1)[0]


def split_body(kind: str, body: str, *, stop_decoding_at_empty: bool = False) -> Body | None:
    """The items of `body` for a line's parser: "pairs" (1.3.x) or "split" (2.x); None: refused (SMESPAR)."""
    return _pairs_13(body, stop_decoding_at_empty) if kind == "pairs" else _split_2x(body)


def _pairs_13(body: str, stop_at_empty: bool) -> Body | None:
    # process_buff (1.3.x): '=' and '&' alternate as separators; the last key and value must be non-empty
    if "=" not in body:
        return None
    items: list[str] = []
    current: list[str] = []
    expecting_value = False
    for ch in body:
        if ch == "&" and expecting_value:
            items.append("".join(current))
            current, expecting_value = [], False
        elif ch == "=" and not expecting_value:
            items.append("".join(current))
            current, expecting_value = [], True
        else:
            current.append(ch)
    items.append("".join(current))
    if not expecting_value or len(items) != (body.count("&") + 1) * 2 or not items[-2] or not items[-1]:
        return None
    decoded: list[str | None] = []
    for index, item in enumerate(items):
        if item == "" and stop_at_empty:  # decodeenc returns at the first empty value (BUG_DECODE_STOPS_AT_EMPTY)
            decoded += items[index:]
            break
        value = _decode(item) if item else item
        if value is None:
            return None
        decoded.append(c_string(value))
    return Body(tuple(decoded))


def _split_2x(body: str) -> Body | None:
    # process_buff (2.x): every '&' and '=' separates; decodeenc skips empty items and decodes in place
    raws = re.split(r"[&=]", body)
    items, blocks, offsets, offset = [], [], [], 0
    for raw in raws:
        value = _decode(raw) if raw else raw
        if value is None:
            return None
        block = value if len(value) == len(raw) else value + "\0" + raw[len(value) + 1 :]
        items.append(c_string(value))
        blocks.append(block)
        offsets.append(offset)
        offset += len(raw) + 1
    return Body(tuple(items), "\0".join(blocks), tuple(offsets))


# ---------------------------------------------------------------------------------------- lists
def split_list(value: str, limit: int | None, *, tail: str | None = None, lower: bool = False) -> list[str] | str:
    """Split an Alias or Context list on ','. Returns the items, or "big" / "empty" for the two refusals.

    `limit` None: no check (1.3.x). With `tail` (the buffer from the value on) the 2.x splitter is run as
    built (BUG_LIST_SKIPS_AFTER_COMMA): it may read past the value's end into what follows it."""
    if lower:
        value = value.lower()
    if tail is not None and limit is not None:
        end = tail.index("\0")
        return _split_as_built((tail[:end].lower() if lower else tail[:end]) + tail[end:], limit)
    parts = value.split(",")
    if limit is None:
        return parts
    if any(part == "" for part in parts):
        return "empty"
    if any(len(part) >= limit for part in parts):
        return "big"
    return parts


def _split_as_built(buffer: str, limit: int) -> list[str] | str:
    # parse_list_to_array_with_checks, step by step over the C buffer
    items, start, cur, length = [], 0, 0, 0
    while cur < len(buffer) and buffer[cur] != "\0":
        length += 1
        if buffer[cur] == ",":
            items.append(c_string(buffer[start:cur]))
            cur += 1
            start, length = cur, 0
        if length >= limit:
            return "big"
        cur += 1
    if length >= limit:
        return "big"
    if length == 0:
        return "empty"
    items.append(c_string(buffer[start:]))
    return items


# --------------------------------------------------------------------------------------- values
def _int32(number: int) -> int:
    number = max(-(2**63), min(2**63 - 1, number))  # strtol saturates a 64-bit long, then the int keeps 32 bits
    return (number + 2**31) % 2**32 - 2**31


def atoi(text: str) -> int:
    """glibc atoi: (int) strtol: optional spaces and sign, then digits; 0 when none."""
    match = re.match(r"\s*([+-]?\d+)", text)
    return _int32(int(match.group(1))) if match else 0


def scan_int(text: str) -> int | None:
    """sscanf("%d"): like atoi, but None when no digits are found (the variable keeps its value)."""
    match = re.match(r"\s*([+-]?\d+)", text)
    return _int32(int(match.group(1))) if match else None


def timeout_us(text: str, default_unit: str) -> int | None:
    """ap_timeout_parameter_parse: integer then unit (s, h, ms, mi; default `default_unit`); µs or None."""
    match = re.match(r"\s*([+-]?\d*)", text)
    digits = match.group(1) if match else ""
    number = int(digits) if digits not in ("", "+", "-") else 0
    if number < 0:
        return None  # httpd refuses a negative timeout
    unit = text[match.end() :] if match else text
    unit = unit or default_unit
    if unit.startswith("s"):
        return number * 1_000_000
    if unit.startswith("h"):
        return number * 3_600_000_000
    if unit.startswith("ms"):
        return number * 1000
    if unit.startswith("mi"):
        return number * 60_000_000
    return None


def seconds(us: int) -> int:
    """apr_time_sec, as C integer division (toward zero)."""
    return int(us / 1_000_000) if us >= 0 else -int(-us / 1_000_000)


def boolean(text: str, kind: str, word: str) -> bool | None:
    """The flag a value sets, or None when it leaves the default: "yes-no" (2.x: yes/on, no/off) or
    "one-word" (1.3.x: only `word`, the non-default one, counts)."""
    lower = text.lower()
    if kind == "yes-no":
        return True if lower in ("yes", "on") else False if lower in ("no", "off") else None
    return (word in ("yes", "on")) if lower == word else None
