"""Atlassian Document Format <-> plain text. Jira Cloud's REST v3 takes and returns
rich text (descriptions, comments, multi-line fields) as ADF; webhooks, REST v2 and
Data Center use plain wiki strings. Only what an enrichment note needs is kept."""
from __future__ import annotations

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
    return str(value)


def _text(node: Mapping[str, Any]) -> str:
    kind = node.get("type")
    if kind == "text":
        return node.get("text", "")
    if kind == "hardBreak":
        return "\n"
    if kind in ("mention", "emoji", "inlineCard"):
        attrs = node.get("attrs") or {}
        return str(attrs.get("text") or attrs.get("shortName") or attrs.get("url") or "")
    children = [_text(c) for c in node.get("content") or [] if isinstance(c, dict)]
    if kind == "doc":
        return "\n".join(children)         # blocks end in "\n": paragraphs are blank-line apart
    inner = "".join(children)
    return inner + "\n" if kind in _BLOCKS else inner


def from_text(text: str) -> dict:
    """Blank lines separate paragraphs; single newlines are hard breaks."""
    paragraphs = []
    for block in text.split("\n\n"):
        content: list[dict] = []
        for i, line in enumerate(block.split("\n")):
            if i:
                content.append({"type": "hardBreak"})
            if line:
                content.append({"type": "text", "text": line})
        paragraphs.append({"type": "paragraph", "content": content})
    return {"type": "doc", "version": 1, "content": paragraphs}
