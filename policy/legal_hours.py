"""Legal calling hours by region, in the prospect's local time. Data: add a row to extend it.

A region the table does not know gets DEFAULT_HOURS, which are a default, not a law: the
warning and the call-back window say so and cite none.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from types import MappingProxyType

from policy.model import TimeRange


@dataclass(frozen=True, slots=True)
class RegionHours:
    weekday: TimeRange
    weekend: TimeRange
    law: str | None
    """The law these hours come from; None for the default hours, which come from none."""

    @property
    def is_default(self) -> bool:
        return self.law is None

    def on(self, day: date) -> TimeRange:
        return self.weekend if day.weekday() >= 5 else self.weekday

    def allows(self, moment: datetime) -> bool:
        hours = self.on(moment.date())
        return hours.start <= moment.time() < hours.end


def _same_every_day(start: time, end: time, law: str | None) -> RegionHours:
    hours = TimeRange(start, end)
    return RegionHours(weekday=hours, weekend=hours, law=law)


FEDERAL_US = _same_every_day(time(8, 0), time(21, 0), "US federal TCPA, 47 CFR 64.1200(c)(1)")
DEFAULT_HOURS = _same_every_day(time(8, 0), time(21, 0), law=None)

# Keys are ISO 3166 countries or country-subdivision codes; the most specific match wins.
LEGAL_HOURS: Mapping[str, RegionHours] = MappingProxyType(
    {
        "US": FEDERAL_US,
        "US-FL": _same_every_day(time(8, 0), time(20, 0), "Florida Telemarketing Act, 501.616(6)"),
        "CA": RegionHours(
            weekday=TimeRange(time(9, 0), time(21, 30)),
            weekend=TimeRange(time(10, 0), time(18, 0)),
            law="CRTC Unsolicited Telecommunications Rules",
        ),
    }
)


def legal_hours_for(region: str) -> RegionHours:
    """The hours for a region code like US-FL, falling back to its country, then to the default.

    An empty region (none given, and a time zone the region table does not know) gets the
    default hours too.
    """
    if region in LEGAL_HOURS:
        return LEGAL_HOURS[region]
    return LEGAL_HOURS.get(region.split("-", 1)[0], DEFAULT_HOURS)
