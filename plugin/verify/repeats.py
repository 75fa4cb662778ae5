"""Repeats (问题是否重复): has the same requester asked the same thing shortly before?

Candidates are the requester's earlier tickets the ledger knows (LedgerView
.requester_recent: ticket id, number, title, created time, catalog item). One is a
possible repeat when it arrived within the window before this ticket and is about
the same catalog item, or its title reads alike.

"Alike" is difflib's ratio on the normalised titles: titles are short, in Chinese or
English, and compared one pair at a time; a TF-IDF model would need a corpus to
weigh words and a tokenizer for Chinese, and adds nothing for a pair of titles.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from difflib import SequenceMatcher
from typing import Any

from .config import VerificationSettings
from .model import Check, Say

NAME = "repeats"
_PREFIX = re.compile(r"^\s*((re|fw|fwd|aw|wg)\s*[:：]|回复\s*[:：]|答复\s*[:：]|转发\s*[:：])\s*", re.IGNORECASE)
_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)


def normalise(title: str) -> str:
    text = unicodedata.normalize("NFKC", title or "").casefold()
    while _PREFIX.match(text):
        text = _PREFIX.sub("", text, count=1)
    return _NOISE.sub("", text)


def similarity(a: str, b: str) -> float:
    x, y = normalise(a), normalise(b)
    if not x or not y:
        return 0.0
    return SequenceMatcher(None, x, y, autojunk=False).ratio()


def check(ticket_id: str, title: str, item_id: str | None, arrived: datetime, requester_id: str,
          recent: Iterable[Mapping[str, Any]], cfg: VerificationSettings) -> Check:
    hours = cfg.repeat_window_hours
    if not requester_id:
        return Check(NAME, "unknown", (Say("无法核验：没有请求人可比较", "could not verify: no requester to compare"),))
    since = arrived - timedelta(hours=hours)
    found = []
    for row in recent:
        other = _match(row, ticket_id, title, item_id, since, arrived, cfg)
        if other:
            found.append(other)
    found.sort(key=lambda m: m["created_at"], reverse=True)
    found = found[:cfg.repeat_max_links]
    if not found:
        return Check(NAME, "pass", (Say(f"{hours} 小时内该请求人没有类似问题",
                                        f"no similar query from this requester in the last {hours} h"),),
                     {"matches": []})
    shown_zh = "；".join(f"#{m['number']}（{m['created_at'][:10]}，{m['why_zh']}）" for m in found)
    shown_en = "; ".join(f"#{m['number']} ({m['created_at'][:10]}, {m['why_en']})" for m in found)
    return Check(NAME, "fail", (Say(f"可能重复：{shown_zh}", f"possible repeat of {shown_en}"),),
                 {"matches": [{k: m[k] for k in ("ticket_id", "number", "created_at", "why", "similarity")}
                              for m in found]})


def _match(row: Mapping[str, Any], ticket_id: str, title: str, item_id: str | None, since: datetime,
           arrived: datetime, cfg: VerificationSettings) -> dict[str, Any] | None:
    other_id, at = str(row.get("ticket_id") or ""), row.get("created_at")
    if not other_id or other_id == str(ticket_id) or not isinstance(at, datetime):
        return None
    # Only earlier tickets: a later one is the repeat of this one, not the other way round.
    if not since <= at <= arrived:
        return None
    ratio = similarity(title, str(row.get("title") or ""))
    same = cfg.repeat_same_item and item_id and row.get("item_id") == item_id
    if not same and ratio < cfg.repeat_similarity:
        return None
    why = ("same_item", "同一服务项", "same service item") if same else \
        ("similar_text", f"标题相似度 {ratio:.2f}", f"similar title {ratio:.2f}")
    return {"ticket_id": other_id, "number": str(row.get("number") or other_id),
            "created_at": at.isoformat(),
            "why": why[0], "why_zh": why[1], "why_en": why[2], "similarity": round(ratio, 2)}
