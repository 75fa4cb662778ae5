"""Helpers shared by adapters, timelines and listings: HTML bodies to plain text, timestamps, tolerant reads."""
from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

_BLOCK = {"div", "p", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6"}


class _TextParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0   # inside <blockquote>, <style>, <script>: quoted history or code

    def handle_starttag(self, tag, attrs):
        if tag in ("blockquote", "style", "script"):
            self._skip += 1
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in ("blockquote", "style", "script"):
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    parser = _TextParser()
    parser.feed(html or "")
    parser.close()
    text = "".join(parser.parts)
    text = re.sub(r"[ \t\u00a0]+", " ", text)
    return re.sub(r"\n\s*\n+", "\n", text).strip()


def parse_time(value) -> datetime | None:
    """ISO-8601 (Zammad, Jira) or epoch milliseconds (Jira envelopes) to aware UTC.

    Converted, not just labelled: Jira Data Center writes the server's offset
    (`+0800`), and a wall time kept with its offset reads back 8 hours off once a
    database drops the offset. Anything unreadable is None."""
    if value in (None, "") or isinstance(value, bool):
        return None
    try:
        if isinstance(value, (int, float)):
            return datetime.fromtimestamp(value / 1000, tz=UTC)
        # Jira writes offsets without a colon (+0000); Python 3.11 reads both forms.
        parsed = datetime.fromisoformat(str(value))
    except (ValueError, OverflowError, OSError):   # not a time, or outside datetime's range
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def clean(text: str) -> str:
    """Text that can be stored and sent: JSON can carry lone surrogates (`"\\ud800"`),
    UTF-8 cannot. Each becomes U+FFFD; a proper pair is joined into its character."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


class Picker:
    """Reads payload values of the type a Ticket needs; anything else is left out and
    its path noted in `skipped`, so one odd field does not dead-letter a ticket.

    The schemas at intake check only what intake needs (ids, the event); the rest
    of a payload is the platform's business and is read here, tolerantly."""

    def __init__(self) -> None:
        self.skipped: list[str] = []

    def skip(self, path: str, default: Any = None) -> Any:
        self.skipped.append(path)
        return default

    def obj(self, value: Any, path: str) -> Mapping[str, Any]:
        if isinstance(value, Mapping):
            return value
        return {} if value in (None, "", []) else self.skip(path, {})

    def text(self, value: Any, path: str, default: str = "") -> str:
        if isinstance(value, str):
            return clean(value)
        return default if value is None else self.skip(path, default)

    def maybe_text(self, value: Any, path: str) -> str | None:
        return self.text(value, path, None)  # type: ignore[arg-type]

    def ident(self, value: Any, path: str) -> str | None:
        """An id: platforms send numbers or strings."""
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            return str(value)
        return None if value is None else self.skip(path, None)

    def texts(self, value: Any, path: str) -> tuple[str, ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            return self.skip(path, ())
        kept = tuple(v for v in value if isinstance(v, str))
        return kept if len(kept) == len(value) else self.skip(path, kept)

    def time(self, value: Any, path: str) -> datetime | None:
        parsed = parse_time(value)
        return self.skip(path, None) if parsed is None and value not in (None, "") else parsed

    def scalar(self, value: Any, path: str) -> Any:
        """A plain JSON value (text, number, flag) kept as is; containers are left out."""
        if value is None or isinstance(value, (str, int, float, bool)):
            return value
        return self.skip(path, None)
