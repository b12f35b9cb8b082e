"""When to call back: business days, early or late windows, inside the legal hours."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo
from functools import lru_cache

import holidays

from policy.legal_hours import RegionHours
from policy.model import TimeRange, Window

NOON_HOUR = 12
_MAX_DAYS_SEARCHED = 60


@lru_cache(maxsize=512)
def _holiday_dates(calendar: str, year: int) -> frozenset[date]:
    country, _, subdivision = calendar.partition("-")
    return frozenset(holidays.country_holidays(country, subdiv=subdivision or None, years=year))


def is_business_day(day: date, calendar: str) -> bool:
    return day.weekday() < 5 and day not in _holiday_dates(calendar, day.year)


def first_business_day_from(day: date, calendar: str) -> date:
    for _ in range(_MAX_DAYS_SEARCHED):
        if is_business_day(day, calendar):
            return day
        day += timedelta(days=1)
    raise ValueError(f"no business day within {_MAX_DAYS_SEARCHED} days in {calendar}")


def add_business_days(day: date, count: int, calendar: str) -> date:
    for _ in range(count):
        day = first_business_day_from(day + timedelta(days=1), calendar)
    return day


def prefers_late_window(dials: tuple[datetime, ...], zone: tzinfo) -> bool:
    """Alternate: if every recent dial fell in the morning, try the late window next."""
    return all(dial.astimezone(zone).hour < NOON_HOUR for dial in dials)


def fit_inside(window: TimeRange, legal: TimeRange) -> TimeRange:
    """Move a window inside the legal hours, keeping its length where the hours allow."""
    start, end = _minutes(window.start), _minutes(window.end)
    low, high = _minutes(legal.start), _minutes(legal.end)
    length = end - start
    if start < low:
        start, end = low, low + length
    if end > high:
        start, end = max(low, high - length), high
    return TimeRange(_clock(start), _clock(end))


def call_back_window(day: date, slot: TimeRange, legal: RegionHours, zone: tzinfo) -> Window:
    hours = fit_inside(slot, legal.on(day))
    return Window(
        start=datetime.combine(day, hours.start, tzinfo=zone),
        end=datetime.combine(day, hours.end, tzinfo=zone),
    )


def _minutes(moment: time) -> int:
    return moment.hour * 60 + moment.minute


def _clock(minutes: int) -> time:
    return time(minutes // 60, minutes % 60)
