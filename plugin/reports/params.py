"""What a report is asked for: the period (whole days in the desk's time zone), the
format, the trend's unit. One schema for the command line and the /reports page."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from ..errors import InputError

FORMATS = ("html", "csv", "json")
MAX_DAYS = 400                 # a year and a bit: a review is monthly or quarterly
DAILY_UP_TO = 31               # longer periods trend by week


@dataclass(frozen=True)
class Period:
    first: date
    last: date                 # inclusive
    zone: ZoneInfo

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(0), self.zone).astimezone(UTC)

    @property
    def end(self) -> datetime:
        """Exclusive: midnight after the last day."""
        return datetime.combine(self.last + timedelta(days=1), time(0), self.zone).astimezone(UTC)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


@dataclass(frozen=True)
class ReportRequest:
    period: Period
    format: str = "html"
    trend: str = "day"         # day | week
    platform: str | None = None


class ReportQuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE      # a page URL may carry other parameters (the token is taken apart)

    from_ = fields.Date(required=True, data_key="from")
    to = fields.Date(required=True)
    format = fields.String(load_default="html", validate=validate.OneOf(FORMATS))
    trend = fields.String(load_default="auto", validate=validate.OneOf(["auto", "day", "week"]))
    platform = fields.String(load_default=None, validate=validate.OneOf(["zammad", "jira"]))

    @validates_schema
    def _order(self, data: dict[str, Any], **_: Any) -> None:
        first, last = data.get("from_"), data.get("to")
        if first and last and last < first:
            raise ValidationError("must not be before from", "to")
        if first and last and (last - first).days + 1 > MAX_DAYS:
            raise ValidationError(f"a report covers at most {MAX_DAYS} days", "to")


def parse_request(values: Any, zone: ZoneInfo) -> ReportRequest:
    """Query parameters or options to a request; a bad one is an InputError naming it."""
    try:
        data = ReportQuerySchema().load(dict(values))
    except ValidationError as exc:
        raise InputError("invalid report parameters", key="bad_report_parameters",
                         details=exc.messages) from None
    period = Period(data["from_"], data["to"], zone)
    trend = data["trend"] if data["trend"] != "auto" else ("day" if period.days <= DAILY_UP_TO else "week")
    return ReportRequest(period, data["format"], trend, data["platform"])


def default_period(today: date) -> dict[str, str]:
    """The page without parameters: the last 30 days up to today."""
    return {"from": (today - timedelta(days=29)).isoformat(), "to": today.isoformat()}
