"""A flat list of HTML events (start tag, end tag, text) from the standard library's HTMLParser, in linear time.

html.parser rescans the rest of its input at every `<` that opens something it cannot close (an
unterminated comment, end tag, quoted attribute...), which is quadratic on crafted input on the
Python releases before the CVE-2025-6069 fix (3.11.13, 3.12.11, 3.13.4): 100 KB of `<!--` takes
seconds there. So `html_events` first turns every `<` that does not open a complete tag (or the
DOCTYPE) into `&lt;`: one regex pass whose look-ahead never goes past the next `<`. The parser then
only sees constructs it closes at once. Comments, processing instructions, <script> and <style>
(which no page parsed here has) become text. Standard library only.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import NamedTuple

_TAG = r"/?(?!(?:script|style)\b)[a-z][a-z0-9]*(?:\s[^<>\"']*(?:\"[^<>\"]*\"[^<>\"']*)*)?/?>"
_UNSAFE_LT = re.compile(rf"<(?!{_TAG}|!doctype[^<>]*>)", re.IGNORECASE)
_HREF = re.compile(r'\shref="([^"]*)"', re.IGNORECASE)


class Event(NamedTuple):
    kind: str  # "start" | "end" | "text"
    name: str = ""  # the tag, lower case ("" for text)
    text: str = ""  # text with character references decoded; for <a>, its href exactly as written


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.events: list[Event] = []
        self._text: list[str] = []

    def flush(self) -> None:
        if self._text:
            self.events.append(Event("text", "", "".join(self._text)))
            self._text = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.flush()
        href = _HREF.search(self.get_starttag_text() or "") if tag == "a" else None
        self.events.append(Event("start", tag, href[1] if href else ""))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)  # <br/>: one event

    def handle_endtag(self, tag: str) -> None:
        self.flush()
        self.events.append(Event("end", tag))

    def handle_data(self, data: str) -> None:
        self._text.append(data)


def html_events(text: str) -> list[Event]:
    """The events of `text` in order; consecutive text is one event. Never raises."""
    collector = _Collector()
    collector.feed(_UNSAFE_LT.sub("&lt;", text))
    collector.close()
    collector.flush()
    return collector.events
