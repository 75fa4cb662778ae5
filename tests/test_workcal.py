"""The working calendar, with hand-computed expectations: a weekend, the 2026 National
Day holiday and its make-up working days (调休), 7x24, a year the data does not cover."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from plugin.errors import SettingsError
from plugin.workcal import Calendar, CalendarError, for_level, from_settings

SH = ZoneInfo("Asia/Shanghai")
CAL = Calendar()


def at(y, m, d, hh=0, mm=0):
    return datetime(y, m, d, hh, mm, tzinfo=SH).astimezone(UTC)


@pytest.mark.parametrize("start,end,minutes", [
    (at(2026, 11, 30, 10), at(2026, 11, 30, 11), 60),               # Monday morning
    (at(2026, 11, 30, 11, 30), at(2026, 11, 30, 13, 30), 60),       # over lunch: 30 + 30
    (at(2026, 11, 30, 17), at(2026, 12, 1, 10), 120),               # overnight: 60 + 60
    (at(2026, 11, 27, 17), at(2026, 11, 30, 10), 120),              # Friday 17:00 to Monday 10:00
    (at(2026, 11, 28, 10), at(2026, 11, 29, 16), 0),                # a whole weekend
    # National Day 2026: 1-7 Oct off; Sat 10 Oct is a make-up working day (调休)
    (at(2026, 9, 30, 17), at(2026, 10, 8, 10), 120),                # the holiday counts nothing
    (at(2026, 10, 10, 9), at(2026, 10, 10, 18), 480),               # a Saturday that is worked
    (at(2026, 10, 9, 17), at(2026, 10, 12, 10), 60 + 480 + 60),     # Fri, make-up Sat, Mon
    (at(2026, 11, 30, 10), at(2026, 11, 30, 9), 0),                 # end before start
])
def test_working_minutes(start, end, minutes):
    assert CAL.working_minutes(start, end) == pytest.approx(minutes)


def test_seven_by_twenty_four_counts_every_minute_holidays_too():
    always = for_level(CAL, "7x24")
    assert always.working_minutes(at(2026, 10, 1), at(2026, 10, 2)) == 24 * 60
    assert for_level(CAL, "by meeting time") is None and for_level(CAL, "5x8") is CAL


@pytest.mark.parametrize("start,minutes,deadline", [
    (at(2026, 11, 30, 10), 60, at(2026, 11, 30, 11)),
    (at(2026, 11, 30, 11, 30), 60, at(2026, 11, 30, 13, 30)),
    (at(2026, 11, 27, 17, 30), 60, at(2026, 11, 30, 9, 30)),        # over the weekend
    (at(2026, 9, 30, 17, 30), 60, at(2026, 10, 8, 9, 30)),          # over National Day
    (at(2026, 11, 28, 12), 8 * 60, at(2026, 11, 30, 18)),           # one working day from Saturday
])
def test_deadlines_in_working_minutes(start, minutes, deadline):
    assert CAL.add_working_minutes(start, minutes) == deadline


def test_service_hours_and_the_next_working_period():
    assert CAL.in_hours(at(2026, 11, 30, 10)) and not CAL.in_hours(at(2026, 11, 30, 12, 30))
    assert not CAL.in_hours(at(2026, 10, 3, 10))                      # holiday
    assert CAL.next_open(at(2026, 11, 30, 12, 30)) == at(2026, 11, 30, 13)
    assert CAL.next_open(at(2026, 10, 1, 8)) == at(2026, 10, 8, 9)
    assert CAL.next_open(at(2026, 11, 30, 10)) == at(2026, 11, 30, 10)


def test_a_year_the_data_does_not_cover_is_a_clear_error_not_a_guess():
    with pytest.raises(CalendarError, match="2027-03-02 is not covered") as err:
        CAL.working_minutes(at(2027, 3, 2, 9), at(2027, 3, 2, 10))
    assert "calendar.days" in err.value.message
    own = from_settings({"days": {"2027-03-02": "workday"}})
    assert own.working_minutes(at(2027, 3, 2, 9), at(2027, 3, 2, 10)) == 60


def test_a_year_the_desk_declares_counts_its_other_days_monday_to_friday():
    """Next year's holidays are published before the holiday package covers them: listing
    them is enough; the year's other days are then working days Monday to Friday."""
    desk = from_settings({"days": {"2027-01-01": "holiday", "2027-02-06": "workday"}})
    assert not desk.is_working_day(date(2027, 1, 1))                   # listed: New Year
    assert desk.is_working_day(date(2027, 2, 6))                       # listed: a make-up Saturday
    assert desk.is_working_day(date(2027, 1, 4)) and not desk.is_working_day(date(2027, 1, 9))
    # Thursday 31 Dec 2026 17:00 (official data) to Monday 4 Jan 2027 10:00: 60 + 60 minutes.
    assert desk.working_minutes(at(2026, 12, 31, 17), at(2027, 1, 4, 10)) == 120
    with pytest.raises(CalendarError, match="2028-03-01 is not covered"):
        desk.is_working_day(date(2028, 3, 1))                          # a year nobody declared


def test_the_desks_own_calendar_and_hours_override_the_defaults():
    desk = from_settings({"time_zone": "Europe/Berlin", "working_hours": ["08:00-16:00"],
                          "days": {"2026-12-24": "holiday"}, "holidays": "none"})
    berlin = ZoneInfo("Europe/Berlin")
    day = datetime(2026, 12, 23, 8, tzinfo=berlin).astimezone(UTC)
    assert desk.working_minutes(day, day + timedelta(days=2)) == 8 * 60      # 24 Dec is off
    assert desk.is_working_day(date(2026, 10, 1))                            # no Chinese holidays


@pytest.mark.parametrize("section,message", [
    ({"time_zone": "Mars/Olympus"}, "calendar.time_zone"),
    ({"working_hours": ["9-12"]}, "is not like 09:00-12:00"),
    ({"working_hours": ["13:00-12:00"]}, "ends before it starts"),
    ({"days": {"someday": "holiday"}}, "is not a date"),
    ({"days": {"2027-01-01": "maybe"}}, "must be workday or holiday"),
    ({"holidays": "us"}, "calendar.holidays"),
])
def test_bad_calendar_settings_name_the_key(section, message):
    with pytest.raises(SettingsError, match=message):
        from_settings(section)
