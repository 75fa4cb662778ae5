"""Plain text made safe for where it is shown: HTML for Zammad articles, wiki markup
for Jira comments (ADF, being a JSON tree, needs no escaping: see adf.from_text).
Ticket text quoted back to a requester must never be read as markup."""
from __future__ import annotations

import hashlib
import html
import re

# An intent's marker: written into the article that carries it out, found again by a
# retry before it posts (the platforms have no idempotency key for a new comment).
MARKER = re.compile(r"\bde:[0-9a-f]{10}\b")


def marker(key: str) -> str:
    return "de:" + hashlib.sha256(key.encode()).hexdigest()[:10]


def markers_in(texts) -> frozenset[str]:
    return frozenset(m for text in texts for m in MARKER.findall(text or ""))


# Jira's wiki renderer: brackets, braces, pipes and bangs are markup anywhere; the
# phrase marks (*bold*, _italic_, -strike-, +under+, ^sup^, ~sub~) only at a word's edge,
# so "ITSD-42" and "e-mail" stay as they are; # and bullets only at a line's start.
# Links are left whole (Jira links bare URLs itself), so a survey link stays clickable.
_URL = re.compile(r"https?://[^\s\[\]|{}<>]+")
_ALWAYS = re.compile(r"([\\{}\[\]|!])")
_EDGE = re.compile(r"(?<!\w)([*_+^~-])|([*_+^~-])(?!\w)")
_LINE_START = re.compile(r"^(\s*)([#*-]|h[1-6]\.|bq\.)", re.MULTILINE)


def to_html(text: str) -> str:
    """Paragraphs and line breaks kept, everything else escaped."""
    paragraphs = [p for p in re.split(r"\n{2,}", text.strip()) if p.strip()]
    return "".join(f"<p>{'<br>'.join(html.escape(line) for line in p.splitlines())}</p>"
                   for p in paragraphs)


def to_wiki(text: str) -> str:
    """Markup characters escaped with a backslash (the renderer drops it); URLs kept whole."""
    out, last = [], 0
    for m in _URL.finditer(text):
        out.append(_wiki_plain(text[last:m.start()]))
        out.append(m.group(0))
        last = m.end()
    out.append(_wiki_plain(text[last:]))
    return "".join(out)


def _wiki_plain(text: str) -> str:
    text = _ALWAYS.sub(r"\\\1", text)
    text = _EDGE.sub(lambda m: "\\" + (m.group(1) or m.group(2)), text)
    return _LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), text)
