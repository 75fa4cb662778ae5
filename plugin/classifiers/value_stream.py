"""Value stream, complaint, major event and suggested priority (900.3).

The catalog item gives the default stream (incident / service request /
consultation). The ticket text can raise it: strong dissatisfaction makes a formal
complaint (full flow, higher priority), a general complaint is recorded and calmed;
site-wide outage words or many tickets of the same item in a short window make a
major event (重大/突发事件), escalated at once.

Priority scale, lowest to highest (what `enrich_priority` holds):

    P1 low (低)   P2 normal (普通)   P3 high (高)   P4 urgent (紧急)

It follows Zammad's "1 low / 2 normal / 3 high" order, with P4 for urgent; a desk
that numbers the other way maps the label in its platform trigger. Start at P2
(P1 for a consultation); +1 for urgency words, +1 for impact words, +boost for a
VIP requester, +1 for a time-bound service level (7x24, by meeting time), +1 for
a formal complaint; a major event is always P4.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from .catalog import ClassificationSettings
from .items import CatalogItem, Names
from .rules import word_hits

STREAMS: dict[str, Names] = {
    "incident": Names("事件", "Incident"),
    "service_request": Names("服务请求", "Service request"),
    "consultation": Names("咨询", "Consultation"),
    "complaint": Names("投诉", "Complaint"),
    "major_event": Names("重大事件", "Major event"),
}
PRIORITIES: dict[int, Names] = {1: Names("低", "low"), 2: Names("普通", "normal"),
                                3: Names("高", "high"), 4: Names("紧急", "urgent")}

URGENCY_WORDS = ("紧急", "加急", "尽快", "马上", "立即", "立刻", "十万火急", "着急", "急需", "urgent", "urgently",
                 "asap", "as soon as possible", "immediately", "right away", "critical")
IMPACT_WORDS = ("无法工作", "不能工作", "影响工作", "影响业务", "业务中断", "阻塞", "停工", "客户在等",
                "无法办公", "blocked", "blocking", "cannot work", "can't work", "unable to work",
                "business impact", "production", "customer waiting", "deadline")
COMPLAINT_WORDS = ("抱怨", "太慢", "一直没人", "没人处理", "没人回复", "还没解决", "还没有解决", "又坏了",
                   "催", "态度", "still not fixed", "still not resolved", "no one has", "nobody has",
                   "again and again", "waiting for days", "poor service", "too slow", "disappointed")
FORMAL_COMPLAINT_WORDS = ("投诉", "正式投诉", "不满意", "非常不满", "非常失望", "极其失望", "强烈不满",
                          "向上级反映", "要求赔偿", "complaint", "complain", "unacceptable",
                          "very disappointed", "extremely disappointed", "escalate to management",
                          "formal complaint", "outrageous")
MAJOR_EVENT_WORDS = ("全员", "全部员工无法", "所有人都", "所有员工", "全公司", "整个公司", "整栋楼", "大面积",
                     "宕机", "瘫痪", "全部中断", "全网", "outage", "everyone", "all users", "all staff",
                     "whole company", "whole office", "entire office", "site down", "site-wide",
                     "nobody can", "no one can")
REQUEST_WORDS = ("申请", "开通", "需要", "请帮忙安装", "request", "please provide", "need a", "order")
QUESTION_WORDS = ("请问", "怎么", "如何", "咨询", "是否", "how do", "how to", "how can", "question",
                  "where can", "is it possible")


@dataclass(frozen=True)
class Stream:
    value_stream: str
    complaint: str | None            # None | "general" | "formal"
    major_event: bool
    major_words: tuple[str, ...]
    similar_recent: int              # tickets of the same item in the window, this one included


def _words(custom: Iterable[str] | None, default: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(custom) if custom is not None else default


def complaint_kind(text: str, s: ClassificationSettings) -> tuple[str | None, list[str]]:
    formal = word_hits(_words(s.formal_complaint_words, FORMAL_COMPLAINT_WORDS), text)
    if formal:
        return "formal", formal
    general = word_hits(_words(s.complaint_words, COMPLAINT_WORDS), text)
    return ("general", general) if general else (None, [])


def _aware(value: Any) -> datetime | None:
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def similar_recent(item: CatalogItem | None, ticket_id: str, recent: Iterable[Mapping[str, Any]],
                   now: datetime | None, minutes: int) -> int:
    """This ticket plus the other tickets of the same item created within the window."""
    if item is None:
        return 0
    now = _aware(now) or datetime.now(UTC)
    since = now - timedelta(minutes=minutes)
    names = item.paths() | {item.id}
    others = set()
    for row in recent:
        at = _aware(row.get("created_at"))
        tid = str(row.get("ticket_id", ""))
        if tid != str(ticket_id) and row.get("category") in names and at and since <= at <= now:
            others.add(tid)
    return 1 + len(others)


def infer_default(text: str) -> str:
    """The stream when no catalog item is sure: question, request, else incident."""
    if word_hits(QUESTION_WORDS, text):
        return "consultation"
    if word_hits(REQUEST_WORDS, text):
        return "service_request"
    return "incident"


def decide_stream(text: str, item: CatalogItem | None, ticket_id: str, recent, now,
                  s: ClassificationSettings) -> Stream:
    base = item.value_stream if item else infer_default(text)
    complaint, _ = complaint_kind(text, s)
    major_words = tuple(word_hits(_words(s.major_event_words, MAJOR_EVENT_WORDS), text))
    count = similar_recent(item, ticket_id, recent, now, s.major_event_window_minutes)
    major = bool(major_words) or count >= s.major_event_threshold
    stream = "major_event" if major else "complaint" if complaint else base
    return Stream(stream, complaint, major, major_words, count)


def decide_priority(text: str, item: CatalogItem | None, stream: Stream, vip: bool,
                    s: ClassificationSettings) -> tuple[int, list[str]]:
    """The P1..P4 level and the factors that raised it (for the note and the ledger)."""
    if stream.major_event:
        return 4, ["major event"]
    level = 1 if stream.value_stream == "consultation" else 2
    factors: list[str] = []
    urgency = word_hits(_words(s.urgency_words, URGENCY_WORDS), text)
    impact = word_hits(_words(s.impact_words, IMPACT_WORDS), text)
    if urgency:
        level += 1
        factors.append("urgency: " + ", ".join(urgency))
    if impact:
        level += 1
        factors.append("impact: " + ", ".join(impact))
    if vip and s.vip_priority_boost:
        level += s.vip_priority_boost
        factors.append("VIP")
    if item and item.service_level in ("7x24", "by meeting time"):
        level += 1
        factors.append(f"service level {item.service_level}")
    if stream.complaint == "formal":
        level += 1
        factors.append("formal complaint")
    return max(1, min(4, level)), factors


def stream_name(stream: str, language: str) -> str:
    return STREAMS[stream].get(language)


def stream_tag(stream: str) -> str:
    return "enrich:vs:" + stream.replace("_", "-")


ALL_STREAM_TAGS = frozenset(stream_tag(s) for s in STREAMS)
