"""Sample tickets and every notice's fields, for checking templates.

`templates check` renders each template against real-shaped payloads of both
platforms (sample_payloads/: copies of the shared fixtures), normalized by the
adapters and classified by the classification step, with each notice's fields
built by the same functions the step uses. Start-up uses one small built-in sample.
"""
from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from .. import workcal
from ..models import Requester, StepContext, Ticket
from . import config, context, followup, lifecycle, satisfaction
from .config import Communication

PAYLOADS = Path(__file__).parent / "sample_payloads"
AT = datetime(2026, 3, 2, 7, 30, tzinfo=UTC)          # a Monday, 15:30 in Shanghai
SAMPLE_SECRET = "sample-survey-secret"
SAMPLE_URL = "https://desk.example.com"
# A self-help guide offered in the acknowledgement (the knowledge step's strong matches).
SAMPLE_GUIDES = ({"title": "VPN 连接自助排查 VPN self-help", "url": "https://kb.example.com/vpn"},)
# The reply partial differs by where the message goes: render requester notices on each.
REQUESTER_CHANNELS = ("ticket", "email", "feishu")

BUILT_IN = Ticket(platform="zammad", id="1", number="10001", title="样例 sample", body="",
                  requester=Requester(id="1", name="张三", email="z@example.com", organization="示例公司"),
                  state="open", channel="email", created_at=AT)
BUILT_IN_FACTS = {"category": None, "category_path": "桌面IT运维管理/软件故障问题/一般软件故障",
                  "priority": "P2", "group": "一线服务台", "value_stream": "incident",
                  "major_event_words": ["宕机"]}


@dataclass(frozen=True)
class Sample:
    name: str                      # "zammad 01_ticket_create_customer_email"
    ticket: Ticket
    facts: Mapping[str, Any]


def samples(settings: Any) -> list[Sample]:
    """The packaged payloads, normalized and classified as the worker would."""
    from ..classifiers.step import classify
    from ..hooks import ADAPTERS

    out = []
    for path in sorted(PAYLOADS.glob("*.yaml")):
        platform, name = path.stem.split("__", 1)
        adapter = ADAPTERS[platform](settings, insecure=True)
        raw = json.dumps(yaml.safe_load(path.read_text("utf-8")), ensure_ascii=False).encode()
        ticket = adapter.normalize(adapter.parse(raw))
        facts = classify(ticket, StepContext(settings=settings, now=AT)).facts
        out.append(Sample(f"{platform} {name}", ticket, facts))
    return out


def notice_fields(notice: str, ticket: Ticket, settings: Any, comm: Communication,
                  facts: Mapping[str, Any]) -> lifecycle.Fields:
    """A notice's own fields for a sample, from the functions the step uses."""
    if notice == "ack":
        return lifecycle.ack_fields(ticket.created_at or AT, facts, settings, comm, SAMPLE_GUIDES)
    if notice == "status":
        return lifecycle.status_fields("new", ticket.state or "open")
    if notice == "survey":
        sample_comm = replace(comm, survey_base_url=comm.survey_base_url or SAMPLE_URL)
        secret = getattr(settings, "survey_secret", None) or SAMPLE_SECRET
        return lifecycle.survey_fields(_With(settings, survey_secret=secret), sample_comm, ticket.platform,
                                       ticket.id, AT)
    if notice in ("followup", "no_answer"):
        about = {"attempt": 1, "max": max(comm.followup_max, 1), "attempts": max(comm.followup_max, 1),
                 "asked": f"已处理，请确认：#{ticket.number} {ticket.title}"}
        return followup.followup_fields(about, AT, workcal.of(settings))
    if notice == "dissatisfied":
        return satisfaction.vote_fields({"code": 3, "comment": "等了三天才有人处理 / waited three days"})
    if notice == "major_event":
        return lifecycle.major_fields({**facts, "major_event_words": facts.get("major_event_words") or ["宕机"]})
    if notice == "stale":
        from .tracking import stale_fields
        esc = {"level": 1, "event": "stale.1.sample", "since": AT.isoformat(), "hours": 8, "minutes": 545}
        return stale_fields(esc, ticket, StepContext(settings=settings, now=AT))
    if notice in ("known_outage", "outage_resolved"):
        from .tracking import outage_fields
        return outage_fields({"number": "10042", "title": "邮件系统无法登录 Mail is down"}, comm)
    if notice == "digest":
        from ..tracking.digest_text import sample
        return sample(ticket, settings, AT)
    return lambda lang: {}


def contexts(sample: Sample, settings: Any, comm: Communication) -> Iterator[tuple[str, str, str, dict]]:
    """(notice, audience, language, fields) for every template and every channel kind."""
    for notice, audiences in config.NOTICES.items():
        own = notice_fields(notice, sample.ticket, settings, comm, sample.facts)
        for audience in audiences:
            channels = REQUESTER_CHANNELS if audience == "requester" else ("apprise",)
            for language in config.LANGUAGES:
                for channel in channels:
                    fields = {**context.base(sample.ticket, settings, comm, language, channel, sample.facts),
                              **own(language)}
                    yield notice, audience, language, fields


def sample_context(notice: str, language: str, settings: Any = None) -> dict[str, Any]:
    """The built-in sample's fields for one notice (the start-up check)."""
    comm = config.of(settings)
    fields = notice_fields(notice, BUILT_IN, settings, comm, BUILT_IN_FACTS)
    return {**context.base(BUILT_IN, settings, comm, language, "ticket", BUILT_IN_FACTS), **fields(language)}


class _With:
    """Settings with one value laid over (a sample survey secret when none is set)."""

    def __init__(self, settings: Any, **values: Any):
        self._settings, self._values = settings, values

    def __getattr__(self, name: str) -> Any:
        if name in self._values:
            return self._values[name]
        return getattr(self._settings, name)

