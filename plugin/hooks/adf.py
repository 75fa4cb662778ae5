"""Atlassian Document Format <-> plain text. Jira Cloud's REST v3 takes and returns
rich text (descriptions, comments, multi-line fields) as ADF; webhooks, REST v2 and
Data Center use plain wiki strings. Only what an enrichment note needs is kept."""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_BLOCKS = {"paragraph", "heading", "blockquote", "codeBlock", "listItem", "tableRow", "panel"}


def to_text(value: Any) -> str:
    """A wiki/plain string as is; an ADF document flattened to text."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return _text(value).strip()
    # A number is still text a person wrote; a list or a flag is not a description.
    return str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else ""


# Real documents nest a few levels (list in a panel in a table); a payload nested
# deeper is not a document a person wrote, and recursing it would exhaust the stack.
MAX_DEPTH = 50


def _text(node: Mapping[str, Any], depth: int = 0) -> str:
    kind = node.get("type")
    if kind == "text":
        text = node.get("text")
        return text if isinstance(text, str) else ""
    if kind == "hardBreak":
        return "\n"
    if kind in ("mention", "emoji", "inlineCard"):
        attrs = node.get("attrs") if isinstance(node.get("attrs"), dict) else {}
        return str(attrs.get("text") or attrs.get("shortName") or attrs.get("url") or "")
    content = node.get("content") if isinstance(node.get("content"), list) else []
    children = [_text(c, depth + 1) for c in content if isinstance(c, dict)] if depth < MAX_DEPTH else []
    if kind == "doc":
        return "\n".join(children)         # blocks end in "\n": paragraphs are blank-line apart
    inner = "".join(children)
    return inner + "\n" if kind in _BLOCKS else inner


# A web address in plain text: up to whitespace, without trailing punctuation that ends a
# sentence (Chinese full-width punctuation included).
_URL = re.compile(r"https?://[^\s<>\"'，。；、）】]+[^\s<>\"'，。；、）】.,;:!?)\]]")


def from_text(text: str) -> dict:
    """Blank lines separate paragraphs; single newlines are hard breaks; web addresses
    become links (ADF renders plain text as it is, so a bare URL would not be clickable)."""
    paragraphs = []
    for block in text.split("\n\n"):
        content: list[dict] = []
        for i, line in enumerate(block.split("\n")):
            if i:
                content.append({"type": "hardBreak"})
            content += _linked(line)
        paragraphs.append({"type": "paragraph", "content": content})
    return {"type": "doc", "version": 1, "content": paragraphs}


def _linked(line: str) -> list[dict]:
    out: list[dict] = []
    at = 0
    for m in _URL.finditer(line):
        if m.start() > at:
            out.append({"type": "text", "text": line[at:m.start()]})
        out.append({"type": "text", "text": m[0], "marks": [{"type": "link", "attrs": {"href": m[0]}}]})
        at = m.end()
    if at < len(line):
        out.append({"type": "text", "text": line[at:]})
    return out
