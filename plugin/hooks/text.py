"""Text helpers shared by adapters: HTML bodies to plain text, timestamps."""
from __future__ import annotations

import re
from datetime import UTC, datetime
from html.parser import HTMLParser

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
    """ISO-8601 (Zammad, Jira) or epoch milliseconds (Jira envelopes) to aware UTC."""
    if value in (None, ""):
        return None
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    text = str(value).replace("Z", "+00:00")
    # Jira writes offsets without a colon: 2025-03-10T08:15:02.117+0000
    text = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", text)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
