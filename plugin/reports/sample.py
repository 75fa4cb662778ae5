"""Generated ledger rows for trying the report and measuring it (bench/bench_report.py,
the browser test): a desk's tickets over a period, plausible in shape, reproducible by
seed. Not used by the service itself."""
from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert

from ..tables import ticket_facts

AGENTS = ("wang.fang", "li.qiang", "zhang.wei", "chen.jing", "liu.yang", "zhao.min")
GROUPS = ("桌面运维组", "业务系统组", "会议支持组")
CATEGORIES = ("桌面IT运维管理/软件故障问题/一般软件故障", "桌面IT运维管理/终端硬件报修/终端硬件报修跟进",
              "业务系统/使用咨询/各业务系统使用问题", "业务系统/应用系统权限/权限处理",
              "桌面IT运维管理/操作系统故障处理/系统层面故障处理", "会议支持/会议室会议软件维护/会议软件支持")
CHANNELS = (("email", 5), ("web", 3), ("phone", 2), ("feishu", 2))


def rows(first: date, last: date, per_day: int, *, seed: int = 7, platform: str = "zammad",
         zone: str = "Asia/Shanghai") -> Iterator[dict[str, Any]]:
    rnd = random.Random(seed)
    tz = ZoneInfo(zone)
    n, day = 0, first
    while day <= last:
        for _ in range(per_day if day.weekday() < 5 else per_day // 5):
            n += 1
            yield _row(rnd, n, day, tz, platform)
        day += timedelta(days=1)


def _row(rnd: random.Random, n: int, day: date, tz: ZoneInfo, platform: str) -> dict[str, Any]:
    created = datetime.combine(day, time(rnd.randint(8, 18), rnd.randint(0, 59)), tz).astimezone(UTC)
    response = round(rnd.expovariate(1 / 4), 2)
    solved = rnd.random() < 0.9
    resolution = round(rnd.expovariate(1 / 300), 2) if solved else None
    waiting = round(resolution * rnd.random() * 0.4, 2) if resolution else None
    category = rnd.choice(CATEGORIES)
    return {
        "platform": platform, "ticket_id": str(100000 + n), "number": str(31000 + n), "title": f"工单 {n}",
        "created_at": created, "updated_at": created, "first_seen_at": created, "last_seen_at": created,
        "state": "closed" if solved else "open",
        "channel": rnd.choices([c for c, _ in CHANNELS], [w for _, w in CHANNELS])[0],
        "owner": rnd.choice(AGENTS), "group_name": GROUPS[CATEGORIES.index(category) // 2],
        "category": category, "priority": rnd.choice(("P1", "P2", "P2", "P3", "P4")),
        "record_quality": rnd.choice((57, 71, 86, 100, 100)), "corrected": rnd.random() < 0.05,
        "registered_day": day.isoformat(), "service_level": "5x8",
        "accepted_at": created + timedelta(minutes=response), "first_response_at": created,
        "resolved_at": created + timedelta(minutes=resolution) if solved else None,
        "response_minutes": response, "first_response_minutes": response,
        "resolution_minutes": resolution, "waiting_minutes": waiting,
        "handling_minutes": round(resolution - waiting, 2) if resolution else None,
        "response_breached": response > 5, "sla_breached": (resolution > 1440) if solved else None,
        "sla_at_risk": False, "reopened": rnd.random() < 0.04, "repeat": rnd.random() < 0.06,
        "misclassified": False, "satisfaction": rnd.choice((1, 1, 1, 2, 3, None, None)) if solved else None,
        **_knowledge(n, solved),
    }


def _knowledge(n: int, solved: bool) -> dict[str, Any]:
    """A third of the tickets got knowledge suggestions; a quarter of those solved were
    solved by self-help. Its own generator, so the columns above keep their values."""
    rnd = random.Random(n * 7919)
    suggested = rnd.randint(1, 3) if rnd.random() < 0.33 else 0
    return {"knowledge_suggested": suggested or None,
            "self_help_resolved": (rnd.random() < 0.25) if suggested and solved else None}


def fill(engine: Any, first: date, last: date, per_day: int, *, batch: int = 5000, **kw: Any) -> int:
    """Insert generated rows; returns how many."""
    total, chunk = 0, []
    with engine.begin() as conn:
        for row in rows(first, last, per_day, **kw):
            chunk.append(row)
            if len(chunk) >= batch:
                conn.execute(insert(ticket_facts), chunk)
                total, chunk = total + len(chunk), []
        if chunk:
            conn.execute(insert(ticket_facts), chunk)
            total += len(chunk)
    return total
