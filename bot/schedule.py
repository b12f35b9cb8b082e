"""When scheduled sends fall due: a rep's nudge, a manager's daily and weekly digests.

Pure time arithmetic, in the recipient's time zone and on their team's business days (its
holiday calendar), so that a nudge stays at 08:00 local across a DST change and skips a
holiday. Nothing here reads the store or the clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from bot.records import DEFAULT_NUDGE, NUDGE_OFF, RepProfile, SendKind
from policy.timing import is_business_day

DIGEST_TIME = time(8, 0)  # a manager who turned nudges off still gets digests, at 08:00
_DAYS_SEARCHED = 400  # a whole year of holidays and weekends, with room to spare
WEEK = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class SendSlot:
    """One scheduled send: the instant it is due (UTC) and the recipient's local date it is for."""

    due_at: datetime
    local_date: date


@dataclass(frozen=True, slots=True)
class Cadence:
    """When one recipient's sends of one kind fall due."""

    kind: SendKind
    zone: tzinfo
    at: time
    calendar: str  # a holidays calendar, as Settings.holidays_country ("US", "GB-SCT")

    def is_send_day(self, day: date) -> bool:
        if self.kind is SendKind.WEEKLY_DIGEST:
            return day == first_business_day_of_week(day, self.calendar)
        return is_business_day(day, self.calendar)

    def slot_on(self, day: date) -> SendSlot:
        """The send on `day` at the local time `at` (a time a DST change skips, such as 02:30
        on the spring-forward night, falls an hour later, as zoneinfo resolves it)."""
        local = datetime.combine(day, self.at, tzinfo=self.zone)
        return SendSlot(local.astimezone(UTC), day)

    def next_slot(self, after: datetime, *, not_before_day: date | None = None) -> SendSlot:
        """The first send due strictly after `after`, on a local date no earlier than
        `not_before_day` (the day after the last one sent: never two on one local day)."""
        day = after.astimezone(self.zone).date()
        if not_before_day is not None and not_before_day > day:
            day = not_before_day
        for _ in range(_DAYS_SEARCHED):
            if self.is_send_day(day):
                slot = self.slot_on(day)
                if slot.due_at > after:
                    return slot
            day += timedelta(days=1)
        raise ValueError(f"no {self.kind.value} day within {_DAYS_SEARCHED} days")

    def current_slot(self, now: datetime) -> SendSlot | None:
        """Today's send, once its time has come (today: the recipient's local date); None on a
        day without one or before its time. A send found late (the service was down at 08:00)
        still goes that day, never on a later one."""
        today = now.astimezone(self.zone).date()
        if not self.is_send_day(today):
            return None
        slot = self.slot_on(today)
        return slot if slot.due_at <= now else None

    def day_ends(self, day: date) -> datetime:
        """The UTC instant the recipient's local `day` ends: a failing send is retried until
        then, and missed after."""
        midnight = datetime.combine(day + timedelta(days=1), time.min, tzinfo=self.zone)
        return midnight.astimezone(UTC)


def first_business_day_of_week(day: date, calendar: str) -> date | None:
    """The week's first business day (Monday, unless it is a holiday), or None for a week
    without one."""
    monday = day - timedelta(days=day.weekday())
    for offset in range(5):
        candidate = monday + timedelta(days=offset)
        if is_business_day(candidate, calendar):
            return candidate
    return None


def zone_of(profile: RepProfile) -> tzinfo:
    return ZoneInfo(profile.timezone) if profile.timezone else UTC


def nudge_time(profile: RepProfile) -> time | None:
    """The rep's nudge time, or None when nudges are off (a malformed value: the default)."""
    if profile.nudge == NUDGE_OFF:
        return None
    return parse_clock(profile.nudge) or parse_clock(DEFAULT_NUDGE)


def digest_time(profile: RepProfile) -> time:
    """A manager's digests come at their nudge time, or at 08:00 when nudges are off."""
    return nudge_time(profile) or DIGEST_TIME


def parse_clock(text: str) -> time | None:
    """`HH:MM` (24 h) as a time, or None."""
    hours, _, minutes = text.partition(":")
    if not (hours.isdigit() and minutes.isdigit() and len(minutes) == 2 and len(hours) <= 2):
        return None
    if int(hours) > 23 or int(minutes) > 59:
        return None
    return time(int(hours), int(minutes))


def previous_business_day(day: date, calendar: str) -> date:
    """The business day before `day`, which a daily digest covers."""
    for _ in range(_DAYS_SEARCHED):
        day -= timedelta(days=1)
        if is_business_day(day, calendar):
            return day
    raise ValueError(f"no business day within {_DAYS_SEARCHED} days before {day}")


def digest_period(
    kind: SendKind, local_date: date, zone: tzinfo, calendar: str
) -> tuple[datetime, datetime]:
    """[since, until) of the digest sent on `local_date`: the previous business day (daily),
    or the 7 days before that morning (weekly)."""
    if kind is SendKind.DAILY_DIGEST:
        day = previous_business_day(local_date, calendar)
        since = datetime.combine(day, time.min, tzinfo=zone)
        return since, datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
    until = datetime.combine(local_date, time.min, tzinfo=zone)
    return datetime.combine(local_date - WEEK, time.min, tzinfo=zone), until
